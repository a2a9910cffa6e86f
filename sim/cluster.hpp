// The simulated cluster: its nodes as the scheduler sees them (idle) and
// the GPU model names their indices refer to. Built from flags (uniform
// nodes) or read from a node list; topology is laid on afterwards. Value
// type; not synchronised.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "master/scheduler/snapshot.hpp"

namespace cadre::sim {

struct Cluster {
  std::vector<sched::NodeView> nodes;        // idle: free = total, every GPU free
  std::vector<std::string> gpu_models{""};  // Snapshot::gpu_models: [0] = "" (unknown)
};

struct UniformSpec {
  int64_t nodes = 0;
  int64_t cpus_per_node = 0;
  int64_t gpus_per_node = 0;
  int64_t memory_mb_per_node = 0;
};

// N identical nodes named n00001, n00002, ..., all on switch 0, rack 0.
Result<Cluster> uniform_cluster(const UniformSpec& spec);

// An idle node, member of every partition.
sched::NodeView idle_node(std::string name, const Resources& total, uint32_t gpu_model);

// The index of a GPU model name in `cluster.gpu_models`, added when new
// ("" is 0). A model no node has is still a valid index: jobs that ask for
// it never fit.
uint32_t model_index(Cluster& cluster, const std::string& name);

// Node i (in list order) goes on switch i / nodes_per_switch and rack
// (i / nodes_per_switch) / switches_per_rack. 0 for nodes_per_switch puts
// every node on switch 0; 0 for switches_per_rack puts every switch in
// rack 0.
void apply_topology(Cluster& cluster, uint32_t nodes_per_switch, uint32_t switches_per_rack);

// The largest quantity of each kind any node has (not necessarily one node).
Resources largest_node(const Cluster& cluster);

}  // namespace cadre::sim
