// decide(): the scheduling policy as a pure function of a snapshot.
// No I/O, no clock (the caller passes `now`), no globals: the same input
// always gives the same decisions, in the master, a simulator or a test.
#pragma once

#include <cstdint>
#include <vector>

#include "master/scheduler/gang_placement.hpp"
#include "master/scheduler/snapshot.hpp"

namespace cadre::sched {

struct Policy {
  // When true, nothing starts ahead of a higher-ranked job that does not
  // fit (strict first-come-first-served). When false, a job that fits now
  // starts even if one ranked above it is waiting (greedy backfill).
  bool strict_order = false;
};

struct Placement {
  JobId job = 0;
  GangPlacement gang;
};

struct Decisions {
  std::vector<Placement> placements;
};

// Ranks pending jobs by priority (higher first), then submit time, then id,
// and places each whole gang that fits on what is still free.
Decisions decide(const Snapshot& snapshot, const Policy& policy, int64_t now);

}  // namespace cadre::sched
