// Pass: the working state of one decide() call, discarded after. Private
// to decide.cpp (ranking, starting jobs, wait reasons) and
// decide_reserve.cpp (what a job that cannot start gets: a reservation at
// the earliest time it fits, or preemption of lower-tier gangs). Not
// thread-safe; one Pass per call.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "master/scheduler/decide.hpp"
#include "master/scheduler/timeline.hpp"

namespace cadre::sched::detail {

// Jobs that share this key are interchangeable for "does it fit now?".
struct ShapeKey {
  GangShape shape;
  uint32_t partition = 0;
  uint32_t max_switches = 0;
  std::vector<uint32_t> models;
  bool restricted = false;
  std::vector<uint32_t> nodes;
  bool exclusive = false;
  std::vector<std::vector<uint32_t>> node_sets;

  auto tie() const {
    return std::tie(shape.per_task.millicores, shape.per_task.memory_mb, shape.per_task.gpus, shape.nodes,
                    shape.tasks_per_node, shape.ntasks, partition, max_switches, models, restricted, nodes,
                    exclusive, node_sets);
  }
  bool operator<(const ShapeKey& o) const { return tie() < o.tie(); }
};

struct UserUse {
  uint32_t jobs = 0;
  int64_t gpus = 0;
};

inline int64_t saturating_add(int64_t a, int64_t b) { return a > kNever - b ? kNever : a + b; }

class Pass {
 public:
  Pass(const Snapshot& s, const Policy& p, int64_t now) : s_(s), p_(p), now_(now), timeline_(s.nodes.size()) {}

  Decisions run();

 private:
  // A running gang a preemptor could stop, and what stopping it costs.
  struct Cand {
    int64_t gpu_s;
    int64_t cpu_s;
    JobId id;
    uint32_t idx;
  };

  // decide.cpp: ranking and starting.
  void prepare();
  void add_to_partitions(const NodeView& n, const Resources& r);
  std::vector<uint32_t> rank_order();
  void wait(const PendingJob& j, WaitReason why, int64_t expected = 0);
  void consider(const PendingJob& j);
  ShapeKey key_of(const PendingJob& j, const PlaceConstraints& c) const;
  std::optional<GangPlacement> place_now(const PendingJob& j, const PlaceConstraints& c, int64_t end);
  void start(const PendingJob& j, const GangPlacement& gang, int64_t end);
  WaitReason why_not_now(const PendingJob& j, const PlaceConstraints& c);
  WaitReason compute_why_not_now(const PendingJob& j, const PlaceConstraints& c);

  // decide_reserve.cpp: reservations (backfill) and preemption.
  bool may_reserve() const;
  void ensure_timeline();
  std::optional<int64_t> reserve_earliest(const PendingJob& j, const PlaceConstraints& c, int64_t limit,
                                          int64_t latest);
  void hold(const PendingJob& j, const GangPlacement& gang, int64_t start, int64_t end);
  bool try_preempt(const PendingJob& j, const PlaceConstraints& c, int64_t limit);
  std::vector<Cand> preempt_candidates(int32_t tier, bool& leaving) const;
  std::optional<GangPlacement> choose_victims(const PendingJob& j, const PlaceConstraints& c,
                                              const std::vector<Cand>& cands, std::vector<uint32_t>& chosen);
  void record_preemption(const PendingJob& j, const GangPlacement& gang, const std::vector<uint32_t>& chosen,
                         int64_t limit);

  const Snapshot& s_;
  const Policy& p_;
  const int64_t now_;
  std::vector<PriorityFactors> factors_;  // per pending job, in input order
  std::vector<NodeView> avail_;
  Timeline timeline_;
  bool timeline_built_ = false;
  std::map<JobId, const PendingJob*> started_jobs_;  // placed before the timeline was built
  int32_t lowest_preemptible_tier_ = std::numeric_limits<int32_t>::max();
  std::vector<Resources> part_free_;
  std::map<std::pair<uint32_t, uint32_t>, UserUse> user_use_;  // (partition, user)
  std::map<std::pair<uint32_t, uint32_t>, UserUse> qos_use_;   // (QOS, user); QOS 0 not counted
  // Adds (sign +1) or takes away (-1) one job of `gpus` GPUs from what
  // its user runs in its partition and under its QOS.
  void count_use(uint32_t partition, uint32_t qos, uint32_t user, int sign, int64_t gpus);
  std::map<ShapeKey, int64_t> failed_;  // the smallest window end at which a shape did not fit now
  std::set<ShapeKey> preempt_failed_;
  std::map<ShapeKey, WaitReason> reasons_;
  std::vector<bool> victim_;            // per running job: ending or chosen as a victim
  uint32_t reservations_made_ = 0;
  bool blocked_ = false;                // fcfs: a job ahead could not start
  Decisions out_;
};

}  // namespace cadre::sched::detail
