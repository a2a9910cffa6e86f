// Changes users and admins make to queued jobs beyond hold and cancel:
// `cadre update` (a new spec, checked against the partition) and
// `cadre requeue` (a running or ended job back to pending as a new
// attempt). Free functions over the shared ClusterState; not thread-safe
// (the event-loop thread's).
#pragma once

#include <cstdint>

#include "master/state/cluster_state.hpp"
#include "master/state/jobs.hpp"

namespace cadre::state {

// Gives job `id` the spec `spec` (apply_job_updates on a copy of its own,
// validated by the caller): the partition must exist and allow its time
// limit. A running job's new time limit counts from its start.
CancelOutcome update_job(ClusterState& s, JobId id, JobSpec spec);

// Puts a running or ended job back in the queue (scontrol requeue): its
// ranks are killed, and it starts again as a new attempt, with a new
// submit time as in Slurm; `hold` holds it (requeuehold). A requeue by
// hand does not count against the node-failure retries.
CancelOutcome requeue_job(ClusterState& s, JobId id, bool hold, bool by_admin, int64_t now_unix);

// --deadline: ends DEADLINE every pending job that could no longer end by
// its deadline were it started now (Slurm's "start > deadline - time").
// A running job already fits: it started only while it could end in time.
void expire_deadlines(ClusterState& s, int64_t now_unix);

}  // namespace cadre::state
