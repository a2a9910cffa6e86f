// SupervisorLauncher: starts rank supervisors (agent/supervisor.hpp) by
// asking a small helper process, `cadre-agent --launcher`, to fork them.
//
// Why a helper: the agent has threads (ZeroMQ's I/O threads), so a child it
// forks may do little more than exec. Each supervisor used to be the agent
// binary exec'd again, which paid for the exec, the dynamic loader (over
// twenty libraries) and a fork of the whole agent on every rank. The helper
// is single-threaded and small, so its children can run the supervisor
// directly after fork: a rank starts sooner and costs the node less CPU.
//
// The helper answers each request with the supervisor's pid and a pidfd for
// it (passed with SCM_RIGHTS), opened before the helper could reap it, so
// the agent can watch even a supervisor that is already done. Supervisors
// run in their own sessions and outlive the helper and the agent alike. If
// the helper dies, the agent starts another; if that fails, it falls back to
// exec'ing supervisors itself (start_supervisor).
//
// Not thread-safe: owned and called by the agent's event-loop thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "common/result.hpp"

namespace cadre::agent {

inline constexpr const char* kLauncherFlag = "--launcher";

// The helper's main loop, run by `cadre-agent --launcher FD PADDING`:
// serves requests on the socket FD until the agent closes it. `title` and
// `title_room` are the memory of the helper's command line (argv[0] to the
// end of PADDING), which each supervisor rewrites so that ps and the agent
// see `cadre-agent --supervise RANK_DIR GRACE_MS`. Returns the exit status.
int run_launcher(int fd, char* title, size_t title_room);

struct StartedSupervisor {
  pid_t pid = -1;
  int pidfd = -1;  // owned by the caller; readable once the supervisor exits
};

class SupervisorLauncher {
 public:
  // `agent_binary`: the cadre-agent executable to run as the helper
  // (the agent passes /proc/self/exe; tests pass the built binary).
  explicit SupervisorLauncher(std::string agent_binary);
  ~SupervisorLauncher();
  SupervisorLauncher(const SupervisorLauncher&) = delete;
  SupervisorLauncher& operator=(const SupervisorLauncher&) = delete;

  // Starts a supervisor for `rank_dir` (which holds a request). Starts the
  // helper on first use, and again if it has died; falls back to exec'ing
  // the supervisor from this process when no helper can be had.
  Result<StartedSupervisor> start(const std::string& rank_dir, int64_t grace_ms);

  // Starts the helper now rather than at the first rank (logs a failure;
  // start() tries again).
  void prestart();

  // The helper's pid, or -1 while none runs (for tests and logs).
  pid_t helper_pid() const { return helper_pid_; }

 private:
  Status start_helper();
  void stop_helper();
  Result<StartedSupervisor> ask_helper(const std::string& rank_dir, int64_t grace_ms);

  std::string agent_binary_;
  pid_t helper_pid_ = -1;
  int helper_pidfd_ = -1;
  int fd_ = -1;
};

}  // namespace cadre::agent
