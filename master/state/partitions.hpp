// Partitions: which partitions a node belongs to, the default one, and a
// summary of each for `cadre partitions`. Free functions over the shared
// ClusterState; not thread-safe (the event-loop thread's).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/resources.hpp"
#include "master/config.hpp"
#include "master/state/cluster_state.hpp"

namespace cadre {

struct PartitionSummary {
  PartitionConfig config;
  std::vector<std::string> nodes;  // members known to the master
  Resources total;                 // over members that are UP
  Resources free;
  uint32_t pending = 0;
  uint32_t running = 0;
};

namespace state {

// Replaces the partitions (none given: one partition "default" of every
// node) and recomputes every node's memberships.
void set_partitions(ClusterState& s, std::vector<PartitionConfig> partitions);
std::string default_partition_name(const ClusterState& s);
// -1 when there is no partition `name`.
int32_t partition_index(const ClusterState& s, const std::string& name);
// Bit p: `node` is a member of partition p.
uint64_t partition_mask(const ClusterState& s, const std::string& node);
std::vector<PartitionSummary> partition_summaries(const ClusterState& s);

}  // namespace state
}  // namespace cadre
