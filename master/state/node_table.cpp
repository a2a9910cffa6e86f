#include "master/state/node_table.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "master/state/jobs.hpp"
#include "master/state/partitions.hpp"

namespace cadre::state {
namespace {

// Takes the registration's description of the node; true when it was
// registered with this master already.
bool take_registration(ClusterState& s, Node& n, const NodeRegistration& reg, int64_t now_ms, int64_t now_unix) {
  bool was_registered = n.registered;
  n.name = reg.name;
  n.address = reg.address;
  n.labels = reg.labels;
  n.features = {reg.features.begin(), reg.features.end()};
  n.gpus = reg.gpus;
  n.isolation = reg.isolation;
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
  n.partitions = partition_mask(s, n.name);
  s.dirty_nodes.insert(n.name);
  return was_registered;
}

// Ends that happened while the master was away (or not acknowledged).
void replay_exits(ClusterState& s, const Node& n, const NodeRegistration& reg, int64_t now_unix) {
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
    task_event(s, ev, now_unix);
  }
}

// Reconcile: ranks the master expects here against ranks the agent runs.
void reconcile_expected(ClusterState& s, const Node& n, const NodeRegistration& reg, int64_t now_unix) {
  auto reported = [&reg](JobId id, uint32_t step, uint32_t rank, Attempt attempt) {
    return std::any_of(reg.running.begin(), reg.running.end(), [&](const RunningTaskRef& r) {
      return !r.exited && r.job == id && r.step == step && r.rank == rank && r.attempt == attempt;
    });
  };
  for (auto& [id, j] : s.jobs) {
    // A step rank the agent no longer has ended unseen: it counts as lost
    // for the step; the job itself goes on.
    for (auto& [step_id, step] : j.steps)
      for (StepRank& sr : step.ranks) {
        if (sr.node != n.name || !holds_resources(sr.state)) continue;
        if (reported(id, step_id, sr.rank, j.attempt)) {
          // As for the job's ranks: a kill sent while the agent was away may be lost.
          if (sr.state == TaskState::killing) s.send_kill(n.name, id, j.attempt, sr.rank, step_id);
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
        if (t.state == TaskState::killing) s.send_kill(n.name, id, j.attempt, t.rank);
        continue;
      }
      CADRE_LOG(warning) << "job " << id << " rank " << t.rank << " is gone from node " << n.name;
      release(s, j, t);
      t.state = TaskState::lost;
      vanished.push_back(t.rank);
    }
    if (vanished.empty()) continue;
    s.dirty_jobs.insert(id);
    // All of this node's lost ranks are settled first, so ending the job
    // sends kills only to ranks that still live.
    if (j.state == JobState::running)
      fail_on_node(s, j, "rank " + std::to_string(vanished.front()) + " vanished from node " + n.name, now_unix);
  }
}

// Ranks the agent runs that the master does not know are killed.
void kill_unknown(ClusterState& s, const Node& n, const NodeRegistration& reg) {
  for (const RunningTaskRef& r : reg.running) {
    if (r.exited) continue;
    const Job* j = s.find_job(r.job);
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
      s.send_kill(n.name, r.job, r.attempt, r.rank, r.step);
    }
  }
}

}  // namespace

void register_node(ClusterState& s, const NodeRegistration& reg, int64_t now_ms, int64_t now_unix) {
  Node& n = s.nodes[reg.name];
  const bool was_registered = take_registration(s, n, reg, now_ms, now_unix);
  CADRE_LOG(info) << "node " << n.name << " registered (" << n.total.to_string() << ", address " << n.address
                  << (was_registered ? ", again" : "") << ")";
  // Ends count first, so those ranks are not mistaken for vanished ones.
  replay_exits(s, n, reg, now_unix);
  reconcile_expected(s, n, reg, now_unix);
  kill_unknown(s, n, reg);
}

bool heartbeat(ClusterState& s, const std::string& name, int64_t now_ms, int64_t now_unix) {
  auto it = s.nodes.find(name);
  if (it == s.nodes.end() || !it->second.registered) return false;
  it->second.last_seen_ms = now_ms;
  // Shown to users; persisted with the node's next durable change only,
  // so heartbeats cost no disk writes.
  it->second.last_seen_unix = now_unix;
  return true;
}

void check_node_timeouts(ClusterState& s, int64_t now_ms, int64_t now_unix) {
  for (auto& [name, n] : s.nodes) {
    if (n.state == NodeState::down) continue;
    if (now_ms - n.last_seen_ms > s.node_timeout_ms)
      mark_node_down(s, n, "no heartbeat for " + std::to_string((now_ms - n.last_seen_ms) / 1000) + "s", now_unix);
  }
}

Status drain_node(ClusterState& s, const std::string& name, const std::string& reason) {
  auto it = s.nodes.find(name);
  if (it == s.nodes.end()) return make_error("no node " + name);
  Node& n = it->second;
  if (n.state == NodeState::down) return make_error("node " + name + " is DOWN" + (n.reason.empty() ? "" : ": " + n.reason));
  n.state = NodeState::drain;
  n.reason = reason.empty() ? "drained by an admin" : reason;
  s.dirty_nodes.insert(name);
  CADRE_LOG(info) << "node " << name << " is DRAIN: " << n.reason;
  return {};
}

Status resume_node(ClusterState& s, const std::string& name) {
  auto it = s.nodes.find(name);
  if (it == s.nodes.end()) return make_error("no node " + name);
  Node& n = it->second;
  if (n.state == NodeState::down)
    return make_error("node " + name + " is DOWN" + (n.reason.empty() ? "" : ": " + n.reason) +
                      "; it comes back UP when its agent registers");
  if (n.state == NodeState::drain) CADRE_LOG(info) << "node " << name << " is UP again";
  n.state = NodeState::up;
  n.reason.clear();
  s.dirty_nodes.insert(name);
  return {};
}

void node_revoked(ClusterState& s, const std::string& name, int64_t now_unix) {
  auto it = s.nodes.find(name);
  if (it == s.nodes.end() || it->second.state == NodeState::down) return;
  mark_node_down(s, it->second, "its key was revoked", now_unix);
}

void mark_node_down(ClusterState& s, Node& n, const std::string& why, int64_t now_unix) {
  CADRE_LOG(warning) << "node " << n.name << " is DOWN: " << why;
  n.state = NodeState::down;
  n.reason = why;
  n.registered = false;
  s.dirty_nodes.insert(n.name);
  for (auto& [id, j] : s.jobs) {
    bool touched = false;
    for (Task& t : j.tasks) {
      if (t.node != n.name || !holds_resources(t.state)) continue;
      release(s, j, t);
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
    s.dirty_jobs.insert(id);
    if (j.state == JobState::running) fail_on_node(s, j, "node " + n.name + " went DOWN: " + why, now_unix);
  }
}

}  // namespace cadre::state
