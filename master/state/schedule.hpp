// Schedule: the scheduling pass over the cluster state. Builds the
// scheduler's snapshot (nodes, running and pending jobs, partitions, fair
// share), runs decide(), applies its placements and preemptions, and
// records why the rest waits. Free functions over the shared ClusterState;
// not thread-safe (the event-loop thread's).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "master/scheduler/decide.hpp"
#include "master/state/cluster_state.hpp"
#include "master/stats.hpp"

namespace cadre::state {

// Every node as the scheduler sees it, in name order. `names` gets their
// names; `gpu_models` the dense GPU model ids ([0] = "": unknown or mixed).
std::vector<sched::NodeView> node_views(const ClusterState& s, std::vector<std::string>* names,
                                        std::vector<std::string>* gpu_models = nullptr);
// The scheduler's view of the cluster. `pending_jobs`, when given, gets the
// Job of each Snapshot::pending entry. With `charge_to` (unix seconds)
// running jobs' fair-share usage is charged up to then before the factors
// are read (as a pass does). Recounts the pending jobs per user.
sched::Snapshot snapshot(ClusterState& s, const sched::Policy& policy, std::vector<std::string>* node_names,
                         std::vector<JobId>* running_ids, std::vector<Job*>* pending_jobs = nullptr,
                         int64_t charge_to = 0);
// One pass: launches what decide() places, preempts what it must, and
// records why the rest waits. True when decide() ran (there were pending
// jobs); `timing` gets what it cost.
bool schedule(ClusterState& s, const sched::Policy& policy, int64_t now_unix, PassTiming* timing = nullptr);

}  // namespace cadre::state
