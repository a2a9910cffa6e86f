// What the cluster state asks agents to do, as plain values. The state
// decides; the server encodes these and sends them only after the turn's
// changes are committed (commit before observe). Not synchronised: made
// and taken on the master's event-loop thread.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "common/ids.hpp"
#include "master/state/launch_layout.hpp"

namespace cadre {

// Start one process: a rank of a job, its batch script, or a rank of a step.
// The rest of what the agent needs (command, user, output files) is the
// job's spec, which the server reads when it encodes the launch.
struct LaunchCommand {
  JobId job = 0;
  Attempt attempt = 0;
  LaunchTarget target;
  std::string master_addr;   // MASTER_ADDR: the address of the node of rank 0
  uint16_t master_port = 0;  // MASTER_PORT: the job's port, moved on by the step's id
};

// Stop one process (its whole process tree).
struct KillCommand {
  JobId job = 0;
  Attempt attempt = 0;
  uint32_t rank = 0;
  uint32_t step = 0;
  int signal = 0;            // not 0: send this signal (--signal), do not stop the rank
  bool leader_only = false;  // with signal: the rank's first process alone (B:)
};

struct AgentCommand {
  std::string node;  // whose agent receives it
  std::variant<LaunchCommand, KillCommand> what;
};

}  // namespace cadre
