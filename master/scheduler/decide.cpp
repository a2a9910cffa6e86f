#include "master/scheduler/decide.hpp"

#include <algorithm>
#include <tuple>

#include "master/scheduler/decide_pass.hpp"

namespace cadre::sched {

std::string_view to_string(Backfill b) {
  switch (b) {
    case Backfill::fcfs: return "fcfs";
    case Backfill::greedy: return "greedy";
    case Backfill::easy: return "easy";
    case Backfill::conservative: return "conservative";
  }
  return "easy";
}

bool parse_backfill(std::string_view text, Backfill& out) {
  for (Backfill b : {Backfill::fcfs, Backfill::greedy, Backfill::easy, Backfill::conservative})
    if (text == to_string(b)) {
      out = b;
      return true;
    }
  return false;
}

std::string_view to_string(WaitReason r) {
  switch (r) {
    case WaitReason::resources: return "Resources";
    case WaitReason::priority: return "Priority";
    case WaitReason::reservation: return "Reservation";
    case WaitReason::partition_limit: return "PartitionLimit";
    case WaitReason::topology: return "Topology";
    case WaitReason::preempting: return "Preempting";
    case WaitReason::partition_down: return "PartitionDown";
    case WaitReason::qos_jobs_limit: return "QOSMaxJobsPerUserLimit";
    case WaitReason::qos_gpu_limit: return "QOSMaxGRESPerUser";
  }
  return "Resources";
}

namespace detail {

Decisions Pass::run() {
  prepare();
  out_.waiting.reserve(s_.pending.size());
  for (uint32_t idx : rank_order()) consider(s_.pending[idx]);
  return std::move(out_);
}

void Pass::prepare() {
  avail_ = s_.nodes;
  for (NodeView& n : avail_) {
    std::erase_if(n.free_gpus, [](uint32_t g) { return g >= kMaxGpusPerNode; });
    n.free.gpus = std::min<int64_t>(n.free.gpus, static_cast<int64_t>(n.free_gpus.size()));
  }
  part_free_.assign(s_.partitions.size(), Resources{});
  for (const NodeView& n : avail_)
    if (n.schedulable) add_to_partitions(n, n.free);

  victim_.assign(s_.running.size(), false);
  for (uint32_t i = 0; i < s_.running.size(); ++i) {
    const RunningJob& r = s_.running[i];
    // Ending jobs count here too: a preemptor waits for its victims.
    if (r.partition < s_.partitions.size())
      if (const Tiering t = tiering(s_, r.partition, r.qos); t.preemptible)
        lowest_preemptible_tier_ = std::min(lowest_preemptible_tier_, t.tier);
    if (r.ending) {
      victim_[i] = true;
      continue;
    }
    count_use(r.partition, r.qos, r.user, +1, r.per_task.gpus * static_cast<int64_t>(r.ranks.size()));
  }
}

void Pass::count_use(uint32_t partition, uint32_t qos, uint32_t user, int sign, int64_t gpus) {
  auto add = [&](UserUse& use) {
    if (sign > 0) {
      use.jobs += 1;
      use.gpus += gpus;
    } else {
      use.jobs -= std::min<uint32_t>(use.jobs, 1);
      use.gpus -= gpus;
    }
  };
  add(user_use_[{partition, user}]);
  if (qos > 0 && qos < s_.qos.size()) add(qos_use_[{qos, user}]);
}

void Pass::add_to_partitions(const NodeView& n, const Resources& r) {
  for (uint32_t p = 0; p < part_free_.size(); ++p)
    if ((n.partitions >> p) & 1u) part_free_[p] += r;
}

std::vector<uint32_t> Pass::rank_order() {
  const ClusterTotals totals = cluster_totals(s_);
  struct Ranked {
    int32_t tier;
    double priority;
    int64_t submit;
    JobId id;
    uint32_t idx;
  };
  std::vector<Ranked> ranked;
  ranked.reserve(s_.pending.size());
  factors_.reserve(s_.pending.size());
  for (uint32_t i = 0; i < s_.pending.size(); ++i) {
    const PendingJob& j = s_.pending[i];
    const int32_t tier = tiering(s_, j.partition, j.qos).tier;
    factors_.push_back(priority_of(j, s_, totals, p_.weights, now_));
    ranked.push_back({tier, factors_.back().total, j.submit_time, j.id, i});
  }
  // A higher tier (partition or QOS) is considered first (as Slurm's PriorityTier),
  // so a preemptor is never passed by the jobs it preempts.
  std::sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    return std::make_tuple(-a.tier, -a.priority, a.submit, a.id) <
           std::make_tuple(-b.tier, -b.priority, b.submit, b.id);
  });
  std::vector<uint32_t> order;
  order.reserve(ranked.size());
  for (const Ranked& r : ranked) order.push_back(r.idx);
  return order;
}

void Pass::wait(const PendingJob& j, WaitReason why, int64_t expected) {
  const auto index = static_cast<uint32_t>(&j - s_.pending.data());
  out_.waiting.push_back(Waiting{j.id, index, why, expected, factors_[index]});
}

void Pass::consider(const PendingJob& j) {
  if (j.partition >= s_.partitions.size()) return wait(j, WaitReason::partition_down);
  const PartitionView& part = s_.partitions[j.partition];
  const int64_t limit = j.time_limit_s > 0 ? j.time_limit_s : p_.unlimited_as_s;
  const int64_t end = saturating_add(now_, limit);
  auto use_it = user_use_.find({j.partition, j.user});
  const UserUse use = use_it == user_use_.end() ? UserUse{} : use_it->second;
  const int64_t gpus = j.shape.total().gpus;
  if ((part.max_running_jobs_per_user > 0 && use.jobs + 1 > part.max_running_jobs_per_user) ||
      (part.max_gpus_per_user > 0 && use.gpus + gpus > part.max_gpus_per_user))
    return wait(j, WaitReason::partition_limit);
  if (j.qos > 0 && j.qos < s_.qos.size()) {
    const QosView& q = s_.qos[j.qos];
    auto it = qos_use_.find({j.qos, j.user});
    const UserUse qu = it == qos_use_.end() ? UserUse{} : it->second;
    if (q.max_running_jobs_per_user > 0 && qu.jobs + 1 > q.max_running_jobs_per_user)
      return wait(j, WaitReason::qos_jobs_limit);
    if (q.max_gpus_per_user > 0 && qu.gpus + gpus > q.max_gpus_per_user) return wait(j, WaitReason::qos_gpu_limit);
  }
  if (blocked_) return wait(j, WaitReason::priority);

  PlaceConstraints c;
  c.partition = static_cast<int32_t>(j.partition);
  c.gpu_models = &j.gpu_models;
  if (j.nodes_restricted) c.nodes = &j.nodes_allowed;
  if (!j.node_sets.empty()) c.node_sets = &j.node_sets;
  c.whole_nodes = j.exclusive;
  const bool switches_held =
      j.max_switches > 0 && (j.switches_wait_s == 0 || now_ - j.submit_time < j.switches_wait_s);
  c.max_switches = switches_held ? j.max_switches : 0;

  if (auto gang = place_now(j, c, end)) return start(j, *gang, end);
  if (p_.preemption && try_preempt(j, c, limit)) {
    if (p_.backfill == Backfill::fcfs) blocked_ = true;
    return;
  }
  if (may_reserve()) {
    if (auto t = reserve_earliest(j, c, limit, kNever)) {
      if (p_.backfill == Backfill::fcfs) blocked_ = true;
      return wait(j, WaitReason::reservation, *t);
    }
  }
  if (p_.backfill == Backfill::fcfs) blocked_ = true;
  wait(j, why_not_now(j, c));
}

ShapeKey Pass::key_of(const PendingJob& j, const PlaceConstraints& c) const {
  return ShapeKey{j.shape,           j.partition,   c.max_switches, j.gpu_models, j.nodes_restricted,
                  j.nodes_allowed,   j.exclusive,   j.node_sets};
}

// Places the gang on what is free now, over [now, end): reserved nodes
// offer only what their reservations leave for that whole window.
std::optional<GangPlacement> Pass::place_now(const PendingJob& j, const PlaceConstraints& c, int64_t end) {
  ShapeKey key = key_of(j, c);
  if (auto it = failed_.find(key); it != failed_.end() && end >= it->second) return std::nullopt;
  if (!fits(j.shape.total(), part_free_[j.partition])) {
    failed_[key] = now_;  // no end makes it fit: free capacity only shrinks in a pass
    return std::nullopt;
  }
  struct Saved {
    uint32_t node;
    Resources free;
    std::vector<uint32_t> gpus;
  };
  std::vector<Saved> saved;
  for (uint32_t n : timeline_.reserved_nodes()) {
    NodeView& v = avail_[n];
    Resources low;
    uint64_t mask = 0;
    timeline_.window(n, v.free, gpu_mask(v.free_gpus), now_, end, low, mask);
    saved.push_back({n, v.free, v.free_gpus});
    v.free = low;
    v.free_gpus = gpu_list(mask);
  }
  auto gang = place_gang(j.shape, avail_, c);
  for (Saved& sv : saved) {
    avail_[sv.node].free = sv.free;
    avail_[sv.node].free_gpus = std::move(sv.gpus);
  }
  if (!gang) {
    // Without reservations the window does not matter: no end fits.
    const int64_t failed_end = saved.empty() ? now_ : end;
    auto [it, fresh] = failed_.emplace(key, failed_end);
    if (!fresh) it->second = std::min(it->second, failed_end);
  }
  return gang;
}

void Pass::start(const PendingJob& j, const GangPlacement& gang, int64_t end) {
  reserve(j.shape, gang, avail_);
  for (const RankSlot& slot : gang.ranks) {
    if (avail_[slot.node].schedulable) add_to_partitions(avail_[slot.node], Resources{} - j.shape.per_task);
    if (timeline_built_) timeline_.add_release(slot.node, end, j.shape.per_task, gpu_mask(slot.gpus));
  }
  if (!timeline_built_) started_jobs_.emplace(j.id, &j);
  count_use(j.partition, j.qos, j.user, +1, j.shape.total().gpus);
  out_.placements.push_back(Placement{j.id, gang});
}

// Why a job that got neither a start nor a reservation waits. Computed
// once per shape and pass: free capacity only shrinks during a pass, so a
// later job of the same shape might read "Priority" where "Resources" is
// now true; the next pass corrects it. Without the cache, a queue of
// 100,000 jobs behind a reservation costs a placement attempt each.
WaitReason Pass::why_not_now(const PendingJob& j, const PlaceConstraints& c) {
  ShapeKey key = key_of(j, c);
  if (auto it = reasons_.find(key); it != reasons_.end()) return it->second;
  WaitReason why = compute_why_not_now(j, c);
  reasons_.emplace(std::move(key), why);
  return why;
}

WaitReason Pass::compute_why_not_now(const PendingJob& j, const PlaceConstraints& c) {
  if (!fits(j.shape.total(), part_free_[j.partition])) return WaitReason::resources;
  if (c.max_switches > 0) {
    PlaceConstraints open = c;
    open.max_switches = 0;
    if (place_gang(j.shape, avail_, open)) return WaitReason::topology;
  }
  if (!timeline_.reserved_nodes().empty() && place_gang(j.shape, avail_, c)) return WaitReason::priority;
  return WaitReason::resources;
}

}  // namespace detail

Decisions decide(const Snapshot& snapshot, const Policy& policy, int64_t now) {
  return detail::Pass(snapshot, policy, now).run();
}

}  // namespace cadre::sched
