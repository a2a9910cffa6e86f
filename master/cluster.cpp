#include "master/cluster.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "common/log.hpp"
#include "master/messages.hpp"
#include "master/scheduler/gang_placement.hpp"

namespace cadre {
namespace {

constexpr uint32_t kMaxTasks = 100000;
constexpr int64_t kMaxMillicores = int64_t{1} << 30;
constexpr int64_t kMaxMemoryMb = int64_t{1} << 40;
constexpr int64_t kMaxGpus = 4096;

// The store keeps text as JSON, which must be UTF-8: anything else is
// refused at the door rather than failing a commit later. Strict (RFC
// 3629), as the JSON encoder is: no overlong forms, no surrogates, nothing
// above U+10FFFF.
bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : c & (0x7Fu >> len);
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b >> 6) != 0x2) return false;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    constexpr uint32_t kMinOfLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinOfLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

int64_t tasks_on(const Job& j, const std::string& node) {
  return std::count_if(j.tasks.begin(), j.tasks.end(), [&node](const Task& t) { return t.node == node; });
}

std::string describe_exit(const TaskEvent& ev) {
  if (ev.signal != 0) return "killed by signal " + std::to_string(ev.signal);
  return "exited with code " + std::to_string(ev.exit_code);
}

}  // namespace

void Cluster::restore(std::vector<Node> nodes, std::vector<Job> active_jobs, JobId max_job_id, int64_t now_ms) {
  for (Node& n : nodes) {
    n.registered = false;
    n.last_seen_ms = now_ms;  // one node timeout of grace to re-register
    n.used = Resources{};
    n.gpu_busy.assign(static_cast<size_t>(std::max<int64_t>(n.total.gpus, 0)), false);
    n.partitions = partition_mask(n.name);
    nodes_[n.name] = std::move(n);
  }
  for (Job& j : active_jobs) {
    // Jobs stored before partitions existed belong to the default one.
    if (j.spec.partition.empty()) j.spec.partition = default_partition_name();
    for (Task& t : j.tasks) {
      if (!holds_resources(t.state)) continue;
      auto it = nodes_.find(t.node);
      if (it == nodes_.end()) continue;
      it->second.used += j.spec.per_task;
      for (uint32_t g : t.gpus)
        if (g < it->second.gpu_busy.size()) it->second.gpu_busy[g] = true;
    }
    // The store gives jobs in id order: each goes at the end of the map.
    const JobId id = j.id;
    jobs_.insert_or_assign(jobs_.end(), id, std::move(j));
  }
  next_job_id_ = max_job_id + 1;
  count_pending();
}

void Cluster::count_pending() {
  pending_by_user_.clear();
  for (const auto& [id, j] : jobs_)
    if (j.state == JobState::pending) ++pending_by_user_[j.spec.user];
}

Result<JobId> Cluster::submit(JobSpec spec, int64_t now_unix) {
  if (spec.argv.empty() || spec.argv[0].empty()) return make_error("no command given: put it after '--'");
  if (spec.workdir.empty() || spec.workdir[0] != '/')
    return make_error("working directory must be an absolute path, got '" + spec.workdir + "'");
  if (spec.ntasks == 0) return make_error("a job needs at least one task");
  if (spec.ntasks > kMaxTasks) return make_error("a job may have at most " + std::to_string(kMaxTasks) + " tasks");
  if (spec.nodes > 0 && (spec.tasks_per_node == 0 || uint64_t{spec.nodes} * spec.tasks_per_node != spec.ntasks))
    return make_error("--nodes " + std::to_string(spec.nodes) + " with " + std::to_string(spec.tasks_per_node) +
                      " tasks per node does not make " + std::to_string(spec.ntasks) + " tasks");
  if (!spec.per_task.non_negative()) return make_error("resource requests must not be negative");
  // Bounds that keep every product of ranks and quantities far from int64
  // overflow (100000 ranks x 2^40 MiB < 2^63).
  if (spec.per_task.millicores > kMaxMillicores || spec.per_task.memory_mb > kMaxMemoryMb ||
      spec.per_task.gpus > kMaxGpus)
    return make_error("a task may ask for at most " + format_cpus(kMaxMillicores) + " cpus, " +
                      format_size_mb(kMaxMemoryMb) + " of memory and " + std::to_string(kMaxGpus) + " GPUs");
  if (spec.per_task.millicores <= 0) return make_error("each task needs some cpu (--cpus-per-task)");
  if (spec.time_limit_s < 0) return make_error("time limit must not be negative");
  for (const std::string* field : {&spec.name, &spec.workdir, &spec.output_pattern, &spec.error_pattern, &spec.user,
                                   &spec.partition, &spec.account, &spec.gpu_type, &spec.script})
    if (!valid_utf8(*field)) return make_error("the job request holds text that is not UTF-8");
  for (const std::string& arg : spec.argv)
    if (!valid_utf8(arg)) return make_error("the command holds an argument that is not UTF-8");
  if (spec.batch && spec.script.empty()) return make_error("a batch job needs a script");
  if (!spec.batch && !spec.script.empty()) return make_error("a script was given for a job that is not a batch job");
  if (limits_.max_script_bytes > 0 && spec.script.size() > limits_.max_script_bytes)
    return make_error("the batch script is " + std::to_string(spec.script.size()) + " bytes; at most " +
                      std::to_string(limits_.max_script_bytes) + " are allowed");
  size_t command_bytes = 0;
  for (const std::string& arg : spec.argv) command_bytes += arg.size() + 1;
  if (limits_.max_command_bytes > 0 && command_bytes > limits_.max_command_bytes)
    return make_error("the command is " + std::to_string(command_bytes) + " bytes; at most " +
                      std::to_string(limits_.max_command_bytes) + " are allowed (put long inputs in a file)");
  if (limits_.max_pending_jobs_per_user > 0 &&
      pending_by_user_[spec.user] >= limits_.max_pending_jobs_per_user)
    return make_error("user " + spec.user + " already has " + std::to_string(pending_by_user_[spec.user]) +
                      " pending jobs, the most allowed (limits.max_pending_jobs_per_user); wait for some to start");
  if (spec.output_pattern.empty()) spec.output_pattern = spec.batch ? "cadre-%j.out" : "cadre-%j-%t.out";
  if (spec.name.empty()) spec.name = spec.argv[0].substr(spec.argv[0].find_last_of('/') + 1);
  if (spec.account.empty()) spec.account = spec.user;
  if (spec.switches_wait_s < 0) return make_error("--switches-wait must not be negative");

  // The partition: its limits apply from here on.
  if (spec.partition.empty()) spec.partition = default_partition_name();
  const int32_t part = partition_index(spec.partition);
  if (part < 0) {
    std::string names;
    for (const PartitionConfig& p : partitions_) names += (names.empty() ? "" : ", ") + p.name;
    return make_error("no partition '" + spec.partition + "' (partitions: " + names + ")");
  }
  const PartitionConfig& pc = partitions_[static_cast<size_t>(part)];
  if (spec.time_limit_s == 0 && !spec.time_limit_given) spec.time_limit_s = pc.default_time_s;
  if (pc.max_time_s > 0 && (spec.time_limit_s == 0 || spec.time_limit_s > pc.max_time_s))
    return make_error("partition " + pc.name + " allows at most " + format_duration_s(pc.max_time_s) +
                      (spec.time_limit_s == 0 ? "; the job asks for no limit (give a --time)"
                                              : "; the job asks for " + format_duration_s(spec.time_limit_s)));
  if (pc.max_gpus_per_user > 0 && spec.per_task.times(spec.ntasks).gpus > pc.max_gpus_per_user)
    return make_error("partition " + pc.name + " allows at most " + std::to_string(pc.max_gpus_per_user) +
                      " GPUs per user; the job asks for " + std::to_string(spec.per_task.times(spec.ntasks).gpus));

  // Judged only once the partition has nodes: before they first register
  // the job waits (PartitionDown) rather than being refused.
  if (std::string why = never_fits(shape_of(spec), part, spec.switches_wait_s == 0 ? spec.max_switches : 0);
      !why.empty())
    return make_error("job can never run" + (partitions_.size() > 1 ? " in partition " + pc.name : "") + ": " + why);
  // A GPU type no node has is refused once every node has told us its GPUs
  // (after a master restart nodes are not registered yet: the job waits).
  if (!spec.gpu_type.empty()) {
    bool any = false, all_known = true, matched = false;
    std::set<std::string> models;
    for (const auto& [name, n] : nodes_) {
      if (!((n.partitions >> part) & 1u)) continue;
      any = true;
      all_known = all_known && n.registered;
      for (const NodeGpu& g : n.gpus) models.insert(g.model);
      // As the scheduler sees it: a node of mixed models matches no type.
      const std::string model = n.gpu_model();
      matched = matched || (!model.empty() && gpu_model_matches(spec.gpu_type, model));
    }
    if (any && all_known && !matched) {
      std::string known;
      for (const std::string& m : models) known += (known.empty() ? "" : ", ") + m;
      return make_error("no node" + (partitions_.size() > 1 ? " in partition " + pc.name : "") +
                        " has GPUs of type '" + spec.gpu_type + "' (models: " + (known.empty() ? "none" : known) +
                        "; a node of mixed models matches no type)");
    }
  }

  Job j;
  j.id = next_job_id_++;
  j.spec = std::move(spec);
  j.state = JobState::pending;
  j.reason = "Priority";
  j.submit_time = now_unix;
  dirty_jobs_.insert(j.id);
  JobId id = j.id;
  ++pending_by_user_[j.spec.user];
  jobs_[id] = std::move(j);
  return id;
}

CancelOutcome Cluster::cancel(JobId id, int64_t now_unix) {
  Job* j = job(id);
  if (!j) return {id, false, "no active job " + std::to_string(id)};
  if (is_final(j->state))
    return {id, false, "job " + std::to_string(id) + " already ended " + std::string(to_string(j->state))};
  end_job(*j, JobState::cancelled, 0, "cancelled by user", now_unix);
  return {id, true, ""};
}

void Cluster::register_node(const NodeRegistration& reg, const std::string& routing_id, int64_t now_ms,
                            int64_t now_unix) {
  Node& n = nodes_[reg.name];
  bool was_registered = n.registered;
  n.name = reg.name;
  n.address = reg.address;
  n.labels = reg.labels;
  n.gpus = reg.gpus;
  n.isolation = reg.isolation;
  n.routing_id = routing_id;
  n.last_seen_ms = now_ms;
  n.last_seen_unix = now_unix;
  n.registered = true;
  if (n.state == NodeState::down) {
    n.state = NodeState::up;
    n.reason.clear();
  }
  if (n.total != reg.total) {
    n.total = reg.total;
    n.gpu_busy.resize(static_cast<size_t>(std::max<int64_t>(reg.total.gpus, 0)), false);
  }
  n.partitions = partition_mask(n.name);
  dirty_nodes_.insert(n.name);
  never_fits_cache_.clear();  // its totals, labels or GPUs may differ now
  CADRE_LOG(info) << "node " << n.name << " registered (" << n.total.to_string() << ", address " << n.address
                  << (was_registered ? ", again" : "") << ")";

  // Ends that happened while the master was away (or not acknowledged)
  // count first, so those ranks are not mistaken for vanished ones.
  for (const RunningTaskRef& r : reg.running) {
    if (!r.exited) continue;
    TaskEvent ev;
    ev.node = n.name;
    ev.job = r.job;
    ev.step = r.step;
    ev.rank = r.rank;
    ev.attempt = r.attempt;
    ev.kind = r.launch_failed ? TaskEventKind::launch_failed : r.lost ? TaskEventKind::lost : TaskEventKind::exited;
    ev.exit_code = r.exit_code;
    ev.signal = r.signal;
    ev.message = r.message;
    ev.oom_killed = r.oom_killed;
    task_event(ev, now_unix);
  }

  // Reconcile: ranks the master expects here against ranks the agent runs.
  auto reported = [&reg](JobId id, uint32_t step, uint32_t rank, Attempt attempt) {
    return std::any_of(reg.running.begin(), reg.running.end(), [&](const RunningTaskRef& r) {
      return !r.exited && r.job == id && r.step == step && r.rank == rank && r.attempt == attempt;
    });
  };
  for (auto& [id, j] : jobs_) {
    // A step rank the agent no longer has ended unseen: it counts as lost
    // for the step; the job itself goes on.
    for (auto& [step_id, step] : j.steps)
      for (StepRank& sr : step.ranks) {
        if (sr.node != n.name || !holds_resources(sr.state)) continue;
        if (reported(id, step_id, sr.rank, j.attempt)) {
          // As for the job's ranks: a kill sent while the agent was away may be lost.
          if (sr.state == TaskState::killing)
            commands_.push_back({n.name, encode_kill(id, j.attempt, sr.rank, step_id)});
          continue;
        }
        sr.state = TaskState::lost;
        sr.exit_code = 255;
        sr.message = "vanished from node " + n.name;
      }
    std::vector<uint32_t> vanished;
    for (Task& t : j.tasks) {
      // A batch job's idle slots have no process to report.
      if (t.node != n.name || !holds_resources(t.state) || t.state == TaskState::allocated) continue;
      if (reported(id, 0, t.rank, j.attempt)) {
        if (t.state == TaskState::launching) t.state = TaskState::running;
        // A kill sent before the agent reconnected may be lost: send again.
        if (t.state == TaskState::killing) commands_.push_back({n.name, encode_kill(id, j.attempt, t.rank)});
        continue;
      }
      CADRE_LOG(warning) << "job " << id << " rank " << t.rank << " is gone from node " << n.name;
      release(j, t);
      t.state = TaskState::lost;
      vanished.push_back(t.rank);
    }
    if (vanished.empty()) continue;
    dirty_jobs_.insert(id);
    // All of this node's lost ranks are settled first, so ending the job
    // sends kills only to ranks that still live.
    if (j.state == JobState::running)
      fail_on_node(j, "rank " + std::to_string(vanished.front()) + " vanished from node " + n.name, now_unix);
  }
  for (const RunningTaskRef& r : reg.running) {
    if (r.exited) continue;
    const Job* j = find_job(r.job);
    bool known = false;
    if (j && j->attempt == r.attempt && r.step == 0) {
      known = r.rank < j->tasks.size() && j->tasks[r.rank].node == n.name && holds_resources(j->tasks[r.rank].state);
    } else if (j && j->attempt == r.attempt) {
      auto st = j->steps.find(r.step);
      known = st != j->steps.end() && r.rank < st->second.ranks.size() && st->second.ranks[r.rank].node == n.name &&
              holds_resources(st->second.ranks[r.rank].state);
    }
    if (!known) {
      CADRE_LOG(warning) << "node " << n.name << " runs unknown job " << r.job << " step " << r.step << " rank "
                         << r.rank << "; killing it";
      commands_.push_back({n.name, encode_kill(r.job, r.attempt, r.rank, r.step)});
    }
  }
}

bool Cluster::heartbeat(const std::string& name, const std::string& routing_id, int64_t now_ms, int64_t now_unix) {
  auto it = nodes_.find(name);
  if (it == nodes_.end() || !it->second.registered) return false;
  it->second.routing_id = routing_id;
  it->second.last_seen_ms = now_ms;
  // Shown to users; persisted with the node's next durable change only,
  // so heartbeats cost no disk writes.
  it->second.last_seen_unix = now_unix;
  return true;
}

void Cluster::task_event(const TaskEvent& ev, int64_t now_unix) {
  if (ev.step != 0) {
    Job* owner = job(ev.job);
    if (owner && owner->attempt == ev.attempt) step_event(*owner, ev);
    return;
  }
  Job* j = job(ev.job);
  if (!j || j->attempt != ev.attempt || ev.rank >= j->tasks.size() || j->tasks[ev.rank].node != ev.node) {
    CADRE_LOG(info) << "ignoring report from " << ev.node << " for job " << ev.job << " rank " << ev.rank
                    << " attempt " << ev.attempt << ": not a current rank";
    return;
  }
  Task& t = j->tasks[ev.rank];
  if (!holds_resources(t.state)) return;  // already settled (e.g. lost)
  dirty_jobs_.insert(j->id);

  if (ev.kind == TaskEventKind::started) {
    if (t.state == TaskState::launching) t.state = TaskState::running;
    return;
  }
  release(*j, t);
  if (ev.kind == TaskEventKind::lost) {
    t.state = TaskState::lost;
    if (j->state == JobState::running)
      fail_on_node(*j, "rank " + std::to_string(ev.rank) + " was lost on " + ev.node + ": " + ev.message, now_unix);
    return;
  }
  const bool was_killed = t.state == TaskState::killing;
  const int32_t code = ev.kind == TaskEventKind::launch_failed ? (ev.exit_code ? ev.exit_code : 127)
                       : ev.signal != 0                        ? 128 + ev.signal
                                                               : ev.exit_code;
  t.exit_code = code;
  if (code == 0) t.state = TaskState::completed;
  // A rank killed because its job ended, was cancelled or was preempted
  // did not fail on its own.
  else t.state = was_killed && j->state != JobState::running ? TaskState::cancelled : TaskState::failed;

  if (j->state == JobState::running && ev.oom_killed) {
    end_job(*j, JobState::out_of_memory, code,
            "rank " + std::to_string(ev.rank) + " on " + ev.node + " exceeded its memory limit (" +
                format_size_mb(j->spec.batch ? j->spec.per_task.memory_mb * tasks_on(*j, ev.node)
                                             : j->spec.per_task.memory_mb) +
                ") and was killed by the kernel",
            now_unix);
    return;
  }
  if (j->state == JobState::running && code != 0) {
    std::string reason = ev.kind == TaskEventKind::launch_failed
                             ? "rank " + std::to_string(ev.rank) + " could not start on " + ev.node + ": " + ev.message
                             : "rank " + std::to_string(ev.rank) + " on " + ev.node + " " + describe_exit(ev);
    end_job(*j, JobState::failed, code, reason, now_unix);
    return;
  }
  finish_if_all_done(*j, now_unix);
}

void Cluster::finish_if_all_done(Job& j, int64_t now_unix) {
  if (j.state != JobState::running) return;
  // A batch job is done when its script is: the rest of the allocation
  // only held room for the script's steps.
  if (j.spec.batch && !j.tasks.empty() && j.tasks.front().state == TaskState::completed) {
    for (Task& t : j.tasks)
      if (t.state == TaskState::allocated) {
        release(j, t);
        t.state = TaskState::completed;
      }
  }
  bool all_completed = std::all_of(j.tasks.begin(), j.tasks.end(),
                                   [](const Task& t) { return t.state == TaskState::completed; });
  if (!all_completed) return;
  // A step ends, at the latest, with its job (batch or not).
  kill_steps(j);
  j.state = JobState::completed;
  j.exit_code = 0;
  j.reason.clear();
  j.end_time = now_unix;
  dirty_jobs_.insert(j.id);
  CADRE_LOG(info) << "job " << j.id << " COMPLETED";
}

void Cluster::check_timeouts(int64_t now_ms, int64_t now_unix) {
  for (auto& [name, n] : nodes_) {
    if (n.state == NodeState::down) continue;
    if (now_ms - n.last_seen_ms > node_timeout_ms_)
      mark_node_down(n, "no heartbeat for " + std::to_string((now_ms - n.last_seen_ms) / 1000) + "s", now_unix);
  }
  // This runs every tick: the jobs are looked at only once the earliest
  // time limit may have come, not 100,000 pending jobs every second.
  if (now_unix < next_time_limit_) return;
  int64_t next = std::numeric_limits<int64_t>::max();
  for (auto& [id, j] : jobs_) {
    if (j.state != JobState::running || j.spec.time_limit_s <= 0) continue;
    if (now_unix - j.start_time >= j.spec.time_limit_s)
      end_job(j, JobState::timeout, 0, "time limit of " + format_duration_s(j.spec.time_limit_s) + " reached",
              now_unix);
    else
      next = std::min(next, j.start_time + j.spec.time_limit_s);
  }
  next_time_limit_ = next;
}

Status Cluster::drain_node(const std::string& name, const std::string& reason) {
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return make_error("no node " + name);
  Node& n = it->second;
  if (n.state == NodeState::down) return make_error("node " + name + " is DOWN" + (n.reason.empty() ? "" : ": " + n.reason));
  n.state = NodeState::drain;
  n.reason = reason.empty() ? "drained by an admin" : reason;
  dirty_nodes_.insert(name);
  CADRE_LOG(info) << "node " << name << " is DRAIN: " << n.reason;
  return {};
}

Status Cluster::resume_node(const std::string& name) {
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return make_error("no node " + name);
  Node& n = it->second;
  if (n.state == NodeState::down)
    return make_error("node " + name + " is DOWN" + (n.reason.empty() ? "" : ": " + n.reason) +
                      "; it comes back UP when its agent registers");
  if (n.state == NodeState::drain) CADRE_LOG(info) << "node " << name << " is UP again";
  n.state = NodeState::up;
  n.reason.clear();
  dirty_nodes_.insert(name);
  return {};
}

void Cluster::node_revoked(const std::string& name, int64_t now_unix) {
  auto it = nodes_.find(name);
  if (it == nodes_.end() || it->second.state == NodeState::down) return;
  mark_node_down(it->second, "its key was revoked", now_unix);
}

void Cluster::mark_node_down(Node& n, const std::string& why, int64_t now_unix) {
  CADRE_LOG(warning) << "node " << n.name << " is DOWN: " << why;
  n.state = NodeState::down;
  n.reason = why;
  n.registered = false;
  dirty_nodes_.insert(n.name);
  for (auto& [id, j] : jobs_) {
    bool touched = false;
    for (Task& t : j.tasks) {
      if (t.node != n.name || !holds_resources(t.state)) continue;
      release(j, t);
      t.state = TaskState::lost;
      touched = true;
    }
    for (auto& [step_id, step] : j.steps)
      for (StepRank& sr : step.ranks)
        if (sr.node == n.name && holds_resources(sr.state)) {
          sr.state = TaskState::lost;
          sr.exit_code = 255;
          sr.message = "node " + n.name + " went DOWN";
        }
    if (!touched) continue;
    dirty_jobs_.insert(id);
    if (j.state == JobState::running) fail_on_node(j, "node " + n.name + " went DOWN: " + why, now_unix);
  }
}

void Cluster::fail_on_node(Job& j, const std::string& why, int64_t now_unix) {
  if (!j.spec.requeue || j.attempt - std::min(j.attempt, j.preemptions) > max_retries_) {
    std::string limit = j.spec.requeue ? " (no retries left after attempt " + std::to_string(j.attempt) + ")" : "";
    end_job(j, JobState::node_fail, 0, why + limit, now_unix);
    return;
  }
  // The whole gang goes back to the queue; it starts again (attempt + 1)
  // once every rank of this attempt is gone.
  CADRE_LOG(info) << "job " << j.id << " requeued after attempt " << j.attempt << ": " << why;
  j.state = JobState::pending;
  j.reason = "Requeued: " + why;
  j.start_time = 0;
  dirty_jobs_.insert(j.id);
  kill_live_ranks(j);
}

void Cluster::end_job(Job& j, JobState state, int32_t exit_code, std::string reason, int64_t now_unix) {
  CADRE_LOG(info) << "job " << j.id << " " << to_string(state) << (reason.empty() ? "" : ": ") << reason;
  j.state = state;
  j.exit_code = exit_code;
  j.reason = std::move(reason);
  j.end_time = now_unix;
  dirty_jobs_.insert(j.id);
  kill_live_ranks(j);
}

void Cluster::kill_live_ranks(Job& j) {
  kill_steps(j);
  for (Task& t : j.tasks) {
    if (t.state == TaskState::allocated) {
      release(j, t);
      t.state = TaskState::cancelled;
      continue;
    }
    if (t.state != TaskState::launching && t.state != TaskState::running) continue;
    t.state = TaskState::killing;
    commands_.push_back({t.node, encode_kill(j.id, j.attempt, t.rank)});
  }
}

void Cluster::release(Job& j, Task& t) {
  auto it = nodes_.find(t.node);
  if (it == nodes_.end()) return;
  Node& n = it->second;
  n.used -= j.spec.per_task;
  for (uint32_t g : t.gpus)
    if (g < n.gpu_busy.size()) n.gpu_busy[g] = false;
}

void Cluster::launch(Job& j, const sched::GangPlacement& gang, const std::vector<std::string>& node_names,
                     int64_t now_unix) {
  j.state = JobState::running;
  j.reason.clear();
  j.attempt += 1;
  j.start_time = now_unix;
  if (j.spec.time_limit_s > 0) next_time_limit_ = std::min(next_time_limit_, now_unix + j.spec.time_limit_s);
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
    Node& n = nodes_.at(t.node);
    n.used += j.spec.per_task;
    for (uint32_t g : t.gpus) n.gpu_busy[g] = true;
    j.tasks.push_back(std::move(t));
  }
  dirty_jobs_.insert(j.id);
  const std::string& master_addr = nodes_.at(j.tasks.front().node).address;
  j.master_port = pick_master_port(j, j.tasks.front().node);
  for (const Task& t : j.tasks)
    if (t.state == TaskState::launching) commands_.push_back({t.node, encode_launch(j, job_rank_target(j, t), master_addr)});
  CADRE_LOG(info) << "job " << j.id << " RUNNING on " << j.tasks.size() << " ranks, attempt " << j.attempt;
}

void Cluster::evict_ended() {
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if (is_final(it->second.state) && !it->second.holds_resources()) it = jobs_.erase(it);
    else ++it;
  }
}

void Cluster::evict_ended(const std::set<JobId>& changed) {
  for (JobId id : changed)
    if (auto it = jobs_.find(id); it != jobs_.end() && is_final(it->second.state) && !it->second.holds_resources())
      jobs_.erase(it);
}

Job* Cluster::job(JobId id) {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

const Job* Cluster::find_job(JobId id) const {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

const Node* Cluster::find_node(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second;
}

}  // namespace cadre
