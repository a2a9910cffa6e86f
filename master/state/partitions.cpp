#include "master/state/partitions.hpp"

#include <algorithm>

#include "master/node_pattern.hpp"
#include "master/scheduler/snapshot.hpp"

namespace cadre::state {

void set_partitions(ClusterState& s, std::vector<PartitionConfig> partitions) {
  s.partitions = std::move(partitions);
  if (s.partitions.empty()) {
    PartitionConfig all;
    all.name = "default";
    all.is_default = true;
    s.partitions.push_back(std::move(all));
  }
  for (auto& [name, n] : s.nodes) n.partitions = partition_mask(s, name);
}

std::string default_partition_name(const ClusterState& s) {
  for (const PartitionConfig& p : s.partitions)
    if (p.is_default) return p.name;
  return s.partitions.front().name;
}

int32_t partition_index(const ClusterState& s, const std::string& name) {
  for (size_t i = 0; i < s.partitions.size(); ++i)
    if (s.partitions[i].name == name) return static_cast<int32_t>(i);
  return -1;
}

uint64_t partition_mask(const ClusterState& s, const std::string& node) {
  uint64_t mask = 0;
  for (size_t i = 0; i < s.partitions.size() && i < sched::kMaxPartitions; ++i) {
    const auto& patterns = s.partitions[i].nodes;
    if (patterns.empty() ||
        std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) { return node_matches(p, node); }))
      mask |= uint64_t{1} << i;
  }
  return mask;
}

std::vector<PartitionSummary> partition_summaries(const ClusterState& s) {
  std::vector<PartitionSummary> out;
  for (size_t i = 0; i < s.partitions.size(); ++i) {
    PartitionSummary sum;
    sum.config = s.partitions[i];
    for (const auto& [name, n] : s.nodes) {
      if (((n.partitions >> i) & 1u) == 0) continue;
      sum.nodes.push_back(name);
      if (n.state != NodeState::up || !n.registered) continue;
      sum.total += n.total;
      sum.free += n.free();
    }
    for (const auto& [id, j] : s.jobs) {
      if (j.spec.partition != sum.config.name) continue;
      if (j.state == JobState::pending) sum.pending += 1;
      else if (j.state == JobState::running) sum.running += 1;
    }
    out.push_back(std::move(sum));
  }
  return out;
}

}  // namespace cadre::state
