// Launch layout: how a job's ranks (or a step's) are laid out for the
// processes an agent starts: ranks per node, local ranks, the GPUs and
// limits each process gets, and the job's MASTER_PORT. Pure functions over
// the model; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/ids.hpp"
#include "common/resources.hpp"
#include "master/model.hpp"
#include "master/port_range.hpp"

namespace cadre {

// MASTER_PORT: a job first tries the port `id` places into `ports` and
// moves on past ports other jobs on rank 0's node hold.
uint16_t master_port_for(JobId id, const PortRange& ports);

// One process for an agent to start: a rank of the job, its batch script,
// or a rank of a step, with the layout it sees.
struct LaunchTarget {
  uint32_t step = 0;
  uint32_t rank = 0;
  uint32_t world_size = 1;
  uint32_t local_rank = 0;
  uint32_t local_world_size = 1;
  uint32_t node_rank = 0;
  std::vector<std::string> nodes;        // of the job, or of the step
  std::vector<uint32_t> tasks_per_node;  // parallel to nodes
  std::vector<uint32_t> gpus;
  Resources limits;                      // its cgroup's limits
  bool batch = false;
  std::vector<std::string> argv;
};

// How many of the job's ranks sit on each node of node_list().
std::vector<uint32_t> tasks_per_node(const Job& job);
// A rank of the job itself (step 0); for a batch job, rank 0 is its script,
// which may use the first node's whole share and sees all its GPUs.
LaunchTarget job_rank_target(const Job& job, const Task& task);

// A MASTER_PORT for `job` that no other running job of `jobs` whose rank 0
// is on `node` uses.
uint16_t pick_master_port(const std::map<JobId, Job>& jobs, const Job& job, const std::string& node,
                          const PortRange& ports);
// The MASTER_PORT a process of `step` sees: each step gets its own port
// next to the job's, so a `cadre run` of a torch program inside a batch job
// does not collide with another step.
uint16_t step_master_port(const Job& job, uint32_t step, const PortRange& ports);

}  // namespace cadre
