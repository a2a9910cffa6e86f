// The replay: an event-driven simulation of a cluster that runs a workload
// under sched::decide(). Deterministic (apart from the wall time it
// reports): the same cluster, workload and policy give the same figures.
// Single-threaded; an Engine is used once, by one thread.
#pragma once

#include "master/scheduler/decide.hpp"
#include "sim/cluster.hpp"
#include "sim/metrics.hpp"
#include "sim/workload.hpp"

namespace cadre::sim {

// Replays `workload` on `cluster` under `policy` and returns its figures.
// Aborts with a message on stderr when decide() returns an impossible
// decision (a node's free capacity below zero, a GPU given twice, a job
// started that is not pending): those are scheduler bugs, and going on
// would only produce wrong figures.
Metrics replay(const Cluster& cluster, const Workload& workload, const sched::Policy& policy);

}  // namespace cadre::sim
