#include "master/state/cluster_state.hpp"

#include <utility>

namespace cadre {

Job* ClusterState::job(JobId id) {
  auto it = jobs.find(id);
  return it == jobs.end() ? nullptr : &it->second;
}

const Job* ClusterState::find_job(JobId id) const {
  auto it = jobs.find(id);
  return it == jobs.end() ? nullptr : &it->second;
}

const Node* ClusterState::find_node(const std::string& name) const {
  auto it = nodes.find(name);
  return it == nodes.end() ? nullptr : &it->second;
}

void ClusterState::send_kill(const std::string& node, JobId id, Attempt attempt, uint32_t rank, uint32_t step) {
  commands.push_back(AgentCommand{node, KillCommand{id, attempt, rank, step}});
}

void ClusterState::send_launch(const std::string& node, LaunchCommand launch) {
  commands.push_back(AgentCommand{node, std::move(launch)});
}

void ClusterState::count_pending() {
  pending_by_user.clear();
  for (const auto& [id, j] : jobs)
    if (j.state == JobState::pending) ++pending_by_user[j.spec.user];
}

}  // namespace cadre
