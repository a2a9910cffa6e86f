// MasterStats: what the master counts about its own work, for `cadre diag`
// (getStats) and the scale benchmark: scheduling passes and their cost,
// messages, heartbeats, commits, and the process's memory and CPU.
//
// Plain values; owned by the master's event-loop thread, not synchronised.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>

namespace cadre {

// The cost of one scheduling pass, in wall-clock microseconds, and the
// running gangs it stopped.
struct PassTiming {
  int64_t snapshot_us = 0;  // building the scheduler's view of the cluster
  int64_t decide_us = 0;    // decide() itself
  int64_t apply_us = 0;     // launches, preemptions, wait reasons
  int64_t cpu_us = 0;       // CPU time of the thread over the three (wall minus waiting for a core)
  uint32_t preempted = 0;   // running gangs preempted (sent back to the queue) by this pass
  int64_t total_us() const { return snapshot_us + decide_us + apply_us; }
};

// What the process costs the host, sampled when asked.
struct ProcessUsage {
  uint64_t rss_bytes = 0;
  int64_t cpu_user_us = 0;
  int64_t cpu_system_us = 0;
};

struct MasterStats {
  int64_t started_ms = 0;  // steady clock
  uint64_t passes = 0;
  PassTiming last_pass;
  int64_t max_pass_us = 0;
  int64_t total_pass_us = 0;
  uint64_t messages = 0;
  uint64_t heartbeats = 0;
  uint64_t commits = 0;
  int64_t last_commit_us = 0;

  void record_pass(const PassTiming& t) {
    passes += 1;
    last_pass = t;
    max_pass_us = std::max(max_pass_us, t.total_us());
    total_pass_us += t.total_us();
  }
};

// Everything getStats answers with: the counters, the state's size and the
// process's usage at the time of asking.
struct StatsReport {
  MasterStats stats;
  int64_t uptime_s = 0;
  uint32_t jobs_pending = 0;
  uint32_t jobs_running = 0;
  uint32_t nodes_registered = 0;
  uint32_t nodes_up = 0;
  uint64_t malformed_messages = 0;
  uint64_t over_limit_requests = 0;
  uint64_t refused_messages = 0;
  ProcessUsage usage;
};

// CPU time of the calling thread, microseconds.
inline int64_t thread_cpu_us() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
}

// Microseconds since `since` on the steady clock.
inline int64_t micros_since(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - since).count();
}

// This process's resident set (/proc/self/statm) and CPU time (getrusage).
// A figure that cannot be read stays 0.
inline ProcessUsage sample_process_usage() {
  ProcessUsage u;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    unsigned long long size = 0, resident = 0;
    if (std::fscanf(f, "%llu %llu", &size, &resident) == 2)
      u.rss_bytes = resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    std::fclose(f);
  }
  struct rusage ru {};
  if (::getrusage(RUSAGE_SELF, &ru) == 0) {
    u.cpu_user_us = int64_t{ru.ru_utime.tv_sec} * 1000000 + ru.ru_utime.tv_usec;
    u.cpu_system_us = int64_t{ru.ru_stime.tv_sec} * 1000000 + ru.ru_stime.tv_usec;
  }
  return u;
}

}  // namespace cadre
