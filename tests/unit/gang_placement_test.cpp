// Specification of master/scheduler/gang_placement: all ranks of a job or none.
#include "master/scheduler/gang_placement.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <map>
#include <numeric>
#include <random>
#include <set>

namespace cadre::sched {
namespace {

NodeView node(std::string name, int64_t cpus, int64_t mem_gb, int64_t gpus) {
  NodeView n;
  n.name = std::move(name);
  n.total = Resources{cpus * 1000, mem_gb * 1024, gpus};
  n.free = n.total;
  n.free_gpus.resize(static_cast<size_t>(gpus));
  std::iota(n.free_gpus.begin(), n.free_gpus.end(), 0u);
  return n;
}

GangShape per_node(uint32_t nodes, uint32_t tasks_per_node, Resources per_task) {
  return GangShape{per_task, nodes, tasks_per_node, nodes * tasks_per_node};
}

GangShape anywhere(uint32_t ntasks, Resources per_task) { return GangShape{per_task, 0, 0, ntasks}; }

// node index -> ranks placed there
std::map<size_t, std::vector<uint32_t>> ranks_by_node(const GangPlacement& p) {
  std::map<size_t, std::vector<uint32_t>> out;
  for (const RankSlot& s : p.ranks) out[s.node].push_back(s.rank);
  return out;
}

void expect_ranks_in_order(const GangPlacement& p, uint32_t ntasks) {
  ASSERT_EQ(p.ranks.size(), ntasks);
  for (uint32_t i = 0; i < ntasks; ++i) EXPECT_EQ(p.ranks[i].rank, i);
  // Ranks of one node are contiguous: the node index changes at most once per node.
  std::set<size_t> seen;
  for (size_t i = 0; i < p.ranks.size(); ++i) {
    if (i > 0 && p.ranks[i].node == p.ranks[i - 1].node) continue;
    EXPECT_TRUE(seen.insert(p.ranks[i].node).second) << "ranks on node " << p.ranks[i].node << " are split";
  }
}

const Resources kOneGpuTask{1000, 1024, 1};

TEST(GangPlacement, NeverStartsPartOfAGang) {
  std::vector<NodeView> nodes{node("a", 8, 64, 4), node("b", 8, 64, 4)};
  EXPECT_FALSE(place_gang(per_node(3, 1, kOneGpuTask), nodes)) << "3 nodes asked, 2 exist";
  EXPECT_FALSE(place_gang(anywhere(9, kOneGpuTask), nodes)) << "9 GPUs asked, 8 exist";
  EXPECT_FALSE(place_gang(per_node(2, 5, kOneGpuTask), nodes)) << "5 GPUs per node asked, 4 per node exist";
  // The same cluster takes the largest gangs that do fit.
  EXPECT_TRUE(place_gang(anywhere(8, kOneGpuTask), nodes));
  EXPECT_TRUE(place_gang(per_node(2, 4, kOneGpuTask), nodes));
}

TEST(GangPlacement, NodesTimesTasksPerNodeGoesToDistinctNodes) {
  std::vector<NodeView> nodes{node("a", 8, 64, 4), node("b", 8, 64, 4), node("c", 8, 64, 4), node("d", 8, 64, 4)};
  auto p = place_gang(per_node(3, 2, kOneGpuTask), nodes);
  ASSERT_TRUE(p);
  expect_ranks_in_order(*p, 6);
  auto by_node = ranks_by_node(*p);
  ASSERT_EQ(by_node.size(), 3u);
  for (auto& [n, ranks] : by_node) EXPECT_EQ(ranks.size(), 2u) << "node " << nodes[n].name;
}

// The master lists nodes by name, so this is name order there; a best fit
// that picks nodes out of order still numbers ranks along the list.
TEST(GangPlacement, NodeRankOrderFollowsTheNodeList) {
  std::vector<NodeView> nodes{node("a", 8, 64, 0), node("b", 8, 64, 0), node("c", 8, 64, 0), node("d", 8, 64, 0)};
  nodes[3].free.millicores = 1000;  // the tightest fit, picked first
  nodes[1].free.millicores = 2000;
  auto p = place_gang(per_node(3, 1, Resources{1000, 0, 0}), nodes);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->ranks.size(), 3u);
  EXPECT_EQ(nodes[p->ranks[0].node].name, "a");
  EXPECT_EQ(nodes[p->ranks[1].node].name, "b");
  EXPECT_EQ(nodes[p->ranks[2].node].name, "d");
}

TEST(GangPlacement, EachRankGetsExactlyItsGpusAndNoneAreShared) {
  std::vector<NodeView> nodes{node("a", 16, 64, 8), node("b", 16, 64, 8)};
  auto p = place_gang(per_node(2, 4, Resources{1000, 1024, 2}), nodes);
  ASSERT_TRUE(p);
  std::map<size_t, std::set<uint32_t>> used;
  for (const RankSlot& s : p->ranks) {
    EXPECT_EQ(s.gpus.size(), 2u) << "rank " << s.rank;
    for (uint32_t g : s.gpus) {
      EXPECT_LT(g, 8u);
      EXPECT_TRUE(used[s.node].insert(g).second) << "GPU " << g << " given twice on node " << s.node;
    }
  }
  EXPECT_EQ(used[0].size(), 8u);
  EXPECT_EQ(used[1].size(), 8u);
}

TEST(GangPlacement, GpusComeFromTheFreeListLowestFirst) {
  NodeView n = node("a", 8, 64, 8);
  n.free_gpus = {1, 3, 5, 6};
  n.free.gpus = 4;
  auto p = place_gang(anywhere(2, Resources{1000, 0, 2}), {n});
  ASSERT_TRUE(p);
  ASSERT_EQ(p->ranks.size(), 2u);
  EXPECT_EQ(p->ranks[0].gpus, (std::vector<uint32_t>{1, 3}));
  EXPECT_EQ(p->ranks[1].gpus, (std::vector<uint32_t>{5, 6}));
}

TEST(GangPlacement, ARankWithoutGpusGetsNoGpuIndices) {
  auto p = place_gang(anywhere(2, Resources{1000, 0, 0}), {node("a", 8, 8, 4)});
  ASSERT_TRUE(p);
  for (const RankSlot& s : p->ranks) EXPECT_TRUE(s.gpus.empty());
}

TEST(GangPlacement, NtasksModePrefersOneNodeWhenOneFits) {
  // "a" and "b" together could hold 4 ranks, but "c" alone can.
  std::vector<NodeView> nodes{node("a", 2, 64, 0), node("b", 2, 64, 0), node("c", 4, 64, 0)};
  auto p = place_gang(anywhere(4, Resources{1000, 0, 0}), nodes);
  ASSERT_TRUE(p);
  auto by_node = ranks_by_node(*p);
  ASSERT_EQ(by_node.size(), 1u);
  EXPECT_EQ(nodes[by_node.begin()->first].name, "c");
}

TEST(GangPlacement, NtasksModeTakesTheTightestSingleNode) {
  std::vector<NodeView> nodes{node("big", 64, 512, 8), node("small", 2, 512, 2)};
  auto p = place_gang(anywhere(2, kOneGpuTask), nodes);
  ASSERT_TRUE(p);
  for (const RankSlot& s : p->ranks) EXPECT_EQ(nodes[s.node].name, "small");
}

TEST(GangPlacement, NtasksModeSpreadsOverTheFewestNodes) {
  // 5 ranks: the two roomiest nodes (3 + 2) suffice; the third stays idle.
  std::vector<NodeView> nodes{node("a", 1, 64, 0), node("b", 3, 64, 0), node("c", 2, 64, 0)};
  auto p = place_gang(anywhere(5, Resources{1000, 0, 0}), nodes);
  ASSERT_TRUE(p);
  expect_ranks_in_order(*p, 5);
  auto by_node = ranks_by_node(*p);
  ASSERT_EQ(by_node.size(), 2u);
  EXPECT_EQ(by_node.count(0), 0u) << "the smallest node was used although two suffice";
  EXPECT_EQ(by_node[1].size(), 3u);
  EXPECT_EQ(by_node[2].size(), 2u);
}

TEST(GangPlacement, PerNodeModeLeavesWholeNodesFreeForWholeNodeJobs) {
  // Two 1-GPU ranks on two nodes: the half-used nodes are the tighter fit.
  std::vector<NodeView> nodes{node("idle1", 8, 64, 4), node("part1", 8, 64, 4), node("idle2", 8, 64, 4),
                              node("part2", 8, 64, 4)};
  for (size_t i : {size_t{1}, size_t{3}}) {
    nodes[i].free_gpus = {2, 3};
    nodes[i].free.gpus = 2;
  }
  auto p = place_gang(per_node(2, 1, kOneGpuTask), nodes);
  ASSERT_TRUE(p);
  std::set<std::string> used;
  for (const RankSlot& s : p->ranks) used.insert(nodes[s.node].name);
  EXPECT_EQ(used, (std::set<std::string>{"part1", "part2"}));
}

TEST(GangPlacement, UnschedulableNodesTakeNoRanks) {
  std::vector<NodeView> nodes{node("a", 8, 64, 0), node("b", 8, 64, 0)};
  nodes[0].schedulable = false;
  auto p = place_gang(anywhere(8, Resources{1000, 0, 0}), nodes);
  ASSERT_TRUE(p);
  for (const RankSlot& s : p->ranks) EXPECT_EQ(s.node, 1u);
  EXPECT_FALSE(place_gang(per_node(2, 1, Resources{1000, 0, 0}), nodes));
}

TEST(GangPlacement, TheGpuFreeListLimitsCapacity) {
  // The counter says 4 free but only two indices are actually free.
  NodeView n = node("a", 8, 64, 4);
  n.free_gpus = {0, 1};
  EXPECT_FALSE(place_gang(anywhere(3, kOneGpuTask), {n}));
  EXPECT_TRUE(place_gang(anywhere(2, kOneGpuTask), {n}));
}

TEST(GangPlacement, InconsistentShapesArePlacedNowhere) {
  std::vector<NodeView> nodes{node("a", 64, 64, 0), node("b", 64, 64, 0)};
  EXPECT_FALSE(place_gang(GangShape{Resources{1000, 0, 0}, 2, 2, 5}, nodes)) << "2 x 2 != 5";
  EXPECT_FALSE(place_gang(GangShape{Resources{1000, 0, 0}, 2, 0, 2}, nodes)) << "no tasks per node";
  EXPECT_FALSE(place_gang(GangShape{Resources{1000, 0, 0}, 0, 0, 0}, nodes)) << "no tasks";
}

TEST(GangPlacement, ReserveTakesResourcesAndGpusFromTheViews) {
  std::vector<NodeView> nodes{node("a", 8, 64, 4), node("b", 8, 64, 4)};
  GangShape shape = per_node(2, 2, kOneGpuTask);
  auto p = place_gang(shape, nodes);
  ASSERT_TRUE(p);
  reserve(shape, *p, nodes);
  for (const NodeView& n : nodes) {
    EXPECT_EQ(n.free, (Resources{6000, 62 * 1024, 2})) << n.name;
    EXPECT_EQ(n.free_gpus, (std::vector<uint32_t>{2, 3})) << n.name;
  }
  // A second identical gang takes what is left; a third finds nothing.
  auto second = place_gang(shape, nodes);
  ASSERT_TRUE(second);
  reserve(shape, *second, nodes);
  for (const NodeView& n : nodes) EXPECT_TRUE(n.free_gpus.empty());
  EXPECT_FALSE(place_gang(shape, nodes));
}

// ---- topology ----

// `per_switch[i]` idle 4-cpu nodes under switch i; switch i is in rack i / 2.
std::vector<NodeView> switched(const std::vector<int>& per_switch) {
  std::vector<NodeView> out;
  for (uint32_t sw = 0; sw < per_switch.size(); ++sw)
    for (int i = 0; i < per_switch[sw]; ++i) {
      NodeView n = node("s" + std::to_string(sw) + "n" + std::to_string(i), 4, 16, 0);
      n.switch_id = sw;
      n.rack_id = sw / 2;
      out.push_back(std::move(n));
    }
  return out;
}

std::set<uint32_t> switches_used(const GangPlacement& p, const std::vector<NodeView>& nodes) {
  std::set<uint32_t> out;
  for (const RankSlot& s : p.ranks) out.insert(nodes[s.node].switch_id);
  return out;
}

std::set<uint32_t> racks_used(const GangPlacement& p, const std::vector<NodeView>& nodes) {
  std::set<uint32_t> out;
  for (const RankSlot& s : p.ranks) out.insert(nodes[s.node].rack_id);
  return out;
}

const Resources kWholeNode{4000, 1024, 0};

TEST(GangPlacement, AGangGoesUnderTheTightestSwitchThatHoldsIt) {
  // Switches of 6, 4 and 5 free nodes: the 4 are the tightest fit.
  std::vector<NodeView> nodes = switched({6, 4, 5});
  auto p = place_gang(per_node(4, 1, kWholeNode), nodes);
  ASSERT_TRUE(p);
  EXPECT_EQ(switches_used(*p, nodes), (std::set<uint32_t>{1}));
}

TEST(GangPlacement, OneSwitchBeatsBestFitAcrossSwitches) {
  // Switch 0: two half-used nodes (the best fit) and nothing else; switch
  // 1: three idle nodes. A gang of three half nodes stays under switch 1.
  std::vector<NodeView> nodes = switched({2, 3});
  for (size_t i : {size_t{0}, size_t{1}}) nodes[i].free.millicores = 2000;
  auto p = place_gang(per_node(3, 1, Resources{2000, 1024, 0}), nodes);
  ASSERT_TRUE(p);
  EXPECT_EQ(switches_used(*p, nodes), (std::set<uint32_t>{1}));
}

TEST(GangPlacement, WithinTheSwitchItIsStillBestFit) {
  std::vector<NodeView> nodes = switched({4});
  nodes[2].free.millicores = 1000;  // the tightest node for a one-cpu rank
  auto p = place_gang(per_node(1, 1, Resources{1000, 1024, 0}), nodes);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->ranks[0].node, 2u);
}

TEST(GangPlacement, WithoutASwitchThatHoldsItOneRack) {
  // Rack 0: 3 + 1 nodes; rack 1: 3 + 2. No switch holds 4; rack 0 does,
  // although its switches 0 and 2 are the two roomiest.
  std::vector<NodeView> nodes = switched({3, 1, 3, 2});
  auto p = place_gang(per_node(4, 1, kWholeNode), nodes);
  ASSERT_TRUE(p);
  EXPECT_EQ(racks_used(*p, nodes), (std::set<uint32_t>{0}));
  EXPECT_EQ(switches_used(*p, nodes), (std::set<uint32_t>{0, 1}));
}

TEST(GangPlacement, WithoutARackThatHoldsItTheFewestSwitches) {
  // Seven nodes over switches of 3, 1, 2, 1; racks of 4 and 3. Six nodes
  // need at least three switches (3 + 2 + 1).
  std::vector<NodeView> nodes = switched({3, 1, 2, 1});
  auto p = place_gang(per_node(6, 1, kWholeNode), nodes);
  ASSERT_TRUE(p);
  EXPECT_EQ(switches_used(*p, nodes).size(), 3u);
  EXPECT_EQ(ranks_by_node(*p).size(), 6u);
}

TEST(GangPlacement, NtasksGangsAreTopologyAwareToo) {
  // Eight one-cpu ranks: switch 0 has two 4-cpu nodes, switch 1 three. One
  // switch holds them all, and the tighter one is switch 0.
  std::vector<NodeView> nodes = switched({2, 3});
  auto p = place_gang(anywhere(8, Resources{1000, 0, 0}), nodes);
  ASSERT_TRUE(p);
  expect_ranks_in_order(*p, 8);
  EXPECT_EQ(switches_used(*p, nodes), (std::set<uint32_t>{0}));
}

TEST(GangPlacement, MaxSwitchesIsAHardLimit) {
  std::vector<NodeView> nodes = switched({2, 2, 2});
  PlaceConstraints one;
  one.max_switches = 1;
  EXPECT_TRUE(place_gang(per_node(2, 1, kWholeNode), nodes, one));
  EXPECT_FALSE(place_gang(per_node(3, 1, kWholeNode), nodes, one));
  PlaceConstraints two;
  two.max_switches = 2;
  auto p = place_gang(per_node(4, 1, kWholeNode), nodes, two);
  ASSERT_TRUE(p);
  EXPECT_EQ(switches_used(*p, nodes).size(), 2u);
  EXPECT_FALSE(place_gang(per_node(5, 1, kWholeNode), nodes, two));
  EXPECT_TRUE(place_gang(per_node(6, 1, kWholeNode), nodes)) << "no limit";
}

TEST(GangPlacement, MaxSwitchesFindsAPlacementWithinTheLimitWhenOneExists) {
  // Six nodes. Rack 0 holds exactly six, over three switches (2 + 2 + 2);
  // rack 1 holds seven over two (4 + 3). The rack preference picks rack 0,
  // the tighter one, but with --switches 2 only rack 1 qualifies, and a
  // hard limit must not turn a placement that exists into a refusal.
  std::vector<NodeView> nodes;
  auto add = [&](uint32_t sw, uint32_t rack, int count) {
    for (int i = 0; i < count; ++i) {
      NodeView n = node("s" + std::to_string(sw) + "n" + std::to_string(i), 4, 16, 0);
      n.switch_id = sw;
      n.rack_id = rack;
      nodes.push_back(std::move(n));
    }
  };
  add(0, 0, 2);
  add(1, 0, 2);
  add(2, 0, 2);
  add(3, 1, 4);
  add(4, 1, 3);
  PlaceConstraints two;
  two.max_switches = 2;
  auto p = place_gang(per_node(6, 1, kWholeNode), nodes, two);
  ASSERT_TRUE(p) << "switches 3 and 4 hold six nodes";
  EXPECT_LE(switches_used(*p, nodes).size(), 2u);
}

TEST(GangPlacement, MaxSwitchesRefusesOnlyWhenNoPlacementWithinItExists) {
  // Oracle: try the gang on every set of at most `max_switches` switches.
  std::mt19937 rng(11);
  auto range = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int exists = 0;
  for (int round = 0; round < 2000; ++round) {
    std::vector<NodeView> nodes;
    const int num_switches = range(2, 4);
    std::vector<uint32_t> rack_of(static_cast<size_t>(num_switches));
    for (uint32_t& r : rack_of) r = static_cast<uint32_t>(range(0, 1));
    for (int i = 0, count = range(2, 10); i < count; ++i) {
      NodeView n = node("n" + std::to_string(i), range(1, 4) * 2, 16, 0);
      n.switch_id = static_cast<uint32_t>(range(0, num_switches - 1));
      n.rack_id = rack_of[n.switch_id];
      nodes.push_back(std::move(n));
    }
    const GangShape shape = rng() % 2 ? per_node(static_cast<uint32_t>(range(2, 6)), 1, Resources{2000, 1024, 0})
                                      : anywhere(static_cast<uint32_t>(range(2, 12)), Resources{2000, 1024, 0});
    PlaceConstraints c;
    c.max_switches = static_cast<uint32_t>(range(1, 2));
    bool within = false;
    for (uint32_t subset = 1; subset < (1u << num_switches) && !within; ++subset) {
      if (static_cast<uint32_t>(std::popcount(subset)) > c.max_switches) continue;
      std::vector<NodeView> only = nodes;
      for (NodeView& n : only) n.schedulable = (subset >> n.switch_id) & 1u;
      within = place_gang(shape, only, {}).has_value();
    }
    auto p = place_gang(shape, nodes, c);
    if (p) {
      EXPECT_LE(switches_used(*p, nodes).size(), c.max_switches) << "round " << round;
    }
    exists += within;
    if (p.has_value() != within) {
      std::string layout;  // "name:switch/rack:cpus" per node
      for (const NodeView& n : nodes)
        layout += " " + n.name + ":" + std::to_string(n.switch_id) + "/" + std::to_string(n.rack_id) + ":" +
                  std::to_string(n.free.millicores / 1000);
      FAIL() << "round " << round << ": placed " << p.has_value() << ", a placement within " << c.max_switches
             << " switch(es) exists " << within << "; gang nodes=" << shape.nodes << " ntasks=" << shape.ntasks
             << " of 2 cpus; nodes" << layout;
    }
  }
  EXPECT_GT(exists, 200);
}

// Labels come from each agent, so the nodes of one switch may disagree on
// the rack (one node labelled rack=r1, its neighbour not labelled at all).
// Placement may then prefer what it likes, but never gives part of a gang
// or one node twice.
std::vector<NodeView> racks_disagree(int64_t cpus) {
  // n0 and n2 are switch 0, rack 0; n1 is switch 1, rack 0; n3 is switch 1, rack 1.
  std::vector<NodeView> nodes{node("n0", cpus, 16, 0), node("n1", cpus, 16, 0), node("n2", cpus, 16, 0),
                              node("n3", cpus, 16, 0)};
  nodes[1].switch_id = nodes[3].switch_id = 1;
  nodes[3].rack_id = 1;
  return nodes;
}

TEST(GangPlacement, ASwitchSpanningRacksStillGetsWholeNtasksGangs) {
  // Five one-cpu ranks on four 2-cpu nodes: no switch holds them (4 each),
  // rack 0 does (6), and the whole cluster does (8).
  std::vector<NodeView> nodes = racks_disagree(2);
  auto p = place_gang(anywhere(5, Resources{1000, 0, 0}), nodes);
  ASSERT_TRUE(p);
  expect_ranks_in_order(*p, 5);
}

TEST(GangPlacement, ASwitchSpanningRacksStillGetsDistinctNodes) {
  // Three whole 4-cpu nodes: no switch has three, rack 0 has (n0, n1, n2).
  std::vector<NodeView> nodes = racks_disagree(4);
  auto p = place_gang(per_node(3, 1, kWholeNode), nodes);
  ASSERT_TRUE(p);
  expect_ranks_in_order(*p, 3);
  EXPECT_EQ(ranks_by_node(*p).size(), 3u) << "a node was given twice";
}

// ---- constraints ----

TEST(GangPlacement, OnlyNodesOfThePartitionTakeRanks) {
  std::vector<NodeView> nodes{node("a", 8, 64, 0), node("b", 4, 64, 0), node("c", 8, 64, 0)};
  nodes[0].partitions = 0b01;
  nodes[1].partitions = 0b11;
  nodes[2].partitions = 0b10;
  PlaceConstraints in1;
  in1.partition = 1;
  auto p = place_gang(anywhere(10, Resources{1000, 0, 0}), nodes, in1);
  ASSERT_TRUE(p);
  for (const RankSlot& s : p->ranks) EXPECT_NE(s.node, 0u) << "rank " << s.rank << " on a node of partition 0 only";
  EXPECT_FALSE(place_gang(anywhere(13, Resources{1000, 0, 0}), nodes, in1)) << "partition 1 has 12 cpus";
  EXPECT_TRUE(place_gang(anywhere(20, Resources{1000, 0, 0}), nodes)) << "partition -1: every node";
  PlaceConstraints in5;
  in5.partition = 5;
  EXPECT_FALSE(place_gang(anywhere(1, Resources{1000, 0, 0}), nodes, in5)) << "no node is in partition 5";
}

TEST(GangPlacement, OnlyNodesWithAnAllowedGpuModelTakeRanks) {
  std::vector<NodeView> nodes{node("old", 8, 64, 8), node("new1", 8, 64, 4), node("new2", 8, 64, 4)};
  nodes[0].gpu_model = 1;
  nodes[1].gpu_model = 2;
  nodes[2].gpu_model = 2;
  const std::vector<uint32_t> only_new{2};
  PlaceConstraints c;
  c.gpu_models = &only_new;
  auto p = place_gang(anywhere(6, kOneGpuTask), nodes, c);
  ASSERT_TRUE(p);
  for (const RankSlot& s : p->ranks) EXPECT_NE(s.node, 0u);
  EXPECT_FALSE(place_gang(anywhere(9, kOneGpuTask), nodes, c)) << "the new nodes have 8 GPUs";
  const std::vector<uint32_t> either{1, 2};
  c.gpu_models = &either;
  EXPECT_TRUE(place_gang(anywhere(16, kOneGpuTask), nodes, c));
  const std::vector<uint32_t> none;
  c.gpu_models = &none;
  EXPECT_TRUE(place_gang(anywhere(16, kOneGpuTask), nodes, c)) << "an empty list allows any model";
  const std::vector<uint32_t> unknown{3};
  c.gpu_models = &unknown;
  EXPECT_FALSE(place_gang(anywhere(1, kOneGpuTask), nodes, c));
}

TEST(GangPlacement, NeverFitsReasonRespectsConstraints) {
  std::vector<NodeView> nodes{node("a", 8, 64, 0)};
  nodes[0].partitions = 0b01;
  PlaceConstraints in1;
  in1.partition = 1;
  EXPECT_EQ(never_fits_reason(anywhere(1, Resources{1000, 0, 0}), nodes, in1),
            "no node is in the job's partition and has the GPU type it asks for");
  std::vector<NodeView> two = switched({2, 2});
  PlaceConstraints one;
  one.max_switches = 1;
  EXPECT_EQ(never_fits_reason(per_node(4, 1, kWholeNode), two, one), "the gang does not fit under 1 switch(es)");
}

// ---- never_fits_reason ----

TEST(GangPlacement, NeverFitsReasonIsEmptyWhenTheGangFitsAnIdleCluster) {
  std::vector<NodeView> nodes{node("a", 8, 64, 4), node("b", 8, 64, 4)};
  // Busy and drained right now does not matter: the question is "ever".
  for (NodeView& n : nodes) {
    n.schedulable = false;
    n.free = Resources{};
    n.free_gpus.clear();
  }
  EXPECT_EQ(never_fits_reason(per_node(2, 4, kOneGpuTask), nodes), "");
  EXPECT_EQ(never_fits_reason(anywhere(8, kOneGpuTask), nodes), "");
}

TEST(GangPlacement, NeverFitsReasonIsEmptyWithoutNodes) {
  EXPECT_EQ(never_fits_reason(anywhere(1000, kOneGpuTask), {}), "");
}

TEST(GangPlacement, NeverFitsReasonNamesTooManyGpus) {
  std::vector<NodeView> nodes{node("a", 64, 512, 8), node("b", 64, 512, 4)};
  EXPECT_EQ(never_fits_reason(anywhere(1, Resources{1000, 0, 9}), nodes),
            "no node has 9 GPUs for one task; the largest has 8");
  EXPECT_EQ(never_fits_reason(per_node(1, 8, Resources{1000, 0, 2}), nodes),
            "no node has 16 GPUs for 8 tasks; the largest has 8");
}

TEST(GangPlacement, NeverFitsReasonNamesTooManyCpus) {
  std::vector<NodeView> nodes{node("a", 32, 512, 0)};
  EXPECT_EQ(never_fits_reason(anywhere(1, Resources{64000, 0, 0}), nodes),
            "no node has 64 cpus for one task; the largest has 32");
  EXPECT_EQ(never_fits_reason(anywhere(1, Resources{32500, 0, 0}), nodes),
            "no node has 32.5 cpus for one task; the largest has 32");
}

TEST(GangPlacement, NeverFitsReasonNamesTooMuchMemory) {
  std::vector<NodeView> nodes{node("a", 32, 512, 0)};
  EXPECT_EQ(never_fits_reason(anywhere(1, Resources{1000, 1024 * 1024, 0}), nodes),
            "no node has 1T of memory for one task; the largest has 512G");
}

TEST(GangPlacement, NeverFitsReasonNamesTooManyNodes) {
  std::vector<NodeView> nodes{node("a", 8, 64, 0), node("b", 8, 64, 0), node("c", 8, 64, 0)};
  EXPECT_EQ(never_fits_reason(per_node(5, 1, Resources{1000, 0, 0}), nodes),
            "the job asks for 5 nodes but the cluster has 3");
}

TEST(GangPlacement, NeverFitsReasonExplainsAGangTooBigForTheCluster) {
  std::vector<NodeView> nodes{node("big", 8, 64, 0), node("small", 2, 64, 0)};
  EXPECT_EQ(never_fits_reason(per_node(2, 4, Resources{1000, 1024, 0}), nodes),
            "fewer than 2 nodes can each hold 4 tasks of cpus=1 mem=1G gpus=0");
  EXPECT_EQ(never_fits_reason(anywhere(11, Resources{1000, 1024, 0}), nodes),
            "the whole cluster cannot hold 11 tasks of cpus=1 mem=1G gpus=0");
}

// ---- randomized property test ----

struct Live {
  GangShape shape;
  GangPlacement placement;
};

// Gives a gang's resources and GPU indices back to the views.
void release(const Live& live, std::vector<NodeView>& nodes) {
  for (const RankSlot& s : live.placement.ranks) {
    NodeView& n = nodes[s.node];
    n.free += live.shape.per_task;
    n.free_gpus.insert(n.free_gpus.end(), s.gpus.begin(), s.gpus.end());
    std::sort(n.free_gpus.begin(), n.free_gpus.end());
  }
}

int64_t capacity_of(const GangShape& shape, const NodeView& n) {
  if (!n.schedulable) return 0;
  Resources free = n.free;
  free.gpus = std::min<int64_t>(free.gpus, static_cast<int64_t>(n.free_gpus.size()));
  return count_fits(shape.per_task, free, 1 << 20);
}

void check_invariants(const std::vector<NodeView>& nodes, const std::map<int, Live>& live, int step) {
  std::vector<Resources> held(nodes.size());
  std::vector<std::map<uint32_t, int>> owner(nodes.size());  // GPU index -> job holding it
  for (auto& [id, l] : live) {
    for (const RankSlot& s : l.placement.ranks) {
      held[s.node] += l.shape.per_task;
      for (uint32_t g : s.gpus) {
        auto [it, fresh] = owner[s.node].emplace(g, id);
        ASSERT_TRUE(fresh) << "step " << step << ": GPU " << g << " on " << nodes[s.node].name << " held by job "
                           << it->second << " and job " << id;
      }
    }
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    const NodeView& n = nodes[i];
    ASSERT_TRUE(n.free.non_negative()) << "step " << step << ": " << n.name << " free " << n.free.to_string();
    ASSERT_EQ(n.free + held[i], n.total) << "step " << step << ": " << n.name;
    ASSERT_TRUE(std::is_sorted(n.free_gpus.begin(), n.free_gpus.end()));
    ASSERT_EQ(static_cast<int64_t>(n.free_gpus.size()), n.free.gpus) << "step " << step << ": " << n.name;
    for (uint32_t g : n.free_gpus) {
      ASSERT_LT(g, static_cast<uint32_t>(n.total.gpus));
      ASSERT_EQ(owner[i].count(g), 0u) << "step " << step << ": GPU " << g << " on " << n.name
                                       << " is both free and held";
    }
  }
}

void check_placement(const GangShape& shape, const GangPlacement& p, const std::vector<NodeView>& nodes) {
  expect_ranks_in_order(p, shape.ntasks);
  std::set<std::pair<size_t, uint32_t>> taken;  // (node, GPU) within this gang
  for (const RankSlot& s : p.ranks) {
    for (uint32_t g : s.gpus)
      ASSERT_TRUE(taken.emplace(s.node, g).second) << "GPU " << g << " on " << nodes[s.node].name
                                                   << " given to two ranks of one gang";
    ASSERT_LT(s.node, nodes.size());
    EXPECT_TRUE(nodes[s.node].schedulable) << "rank on unschedulable " << nodes[s.node].name;
    ASSERT_EQ(static_cast<int64_t>(s.gpus.size()), shape.per_task.gpus);
    for (uint32_t g : s.gpus)
      EXPECT_TRUE(std::binary_search(nodes[s.node].free_gpus.begin(), nodes[s.node].free_gpus.end(), g))
          << "GPU " << g << " on " << nodes[s.node].name << " was not free";
  }
  auto by_node = ranks_by_node(p);
  if (shape.nodes > 0) {
    EXPECT_EQ(by_node.size(), shape.nodes);
    for (auto& [n, ranks] : by_node) EXPECT_EQ(ranks.size(), shape.tasks_per_node);
  } else {
    bool one_node_fits = std::any_of(nodes.begin(), nodes.end(),
                                     [&](const NodeView& n) { return capacity_of(shape, n) >= shape.ntasks; });
    if (one_node_fits) {
      EXPECT_EQ(by_node.size(), 1u) << "a single node could hold the gang";
    }
  }
}

// Independent oracle: could this gang be placed at all?
bool could_place(const GangShape& shape, const std::vector<NodeView>& nodes) {
  if (shape.nodes > 0) {
    uint32_t ok = 0;
    for (const NodeView& n : nodes) ok += capacity_of(shape, n) >= shape.tasks_per_node;
    return ok >= shape.nodes;
  }
  int64_t total = 0;
  for (const NodeView& n : nodes) total += capacity_of(shape, n);
  return total >= shape.ntasks;
}

TEST(GangPlacement, RandomPlaceAndReleaseNeverDoubleBooksAndRestoresTheCluster) {
  const std::vector<NodeView> whole{node("n0", 8, 64, 8), node("n1", 16, 128, 4), node("n2", 4, 32, 0),
                                    node("n3", 8, 64, 2), node("n4", 32, 256, 8)};
  std::vector<NodeView> nodes = whole;
  std::map<int, Live> live;
  std::mt19937 rng(7);
  auto pick = [&rng](auto... options) {
    const int64_t values[] = {options...};
    return values[std::uniform_int_distribution<size_t>(0, sizeof...(options) - 1)(rng)];
  };
  int next_id = 0, placed = 0, refused = 0;

  for (int step = 0; step < 4000; ++step) {
    const int action = std::uniform_int_distribution<int>(0, 9)(rng);
    if (action < 5) {
      GangShape shape;
      shape.per_task = Resources{pick(500, 1000, 2000, 4000), pick(0, 512, 2048, 8192), pick(0, 0, 1, 1, 2, 4)};
      if (rng() % 2) {
        shape.ntasks = static_cast<uint32_t>(pick(1, 2, 3, 4, 6, 8));
      } else {
        shape.nodes = static_cast<uint32_t>(pick(1, 2, 3));
        shape.tasks_per_node = static_cast<uint32_t>(pick(1, 2, 3));
        shape.ntasks = shape.nodes * shape.tasks_per_node;
      }
      auto p = place_gang(shape, nodes);
      ASSERT_EQ(p.has_value(), could_place(shape, nodes)) << "step " << step << " shape nodes=" << shape.nodes
                                                          << " ntasks=" << shape.ntasks << " "
                                                          << shape.per_task.to_string();
      if (!p) {
        ++refused;
        continue;
      }
      ++placed;
      check_placement(shape, *p, nodes);
      if (HasFatalFailure() || HasNonfatalFailure()) return;  // reserve() assumes a valid placement
      reserve(shape, *p, nodes);
      live[next_id++] = Live{shape, std::move(*p)};
    } else if (action < 9) {
      if (live.empty()) continue;
      auto it = std::next(live.begin(), std::uniform_int_distribution<size_t>(0, live.size() - 1)(rng));
      release(it->second, nodes);
      live.erase(it);
    } else {
      // A node drains or comes back; what runs there keeps running.
      NodeView& n = nodes[std::uniform_int_distribution<size_t>(0, nodes.size() - 1)(rng)];
      n.schedulable = !n.schedulable;
    }
    check_invariants(nodes, live, step);
    if (HasFatalFailure()) return;
  }
  // Both outcomes were exercised, or the test proves little.
  EXPECT_GT(placed, 200);
  EXPECT_GT(refused, 200);

  for (auto& [id, l] : live) release(l, nodes);
  for (size_t i = 0; i < nodes.size(); ++i) {
    EXPECT_EQ(nodes[i].free, whole[i].total) << nodes[i].name;
    EXPECT_EQ(nodes[i].free_gpus, whole[i].free_gpus) << nodes[i].name;
  }
}

}  // namespace
}  // namespace cadre::sched

namespace cadre::sched {
namespace {

TEST(GangPlacementConstraints, OnlyTheAllowedNodesAndWholeNodesWhenExclusive) {
  std::vector<NodeView> nodes{node("a", 8, 32, 0), node("b", 8, 32, 0), node("c", 8, 32, 0)};
  const Resources one{1000, 1024, 0};
  std::vector<uint32_t> allowed{2};
  PlaceConstraints c;
  c.nodes = &allowed;
  auto p = place_gang(anywhere(1, one), nodes, c);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->ranks[0].node, 2u);
  std::vector<uint32_t> none;
  c.nodes = &none;
  EXPECT_FALSE(place_gang(anywhere(1, one), nodes, c)) << "every node excluded: nowhere";

  // Node a has one cpu taken: an exclusive gang skips it for an idle one.
  nodes[0].free.millicores -= 1000;
  PlaceConstraints whole;
  whole.whole_nodes = true;
  auto q = place_gang(per_node(2, 1, one), nodes, whole);
  ASSERT_TRUE(q);
  for (const RankSlot& r : q->ranks) EXPECT_NE(r.node, 0u);
  nodes[1].free.millicores -= 1000;
  EXPECT_FALSE(place_gang(per_node(2, 1, one), nodes, whole)) << "only one idle node left";
  EXPECT_TRUE(place_gang(per_node(2, 1, one), nodes)) << "without --exclusive the busy nodes still fit";
}

TEST(GangPlacementConstraints, AMatchingOrPlacesTheWholeGangWithinOneChoice) {
  // -C "[rack1|rack2]": rack1 is nodes a, b; rack2 is c, d. Node b is full,
  // so a two-node gang cannot stay in rack1 and must not straddle: rack2.
  std::vector<NodeView> nodes{node("a", 8, 32, 0), node("b", 8, 32, 0), node("c", 8, 32, 0), node("d", 8, 32, 0)};
  nodes[1].free.millicores = 0;
  const Resources one{1000, 1024, 0};
  const std::vector<std::vector<uint32_t>> racks{{0, 1}, {2, 3}};
  PlaceConstraints c;
  c.node_sets = &racks;
  auto p = place_gang(per_node(2, 1, one), nodes, c);
  ASSERT_TRUE(p);
  std::set<uint32_t> used;
  for (const RankSlot& r : p->ranks) used.insert(r.node);
  EXPECT_EQ(used, (std::set<uint32_t>{2, 3}));
  // A one-node gang fits the first choice.
  auto q = place_gang(per_node(1, 1, one), nodes, c);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->ranks[0].node, 0u);
  // Neither choice holds three nodes, though the union would.
  nodes[1].free.millicores = 8000;
  EXPECT_FALSE(place_gang(per_node(3, 1, one), nodes, c));
  EXPECT_TRUE(place_gang(per_node(3, 1, one), nodes)) << "without the choice three nodes fit";
  EXPECT_NE(never_fits_reason(per_node(3, 1, one), nodes, c), "");
  EXPECT_EQ(never_fits_reason(per_node(2, 1, one), nodes, c), "");
}

}  // namespace
}  // namespace cadre::sched
