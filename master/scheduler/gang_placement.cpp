#include "master/scheduler/gang_placement.hpp"

#include <algorithm>
#include <numeric>
#include <tuple>

namespace cadre::sched {
namespace {

bool eligible(const NodeView& n, uint32_t index, const PlaceConstraints& c) {
  if (!n.schedulable) return false;
  if (c.nodes && !std::binary_search(c.nodes->begin(), c.nodes->end(), index)) return false;
  if (c.whole_nodes && (!(n.free == n.total) || n.free_gpus.size() != static_cast<size_t>(std::max<int64_t>(0, n.total.gpus))))
    return false;
  if (c.partition >= 0 && ((n.partitions >> c.partition) & 1u) == 0) return false;
  if (c.gpu_models && !c.gpu_models->empty() &&
      std::find(c.gpu_models->begin(), c.gpu_models->end(), n.gpu_model) == c.gpu_models->end())
    return false;
  return true;
}

// How many ranks of this shape a node can take right now, capped.
int64_t capacity(const GangShape& shape, const NodeView& node, int64_t cap) {
  Resources free = node.free;
  free.gpus = std::min<int64_t>(free.gpus, static_cast<int64_t>(node.free_gpus.size()));
  return count_fits(shape.per_task, free, cap);
}

// Best fit: fewest free GPUs left over, then fewest free cpus, then memory,
// then index (for determinism).
auto fit_key(const GangShape& shape, const NodeView& n, uint32_t index, int64_t ranks) {
  Resources left = n.free - shape.per_task.times(ranks);
  return std::make_tuple(left.gpus, left.millicores, left.memory_mb, index);
}

void assign(const GangShape& shape, const std::vector<NodeView>& nodes, uint32_t node, int64_t count,
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

struct Candidate {
  uint32_t node = 0;
  int64_t units = 0;  // per-node shape: 1 (the node holds its share); else ranks it can take
};

// Where to draw from: one switch if any has room (the tightest such
// switch, so roomy switches stay whole for larger gangs), else one rack (its
// roomiest switches first), else the fewest switches of the cluster.
struct Area {
  std::vector<uint32_t> switches;
  int64_t rack = -1;  // -1: any rack
};

Area choose_area(const std::vector<NodeView>& nodes, const std::vector<Candidate>& cands, int64_t want,
                 bool whole_cluster) {
  uint32_t num_switches = 0, num_racks = 0;
  for (const Candidate& c : cands) {
    num_switches = std::max(num_switches, nodes[c.node].switch_id + 1);
    num_racks = std::max(num_racks, nodes[c.node].rack_id + 1);
  }
  std::vector<int64_t> per_switch(num_switches, 0), per_rack(num_racks, 0);
  for (const Candidate& c : cands) {
    per_switch[nodes[c.node].switch_id] += c.units;
    per_rack[nodes[c.node].rack_id] += c.units;
  }
  auto tightest = [&](const std::vector<int64_t>& sums) -> int64_t {
    int64_t best = -1;
    for (size_t i = 0; i < sums.size(); ++i)
      if (sums[i] >= want && (best < 0 || sums[i] < sums[static_cast<size_t>(best)])) best = static_cast<int64_t>(i);
    return best;
  };
  if (int64_t s = tightest(per_switch); s >= 0) return {{static_cast<uint32_t>(s)}, -1};

  Area area;
  area.rack = whole_cluster ? -1 : tightest(per_rack);
  if (area.rack >= 0) {
    // Within the rack only (a switch may, oddly, span racks).
    std::fill(per_switch.begin(), per_switch.end(), 0);
    for (const Candidate& c : cands)
      if (nodes[c.node].rack_id == static_cast<uint32_t>(area.rack)) per_switch[nodes[c.node].switch_id] += c.units;
  }
  std::vector<uint32_t> pool;
  for (uint32_t s = 0; s < num_switches; ++s)
    if (per_switch[s] > 0) pool.push_back(s);
  std::sort(pool.begin(), pool.end(), [&](uint32_t a, uint32_t b) {
    return std::make_tuple(-per_switch[a], a) < std::make_tuple(-per_switch[b], b);
  });
  int64_t have = 0;
  for (uint32_t s : pool) {
    if (have >= want) break;
    area.switches.push_back(s);
    have += per_switch[s];
  }
  return area;
}

}  // namespace

std::optional<GangPlacement> place_gang(const GangShape& shape, const std::vector<NodeView>& nodes,
                                        const PlaceConstraints& constraints) {
  if (constraints.node_sets) {
    for (const std::vector<uint32_t>& set : *constraints.node_sets) {
      PlaceConstraints one = constraints;
      one.node_sets = nullptr;
      one.nodes = &set;
      if (auto gang = place_gang(shape, nodes, one)) return gang;
    }
    return std::nullopt;
  }
  if (shape.ntasks == 0) return std::nullopt;
  const bool per_node = shape.nodes > 0;
  if (per_node && (shape.tasks_per_node == 0 || shape.nodes * shape.tasks_per_node != shape.ntasks))
    return std::nullopt;
  const int64_t want = per_node ? shape.nodes : shape.ntasks;

  std::vector<Candidate> cands;
  int64_t total = 0;
  std::optional<uint32_t> single;  // ntasks mode: one node that holds the whole gang
  for (uint32_t i = 0; i < nodes.size(); ++i) {
    const NodeView& n = nodes[i];
    if (!eligible(n, i, constraints)) continue;
    if (per_node) {
      if (capacity(shape, n, shape.tasks_per_node) < shape.tasks_per_node) continue;
      cands.push_back({i, 1});
      total += 1;
    } else {
      int64_t c = capacity(shape, n, want);
      if (c <= 0) continue;
      cands.push_back({i, c});
      total += c;
      if (c >= want && (!single || fit_key(shape, n, i, want) < fit_key(shape, nodes[*single], *single, want)))
        single = i;
    }
  }
  if (total < want) return std::nullopt;

  GangPlacement out;
  if (single) {
    assign(shape, nodes, *single, want, out);
    return out;
  }

  Area area = choose_area(nodes, cands, want, false);
  // One rack may need more switches than the fewest the cluster offers (the
  // roomiest switches first is the fewest possible): under a hard limit,
  // fewer switches matter more than one rack.
  if (constraints.max_switches > 0 && area.switches.size() > constraints.max_switches)
    area = choose_area(nodes, cands, want, true);
  if (constraints.max_switches > 0 && area.switches.size() > constraints.max_switches) return std::nullopt;
  std::vector<bool> in(area.switches.empty() ? 0 : *std::max_element(area.switches.begin(), area.switches.end()) + 1,
                       false);
  for (uint32_t sw : area.switches) in[sw] = true;
  std::erase_if(cands, [&](const Candidate& c) {
    const NodeView& n = nodes[c.node];
    return n.switch_id >= in.size() || !in[n.switch_id] || (area.rack >= 0 && n.rack_id != area.rack);
  });
  int64_t in_area = 0;
  for (const Candidate& c : cands) in_area += c.units;
  if (in_area < want) return std::nullopt;  // cannot happen: the area was chosen to hold the gang

  std::vector<std::pair<uint32_t, int64_t>> picked;  // node, ranks
  if (per_node) {
    // Best fit: the nodes that are left with the least, so whole nodes stay free.
    auto key = [&](const Candidate& c) { return fit_key(shape, nodes[c.node], c.node, shape.tasks_per_node); };
    std::partial_sort(cands.begin(), cands.begin() + want, cands.end(),
                      [&](const Candidate& a, const Candidate& b) { return key(a) < key(b); });
    for (int64_t i = 0; i < want; ++i) picked.emplace_back(cands[static_cast<size_t>(i)].node, shape.tasks_per_node);
  } else {
    // The fewest nodes: the roomiest first.
    std::sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) {
      return std::make_tuple(-a.units, a.node) < std::make_tuple(-b.units, b.node);
    });
    int64_t left = want;
    for (const Candidate& c : cands) {
      if (left == 0) break;
      int64_t n = std::min(c.units, left);
      picked.emplace_back(c.node, n);
      left -= n;
    }
  }
  // Node rank order follows the node list (sorted by name), so a gang's
  // layout reads naturally.
  std::sort(picked.begin(), picked.end());
  for (auto& [node, count] : picked) assign(shape, nodes, node, count, out);
  return out;
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

std::string never_fits_reason(const GangShape& shape, const std::vector<NodeView>& nodes,
                              const PlaceConstraints& constraints) {
  if (nodes.empty()) return "";  // nothing registered yet: cannot judge
  if (constraints.node_sets) {
    // A matching OR fits when one of its choices does; else the first's reason.
    std::string first;
    for (const std::vector<uint32_t>& set : *constraints.node_sets) {
      PlaceConstraints one = constraints;
      one.node_sets = nullptr;
      one.nodes = &set;
      std::string why = never_fits_reason(shape, nodes, one);
      if (why.empty()) return "";
      if (first.empty()) first = why;
    }
    return first.empty() ? "no node has the features -C/--constraint asks for" : first;
  }
  std::vector<NodeView> idle;
  PlaceConstraints any_state = constraints;
  any_state.whole_nodes = false;  // every node is idle here
  for (uint32_t i = 0; i < nodes.size(); ++i) {
    NodeView v = nodes[i];
    v.schedulable = true;
    if (!eligible(v, i, any_state)) continue;
    v.free = v.total;
    v.free_gpus.resize(static_cast<size_t>(std::clamp<int64_t>(v.total.gpus, 0, kMaxGpusPerNode)));
    std::iota(v.free_gpus.begin(), v.free_gpus.end(), 0u);
    idle.push_back(std::move(v));
  }
  if (idle.empty()) return "no node is in the job's partition and has the GPU type it asks for";
  PlaceConstraints open;
  open.max_switches = constraints.max_switches;
  if (place_gang(shape, idle, open)) return "";
  if (constraints.max_switches > 0 && place_gang(shape, idle, {}))
    return "the gang does not fit under " + std::to_string(constraints.max_switches) + " switch(es)";

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
  if (shape.nodes > static_cast<uint32_t>(idle.size()))
    return "the job asks for " + std::to_string(shape.nodes) + " nodes but " +
           (idle.size() == nodes.size() ? "the cluster has " + std::to_string(idle.size())
                                        : "only " + std::to_string(idle.size()) + " can take it");
  if (shape.nodes > 0)
    return "fewer than " + std::to_string(shape.nodes) + " nodes can each hold " + std::to_string(per_node_ranks) +
           " tasks of " + t.to_string();
  return "the whole cluster cannot hold " + std::to_string(shape.ntasks) + " tasks of " + t.to_string();
}

}  // namespace cadre::sched
