// Jobs: how a job moves through its states once queued: launched on a
// placement, ranks reporting, finished, failed, cancelled, timed out,
// requeued after a node failure, preempted; and what it holds on nodes
// released as its ranks end. Free functions over the shared ClusterState;
// not thread-safe (the event-loop thread's).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "master/scheduler/gang_placement.hpp"
#include "master/state/agent_reports.hpp"
#include "common/job_signal.hpp"
#include "master/state/cluster_state.hpp"

namespace cadre {

struct CancelOutcome {
  JobId id = 0;
  bool ok = false;
  std::string message;
};

// A held job's wait reason, Slurm's words.
inline constexpr std::string_view kHeldByUser = "JobHeldUser";
inline constexpr std::string_view kHeldByAdmin = "JobHeldAdmin";

namespace state {

// Starts `j` on `gang` (ranks' nodes index `node_names`): launch commands
// for every rank that runs a process.
void launch(ClusterState& s, Job& j, const sched::GangPlacement& gang, const std::vector<std::string>& node_names,
            int64_t now_unix);
CancelOutcome cancel(ClusterState& s, JobId id, int64_t now_unix);
// A report from an agent about a rank of a job or of one of its steps.
void task_event(ClusterState& s, const TaskEvent& ev, int64_t now_unix);
// Ends jobs past their time limit: run time on the monotonic clock now_ms
// (see Job::limit_anchor_ms); now_unix stamps what people read.
void check_time_limits(ClusterState& s, int64_t now_ms, int64_t now_unix);
// Holds a pending job (scontrol hold): nothing starts it until released.
// `by_admin` makes it an admin's hold, which only an admin may release.
CancelOutcome hold_job(ClusterState& s, JobId id, bool by_admin);
// Releases a held job; a user may not release an admin's hold.
CancelOutcome release_job(ClusterState& s, JobId id, bool by_admin);
// Every kRunTimeSaveMs, marks the running jobs with a time limit dirty with
// their run time so far (Job::run_s, run_at): what a restarted master
// counts their run time from. Costs one row write per such job per period.
inline constexpr int64_t kRunTimeSaveMs = 5 * 60 * 1000;
void save_run_times(ClusterState& s, int64_t now_ms, int64_t now_unix);
// --signal: sends the job's warning signal to its step ranks (every rank of
// a job that is not a batch script), or with B: to its batch script alone.
void send_job_signal(ClusterState& s, Job& j, const JobSignal& sig);

// Ends a job in `state`; kills its live ranks.
void end_job(ClusterState& s, Job& j, JobState state, int32_t exit_code, std::string reason, int64_t now_unix);
void kill_live_ranks(ClusterState& s, Job& j);
// Gives a rank's resources back to its node.
void release(ClusterState& s, Job& j, Task& t);
void finish_if_all_done(ClusterState& s, Job& j, int64_t now_unix);
// Node failure: requeue the gang or end it NODE_FAIL.
void fail_on_node(ClusterState& s, Job& j, const std::string& why, int64_t now_unix);
// Stops a whole gang for a higher-tier job and puts it back in the queue.
void preempt(ClusterState& s, Job& j, JobId by);

// Drops ended jobs that hold nothing (they live on in the store).
void evict_ended(ClusterState& s);
// The same, looking only at `changed`.
void evict_ended(ClusterState& s, const std::set<JobId>& changed);

}  // namespace state
}  // namespace cadre
