// Admission: whether a submitted job may join the queue, and how: request
// validation, per-user limits, defaults (output pattern, name, account,
// time limit), its partition, and refusal of shapes that can never run on
// the nodes known (remembered per shape). Not thread-safe: owned by the
// Cluster on the master's event-loop thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "common/result.hpp"
#include "master/limits.hpp"
#include "master/scheduler/gang_placement.hpp"
#include "master/state/cluster_state.hpp"

namespace cadre {

class Admission {
 public:
  // Per-user limits checked at submit (the rate is the service's).
  void set_limits(const Limits& limits) { limits_ = limits; }
  // Validates `spec` and queues it as a PENDING job; returns its id or why
  // it was refused.
  Result<JobId> submit(ClusterState& s, JobSpec spec, int64_t now_unix);
  // What never_fits() remembers depends on node totals, labels, GPUs and
  // partition memberships: call when any of those may have changed.
  void forget_shapes() { never_fits_cache_.clear(); }

 private:
  // Why a gang of `shape` can never run in partition `part` on the nodes
  // known, even all idle ("" when it can, or no node is a member yet).
  // Remembered per shape until a node registers or the partitions change
  // (what it depends on: totals, labels, GPUs, memberships), so a submit
  // does not cost a placement over every node.
  std::string never_fits(const ClusterState& s, const sched::GangShape& shape, int32_t part, uint32_t max_switches);
  Status admit_in(const ClusterState& s, JobSpec& spec, const std::string& name);
  Status choose_partitions(const ClusterState& s, JobSpec& spec);

  Limits limits_;
  using NeverFitsKey = std::tuple<int64_t, int64_t, int64_t, uint32_t, uint32_t, uint32_t, int32_t, uint32_t>;
  std::map<NeverFitsKey, std::string> never_fits_cache_;
  size_t never_fits_nodes_ = 0;  // nodes.size() the cache was filled with
};

}  // namespace cadre
