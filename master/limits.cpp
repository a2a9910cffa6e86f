#include "master/limits.hpp"

#include <algorithm>
#include <cmath>

namespace cadre {

std::optional<int64_t> SubmitRateLimiter::take(const std::string& user, int64_t now_ms) {
  if (rate_ <= 0) return std::nullopt;
  forget_full(now_ms);
  auto [it, fresh] = buckets_.try_emplace(user, Bucket{static_cast<double>(burst_), now_ms});
  Bucket& b = it->second;
  if (!fresh && now_ms > b.at_ms) {
    b.tokens = std::min<double>(burst_, b.tokens + rate_ * static_cast<double>(now_ms - b.at_ms) / 1000.0);
    b.at_ms = now_ms;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  return static_cast<int64_t>(std::ceil((1.0 - b.tokens) * 1000.0 / rate_));
}

void SubmitRateLimiter::forget_full(int64_t now_ms) {
  // A bucket refills completely in burst / rate seconds; past that it is
  // the same as a new one.
  const int64_t refill_ms = static_cast<int64_t>(std::ceil(burst_ * 1000.0 / rate_));
  if (now_ms - last_sweep_ms_ < std::max<int64_t>(refill_ms, 1000)) return;
  last_sweep_ms_ = now_ms;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    if (now_ms - it->second.at_ms >= refill_ms) it = buckets_.erase(it);
    else ++it;
  }
}

}  // namespace cadre
