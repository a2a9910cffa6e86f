// The jobs a replay runs: a trace's jobs cut to --max-jobs, with those the
// cluster could never hold taken out, GPU model names turned into the
// cluster's indices, and users and accounts given dense ids. Not
// synchronised.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "master/scheduler/snapshot.hpp"
#include "sim/cluster.hpp"
#include "sim/trace.hpp"

namespace cadre::sim {

struct SimJob {
  JobId id = 0;  // 1-based position in Workload::jobs
  int64_t submit_s = 0;
  int64_t run_s = 0;
  int64_t limit_s = 1;
  sched::GangShape shape;
  std::vector<uint32_t> gpu_models;  // indices into Cluster::gpu_models; empty: any
  uint32_t user = 0;                 // index into Workload::users
  uint32_t account = 0;              // index into Workload::accounts
  uint32_t pair = 0;                 // index into Workload::pairs (user, account)
};

struct Workload {
  std::vector<SimJob> jobs;  // in submit order
  std::vector<std::string> users;
  std::vector<std::string> accounts;
  std::vector<std::pair<uint32_t, uint32_t>> pairs;  // (user, account) that some job has
  int64_t never_fit = 0;
  std::string first_never_fit;  // "job 12 (submitted at 3600): no node has 16 GPUs ..."
};

// Takes the first `max_jobs` jobs of the trace in submit order (0: all),
// then drops those that never fit the idle cluster (sched::never_fits_reason).
// Adds the GPU models jobs name to `cluster` when no node has them (such
// jobs never fit).
Workload prepare_workload(const Trace& trace, Cluster& cluster, int64_t max_jobs);

}  // namespace cadre::sim
