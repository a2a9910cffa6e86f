#include "master/state/steps.hpp"

#include <algorithm>

#include "common/limits.hpp"
#include "common/log.hpp"
#include "master/state/launch_layout.hpp"

namespace cadre::state {
namespace {

Status check_step(const Job* j, const StepRequest& req) {
  if (!j) return make_error("no active job " + std::to_string(req.job));
  if (j->state != JobState::running)
    return make_error("job " + std::to_string(req.job) + " is " + std::string(to_string(j->state)) +
                      "; steps run only inside a RUNNING job");
  if (req.uid != 0 && req.uid != j->spec.uid)
    return make_error("job " + std::to_string(req.job) + " belongs to " + j->spec.user + "; only its owner may start steps");
  if (req.argv.empty() || req.argv[0].empty()) return make_error("no command given for the step");
  if (j->next_step >= limits::kMaxStepsPerJob)
    return make_error("job " + std::to_string(req.job) + " has started " + std::to_string(limits::kMaxStepsPerJob) +
                      " steps, the most one job may");
  return {};
}

// Where the step's ranks go, in rank order.
Result<std::vector<std::string>> place_step(const Job& j, const StepRequest& req) {
  const std::vector<std::string> nodes = j.node_list();
  const std::vector<uint32_t> slots = tasks_per_node(j);
  std::vector<std::string> placement;
  if (!req.hosts.empty()) {
    for (const std::string& h : req.hosts) {
      // The MPI launcher may name a node by its address (hostfiles list names).
      auto it = std::find(nodes.begin(), nodes.end(), h);
      if (it == nodes.end()) {
        std::string list;
        for (const std::string& n : nodes) list += (list.empty() ? "" : ",") + n;
        return make_error("node '" + h + "' is not part of job " + std::to_string(req.job) + "'s allocation (" + list + ")");
      }
      placement.push_back(h);
    }
    return placement;
  }
  // As srun: without --nodes, a step of fewer tasks than the job has
  // nodes uses only as many nodes as it has tasks.
  const uint32_t nnodes = req.nnodes   ? req.nnodes
                          : req.ntasks ? std::min<uint32_t>(req.ntasks, static_cast<uint32_t>(nodes.size()))
                                       : static_cast<uint32_t>(nodes.size());
  if (nnodes > nodes.size())
    return make_error("--nodes " + std::to_string(nnodes) + ": job " + std::to_string(req.job) + " has only " +
                      std::to_string(nodes.size()) + " nodes");
  uint32_t capacity = 0;
  for (uint32_t i = 0; i < nnodes; ++i) capacity += slots[i];
  const uint32_t ntasks = req.ntasks ? req.ntasks : capacity;
  if (ntasks < nnodes)
    return make_error("--ntasks " + std::to_string(ntasks) + " is fewer than --nodes " + std::to_string(nnodes));
  if (ntasks > capacity)
    return make_error("--ntasks " + std::to_string(ntasks) + " is more than the " + std::to_string(capacity) +
                      " tasks job " + std::to_string(req.job) + " holds on " + std::to_string(nnodes) + " nodes");
  // Block layout, as srun's default: one rank per node first so every
  // chosen node gets one, then fill each node's slots in node order.
  std::vector<uint32_t> per_node(nnodes, 1);
  uint32_t left = ntasks - nnodes;
  for (uint32_t i = 0; i < nnodes && left > 0; ++i) {
    uint32_t more = std::min(left, slots[i] - 1);
    per_node[i] += more;
    left -= more;
  }
  for (uint32_t i = 0; i < nnodes; ++i)
    for (uint32_t k = 0; k < per_node[i]; ++k) placement.push_back(nodes[i]);
  return placement;
}

// The GPUs and limits of a step's rank on `node`: the job's slots on this
// node, in rank order: a rank takes the GPUs and share of its slot, or, for
// the MPI launcher's daemons, of all.
void share_of_slots(const Job& j, const StepRequest& req, const std::string& node, LaunchTarget& t) {
  std::vector<const Task*> node_slots;
  for (const Task& task : j.tasks)
    if (task.node == node) node_slots.push_back(&task);
  if (req.whole_node || t.local_rank >= node_slots.size()) {
    t.limits = j.spec.per_task.times(static_cast<int64_t>(node_slots.size()));
    for (const Task* slot : node_slots) t.gpus.insert(t.gpus.end(), slot->gpus.begin(), slot->gpus.end());
    std::sort(t.gpus.begin(), t.gpus.end());
  } else {
    t.limits = j.spec.per_task;
    t.gpus = node_slots[t.local_rank]->gpus;
  }
}

}  // namespace

Result<uint32_t> run_step(ClusterState& s, const StepRequest& req) {
  Job* j = s.job(req.job);
  if (Status ok = check_step(j, req); !ok) return make_error(ok.error());
  Result<std::vector<std::string>> placed = place_step(*j, req);
  if (!placed) return make_error(placed.error());
  const std::vector<std::string>& placement = *placed;

  Step step;
  step.id = j->next_step++;
  step.environment = req.environment;
  std::vector<std::string> step_nodes;
  std::vector<uint32_t> step_tpn;
  for (const std::string& node : placement) {
    auto it = std::find(step_nodes.begin(), step_nodes.end(), node);
    if (it == step_nodes.end()) {
      step_nodes.push_back(node);
      step_tpn.push_back(1);
    } else {
      ++step_tpn[static_cast<size_t>(it - step_nodes.begin())];
    }
  }
  const std::string& master_addr = s.nodes.at(j->node_list().front()).address;
  std::vector<uint32_t> seen(step_nodes.size(), 0);
  for (uint32_t rank = 0; rank < placement.size(); ++rank) {
    const std::string& node = placement[rank];
    size_t n = static_cast<size_t>(std::find(step_nodes.begin(), step_nodes.end(), node) - step_nodes.begin());
    LaunchTarget t;
    t.step = step.id;
    t.rank = rank;
    t.world_size = static_cast<uint32_t>(placement.size());
    t.local_rank = seen[n]++;
    t.local_world_size = step_tpn[n];
    t.node_rank = static_cast<uint32_t>(n);
    t.nodes = step_nodes;
    t.tasks_per_node = step_tpn;
    t.argv = req.argv;
    share_of_slots(*j, req, node, t);
    step.ranks.push_back(StepRank{rank, node, TaskState::launching, 0, ""});
    s.send_launch(node, LaunchCommand{j->id, j->attempt, std::move(t), master_addr, step_master_port(*j, step.id, s.master_ports)});
  }
  CADRE_LOG(info) << "job " << j->id << " step " << step.id << ": " << placement.size() << " ranks on "
                  << step_nodes.size() << " nodes";
  const uint32_t id = step.id;
  j->steps[id] = std::move(step);
  return id;
}

const Step* find_step(const ClusterState& s, JobId job_id, uint32_t step) {
  const Job* j = s.find_job(job_id);
  if (!j) return nullptr;
  auto it = j->steps.find(step);
  return it == j->steps.end() ? nullptr : &it->second;
}

void step_event(Job& j, const TaskEvent& ev) {
  auto it = j.steps.find(ev.step);
  if (it == j.steps.end() || ev.rank >= it->second.ranks.size() || it->second.ranks[ev.rank].node != ev.node) return;
  StepRank& r = it->second.ranks[ev.rank];
  if (!holds_resources(r.state)) return;
  switch (ev.kind) {
    case TaskEventKind::started:
      if (r.state == TaskState::launching) r.state = TaskState::running;
      return;
    case TaskEventKind::lost:
      r.state = TaskState::lost;
      r.exit_code = 255;
      r.message = ev.message;
      return;
    case TaskEventKind::launch_failed:
      r.state = TaskState::failed;
      r.exit_code = ev.exit_code ? ev.exit_code : 127;
      r.message = "could not start: " + ev.message;
      return;
    case TaskEventKind::exited:
      r.exit_code = ev.signal != 0 ? 128 + ev.signal : ev.exit_code;
      r.state = r.exit_code == 0 ? TaskState::completed : TaskState::failed;
      if (ev.oom_killed) r.message = "exceeded its memory limit and was killed by the kernel";
      else if (ev.signal != 0) r.message = "killed by signal " + std::to_string(ev.signal);
      return;
  }
}

void kill_steps(ClusterState& s, Job& j) {
  for (auto& [id, step] : j.steps)
    for (StepRank& r : step.ranks) {
      if (r.state != TaskState::launching && r.state != TaskState::running) continue;
      r.state = TaskState::killing;
      s.send_kill(r.node, j.id, j.attempt, r.rank, id);
    }
}

}  // namespace cadre::state
