#include "master/scheduler/decide.hpp"

#include <algorithm>
#include <tuple>

namespace cadre::sched {

Decisions decide(const Snapshot& snapshot, const Policy& policy, int64_t /*now*/) {
  std::vector<const PendingJob*> order;
  order.reserve(snapshot.pending.size());
  for (const PendingJob& j : snapshot.pending) order.push_back(&j);
  std::sort(order.begin(), order.end(), [](const PendingJob* a, const PendingJob* b) {
    return std::make_tuple(-static_cast<int64_t>(a->priority), a->submit_time, a->id) <
           std::make_tuple(-static_cast<int64_t>(b->priority), b->submit_time, b->id);
  });

  std::vector<NodeView> free = snapshot.nodes;
  Decisions out;
  for (const PendingJob* job : order) {
    auto gang = place_gang(job->shape, free);
    if (!gang) {
      if (policy.strict_order) break;
      continue;
    }
    reserve(job->shape, *gang, free);
    out.placements.push_back(Placement{job->id, std::move(*gang)});
  }
  return out;
}

}  // namespace cadre::sched
