// Identifier types and the clocks the daemons read. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace cadre {

// Job ids are assigned by the master from 1 upward and never reused.
using JobId = uint64_t;
// Attempts count runs of a job: 1 for the first.
using Attempt = uint32_t;

// Wall-clock unix seconds: what users see (submit, start, end times) and
// time limits, which must survive a master restart.
inline int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Monotonic milliseconds, for timeouts within one process (heartbeats).
inline int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace cadre
