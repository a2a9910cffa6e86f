#include "master/scheduler/gang_placement.hpp"

#include <algorithm>
#include <numeric>
#include <tuple>

namespace cadre::sched {
namespace {

// How many ranks of this shape a node can take right now, capped.
int64_t capacity(const GangShape& shape, const NodeView& node, int64_t cap) {
  if (!node.schedulable) return 0;
  Resources free = node.free;
  free.gpus = std::min<int64_t>(free.gpus, static_cast<int64_t>(node.free_gpus.size()));
  return count_fits(shape.per_task, free, cap);
}

// Best fit: fewest free GPUs left over, then fewest free cpus, then memory,
// then name (for determinism).
auto fit_key(const GangShape& shape, const NodeView& n, int64_t ranks) {
  Resources left = n.free - shape.per_task.times(ranks);
  return std::make_tuple(left.gpus, left.millicores, left.memory_mb, n.name);
}

void assign(const GangShape& shape, const std::vector<NodeView>& nodes, size_t node, int64_t count,
            GangPlacement& out) {
  const auto& free_gpus = nodes[node].free_gpus;
  size_t next_gpu = 0;
  for (int64_t i = 0; i < count; ++i) {
    RankSlot slot;
    slot.rank = static_cast<uint32_t>(out.ranks.size());
    slot.node = node;
    for (int64_t g = 0; g < shape.per_task.gpus; ++g) slot.gpus.push_back(free_gpus[next_gpu++]);
    out.ranks.push_back(std::move(slot));
  }
}

std::optional<GangPlacement> place_per_node(const GangShape& shape, const std::vector<NodeView>& nodes) {
  std::vector<size_t> candidates;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (capacity(shape, nodes[i], shape.tasks_per_node) >= shape.tasks_per_node) candidates.push_back(i);
  if (candidates.size() < shape.nodes) return std::nullopt;
  std::sort(candidates.begin(), candidates.end(), [&](size_t a, size_t b) {
    return fit_key(shape, nodes[a], shape.tasks_per_node) < fit_key(shape, nodes[b], shape.tasks_per_node);
  });
  candidates.resize(shape.nodes);
  // Node rank order follows name so a gang's layout reads naturally.
  std::sort(candidates.begin(), candidates.end(), [&](size_t a, size_t b) { return nodes[a].name < nodes[b].name; });
  GangPlacement out;
  for (size_t node : candidates) assign(shape, nodes, node, shape.tasks_per_node, out);
  return out;
}

std::optional<GangPlacement> place_anywhere(const GangShape& shape, const std::vector<NodeView>& nodes) {
  const int64_t want = shape.ntasks;
  std::vector<std::pair<size_t, int64_t>> caps;  // node, how many ranks fit
  for (size_t i = 0; i < nodes.size(); ++i)
    if (int64_t c = capacity(shape, nodes[i], want); c > 0) caps.emplace_back(i, c);

  // One node that holds the whole gang: the tightest such node.
  std::optional<size_t> single;
  for (auto& [i, c] : caps)
    if (c >= want && (!single || fit_key(shape, nodes[i], want) < fit_key(shape, nodes[*single], want))) single = i;
  GangPlacement out;
  if (single) {
    assign(shape, nodes, *single, want, out);
    return out;
  }
  // Otherwise the fewest nodes: fill the roomiest first.
  std::sort(caps.begin(), caps.end(), [&](auto& a, auto& b) {
    return std::tie(b.second, nodes[a.first].name) < std::tie(a.second, nodes[b.first].name);
  });
  int64_t total = 0;
  size_t used = 0;
  while (used < caps.size() && total < want) total += caps[used++].second;
  if (total < want) return std::nullopt;
  caps.resize(used);
  std::sort(caps.begin(), caps.end(), [&](auto& a, auto& b) { return nodes[a.first].name < nodes[b.first].name; });
  int64_t left = want;
  for (auto& [i, c] : caps) {
    int64_t n = std::min(c, left);
    assign(shape, nodes, i, n, out);
    left -= n;
  }
  return out;
}

}  // namespace

std::optional<GangPlacement> place_gang(const GangShape& shape, const std::vector<NodeView>& nodes) {
  if (shape.ntasks == 0) return std::nullopt;
  if (shape.nodes > 0) {
    if (shape.tasks_per_node == 0 || shape.nodes * shape.tasks_per_node != shape.ntasks) return std::nullopt;
    return place_per_node(shape, nodes);
  }
  return place_anywhere(shape, nodes);
}

void reserve(const GangShape& shape, const GangPlacement& placement, std::vector<NodeView>& nodes) {
  for (const RankSlot& slot : placement.ranks) {
    NodeView& n = nodes[slot.node];
    n.free -= shape.per_task;
    for (uint32_t g : slot.gpus) {
      auto it = std::find(n.free_gpus.begin(), n.free_gpus.end(), g);
      if (it != n.free_gpus.end()) n.free_gpus.erase(it);
    }
  }
}

std::string never_fits_reason(const GangShape& shape, const std::vector<NodeView>& nodes) {
  if (nodes.empty()) return "";  // nothing registered yet: cannot judge
  std::vector<NodeView> idle = nodes;
  for (NodeView& n : idle) {
    n.schedulable = true;
    n.free = n.total;
    n.free_gpus.resize(static_cast<size_t>(std::max<int64_t>(n.total.gpus, 0)));
    std::iota(n.free_gpus.begin(), n.free_gpus.end(), 0u);
  }
  if (place_gang(shape, idle)) return "";

  auto largest = [&](auto field) {
    int64_t best = 0;
    for (const NodeView& n : idle) best = std::max(best, field(n.total));
    return best;
  };
  const Resources& t = shape.per_task;
  const int64_t per_node_ranks = shape.nodes > 0 ? shape.tasks_per_node : 1;
  Resources need = t.times(per_node_ranks);
  std::string what = shape.nodes > 0 ? std::to_string(per_node_ranks) + " tasks" : "one task";
  if (int64_t g = largest([](const Resources& r) { return r.gpus; }); need.gpus > g)
    return "no node has " + std::to_string(need.gpus) + " GPUs for " + what + "; the largest has " + std::to_string(g);
  if (int64_t c = largest([](const Resources& r) { return r.millicores; }); need.millicores > c)
    return "no node has " + format_cpus(need.millicores) + " cpus for " + what + "; the largest has " +
           format_cpus(c);
  if (int64_t m = largest([](const Resources& r) { return r.memory_mb; }); need.memory_mb > m)
    return "no node has " + format_size_mb(need.memory_mb) + " of memory for " + what + "; the largest has " +
           format_size_mb(m);
  if (shape.nodes > static_cast<uint32_t>(nodes.size()))
    return "the job asks for " + std::to_string(shape.nodes) + " nodes but the cluster has " +
           std::to_string(nodes.size());
  if (shape.nodes > 0)
    return "fewer than " + std::to_string(shape.nodes) + " nodes can each hold " + std::to_string(per_node_ranks) +
           " tasks of " + t.to_string();
  return "the whole cluster cannot hold " + std::to_string(shape.ntasks) + " tasks of " + t.to_string();
}

}  // namespace cadre::sched
