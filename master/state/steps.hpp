// Steps: the processes `cadre run` and the MPI launcher start inside a
// running job's allocation (srun's role). A step holds no resources of its
// own: it runs in what its job already holds, and it ends, at the latest,
// with its job. Free functions over the shared ClusterState; not
// thread-safe (the event-loop thread's).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "master/state/agent_reports.hpp"
#include "master/state/cluster_state.hpp"

namespace cadre {

// A step to start in a running job's allocation (`cadre run`, `cadre rsh`).
struct StepRequest {
  JobId job = 0;
  std::vector<std::string> argv;
  std::string workdir;
  uint32_t ntasks = 0;             // 0: every task slot of the chosen nodes
  uint32_t nnodes = 0;             // 0: every node of the allocation
  std::vector<std::string> hosts;  // exact nodes, one rank each (MPI launcher); overrides the above
  bool whole_node = false;         // each rank may use its node's whole share of the allocation
  uint32_t uid = 0;                // who asks: only the job's owner (or root) may
  std::vector<std::string> environment;  // "NAME=value": the caller's, as srun exports it
};

namespace state {

// Starts a step in a running job (launch commands for its ranks); returns its id.
Result<uint32_t> run_step(ClusterState& s, const StepRequest& req);
const Step* find_step(const ClusterState& s, JobId job, uint32_t step);
// A report about a rank of one of `j`'s steps (ev.step != 0).
void step_event(Job& j, const TaskEvent& ev);
// Kills every live rank of `j`'s steps.
void kill_steps(ClusterState& s, Job& j);

}  // namespace state
}  // namespace cadre
