// Reads the Standard Workload Format of the Parallel Workloads Archive
// (NASA iPSC, KTH SP2 logs): ';' header lines, then one job per line of 18
// blank-separated integers, -1 for unknown. Thread-safe (no shared state).
#pragma once

#include <istream>

#include "sim/trace.hpp"

namespace cadre::sim {

// Each processor becomes one rank of one cpu, placed anywhere
// (GangShape{per_task = 1 cpu, nodes = 0, ntasks = P}). P is the requested
// size (field 8), else the allocated one (field 5); the run time is field 4;
// the limit is the requested time (field 9), else the run time. user = field
// 12, account = field 13. Rows with P <= 0, a negative run time or submit
// time, or fewer than 18 integer fields are skipped and counted.
Trace read_swf(std::istream& in);

}  // namespace cadre::sim
