#include "sim/cluster.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace cadre::sim {

sched::NodeView idle_node(std::string name, const Resources& total, uint32_t gpu_model) {
  sched::NodeView n;
  n.name = std::move(name);
  n.total = total;
  n.free = total;
  n.free_gpus.resize(static_cast<size_t>(total.gpus));
  std::iota(n.free_gpus.begin(), n.free_gpus.end(), 0u);
  n.gpu_model = gpu_model;
  return n;
}

Result<Cluster> uniform_cluster(const UniformSpec& spec) {
  if (spec.nodes <= 0) return make_error("--nodes must be at least 1");
  if (spec.nodes > 10'000'000) return make_error("--nodes " + std::to_string(spec.nodes) + " is too many");
  if (spec.cpus_per_node <= 0) return make_error("--cpus-per-node must be at least 1");
  if (spec.gpus_per_node < 0 || spec.gpus_per_node > int64_t{sched::kMaxGpusPerNode})
    return make_error("--gpus-per-node must be 0 to " + std::to_string(sched::kMaxGpusPerNode));
  Cluster c;
  c.nodes.reserve(static_cast<size_t>(spec.nodes));
  const Resources total{spec.cpus_per_node * 1000, spec.memory_mb_per_node, spec.gpus_per_node};
  for (int64_t i = 1; i <= spec.nodes; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "n%05lld", static_cast<long long>(i));
    c.nodes.push_back(idle_node(name, total, 0));
  }
  return c;
}

uint32_t model_index(Cluster& cluster, const std::string& name) {
  auto it = std::find(cluster.gpu_models.begin(), cluster.gpu_models.end(), name);
  if (it != cluster.gpu_models.end()) return static_cast<uint32_t>(it - cluster.gpu_models.begin());
  cluster.gpu_models.push_back(name);
  return static_cast<uint32_t>(cluster.gpu_models.size() - 1);
}

void apply_topology(Cluster& cluster, uint32_t nodes_per_switch, uint32_t switches_per_rack) {
  for (size_t i = 0; i < cluster.nodes.size(); ++i) {
    const uint32_t sw = nodes_per_switch == 0 ? 0 : static_cast<uint32_t>(i / nodes_per_switch);
    cluster.nodes[i].switch_id = sw;
    cluster.nodes[i].rack_id = switches_per_rack == 0 ? 0 : sw / switches_per_rack;
  }
}

Resources largest_node(const Cluster& cluster) {
  Resources r;
  for (const sched::NodeView& n : cluster.nodes) {
    r.millicores = std::max(r.millicores, n.total.millicores);
    r.memory_mb = std::max(r.memory_mb, n.total.memory_mb);
    r.gpus = std::max(r.gpus, n.total.gpus);
  }
  return r;
}

}  // namespace cadre::sim
