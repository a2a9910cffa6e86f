#include "master/state/launch_layout.hpp"

#include <algorithm>
#include <set>

namespace cadre {

uint16_t master_port_for(JobId id, const PortRange& ports) {
  return static_cast<uint16_t>(ports.first + id % ports.count);
}

std::vector<uint32_t> tasks_per_node(const Job& job) {
  std::vector<std::string> nodes = job.node_list();
  std::vector<uint32_t> per_node(nodes.size(), 0);
  for (const Task& t : job.tasks)
    ++per_node[static_cast<size_t>(std::find(nodes.begin(), nodes.end(), t.node) - nodes.begin())];
  return per_node;
}

LaunchTarget job_rank_target(const Job& job, const Task& task) {
  LaunchTarget t;
  t.rank = task.rank;
  t.world_size = static_cast<uint32_t>(job.tasks.size());
  t.nodes = job.node_list();
  t.tasks_per_node.assign(t.nodes.size(), 0);
  for (const Task& other : job.tasks) {
    size_t n = static_cast<size_t>(std::find(t.nodes.begin(), t.nodes.end(), other.node) - t.nodes.begin());
    if (other.rank == task.rank) {
      t.local_rank = t.tasks_per_node[n];
      t.node_rank = static_cast<uint32_t>(n);
    }
    ++t.tasks_per_node[n];
  }
  t.local_world_size = t.tasks_per_node[t.node_rank];
  t.argv = job.spec.argv;
  t.gpus = task.gpus;
  t.limits = job.spec.per_task;
  if (job.spec.batch) {
    // The script stands for the whole allocation on its node, as Slurm's
    // batch step does.
    t.batch = true;
    t.limits = job.spec.per_task.times(t.local_world_size);
    t.gpus.clear();
    for (const Task& other : job.tasks)
      if (other.node == task.node) t.gpus.insert(t.gpus.end(), other.gpus.begin(), other.gpus.end());
    std::sort(t.gpus.begin(), t.gpus.end());
  }
  return t;
}

uint16_t pick_master_port(const std::map<JobId, Job>& jobs, const Job& j, const std::string& node,
                          const PortRange& ports) {
  // Ports of running jobs whose rank 0 shares the node; each job reserves
  // a small block so its steps' ports (job port + step) rarely collide.
  std::set<uint16_t> taken;
  for (const auto& [id, other] : jobs)
    if (id != j.id && other.state == JobState::running && other.master_port != 0 && !other.tasks.empty() &&
        other.tasks.front().node == node)
      taken.insert(other.master_port);
  uint16_t port = master_port_for(j.id, ports);
  for (uint32_t tries = 0; tries < ports.count && taken.count(port); ++tries) port = ports.advance(port, 1);
  return port;
}

uint16_t step_master_port(const Job& job, uint32_t step, const PortRange& ports) {
  // A port saved under another range (the config changed across a restart)
  // counts from the range's start.
  uint16_t base = job.master_port ? job.master_port : master_port_for(job.id, ports);
  if (base < ports.first || base > ports.last()) base = ports.first;
  return ports.advance(base, step);
}

}  // namespace cadre
