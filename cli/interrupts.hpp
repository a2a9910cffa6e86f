// Ctrl-C while `cadre run` or `cadre submit --wait` watches a job, as srun
// takes it: the first press reports the job's state, a second within a
// second cancels the job. SIGINT is blocked in every thread (ZeroMQ's
// included, which must therefore start after the watch) and taken by one
// thread of its own with sigwait, so no call in progress is interrupted.
// Construct once, before any Client; the destructor restores the mask.
#pragma once

#include <atomic>
#include <csignal>
#include <cstdint>
#include <thread>

namespace cadre::cli {

class InterruptWatch {
 public:
  InterruptWatch();
  ~InterruptWatch();
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

  // What the presses so far ask for, taken once each.
  enum class Ask { nothing, report, cancel };
  Ask take();

 private:
  sigset_t old_mask_{};
  std::thread waiter_;
  std::atomic<uint32_t> presses_{0};
  std::atomic<uint32_t> taken_{0};
  std::atomic<int64_t> last_ms_{0};   // steady clock of the latest press
  std::atomic<int64_t> prev_ms_{0};   // ... and of the one before it
  std::atomic<bool> cancel_asked_{false};
};

}  // namespace cadre::cli
