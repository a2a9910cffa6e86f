// Dependencies (sbatch --dependency) in the master: whether a pending job's
// dependency holds, waits, or never can, judged from the jobs in memory.
// The jobs a dependency names stay in memory after they end while a
// dependent waits (evict_ended keeps them; at submit and at restart the
// server loads those already gone to the store: missing_targets, adopt).
// Free functions over the shared ClusterState; not thread-safe (the
// event-loop thread's).
#pragma once

#include <cstdint>
#include <vector>

#include "common/dependency.hpp"
#include "master/state/cluster_state.hpp"

namespace cadre::state {

enum class DepOutcome { satisfied, waiting, never };

// The outcome of `spec` for job `j` now.
DepOutcome evaluate_dependency(const ClusterState& s, const Job& j, const DependencySpec& spec, int64_t now_unix);

// Before a pass: a dependency that holds is cleared (the job competes from
// now on); one that waits gives the reason Dependency; one that never can
// gives DependencyNeverSatisfied, or cancels the job with
// --kill-on-invalid-dep=yes. Recomputes dependents and their targets.
void resolve_dependencies(ClusterState& s, int64_t now_unix);

// The ids `spec` names that are not in memory (ended and evicted, or never
// there): the caller looks them up in the store and adopts what it finds.
std::vector<JobId> missing_targets(const ClusterState& s, const DependencySpec& spec);
// Ended jobs from the store, kept in memory for the dependencies that name
// them (a job already in memory is left as it is).
void adopt_ended(ClusterState& s, std::vector<Job> jobs);
// After a restart or a submit: records `id` as a dependent when it waits on one.
void note_dependent(ClusterState& s, const Job& j);

}  // namespace cadre::state
