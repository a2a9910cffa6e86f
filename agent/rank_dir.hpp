// RankDir: the folder on disk that holds one rank attempt's state, so that
// a restarted agent finds its ranks again and no exit status is lost.
//
//   WORK/ranks/<job>.<rank>.<attempt>/         a rank of the job (or its batch script)
//   WORK/ranks/<job>.<rank>.<attempt>.<step>/  a rank of step <step> (`cadre run`, MPI launcher)
//     request     what to run (written by the agent before the supervisor starts)
//     supervisor  the supervisor's pid
//     exit        how the rank ended (written by the supervisor, atomically)
//
// The folder is removed once the master has acknowledged the exit report.
// Functions are thread-safe; the folder has one writer at a time by design.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "agent/spawn.hpp"
#include "common/ids.hpp"
#include "common/result.hpp"

namespace cadre::agent {

struct RankId {
  JobId job = 0;
  uint32_t rank = 0;
  Attempt attempt = 0;
  uint32_t step = 0;  // 0: the job's own rank
  auto operator<=>(const RankId&) const = default;
};

// How a rank ended, as its supervisor recorded it.
struct RankExit {
  bool launch_failed = false;  // the command never started; `message` says why
  bool lost = false;           // its supervisor vanished, so how it ended is unknown
  int32_t exit_code = 0;
  int32_t signal = 0;
  std::string message;
  bool oom_killed = false;     // the kernel killed it (in its cgroup) for exceeding its memory limit
};

std::string rank_dir_path(const std::string& work_dir, const RankId& id);
// Every rank folder under WORK/ranks, parsed from the folder names.
std::vector<RankId> list_rank_dirs(const std::string& work_dir);

// Whether a file must survive the node losing power. Files that only
// describe processes of this boot (a request, a pid) skip the fsync: after
// a crash none of those processes exists, and a restarted agent treats a
// rank folder without them as a rank that never started. A rank's exit is
// kept (fsync'd) until the master has it.
enum class Durability { survives_power_loss, lost_with_the_node };

// Writes `data` to `path` so that readers see all of it or none of it:
// a temporary file (created with `mode`), fsync when asked, then rename.
Status write_atomically(const std::string& path, const std::string& data, mode_t mode = 0600,
                        Durability durability = Durability::survives_power_loss);

Status write_request(const std::string& dir, const SpawnRequest& req);
// The request changes hands once, by rename(2): the supervisor claims it
// (request -> request.claimed) before it starts the rank, or a restarted
// agent that found no supervisor withdraws it (request -> request.withdrawn)
// so that none can start the rank any more. Each returns true if it won.
bool claim_request(const std::string& dir);
bool withdraw_request(const std::string& dir);
// Reads a claimed request.
Result<SpawnRequest> read_request(const std::string& dir);

Status write_exit(const std::string& dir, const RankExit& exit);
std::optional<RankExit> read_exit(const std::string& dir);

// True when `pid` is the rank `id` (read from its environment), which
// guards a kill against a recycled pid.
bool is_rank_process(pid_t pid, const RankId& id);

Status write_pid(const std::string& path, pid_t pid);
// The process's start time (clock ticks since boot, /proc/PID/stat), which
// with its pid names a process uniquely; nullopt when it does not exist.
std::optional<uint64_t> process_start_time(pid_t pid);
std::optional<pid_t> read_pid(const std::string& path);

}  // namespace cadre::agent
