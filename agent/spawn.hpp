// spawn_rank: starts one rank as a child process in its own process group,
// with its output in a file, and reports exec failures synchronously.
// Called by a rank's supervisor (agent/supervisor.hpp), its parent.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace cadre::agent {

struct SpawnRequest {
  std::vector<std::string> argv;
  std::vector<std::string> env;   // "NAME=value"
  std::string workdir;
  std::string output_path;
  std::string error_path;   // stderr's own file; empty: stderr goes to output_path
  std::string cgroup;       // the rank joins this cgroup (absolute path) before exec; empty: none
  // When the agent runs as root, ranks run as this user (never as root:
  // a job of uid 0 is refused unless allow_root).
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string user;
  bool allow_root = false;
  // The rank's umask (0..0777), set after dropping privileges, so its output
  // files and everything it creates get it; -1: keep the supervisor's.
  int32_t umask = -1;
  // --open-mode=truncate: the output files are emptied as they are opened
  // (the rank is their one writer when they are opened).
  bool truncate = false;
};

// Returns the child's pid (also its process group id), or why it could not
// start: a missing workdir, an unwritable output file, a command that does
// not exist. Those failures are found before this returns.
Result<pid_t> spawn_rank(const SpawnRequest& req);

}  // namespace cadre::agent
