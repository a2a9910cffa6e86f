#include "master/scheduler/timeline.hpp"

#include <algorithm>

namespace cadre::sched {

uint64_t gpu_mask(const std::vector<uint32_t>& gpus) {
  uint64_t m = 0;
  for (uint32_t g : gpus)
    if (g < 64) m |= uint64_t{1} << g;
  return m;
}

std::vector<uint32_t> gpu_list(uint64_t mask) {
  std::vector<uint32_t> out;
  for (uint32_t g = 0; mask != 0; ++g, mask >>= 1)
    if (mask & 1) out.push_back(g);
  return out;
}

void Timeline::insert(uint32_t node, Event e) {
  e.node = node;
  auto& ev = events_[node];
  if (ev.empty()) touched_.push_back(node);
  auto at = std::upper_bound(ev.begin(), ev.end(), e.time, [](int64_t t, const Event& x) { return t < x.time; });
  ev.insert(at, e);
  all_.push_back(e);
  lowering_valid_ = false;
}

void Timeline::add_release(uint32_t node, int64_t time, const Resources& r, uint64_t gpus, uint32_t owner) {
  insert(node, Event{time, r, gpus, 0, owner, node});
}

void Timeline::move_releases(uint32_t owner, int64_t time) {
  if (owner == 0) return;
  auto by_time = [](const Event& a, const Event& b) { return a.time < b.time; };
  for (Event& e : all_) {
    if (e.owner != owner) continue;
    e.time = time;
    sorted_upto_ = 0;
    lowering_valid_ = false;
    auto& ev = events_[e.node];
    for (Event& x : ev)
      if (x.owner == owner) x.time = time;
    std::stable_sort(ev.begin(), ev.end(), by_time);
  }
}

void Timeline::add_reservation(uint32_t node, int64_t start, int64_t end, const Resources& r, uint64_t gpus) {
  insert(node, Event{start, Resources{} - r, 0, gpus, 0, node});
  insert(node, Event{end, r, gpus, 0, 0, node});
  if (reservations_[node]++ == 0) reserved_nodes_.push_back(node);
}

void Timeline::window(uint32_t node, const Resources& now_free, uint64_t now_gpus, int64_t from, int64_t to,
                      Resources& out, uint64_t& out_gpus) const {
  const auto& ev = events_[node];
  Resources cur = now_free;
  uint64_t mask = now_gpus;
  size_t i = 0;
  // Events at one instant apply together (adds before removes), so a
  // reservation that starts as another ends sees no false dip.
  auto apply_group = [&](int64_t t) {
    uint64_t add = 0, remove = 0;
    for (; i < ev.size() && ev[i].time == t; ++i) {
      cur += ev[i].delta;
      add |= ev[i].add;
      remove |= ev[i].remove;
    }
    mask = (mask | add) & ~remove;
  };
  while (i < ev.size() && ev[i].time <= from) apply_group(ev[i].time);
  Resources low = cur;
  uint64_t low_mask = mask;
  while (i < ev.size() && ev[i].time < to) {
    apply_group(ev[i].time);
    low.millicores = std::min(low.millicores, cur.millicores);
    low.memory_mb = std::min(low.memory_mb, cur.memory_mb);
    low.gpus = std::min(low.gpus, cur.gpus);
    low_mask &= mask;
  }
  out = low;
  out_gpus = low_mask;
}

const std::vector<Timeline::Event>& Timeline::all_events() const {
  // Events arrive out of order (each job's release, each reservation):
  // sort what came since the last call and merge it in, O(n) per call
  // instead of a sort of everything.
  if (sorted_upto_ < all_.size()) {
    auto by_time = [](const Event& a, const Event& b) { return a.time < b.time; };
    auto mid = all_.begin() + static_cast<std::ptrdiff_t>(sorted_upto_);
    std::stable_sort(mid, all_.end(), by_time);
    std::inplace_merge(all_.begin(), mid, all_.end(), by_time);
    sorted_upto_ = all_.size();
  }
  return all_;
}

const std::vector<uint32_t>& Timeline::lowering_events() const {
  const auto& all = all_events();
  if (!lowering_valid_) {
    lowering_.clear();
    for (uint32_t k = 0; k < all.size(); ++k)
      if (all[k].remove != 0 || !all[k].delta.non_negative()) lowering_.push_back(k);
    lowering_valid_ = true;
  }
  return lowering_;
}

}  // namespace cadre::sched
