// Gang placement: find room for every rank of a job at once, or for none.
// Topology-aware: one switch when one has room, else one rack, else the
// fewest switches; within that, best fit. Pure functions over NodeViews;
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "master/scheduler/snapshot.hpp"

namespace cadre::sched {

struct RankSlot {
  uint32_t rank = 0;
  uint32_t node = 0;               // index into the NodeView list
  std::vector<uint32_t> gpus;      // exact GPU indices on that node
};

struct GangPlacement {
  std::vector<RankSlot> ranks;     // ordered by rank; ranks of a node are contiguous
};

// Which nodes a gang may use and how it may spread.
struct PlaceConstraints {
  int32_t partition = -1;               // only nodes with this partition bit; -1: any
  const std::vector<uint32_t>* gpu_models = nullptr;  // allowed models; null or empty: any
  uint32_t max_switches = 0;            // 0: no limit
  // Only these nodes (indices, ascending): -w, or every node but -x's.
  // Null: any; empty: none.
  const std::vector<uint32_t>* nodes = nullptr;
  bool whole_nodes = false;             // --exclusive: only nodes nothing else uses
  // -C's matching OR: the gang goes wholly within one of these sets (each
  // ascending), the first that holds it. Null: no such choice.
  const std::vector<std::vector<uint32_t>>* node_sets = nullptr;
};

// Places the whole gang on the nodes' free capacity, or returns nullopt.
// Ranks are laid out node by node (node rank 0 holds ranks 0..k-1), nodes
// in index order. GPUs go lowest free index first, so each rank's set is
// distinct from every other rank's on that node. Among nodes that fit, the
// tightest fit wins, which keeps whole nodes free for whole-node jobs.
std::optional<GangPlacement> place_gang(const GangShape& shape, const std::vector<NodeView>& nodes,
                                        const PlaceConstraints& constraints = {});

// Subtracts a placement from the views (so the next gang sees it taken).
void reserve(const GangShape& shape, const GangPlacement& placement, std::vector<NodeView>& nodes);

// Why a gang could never fit on these nodes even when all are idle; empty
// when it could. Used to reject impossible requests at submit.
std::string never_fits_reason(const GangShape& shape, const std::vector<NodeView>& nodes,
                              const PlaceConstraints& constraints = {});

}  // namespace cadre::sched
