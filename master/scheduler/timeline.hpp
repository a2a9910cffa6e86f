// Timeline: what each node will have free in the future, for reservations.
//
// Built inside one decide() pass from running jobs' expected ends
// (releases) and the reservations the pass makes. A node's capacity at time
// t is its capacity now plus every change up to t; a job can use a node over
// [from, to) only what is free at every instant of that window, and only
// GPU indices free throughout. Not synchronised.
#pragma once

#include <cstdint>
#include <vector>

#include "common/resources.hpp"

namespace cadre::sched {

class Timeline {
 public:
  explicit Timeline(size_t nodes) : events_(nodes), reservations_(nodes, 0) {}

  // `r` and `gpus` (a mask of indices) come free on `node` at `time`.
  // `owner` (non-zero) tags the releases of one job so they can move.
  void add_release(uint32_t node, int64_t time, const Resources& r, uint64_t gpus, uint32_t owner = 0);
  // Moves every release tagged `owner` to `time` (a preempted job ends now).
  void move_releases(uint32_t owner, int64_t time);
  // `r` and `gpus` are held on `node` over [start, end).
  void add_reservation(uint32_t node, int64_t start, int64_t end, const Resources& r, uint64_t gpus);

  bool reserved(uint32_t node) const { return reservations_[node] > 0; }
  // Nodes with any event (their future differs from their present).
  const std::vector<uint32_t>& touched_nodes() const { return touched_; }
  const std::vector<uint32_t>& reserved_nodes() const { return reserved_nodes_; }

  // What `node` can give over [from, to), given what it has free now:
  // the minimum of each quantity and the GPUs free throughout.
  void window(uint32_t node, const Resources& now_free, uint64_t now_gpus, int64_t from, int64_t to,
              Resources& out, uint64_t& out_gpus) const;

  struct Event {
    int64_t time = 0;
    Resources delta;
    uint64_t add = 0;
    uint64_t remove = 0;
    uint32_t owner = 0;
    uint32_t node = 0;
  };
  // Every node's events, sorted by time (for cluster-wide totals).
  const std::vector<Event>& all_events() const;
  // Indices into all_events() of the events that lower a node (reservation
  // starts), in time order.
  const std::vector<uint32_t>& lowering_events() const;

 private:
  void insert(uint32_t node, Event e);

  std::vector<std::vector<Event>> events_;  // per node, sorted by time
  std::vector<uint32_t> reservations_;
  std::vector<uint32_t> reserved_nodes_;
  std::vector<uint32_t> touched_;
  mutable std::vector<Event> all_;          // every event; sorted on demand
  mutable size_t sorted_upto_ = 0;          // all_[0, sorted_upto_) is sorted
  mutable std::vector<uint32_t> lowering_;
  mutable bool lowering_valid_ = true;
};

uint64_t gpu_mask(const std::vector<uint32_t>& gpus);
std::vector<uint32_t> gpu_list(uint64_t mask);

}  // namespace cadre::sched
