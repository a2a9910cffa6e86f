// Gang placement: find room for every rank of a job at once, or for none.
// Pure functions over NodeViews; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "master/scheduler/snapshot.hpp"

namespace cadre::sched {

struct RankSlot {
  uint32_t rank = 0;
  size_t node = 0;                 // index into the NodeView list
  std::vector<uint32_t> gpus;      // exact GPU indices on that node
};

struct GangPlacement {
  std::vector<RankSlot> ranks;     // ordered by rank; ranks of a node are contiguous
};

// Places the whole gang on the nodes' free capacity, or returns nullopt.
// Ranks are laid out node by node (node rank 0 holds ranks 0..k-1). GPUs go
// lowest free index first, so each rank's set is distinct from every other
// rank's on that node. Among nodes that fit, the tightest fit wins, which
// keeps whole nodes free for whole-node jobs.
std::optional<GangPlacement> place_gang(const GangShape& shape, const std::vector<NodeView>& nodes);

// Subtracts a placement from the views (so the next gang sees it taken).
void reserve(const GangShape& shape, const GangPlacement& placement, std::vector<NodeView>& nodes);

// Why a gang could never fit on these nodes even when all are idle; empty
// when it could. Used to reject impossible requests at submit.
std::string never_fits_reason(const GangShape& shape, const std::vector<NodeView>& nodes);

}  // namespace cadre::sched
