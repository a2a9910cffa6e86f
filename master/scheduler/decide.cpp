#include "master/scheduler/decide.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "master/scheduler/timeline.hpp"

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
  }
  return "Resources";
}

namespace {

// Jobs that share this key are interchangeable for "does it fit now?".
struct ShapeKey {
  GangShape shape;
  uint32_t partition = 0;
  uint32_t max_switches = 0;
  std::vector<uint32_t> models;

  auto tie() const {
    return std::tie(shape.per_task.millicores, shape.per_task.memory_mb, shape.per_task.gpus, shape.nodes,
                    shape.tasks_per_node, shape.ntasks, partition, max_switches, models);
  }
  bool operator<(const ShapeKey& o) const { return tie() < o.tie(); }
};

struct UserUse {
  uint32_t jobs = 0;
  int64_t gpus = 0;
};

int64_t saturating_add(int64_t a, int64_t b) { return a > kNever - b ? kNever : a + b; }

// One decide() call. Holds the working state of the pass; discarded after.
class Pass {
 public:
  Pass(const Snapshot& s, const Policy& p, int64_t now) : s_(s), p_(p), now_(now), timeline_(s.nodes.size()) {}

  Decisions run() {
    prepare();
    out_.waiting.reserve(s_.pending.size());
    for (uint32_t idx : rank_order()) consider(s_.pending[idx]);
    return std::move(out_);
  }

 private:
  void prepare() {
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
      if (r.partition < s_.partitions.size() && s_.partitions[r.partition].preemptible)
        lowest_preemptible_tier_ = std::min(lowest_preemptible_tier_, s_.partitions[r.partition].tier);
      if (r.ending) {
        victim_[i] = true;
        continue;
      }
      UserUse& use = user_use_[{r.partition, r.user}];
      use.jobs += 1;
      use.gpus += r.per_task.gpus * static_cast<int64_t>(r.ranks.size());
    }
  }

  // The timeline of releases is only needed once a job cannot start (most
  // passes place everything): built then, from running jobs and the jobs
  // this pass started so far.
  void ensure_timeline() {
    if (timeline_built_) return;
    timeline_built_ = true;
    for (uint32_t i = 0; i < s_.running.size(); ++i) {
      const RunningJob& r = s_.running[i];
      // A job being killed, or past its expected end, is planned to end
      // at the next instant.
      const int64_t end = r.ending ? now_ + 1 : std::max(r.expected_end, now_ + 1);
      for (const RankUse& u : r.ranks)
        if (u.node < avail_.size()) timeline_.add_release(u.node, end, r.per_task, gpu_mask(u.gpus), i + 1);
    }
    for (const Placement& p : out_.placements) {
      const PendingJob& j = *started_jobs_.at(p.job);
      const int64_t end = saturating_add(now_, j.time_limit_s > 0 ? j.time_limit_s : p_.unlimited_as_s);
      for (const RankSlot& slot : p.gang.ranks)
        timeline_.add_release(slot.node, end, j.shape.per_task, gpu_mask(slot.gpus));
    }
  }

  void add_to_partitions(const NodeView& n, const Resources& r) {
    for (uint32_t p = 0; p < part_free_.size(); ++p)
      if ((n.partitions >> p) & 1u) part_free_[p] += r;
  }

  std::vector<uint32_t> rank_order() {
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
      const int32_t tier = j.partition < s_.partitions.size() ? s_.partitions[j.partition].tier : 0;
      factors_.push_back(priority_of(j, s_, totals, p_.weights, now_));
      ranked.push_back({tier, factors_.back().total, j.submit_time, j.id, i});
    }
    // A higher partition tier is considered first (as Slurm's PriorityTier),
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

  void wait(const PendingJob& j, WaitReason why, int64_t expected = 0) {
    const auto index = static_cast<uint32_t>(&j - s_.pending.data());
    out_.waiting.push_back(Waiting{j.id, index, why, expected, factors_[index]});
  }

  void consider(const PendingJob& j) {
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
    if (blocked_) return wait(j, WaitReason::priority);

    PlaceConstraints c;
    c.partition = static_cast<int32_t>(j.partition);
    c.gpu_models = &j.gpu_models;
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

  bool may_reserve() const {
    switch (p_.backfill) {
      case Backfill::greedy: return false;
      case Backfill::fcfs:
      case Backfill::easy: return reservations_made_ < 1;
      case Backfill::conservative: return reservations_made_ < p_.reservation_depth;
    }
    return false;
  }

  ShapeKey key_of(const PendingJob& j, const PlaceConstraints& c) const {
    return ShapeKey{j.shape, j.partition, c.max_switches, j.gpu_models};
  }

  // Places the gang on what is free now, over [now, end): reserved nodes
  // offer only what their reservations leave for that whole window.
  std::optional<GangPlacement> place_now(const PendingJob& j, const PlaceConstraints& c, int64_t end) {
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

  void start(const PendingJob& j, const GangPlacement& gang, int64_t end) {
    reserve(j.shape, gang, avail_);
    for (const RankSlot& slot : gang.ranks) {
      if (avail_[slot.node].schedulable) add_to_partitions(avail_[slot.node], Resources{} - j.shape.per_task);
      if (timeline_built_) timeline_.add_release(slot.node, end, j.shape.per_task, gpu_mask(slot.gpus));
    }
    if (!timeline_built_) started_jobs_.emplace(j.id, &j);
    UserUse& use = user_use_[{j.partition, j.user}];
    use.jobs += 1;
    use.gpus += j.shape.total().gpus;
    out_.placements.push_back(Placement{j.id, gang});
  }

  // The earliest time, up to `latest`, at which the whole gang fits for
  // `limit` seconds around every reservation already made; reserves it.
  std::optional<int64_t> reserve_earliest(const PendingJob& j, const PlaceConstraints& c, int64_t limit,
                                          int64_t latest) {
    ensure_timeline();
    const Resources need = j.shape.total();
    Resources upper;  // cluster-wide free at t: a cheap upper bound for the partition
    for (const NodeView& n : avail_)
      if (n.schedulable) upper += n.free;
    const auto& events = timeline_.all_events();
    // `scratch` walks forward in time with the events: each node as it is
    // at t. Only nodes where a reservation starts inside [t, t + limit) need
    // the full window minimum, computed for them alone.
    std::vector<NodeView> scratch;
    std::vector<uint64_t> masks;
    std::vector<uint32_t> changed;
    std::vector<bool> in_window(avail_.size(), false);  // nodes whose window minimum is in scratch
    for (size_t i = 0; i < events.size();) {
      const int64_t t = events[i].time;
      if (t > latest || t >= kNever) break;  // nothing can be promised after "never"
      if (scratch.empty() && t > now_) {
        scratch = avail_;
        masks.resize(scratch.size());
        for (size_t n = 0; n < scratch.size(); ++n) masks[n] = gpu_mask(scratch[n].free_gpus);
      }
      bool grows = false;
      const size_t group = i;
      for (; i < events.size() && events[i].time == t; ++i) {
        const Timeline::Event& e = events[i];
        upper += e.delta;
        grows = grows || e.add != 0 || e.delta.millicores > 0 || e.delta.gpus > 0 || e.delta.memory_mb > 0;
        if (scratch.empty()) continue;  // at or before now: already in avail_
        scratch[e.node].free += e.delta;
        masks[e.node] |= e.add;
        changed.push_back(e.node);
      }
      if (scratch.empty()) continue;
      for (size_t k = group; k < i; ++k) masks[events[k].node] &= ~events[k].remove;  // adds before removes
      if (t <= now_ || !grows || !fits(need, upper)) continue;
      for (uint32_t n : changed) scratch[n].free_gpus = gpu_list(masks[n]);
      changed.clear();

      const int64_t end = saturating_add(t, limit);
      std::vector<std::pair<uint32_t, Resources>> windowed;  // node, its state at t
      const auto& lowering = timeline_.lowering_events();
      auto first = std::lower_bound(lowering.begin(), lowering.end(), i,
                                    [](uint32_t k, size_t at) { return k < at; });
      for (auto it = first; it != lowering.end() && events[*it].time < end; ++it) {
        const Timeline::Event& e = events[*it];
        if (in_window[e.node]) continue;
        in_window[e.node] = true;
        windowed.emplace_back(e.node, scratch[e.node].free);
        Resources low;
        uint64_t mask = 0;
        timeline_.window(e.node, avail_[e.node].free, gpu_mask(avail_[e.node].free_gpus), t, end, low, mask);
        scratch[e.node].free = low;
        scratch[e.node].free_gpus = gpu_list(mask);
      }
      auto gang = place_gang(j.shape, scratch, c);
      for (auto& [n, state] : windowed) {
        in_window[n] = false;
        scratch[n].free = state;
        scratch[n].free_gpus = gpu_list(masks[n]);
      }
      if (!gang) continue;
      hold(j, *gang, t, end);
      return t;
    }
    return std::nullopt;
  }

  // Records a reservation of `gang` over [start, end).
  void hold(const PendingJob& j, const GangPlacement& gang, int64_t start, int64_t end) {
    std::map<uint32_t, std::pair<Resources, uint64_t>> per_node;
    for (const RankSlot& slot : gang.ranks) {
      auto& [r, mask] = per_node[slot.node];
      r += j.shape.per_task;
      mask |= gpu_mask(slot.gpus);
    }
    Reservation res{j.id, start, {}};
    for (auto& [node, use] : per_node) {
      timeline_.add_reservation(node, start, end, use.first, use.second);
      res.nodes.push_back(node);
    }
    out_.reservations.push_back(std::move(res));
    reservations_made_ += 1;
  }

  // Preemption: whole running gangs of lower tiers, the cheapest set (by
  // GPU-seconds, then cpu-seconds, already run) that lets `j` start now.
  bool try_preempt(const PendingJob& j, const PlaceConstraints& c, int64_t limit) {
    const int32_t tier = s_.partitions[j.partition].tier;
    if (tier <= lowest_preemptible_tier_) return false;  // nobody it could preempt
    struct Cand {
      int64_t gpu_s;
      int64_t cpu_s;
      JobId id;
      uint32_t idx;
    };
    std::vector<Cand> cands;
    bool leaving = false;  // lower-tier jobs on their way out (victims of an earlier pass)
    for (uint32_t i = 0; i < s_.running.size(); ++i) {
      const RunningJob& r = s_.running[i];
      if (r.partition >= s_.partitions.size()) continue;
      const PartitionView& rp = s_.partitions[r.partition];
      if (!rp.preemptible || rp.tier >= tier) continue;
      if (victim_[i]) {
        leaving = true;
        continue;
      }
      const int64_t ran = std::max<int64_t>(0, now_ - r.start_time);
      const int64_t ranks = static_cast<int64_t>(r.ranks.size());
      cands.push_back({r.per_task.gpus * ranks * ran, r.per_task.millicores * ranks * ran / 1000, r.id, i});
    }
    // Victims already on their way out may be enough: wait for them.
    if (leaving) {
      if (auto t = reserve_earliest(j, c, limit, now_ + 1)) {
        wait(j, WaitReason::preempting, *t);
        return true;
      }
    }
    if (cands.empty()) return false;
    ShapeKey key = key_of(j, c);
    if (preempt_failed_.count(key)) return false;
    ensure_timeline();

    std::sort(cands.begin(), cands.end(), [](const Cand& a, const Cand& b) {
      return std::tie(a.gpu_s, a.cpu_s, a.id) < std::tie(b.gpu_s, b.cpu_s, b.id);
    });
    // Reservations belong to jobs ranked ahead: their nodes are off limits.
    std::vector<NodeView> scratch = avail_;
    for (uint32_t n : timeline_.reserved_nodes()) scratch[n].schedulable = false;
    auto give = [&](uint32_t idx, int sign) {
      const RunningJob& r = s_.running[idx];
      for (const RankUse& u : r.ranks) {
        if (u.node >= scratch.size()) continue;
        NodeView& v = scratch[u.node];
        if (sign > 0) {
          v.free += r.per_task;
          for (uint32_t g : u.gpus)
            if (g < kMaxGpusPerNode) v.free_gpus.insert(std::upper_bound(v.free_gpus.begin(), v.free_gpus.end(), g), g);
        } else {
          v.free -= r.per_task;
          for (uint32_t g : u.gpus) std::erase(v.free_gpus, g);
        }
      }
    };
    const Resources need = j.shape.total();
    Resources freed = part_free_[j.partition];
    std::vector<uint32_t> chosen;
    std::optional<GangPlacement> gang;
    for (const Cand& cand : cands) {
      give(cand.idx, +1);
      chosen.push_back(cand.idx);
      freed += s_.running[cand.idx].per_task.times(static_cast<int64_t>(s_.running[cand.idx].ranks.size()));
      if (!fits(need, freed)) continue;
      if ((gang = place_gang(j.shape, scratch, c))) break;
    }
    if (!gang) {
      preempt_failed_.insert(key);
      return false;
    }
    // Spare the most expensive victims the preemptor can do without.
    for (size_t k = chosen.size(); k-- > 0;) {
      give(chosen[k], -1);
      if (place_gang(j.shape, scratch, c)) {
        chosen.erase(chosen.begin() + static_cast<std::ptrdiff_t>(k));
      } else {
        give(chosen[k], +1);
      }
    }
    gang = place_gang(j.shape, scratch, c);
    if (!gang) return false;  // cannot happen: the last check passed with this set

    Preemption pre{j.id, {}};
    for (uint32_t idx : chosen) {
      victim_[idx] = true;
      timeline_.move_releases(idx + 1, now_ + 1);
      pre.victims.push_back(s_.running[idx].id);
      const RunningJob& r = s_.running[idx];
      UserUse& vu = user_use_[{r.partition, r.user}];
      vu.jobs -= std::min<uint32_t>(vu.jobs, 1);
      vu.gpus -= r.per_task.gpus * static_cast<int64_t>(r.ranks.size());
    }
    std::sort(pre.victims.begin(), pre.victims.end());
    out_.preemptions.push_back(std::move(pre));
    hold(j, *gang, now_ + 1, saturating_add(now_ + 1, limit));
    UserUse& use = user_use_[{j.partition, j.user}];
    use.jobs += 1;
    use.gpus += need.gpus;
    wait(j, WaitReason::preempting, now_ + 1);
    return true;
  }

  // Why a job that got neither a start nor a reservation waits. Computed
  // once per shape and pass: free capacity only shrinks during a pass, so a
  // later job of the same shape might read "Priority" where "Resources" is
  // now true; the next pass corrects it. Without the cache, a queue of
  // 100,000 jobs behind a reservation costs a placement attempt each.
  WaitReason why_not_now(const PendingJob& j, const PlaceConstraints& c) {
    ShapeKey key = key_of(j, c);
    if (auto it = reasons_.find(key); it != reasons_.end()) return it->second;
    WaitReason why = compute_why_not_now(j, c);
    reasons_.emplace(std::move(key), why);
    return why;
  }

  WaitReason compute_why_not_now(const PendingJob& j, const PlaceConstraints& c) {
    if (!fits(j.shape.total(), part_free_[j.partition])) return WaitReason::resources;
    if (c.max_switches > 0) {
      PlaceConstraints open = c;
      open.max_switches = 0;
      if (place_gang(j.shape, avail_, open)) return WaitReason::topology;
    }
    if (!timeline_.reserved_nodes().empty() && place_gang(j.shape, avail_, c)) return WaitReason::priority;
    return WaitReason::resources;
  }

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
  std::map<ShapeKey, int64_t> failed_;  // the smallest window end at which a shape did not fit now
  std::set<ShapeKey> preempt_failed_;
  std::map<ShapeKey, WaitReason> reasons_;
  std::vector<bool> victim_;            // per running job: ending or chosen as a victim
  uint32_t reservations_made_ = 0;
  bool blocked_ = false;                // fcfs: a job ahead could not start
  Decisions out_;
};

}  // namespace

Decisions decide(const Snapshot& snapshot, const Policy& policy, int64_t now) {
  return Pass(snapshot, policy, now).run();
}

}  // namespace cadre::sched
