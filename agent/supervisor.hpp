// The per-rank supervisor (the role slurmstepd plays): a small process,
// started by the agent in its own session, that runs one rank, forwards a
// kill to it (SIGTERM, then SIGKILL after the grace period) and records its
// exit status in the rank's folder. It does not depend on the agent, so
// ranks keep running while the agent restarts or upgrades.
//
// The agent binary runs as a supervisor when started as
//   cadre-agent --supervise RANK_DIR GRACE_MS
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "common/result.hpp"

namespace cadre::agent {

inline constexpr const char* kSuperviseFlag = "--supervise";

// Runs the supervisor in this process; returns its exit status.
int run_supervisor(const std::string& rank_dir, int64_t grace_ms);

// Starts a supervisor for the rank folder (which holds a request) as a
// child process in its own session. Returns its pid.
Result<pid_t> start_supervisor(const std::string& rank_dir, int64_t grace_ms);

// True when `pid` is a supervisor of `rank_dir` (guards against pid reuse).
bool is_supervisor_of(pid_t pid, const std::string& rank_dir);

}  // namespace cadre::agent
