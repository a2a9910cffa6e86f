#include "master/state/jobs.hpp"

#include <algorithm>
#include <limits>

#include "common/job_signal.hpp"
#include "common/log.hpp"
#include "master/state/job_arrays.hpp"
#include "master/state/launch_layout.hpp"
#include "master/state/steps.hpp"

namespace cadre::state {
namespace {

int64_t tasks_on(const Job& j, const std::string& node) {
  return std::count_if(j.tasks.begin(), j.tasks.end(), [&node](const Task& t) { return t.node == node; });
}

std::string describe_exit(const TaskEvent& ev) {
  if (ev.signal != 0) return "killed by signal " + std::to_string(ev.signal);
  return "exited with code " + std::to_string(ev.exit_code);
}

// A rank of a running job ended (exited or could not start): the job
// fails, runs out of memory, or is done when it was the last.
void rank_ended(ClusterState& s, Job& j, Task& t, const TaskEvent& ev, int64_t now_unix) {
  const bool was_killed = t.state == TaskState::killing;
  const int32_t code = ev.kind == TaskEventKind::launch_failed ? (ev.exit_code ? ev.exit_code : 127)
                       : ev.signal != 0                        ? 128 + ev.signal
                                                               : ev.exit_code;
  t.exit_code = code;
  if (code == 0) t.state = TaskState::completed;
  // A rank killed because its job ended, was cancelled or was preempted
  // did not fail on its own.
  else t.state = was_killed && j.state != JobState::running ? TaskState::cancelled : TaskState::failed;

  if (j.state == JobState::running && ev.oom_killed) {
    end_job(s, j, JobState::out_of_memory, code,
            "rank " + std::to_string(ev.rank) + " on " + ev.node + " exceeded its memory limit (" +
                format_size_mb(j.spec.batch ? j.spec.per_task.memory_mb * tasks_on(j, ev.node)
                                            : j.spec.per_task.memory_mb) +
                ") and was killed by the kernel",
            now_unix);
    return;
  }
  if (j.state == JobState::running && code != 0) {
    std::string reason = ev.kind == TaskEventKind::launch_failed
                             ? "rank " + std::to_string(ev.rank) + " could not start on " + ev.node + ": " + ev.message
                             : "rank " + std::to_string(ev.rank) + " on " + ev.node + " " + describe_exit(ev);
    end_job(s, j, JobState::failed, code, reason, now_unix);
    return;
  }
  finish_if_all_done(s, j, now_unix);
}

}  // namespace

void launch(ClusterState& s, Job& j, const sched::GangPlacement& gang, const std::vector<std::string>& node_names,
            int64_t now_unix) {
  j.state = JobState::running;
  j.reason.clear();
  j.attempt += 1;
  j.start_time = now_unix;
  // The next look anchors this attempt's run time on the monotonic clock.
  j.limit_anchor_ms = Job::kNoLimitAnchor;
  j.run_s = 0;
  j.run_at = 0;
  if (j.spec.time_limit_s > 0) s.next_time_limit_ms = 0;
  j.tasks.clear();
  j.steps.clear();
  j.next_step = 1;
  for (const sched::RankSlot& slot : gang.ranks) {
    Task t;
    t.rank = slot.rank;
    t.node = node_names[slot.node];
    t.gpus = slot.gpus;
    // A batch job starts only its script (rank 0); the other slots wait
    // for the script's steps.
    t.state = j.spec.batch && slot.rank != 0 ? TaskState::allocated : TaskState::launching;
    Node& n = s.nodes.at(t.node);
    n.used += j.spec.per_task;
    for (uint32_t g : t.gpus) n.gpu_busy[g] = true;
    j.tasks.push_back(std::move(t));
  }
  s.dirty_jobs.insert(j.id);
  const std::string& master_addr = s.nodes.at(j.tasks.front().node).address;
  j.master_port = pick_master_port(s.jobs, j, j.tasks.front().node, s.master_ports);
  for (const Task& t : j.tasks)
    if (t.state == TaskState::launching)
      s.send_launch(t.node, LaunchCommand{j.id, j.attempt, job_rank_target(j, t), master_addr,
                                          step_master_port(j, 0, s.master_ports)});
  CADRE_LOG(info) << "job " << j.id << " RUNNING on " << j.tasks.size() << " ranks, attempt " << j.attempt;
}

CancelOutcome cancel(ClusterState& s, JobId id, int64_t now_unix) {
  Job* j = s.job(id);
  if (!j) return {id, false, "no active job " + std::to_string(id)};
  if (is_final(j->state))
    return {id, false, "job " + display_id(*j) + " already ended " + std::string(to_string(j->state))};
  end_job(s, *j, JobState::cancelled, 0, "cancelled by user", now_unix);
  return {id, true, ""};
}

void task_event(ClusterState& s, const TaskEvent& ev, int64_t now_unix) {
  if (ev.step != 0) {
    Job* owner = s.job(ev.job);
    if (owner && owner->attempt == ev.attempt) step_event(*owner, ev);
    return;
  }
  Job* j = s.job(ev.job);
  if (!j || j->attempt != ev.attempt || ev.rank >= j->tasks.size() || j->tasks[ev.rank].node != ev.node) {
    CADRE_LOG(info) << "ignoring report from " << ev.node << " for job " << ev.job << " rank " << ev.rank
                    << " attempt " << ev.attempt << ": not a current rank";
    return;
  }
  Task& t = j->tasks[ev.rank];
  if (!holds_resources(t.state)) return;  // already settled (e.g. lost)
  s.dirty_jobs.insert(j->id);

  if (ev.kind == TaskEventKind::started) {
    if (t.state == TaskState::launching) t.state = TaskState::running;
    return;
  }
  release(s, *j, t);
  if (ev.kind == TaskEventKind::lost) {
    t.state = TaskState::lost;
    if (j->state == JobState::running)
      fail_on_node(s, *j, "rank " + std::to_string(ev.rank) + " was lost on " + ev.node + ": " + ev.message, now_unix);
    return;
  }
  rank_ended(s, *j, t, ev, now_unix);
}

void check_time_limits(ClusterState& s, int64_t now_ms, int64_t now_unix) {
  // This runs every tick: the jobs are looked at only once the earliest
  // time limit may have come, not 100,000 pending jobs every second.
  if (now_ms < s.next_time_limit_ms) return;
  int64_t next = std::numeric_limits<int64_t>::max();
  for (auto& [id, j] : s.jobs) {
    if (j.state != JobState::running || j.spec.time_limit_s <= 0) continue;
    // Run time is measured on the monotonic clock from the first look on:
    // a wall clock stepped forward by hours times nothing out, one stepped
    // back lets nothing overrun. Before it (just launched, or loaded by a
    // restarted master) the wall clock says how long the job has run: since
    // its last saved run time if there is one, else since its start.
    if (j.limit_anchor_ms == Job::kNoLimitAnchor) {
      const int64_t run_s = j.run_at > 0 ? j.run_s + std::max<int64_t>(0, now_unix - j.run_at)
                                         : std::max<int64_t>(0, now_unix - j.start_time);
      j.limit_anchor_ms = now_ms - run_s * 1000;
    }
    const int64_t deadline_ms = j.limit_anchor_ms + j.spec.time_limit_s * 1000;
    // --signal: a warning some seconds before the limit, once per attempt.
    if (!j.spec.signal.empty() && j.signalled != j.attempt) {
      if (auto sig = parse_job_signal(j.spec.signal)) {
        const int64_t warn_ms = deadline_ms - sig->before_s * 1000;
        if (now_ms >= warn_ms) {
          send_job_signal(s, j, *sig);
          j.signalled = j.attempt;
        } else {
          next = std::min(next, warn_ms);
        }
      }
    }
    if (now_ms >= deadline_ms)
      end_job(s, j, JobState::timeout, 0, "time limit of " + format_duration_s(j.spec.time_limit_s) + " reached",
              now_unix);
    else
      next = std::min(next, deadline_ms);
  }
  s.next_time_limit_ms = next;
}

void send_job_signal(ClusterState& s, Job& j, const JobSignal& sig) {
  CADRE_LOG(info) << "job " << j.id << ": sending signal " << sig.number << " (--signal=" << j.spec.signal << ")";
  auto live = [](TaskState t) { return t == TaskState::launching || t == TaskState::running; };
  // B: the batch script alone; otherwise every rank of the job's steps
  // (for a job that is not a batch script, every rank), as Slurm signals
  // steps and not the batch shell.
  if (sig.batch_only || !j.spec.batch) {
    for (const Task& t : j.tasks) {
      if (!live(t.state) || (j.spec.batch && t.rank != 0)) continue;
      s.commands.push_back(AgentCommand{t.node, KillCommand{j.id, j.attempt, t.rank, 0, sig.number, sig.batch_only}});
    }
  }
  if (sig.batch_only) return;
  for (const auto& [step_id, step] : j.steps)
    for (const StepRank& r : step.ranks)
      if (live(r.state))
        s.commands.push_back(AgentCommand{r.node, KillCommand{j.id, j.attempt, r.rank, step_id, sig.number, false}});
}

void save_run_times(ClusterState& s, int64_t now_ms, int64_t now_unix) {
  if (now_ms < s.next_run_save_ms) return;
  s.next_run_save_ms = now_ms + kRunTimeSaveMs;
  for (auto& [id, j] : s.jobs) {
    if (j.state != JobState::running || j.spec.time_limit_s <= 0 || j.limit_anchor_ms == Job::kNoLimitAnchor)
      continue;
    j.run_s = std::max<int64_t>(0, (now_ms - j.limit_anchor_ms) / 1000);
    j.run_at = now_unix;
    s.dirty_jobs.insert(id);
  }
}

CancelOutcome hold_job(ClusterState& s, JobId id, bool by_admin) {
  Job* j = s.job(id);
  if (!j) return {id, false, "no active job " + std::to_string(id)};
  const std::string name = "job " + display_id(*j);
  if (j->state != JobState::pending)
    return {id, false, name + " is " + std::string(to_string(j->state)) + ": only a pending job can be held"};
  const Job::Hold hold = by_admin ? Job::Hold::admin : Job::Hold::user;
  if (j->hold == Job::Hold::admin && !by_admin) return {id, false, name + " is already held by an admin"};
  j->hold = hold;
  j->reason = std::string(by_admin ? kHeldByAdmin : kHeldByUser);
  s.dirty_jobs.insert(id);
  return {id, true, name + " held"};
}

CancelOutcome release_job(ClusterState& s, JobId id, bool by_admin) {
  Job* j = s.job(id);
  if (!j) return {id, false, "no active job " + std::to_string(id)};
  const std::string name = "job " + display_id(*j);
  if (j->state != JobState::pending || j->hold == Job::Hold::none) return {id, false, name + " is not held"};
  if (j->hold == Job::Hold::admin && !by_admin)
    return {id, false, name + " was held by an admin; only an admin may release it"};
  j->hold = Job::Hold::none;
  j->reason = "Priority";  // the next pass gives the real wait reason
  s.dirty_jobs.insert(id);
  return {id, true, name + " released"};
}

void finish_if_all_done(ClusterState& s, Job& j, int64_t now_unix) {
  if (j.state != JobState::running) return;
  // A batch job is done when its script is: the rest of the allocation
  // only held room for the script's steps.
  if (j.spec.batch && !j.tasks.empty() && j.tasks.front().state == TaskState::completed) {
    for (Task& t : j.tasks)
      if (t.state == TaskState::allocated) {
        release(s, j, t);
        t.state = TaskState::completed;
      }
  }
  bool all_completed = std::all_of(j.tasks.begin(), j.tasks.end(),
                                   [](const Task& t) { return t.state == TaskState::completed; });
  if (!all_completed) return;
  // A step ends, at the latest, with its job (batch or not).
  kill_steps(s, j);
  j.state = JobState::completed;
  j.exit_code = 0;
  j.reason.clear();
  j.end_time = now_unix;
  s.dirty_jobs.insert(j.id);
  CADRE_LOG(info) << "job " << j.id << " COMPLETED";
}

void fail_on_node(ClusterState& s, Job& j, const std::string& why, int64_t now_unix) {
  const uint32_t not_failures = std::min(j.attempt, j.preemptions + j.requeues);
  if (!j.spec.requeue || j.attempt - not_failures > s.max_retries) {
    std::string limit = j.spec.requeue ? " (no retries left after attempt " + std::to_string(j.attempt) + ")" : "";
    end_job(s, j, JobState::node_fail, 0, why + limit, now_unix);
    return;
  }
  // The whole gang goes back to the queue; it starts again (attempt + 1)
  // once every rank of this attempt is gone.
  CADRE_LOG(info) << "job " << j.id << " requeued after attempt " << j.attempt << ": " << why;
  j.state = JobState::pending;
  j.reason = "Requeued: " + why;
  j.start_time = 0;
  s.dirty_jobs.insert(j.id);
  kill_live_ranks(s, j);
}

void preempt(ClusterState& s, Job& j, JobId by) {
  CADRE_LOG(info) << "job " << j.id << " preempted by job " << by << " after attempt " << j.attempt;
  j.state = JobState::pending;
  j.reason = "Preempted by job " + std::to_string(by);
  j.start_time = 0;
  j.preemptions += 1;
  s.dirty_jobs.insert(j.id);
  kill_live_ranks(s, j);
}

void end_job(ClusterState& s, Job& j, JobState state, int32_t exit_code, std::string reason, int64_t now_unix) {
  CADRE_LOG(info) << "job " << j.id << " " << to_string(state) << (reason.empty() ? "" : ": ") << reason;
  j.state = state;
  j.exit_code = exit_code;
  j.reason = std::move(reason);
  j.end_time = now_unix;
  s.dirty_jobs.insert(j.id);
  kill_live_ranks(s, j);
}

void kill_live_ranks(ClusterState& s, Job& j) {
  kill_steps(s, j);
  for (Task& t : j.tasks) {
    if (t.state == TaskState::allocated) {
      release(s, j, t);
      t.state = TaskState::cancelled;
      continue;
    }
    if (t.state != TaskState::launching && t.state != TaskState::running) continue;
    t.state = TaskState::killing;
    s.send_kill(t.node, j.id, j.attempt, t.rank);
  }
}

void release(ClusterState& s, Job& j, Task& t) {
  auto it = s.nodes.find(t.node);
  if (it == s.nodes.end()) return;
  Node& n = it->second;
  n.used -= j.spec.per_task;
  for (uint32_t g : t.gpus)
    if (g < n.gpu_busy.size()) n.gpu_busy[g] = false;
}

namespace {

// An ended job leaves memory unless a waiting dependency names it (or its array).
bool evictable(const ClusterState& s, const Job& j) {
  if (!is_final(j.state) || j.holds_resources()) return false;
  if (s.dependency_targets.empty()) return true;
  return !s.dependency_targets.count(j.id) &&
         (j.spec.array_job_id == 0 || !s.dependency_targets.count(j.spec.array_job_id));
}

}  // namespace

void evict_ended(ClusterState& s) {
  for (auto it = s.jobs.begin(); it != s.jobs.end();) {
    if (evictable(s, it->second)) it = s.jobs.erase(it);
    else ++it;
  }
}

void evict_ended(ClusterState& s, const std::set<JobId>& changed) {
  for (JobId id : changed)
    if (auto it = s.jobs.find(id); it != s.jobs.end() && evictable(s, it->second)) s.jobs.erase(it);
}

}  // namespace cadre::state
