// cgroup v2 isolation for ranks. setup_cgroups finds the agent's delegated
// subtree, moves the agent into a leaf of it and enables controllers; when
// cgroup v2 cannot be used it says why, and the agent runs ranks in process
// groups instead. CgroupManager then creates one cgroup per job attempt and
// one per rank, with cpu.max / memory.max / cpuset.cpus, and kills, inspects
// and removes them. CpuSetAllocator (agent/cpuset.hpp, included here)
// chooses the cpu ids of whole-cpu jobs.
//
//   <base>/agent                         the agent and the supervisors
//   <base>/job_<job>_<attempt>/          the node's allocation for the job
//   <base>/job_<job>_<attempt>/<name>    one rank ("rank_<step>_<rank>")
//
// Only the file system is shared; CgroupManager and CpuSetAllocator are not
// synchronised (one thread, the agent's event loop, owns them).
// join_cgroup is async-signal-safe, for use between fork and exec.
//
// setup_cgroups and nest_cgroups are in cgroup_setup.cpp, the rest in
// cgroup.cpp.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/cpuset.hpp"
#include "common/ids.hpp"
#include "common/resources.hpp"
#include "common/result.hpp"

namespace cadre::agent {

// Where setup_cgroups looks. The defaults read the real machine.
struct CgroupPaths {
  std::string proc_self_cgroup = "/proc/self/cgroup";
  std::string proc_self_mountinfo = "/proc/self/mountinfo";
  // When set, the cgroup to use as the delegated subtree instead of the
  // agent's own one (a config option; tests point it at a fake tree).
  std::string base;
  // A fake tree is a folder of plain files: mkdir creates no control files
  // in it, so writes create the file they write (O_CREAT). Without this
  // flag a missing control file is an error, as it must be on a real
  // cgroup file system, where it means a controller is not enabled.
  bool fake = false;
  // Checks what is usable but changes nothing: no process is moved, no
  // folder made, no controller enabled (for tests and diagnostics).
  bool probe_only = false;
};

// What this node can isolate ranks with. Value type.
struct CgroupSupport {
  bool enabled = false;  // ranks get cgroups; otherwise process groups only
  std::string base;      // absolute path of the delegated subtree
  std::string self;      // the cgroup the agent was in when it started
  bool cpu = false, memory = false, cpuset = false;  // controllers enabled for children of base
  bool kill = false;                                 // cgroup.kill exists (kernel >= 5.14)
  bool fake = false;                                 // CgroupPaths::fake
  // For logs and `cadre nodes`: "cgroup v2 (cpu, memory, cpuset)", or
  // "process groups (<why cgroup v2 is not used, and what to do>)".
  std::string description;
};

// Probes, then (unless paths.probe_only) moves every process of the
// agent's cgroup into <base>/agent and enables +cpu +memory (+cpuset when
// available) in <base>/cgroup.subtree_control. cpu and memory are required;
// cpuset is optional. When the agent is in the root cgroup, nothing is
// moved (that would move every process of the machine): base becomes
// <root>/cadre. Never throws; a failure yields enabled == false.
CgroupSupport setup_cgroups(const CgroupPaths& paths = {});

// A child subtree of `s.base` named `name` with the same controllers on,
// returned as the new base. One per agent, so several agents on one host
// (test clusters) never share job cgroups. Disabled, with why, on failure.
CgroupSupport nest_cgroups(CgroupSupport s, const std::string& name);

// Counters from memory.events.
struct MemoryEvents {
  int64_t low = 0, high = 0, max = 0, oom = 0, oom_kill = 0, oom_group_kill = 0;
  bool oom_killed() const { return oom_kill > 0 || oom_group_kill > 0; }
};
MemoryEvents parse_memory_events(std::string_view text);

// A job cgroup found under base (recovery after an agent restart).
struct JobCgroup {
  JobId job = 0;
  Attempt attempt = 0;
  std::string path;
  std::vector<int> cpus;  // its cpuset.cpus; empty when not pinned
};

class CgroupManager {
 public:
  explicit CgroupManager(CgroupSupport support);
  const CgroupSupport& support() const { return support_; }

  std::string job_path(JobId job, Attempt attempt) const;
  // Creates (or reuses) <base>/job_<job>_<attempt> limited to `node_alloc`,
  // pinned to `cpus` when not empty and cpuset is enabled, and enables the
  // controllers for its children.
  Result<std::string> create_job(JobId job, Attempt attempt, const Resources& node_alloc,
                                 const std::vector<int>& cpus = {});
  // Creates (or reuses) <job_path>/<name> limited to `limits` (OOM-kills
  // the whole rank, never swaps), pinned to `cpus` when not empty.
  Result<std::string> create_process(const std::string& job_path, const std::string& name,
                                     const Resources& limits, const std::vector<int>& cpus = {});
  // Moves `pid` into the cgroup at `path`.
  Status add_process(const std::string& path, pid_t pid) const;
  // Kills every process in `path` and below: cgroup.kill when the kernel
  // has it, else SIGKILL to each pid listed in cgroup.procs.
  Status kill(const std::string& path) const;
  // Read these after the rank ended and before remove().
  Result<MemoryEvents> memory_events(const std::string& path) const;
  bool oom_killed(const std::string& path) const;
  std::optional<int64_t> memory_peak_bytes(const std::string& path) const;  // memory.peak (kernel >= 5.19)
  // Removes the cgroup and any child cgroups. The kernel frees a cgroup
  // asynchronously after its last process exits, so EBUSY is retried for
  // up to ~100 ms; after that the error says the cgroup is still busy.
  Status remove(const std::string& path) const;
  // Every job_<job>_<attempt> cgroup under base, sorted by job then attempt.
  std::vector<JobCgroup> list_jobs() const;

 private:
  Status write_limits(const std::string& path, const Resources& limits, const std::vector<int>& cpus) const;

  CgroupSupport support_;
};

// The path of <cgroup>/cgroup.procs, built before fork for join_cgroup.
std::string cgroup_procs_path(const std::string& cgroup);
// Moves the calling process into the cgroup whose cgroup.procs file is
// `procs_path` (writes "0"). Async-signal-safe: open, write and close only.
// Returns 0 or the errno of the failing call.
int join_cgroup(const char* procs_path);

// Values written to cpu.max and memory.max; 0 means unlimited ("max").
// cpu.max: "<millicores * 100> 100000", the quota at least the kernel's
// minimum of 1000 us. memory.max: MiB in bytes.
std::string cpu_max_value(int64_t millicores);
std::string memory_max_value(int64_t memory_mb);

}  // namespace cadre::agent
