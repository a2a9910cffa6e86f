// The figures a replay is judged by, computed from each finished job's
// timeline and the busy resource-seconds of the cluster. Pure functions;
// thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "common/resources.hpp"
#include "master/scheduler/snapshot.hpp"

namespace cadre::sim {

// A job "spans" this many nodes or more to count as large.
inline constexpr uint32_t kLargeJobNodes = 16;

struct JobOutcome {
  int64_t submit_s = 0;
  int64_t first_start_s = 0;
  int64_t end_s = 0;       // end of its last (completed) run
  int64_t run_s = 0;       // what one complete run takes
  uint32_t nodes_spanned = 0;
};

struct Metrics {
  double utilization = 0;  // busy / (capacity x makespan), GPUs if any, else cpus
  double mean_wait_s = 0;
  double median_wait_s = 0;  // nearest rank
  double p99_wait_s = 0;     // nearest rank
  double mean_bounded_slowdown = 0;
  double mean_jct_s = 0;
  double makespan_s = 0;        // last end - first submit
  double max_wait_large_s = 0;  // over jobs spanning kLargeJobNodes nodes or more; 0 if none
  int64_t started = 0;
  int64_t preemptions = 0;
  int64_t reservations = 0;
  int64_t unfinished = 0;  // never started or never finished: left out of the figures
  double replay_s = 0;     // wall time of the replay (not deterministic)
};

// How many nodes a job needs: `nodes` for a per-node gang; for ranks placed
// anywhere, its total GPUs (GPU jobs) or cpus (others) over what the
// largest node has.
uint32_t nodes_spanned(const sched::GangShape& shape, const Resources& largest_node);

// The value at nearest rank ceil(q x n) of `values` (sorted in place); 0
// for none.
double nearest_rank(std::vector<int64_t>& values, double q);

// Fills the timeline figures; counts (started, ...) are left to the caller.
// `busy` is in the same units as `capacity` (GPU- or cpu-seconds).
Metrics summarize(const std::vector<JobOutcome>& jobs, double busy_unit_s, double capacity_units);

}  // namespace cadre::sim
