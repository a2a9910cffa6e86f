// decide(): what a job that cannot start now gets. A reservation at the
// earliest time its whole gang fits around the reservations already made
// (EASY or conservative backfill), or, for a job of a higher tier, the
// preemption of the cheapest set of lower-tier gangs that lets it start.
#include <algorithm>
#include <map>
#include <optional>
#include <tuple>

#include "master/scheduler/decide_pass.hpp"

namespace cadre::sched::detail {

bool Pass::may_reserve() const {
  switch (p_.backfill) {
    case Backfill::greedy: return false;
    case Backfill::fcfs:
    case Backfill::easy: return reservations_made_ < 1;
    case Backfill::conservative: return reservations_made_ < p_.reservation_depth;
  }
  return false;
}

// The timeline of releases is only needed once a job cannot start (most
// passes place everything): built then, from running jobs and the jobs
// this pass started so far.
void Pass::ensure_timeline() {
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

// The earliest time, up to `latest`, at which the whole gang fits for
// `limit` seconds around every reservation already made; reserves it.
std::optional<int64_t> Pass::reserve_earliest(const PendingJob& j, const PlaceConstraints& c, int64_t limit,
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
void Pass::hold(const PendingJob& j, const GangPlacement& gang, int64_t start, int64_t end) {
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
bool Pass::try_preempt(const PendingJob& j, const PlaceConstraints& c, int64_t limit) {
  const int32_t tier = tiering(s_, j.partition, j.qos).tier;
  if (tier <= lowest_preemptible_tier_) return false;  // nobody it could preempt
  bool leaving = false;  // jobs on their way out (ending, or victims of an earlier pass)
  std::vector<Cand> cands = preempt_candidates(tier, leaving);
  // Victims already on their way out may be enough: wait for them.
  if (leaving) {
    if (auto t = reserve_earliest(j, c, limit, now_ + 1)) {
      wait(j, WaitReason::preempting, *t);
      return true;
    }
  }
  if (cands.empty()) return false;
  if (preempt_failed_.count(key_of(j, c))) return false;
  ensure_timeline();

  std::sort(cands.begin(), cands.end(), [](const Cand& a, const Cand& b) {
    return std::tie(a.gpu_s, a.cpu_s, a.id) < std::tie(b.gpu_s, b.cpu_s, b.id);
  });
  std::vector<uint32_t> chosen;
  std::optional<GangPlacement> gang = choose_victims(j, c, cands, chosen);
  if (!gang) return false;
  record_preemption(j, *gang, chosen, limit);
  return true;
}

std::vector<Pass::Cand> Pass::preempt_candidates(int32_t tier, bool& leaving) const {
  std::vector<Cand> cands;
  for (uint32_t i = 0; i < s_.running.size(); ++i) {
    const RunningJob& r = s_.running[i];
    if (r.partition >= s_.partitions.size()) continue;
    // Any job on its way out (cancelled, timed out, an earlier pass's
    // victim), whatever its partition: its room is freed without killing
    // anyone, so it is waited for before a new victim is chosen.
    if (victim_[i]) {
      leaving = true;
      continue;
    }
    const Tiering rt = tiering(s_, r.partition, r.qos);
    if (!rt.preemptible || rt.tier >= tier) continue;
    const int64_t ran = std::max<int64_t>(0, now_ - r.start_time);
    const int64_t ranks = static_cast<int64_t>(r.ranks.size());
    cands.push_back({r.per_task.gpus * ranks * ran, r.per_task.millicores * ranks * ran / 1000, r.id, i});
  }
  return cands;
}

// The cheapest victims first, until the gang fits; then the most expensive
// ones it can do without are spared. `chosen` gets the victims' indices.
std::optional<GangPlacement> Pass::choose_victims(const PendingJob& j, const PlaceConstraints& c,
                                                  const std::vector<Cand>& cands, std::vector<uint32_t>& chosen) {
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
  std::optional<GangPlacement> gang;
  for (const Cand& cand : cands) {
    give(cand.idx, +1);
    chosen.push_back(cand.idx);
    freed += s_.running[cand.idx].per_task.times(static_cast<int64_t>(s_.running[cand.idx].ranks.size()));
    if (!fits(need, freed)) continue;
    if ((gang = place_gang(j.shape, scratch, c))) break;
  }
  if (!gang) {
    preempt_failed_.insert(key_of(j, c));
    return std::nullopt;
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
  // Cannot fail: the last check passed with this set.
  return place_gang(j.shape, scratch, c);
}

// The victims stop now and the preemptor holds their room from the next instant.
void Pass::record_preemption(const PendingJob& j, const GangPlacement& gang, const std::vector<uint32_t>& chosen,
                             int64_t limit) {
  Preemption pre{j.id, {}};
  for (uint32_t idx : chosen) {
    victim_[idx] = true;
    timeline_.move_releases(idx + 1, now_ + 1);
    pre.victims.push_back(s_.running[idx].id);
    const RunningJob& r = s_.running[idx];
    count_use(r.partition, r.qos, r.user, -1, r.per_task.gpus * static_cast<int64_t>(r.ranks.size()));
  }
  std::sort(pre.victims.begin(), pre.victims.end());
  out_.preemptions.push_back(std::move(pre));
  hold(j, gang, now_ + 1, saturating_add(now_ + 1, limit));
  count_use(j.partition, j.qos, j.user, +1, j.shape.total().gpus);
  wait(j, WaitReason::preempting, now_ + 1);
}

}  // namespace cadre::sched::detail
