// Limits that keep one client from hurting everyone else: how many jobs a
// user may have waiting, how fast a user may submit, and how big a job's
// command and batch script may be. Each breach is refused with a message
// to that client alone; the master logs and counts it and serves the rest.
// Not synchronised: owned by the master's event-loop thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/limits.hpp"

namespace cadre {

struct Limits {
  uint32_t max_pending_jobs_per_user = 100000;  // 0: no limit
  double submit_rate = 0;                       // jobs per second per user, sustained; 0: no limit
  uint32_t submit_burst = 1000;                 // jobs a user may submit at once before the rate applies
  size_t max_command_bytes = limits::kMaxCommandBytes;  // a job's command, all words together
  size_t max_script_bytes = limits::kMaxScriptBytes;    // a batch script
};

// A token bucket per user: `burst` submissions at once, refilled at `rate`
// per second. Buckets of users who have been quiet long enough to be full
// again are forgotten, so memory follows the active users only.
class SubmitRateLimiter {
 public:
  SubmitRateLimiter(double rate, uint32_t burst) : rate_(rate), burst_(burst < 1 ? 1 : burst) {}

  // Takes one submission for `user` at `now_ms`. Empty when allowed, else
  // the milliseconds until the next one will be.
  std::optional<int64_t> take(const std::string& user, int64_t now_ms);
  size_t tracked_users() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens = 0;
    int64_t at_ms = 0;
  };
  void forget_full(int64_t now_ms);

  double rate_;
  uint32_t burst_;
  std::unordered_map<std::string, Bucket> buckets_;
  int64_t last_sweep_ms_ = 0;
};

}  // namespace cadre
