// Cpu pinning arithmetic: parses and formats Linux cpu lists, slices a
// job's cpus among its ranks and allocates whole cpus to jobs. No file I/O.
#include "agent/cpuset.hpp"

#include <algorithm>
#include <optional>
#include <set>

#include "agent/cgroup_files.hpp"  // split, trim, to_int

namespace cadre::agent {
namespace {

constexpr int kMaxCpuId = 65535;

}  // namespace

// ---- Cpu lists ---------------------------------------------------------

std::string format_cpu_list(const std::vector<int>& cpus) {
  std::vector<int> sorted = cpus;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string out;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(sorted[i]);
    if (j > i) out += "-" + std::to_string(sorted[j]);
    i = j + 1;
  }
  return out;
}

Result<std::vector<int>> parse_cpu_list(std::string_view text) {
  std::vector<int> out;
  text = trim(text);
  if (text.empty()) return out;
  if (text.front() == ',' || text.back() == ',' || text.find(",,") != std::string_view::npos) {
    return make_error("bad cpu list \"" + std::string(text) + "\": empty item");
  }
  for (const std::string& item : split(text, ',')) {
    size_t dash = item.find('-');
    std::optional<int> lo = to_int<int>(std::string_view(item).substr(0, dash));
    std::optional<int> hi = dash == std::string::npos ? lo : to_int<int>(std::string_view(item).substr(dash + 1));
    if (!lo || !hi || *lo < 0 || *hi < *lo || *hi > kMaxCpuId) {
      return make_error("bad cpu list \"" + std::string(text) + "\": expected ids or ranges like 0-3,8,10-11");
    }
    for (int c = *lo; c <= *hi; ++c) out.push_back(c);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

int whole_cpus(int64_t millicores) {
  if (millicores <= 0 || millicores % 1000 != 0) return 0;
  return static_cast<int>(millicores / 1000);
}

std::vector<int> rank_cpus(const std::vector<int>& job_cpus, int local_rank, int per_rank) {
  if (local_rank < 0 || per_rank <= 0) return {};
  size_t start = static_cast<size_t>(local_rank) * static_cast<size_t>(per_rank);
  if (start + static_cast<size_t>(per_rank) > job_cpus.size()) return {};
  return std::vector<int>(job_cpus.begin() + static_cast<long>(start),
                          job_cpus.begin() + static_cast<long>(start + static_cast<size_t>(per_rank)));
}

// ---- CpuSetAllocator ---------------------------------------------------

CpuSetAllocator::CpuSetAllocator(std::vector<int> usable) : usable_(std::move(usable)) {
  std::sort(usable_.begin(), usable_.end());
  usable_.erase(std::unique(usable_.begin(), usable_.end()), usable_.end());
}

void CpuSetAllocator::hold(const std::string& owner, const std::vector<int>& cpus) { held_[owner] = cpus; }

void CpuSetAllocator::release(const std::string& owner) { held_.erase(owner); }

std::vector<int> CpuSetAllocator::free_cpus() const {
  std::set<int> taken;
  for (const auto& [owner, cpus] : held_) taken.insert(cpus.begin(), cpus.end());
  std::vector<int> out;
  for (int c : usable_) {
    if (!taken.count(c)) out.push_back(c);
  }
  return out;
}

Result<std::vector<int>> CpuSetAllocator::allocate(const std::string& owner, int count) {
  if (count <= 0) return make_error("a cpu set needs at least one cpu");
  release(owner);
  std::vector<int> free = free_cpus();
  if (free.size() < static_cast<size_t>(count)) {
    return make_error("only " + std::to_string(free.size()) + " of this node's " + std::to_string(usable_.size()) +
                      " cpus are free; " + std::to_string(count) + " needed");
  }
  free.resize(static_cast<size_t>(count));
  held_[owner] = free;
  return free;
}

}  // namespace cadre::agent
