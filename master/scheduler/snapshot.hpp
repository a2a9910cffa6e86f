// What the scheduler sees: nodes (free capacity, topology, partitions),
// partitions, running jobs (what they hold and when they are expected to
// end) and pending jobs (with the factors their priority is made of).
// Built by the master from its state, or by the simulator; plain values with
// indices instead of names, so decide() runs anywhere (master, simulator,
// tests) and fast. Not synchronised.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common/ids.hpp"
#include "common/limits.hpp"
#include "common/resources.hpp"

namespace cadre::sched {

// A node has at most this many GPUs (their indices fit one 64-bit mask).
inline constexpr uint32_t kMaxGpusPerNode = static_cast<uint32_t>(limits::kMaxGpusPerNode);
// At most this many partitions (a node's memberships fit one 64-bit mask).
inline constexpr uint32_t kMaxPartitions = 64;
// Stands for "no end in sight" (an unlimited job's end, an unknown start).
inline constexpr int64_t kNever = std::numeric_limits<int64_t>::max() / 4;

struct NodeView {
  std::string name;
  bool schedulable = true;           // UP; DRAIN and DOWN nodes take no new work
  Resources total;
  Resources free;
  std::vector<uint32_t> free_gpus;   // exact indices, ascending, each < kMaxGpusPerNode
  uint32_t gpu_model = 0;            // index into Snapshot::gpu_models; 0 = unknown
  uint32_t switch_id = 0;            // dense ids; nodes without a label share id 0
  uint32_t rack_id = 0;
  uint64_t partitions = ~uint64_t{0};  // bit p set: member of partition p
};

// The shape of a gang: `ntasks` ranks of `per_task` each. With nodes > 0
// the ranks go `tasks_per_node` to each of `nodes` distinct nodes.
struct GangShape {
  Resources per_task;
  uint32_t nodes = 0;
  uint32_t tasks_per_node = 0;
  uint32_t ntasks = 1;

  Resources total() const { return per_task.times(ntasks); }
  bool operator==(const GangShape&) const = default;
};

struct PartitionView {
  std::string name;
  // Jobs of a higher tier are considered first and may preempt running
  // jobs of a lower tier (when the policy allows preemption).
  int32_t tier = 0;
  bool preemptible = true;              // its jobs may be preempted by higher tiers
  uint32_t max_running_jobs_per_user = 0;  // 0: no limit
  int64_t max_gpus_per_user = 0;           // 0: no limit
};

// A QOS (master/qos.hpp) as the scheduler sees it. Index 0 of
// Snapshot::qos is "no QOS" (no limits, no priority, the partition's tier).
struct QosView {
  std::string name;
  double priority = 0;                     // the QOS factor: its priority over the highest, in [0, 1]
  bool has_tier = false;                   // the job's tier is `tier`, not its partition's
  int32_t tier = 0;
  bool preemptible = true;
  uint32_t max_running_jobs_per_user = 0;  // 0: no limit
  int64_t max_gpus_per_user = 0;           // 0: no limit
};

// A job that holds resources. Its ranks' usage is given per rank.
struct RankUse {
  uint32_t node = 0;                // index into Snapshot::nodes
  std::vector<uint32_t> gpus;
};

struct RunningJob {
  JobId id = 0;
  uint32_t partition = 0;
  uint32_t qos = 0;                 // index into Snapshot::qos; 0 none
  uint32_t user = 0;
  int64_t start_time = 0;
  // Start plus time limit; the scheduler plans as if it ends then. Jobs
  // with no limit are given one by the caller (Policy::unlimited_as_s).
  int64_t expected_end = kNever;
  // Being killed (cancelled, preempted, ended): expected to let go of its
  // resources at once, and never a preemption victim.
  bool ending = false;
  bool exclusive = false;           // --exclusive: its nodes take nothing else
  Resources per_task;
  std::vector<RankUse> ranks;
};

struct PendingJob {
  JobId id = 0;
  uint32_t partition = 0;
  uint32_t qos = 0;                 // index into Snapshot::qos; 0 none
  uint32_t user = 0;                // index into user_fairshare
  uint32_t account = 0;             // index into account_fairshare
  int32_t priority = 0;             // the job's own --priority
  int64_t submit_time = 0;
  int64_t time_limit_s = 0;         // 0: none (planned as Policy::unlimited_as_s)
  GangShape shape;
  // Allowed GPU models (indices into Snapshot::gpu_models); empty: any.
  std::vector<uint32_t> gpu_models;
  // At most this many switches (0: no limit), held for switches_wait_s
  // after submit and then relaxed (0: held forever).
  uint32_t max_switches = 0;
  int64_t switches_wait_s = 0;
  // -w / -x / -C: only these nodes (indices, ascending) when restricted.
  bool nodes_restricted = false;
  std::vector<uint32_t> nodes_allowed;
  // -C's matching OR ("[rack1|rack2]"): the gang goes wholly within one of
  // these sets (each within nodes_allowed); empty: no such choice.
  std::vector<std::vector<uint32_t>> node_sets;
  bool exclusive = false;           // --exclusive: whole nodes, shared with no one
};

// A job's preemption tier and whether it may be preempted: its QOS's tier
// when the QOS sets one, else its partition's; preemptible only when both
// allow it.
struct Tiering {
  int32_t tier = 0;
  bool preemptible = true;
};

struct Snapshot {
  std::vector<NodeView> nodes;
  std::vector<PartitionView> partitions;   // at least one
  std::vector<QosView> qos;                // [0] = none; may be empty (no QOS at all)
  std::vector<RunningJob> running;
  std::vector<PendingJob> pending;
  std::vector<std::string> gpu_models;     // [0] = "" (unknown)
  // Fair-share factors in [0, 1] (1: no recent usage), from FairShare.
  std::vector<double> user_fairshare;
  std::vector<double> account_fairshare;
};

inline Tiering tiering(const Snapshot& s, uint32_t partition, uint32_t qos) {
  Tiering t;
  if (partition < s.partitions.size()) {
    t.tier = s.partitions[partition].tier;
    t.preemptible = s.partitions[partition].preemptible;
  }
  if (qos > 0 && qos < s.qos.size()) {
    if (s.qos[qos].has_tier) t.tier = s.qos[qos].tier;
    t.preemptible = t.preemptible && s.qos[qos].preemptible;
  }
  return t;
}

}  // namespace cadre::sched
