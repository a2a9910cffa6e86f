#include "cli/interrupts.hpp"

#include <pthread.h>
#include <signal.h>

#include <chrono>

namespace cadre::cli {
namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// SIGUSR2 ends the waiting thread at destruction; nothing else sends it.
constexpr int kStop = SIGUSR2;

}  // namespace

InterruptWatch::InterruptWatch() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, kStop);
  pthread_sigmask(SIG_BLOCK, &set, &old_mask_);
  waiter_ = std::thread([this, set] {
    while (true) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0 || sig == kStop) return;
      const int64_t now = steady_ms();
      prev_ms_ = last_ms_.exchange(now);
      if (presses_.fetch_add(1) >= 1 && now - prev_ms_ <= 1000) cancel_asked_ = true;
    }
  });
}

InterruptWatch::~InterruptWatch() {
  pthread_kill(waiter_.native_handle(), kStop);
  waiter_.join();
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

InterruptWatch::Ask InterruptWatch::take() {
  if (cancel_asked_.exchange(false)) {
    taken_ = presses_.load();
    return Ask::cancel;
  }
  const uint32_t presses = presses_.load();
  if (taken_.exchange(presses) != presses) return Ask::report;
  return Ask::nothing;
}

}  // namespace cadre::cli
