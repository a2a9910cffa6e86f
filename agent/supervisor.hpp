// The per-rank supervisor (the role slurmstepd plays): a small process,
// started by the agent in its own session, that runs one rank, forwards a
// kill to it (SIGTERM, then SIGKILL after the grace period) and records its
// exit status in the rank's folder. It does not depend on the agent, so
// ranks keep running while the agent restarts or upgrades.
//
// A supervisor is forked by the agent's launcher helper (agent/launcher.hpp)
// and runs run_supervisor() directly; without the helper, the agent binary
// runs as a supervisor when started as
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
// child process in its own session, by exec'ing `agent_binary` (the agent
// passes /proc/self/exe) with --supervise: the fallback when the launcher
// helper is not available. Returns its pid.
Result<pid_t> start_supervisor(const std::string& agent_binary, const std::string& rank_dir, int64_t grace_ms);

// Readies a newly forked process to be a supervisor: its own session (no
// signal aimed at the agent's group reaches it), the signals it takes with
// sigwaitinfo blocked, none of its parent's descriptors, stdin and stdout on
// /dev/null. Async-signal-safe: it runs between fork and exec.
void prepare_supervisor_process();

// Records `pid` as the supervisor of `rank_dir`, with the process's start
// time, so that a restarted agent can tell it from a later process that got
// the same pid.
Status write_supervisor_pid(const std::string& rank_dir, pid_t pid);

// True when `pid` is a supervisor of `rank_dir` (guards against pid reuse):
// the start time recorded with it matches, or (a supervisor an older agent
// exec'd) its command line names the folder.
bool is_supervisor_of(pid_t pid, const std::string& rank_dir);

}  // namespace cadre::agent
