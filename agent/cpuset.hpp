// Which cpu ids a whole-cpu job and its ranks are pinned to: Linux cpu
// lists ("0-3,8,10-11"), whole-cpu counts, per-rank slices, and
// CpuSetAllocator, which hands out the node's cpus. Pure: no cgroup file
// I/O (CgroupManager writes the chosen lists to cpuset.cpus).
//
// CpuSetAllocator is not synchronised (one thread, the agent's event loop,
// owns it).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace cadre::agent {

// Linux cpu lists, "0-3,8,10-11". format_cpu_list sorts and merges runs;
// parse_cpu_list returns sorted, distinct ids ("" -> none).
std::string format_cpu_list(const std::vector<int>& cpus);
Result<std::vector<int>> parse_cpu_list(std::string_view text);

// Number of whole cpus in `millicores`, or 0 when it is not a whole number.
int whole_cpus(int64_t millicores);
// The cpus of local rank `local_rank` when each rank gets `per_rank` of the
// job's cpus in order; empty (no pinning) when they do not divide that way.
std::vector<int> rank_cpus(const std::vector<int>& job_cpus, int local_rank, int per_rank);

// Chooses which cpu ids a whole-cpu job gets: the lowest free ones among
// those the agent's cgroup may use (<base>/cpuset.cpus.effective).
class CpuSetAllocator {
 public:
  explicit CpuSetAllocator(std::vector<int> usable);
  // Records cpus already held by `owner` (a job cgroup found at start).
  void hold(const std::string& owner, const std::vector<int>& cpus);
  // The `count` lowest free cpus, now held by `owner`, or why not.
  Result<std::vector<int>> allocate(const std::string& owner, int count);
  void release(const std::string& owner);
  std::vector<int> free_cpus() const;
  const std::vector<int>& usable() const { return usable_; }

 private:
  std::vector<int> usable_;
  std::map<std::string, std::vector<int>> held_;
};

}  // namespace cadre::agent
