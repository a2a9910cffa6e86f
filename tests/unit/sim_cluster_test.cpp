// Specification of sim/cluster: simulated nodes and their topology.
#include "sim/cluster.hpp"

#include <gtest/gtest.h>

namespace cadre::sim {
namespace {

TEST(SimCluster, BuildsIdenticalIdleNodesNamedInOrder) {
  auto c = uniform_cluster(UniformSpec{3, 32, 8, 1024});
  ASSERT_TRUE(c) << c.error();
  ASSERT_EQ(c->nodes.size(), 3u);
  EXPECT_EQ(c->nodes[0].name, "n00001");
  EXPECT_EQ(c->nodes[2].name, "n00003");
  EXPECT_EQ(c->nodes[1].total, (Resources{32000, 1024, 8}));
  EXPECT_EQ(c->nodes[1].free, c->nodes[1].total);
  EXPECT_EQ(c->nodes[1].free_gpus, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(c->nodes[1].switch_id, 0u);
  EXPECT_EQ(c->nodes[1].rack_id, 0u);
}

TEST(SimCluster, RejectsImpossibleSizes) {
  EXPECT_FALSE(uniform_cluster(UniformSpec{0, 32, 0, 0}));
  EXPECT_FALSE(uniform_cluster(UniformSpec{4, 0, 0, 0}));
  EXPECT_FALSE(uniform_cluster(UniformSpec{4, 32, 65, 0}));
}

TEST(SimCluster, PutsNodesOnSwitchesAndSwitchesInRacks) {
  auto c = uniform_cluster(UniformSpec{10, 1, 0, 0});
  ASSERT_TRUE(c);
  apply_topology(*c, 2, 3);  // switches {0,1}, {2,3}, ...; racks of 3 switches
  std::vector<uint32_t> switches, racks;
  for (const auto& n : c->nodes) {
    switches.push_back(n.switch_id);
    racks.push_back(n.rack_id);
  }
  EXPECT_EQ(switches, (std::vector<uint32_t>{0, 0, 1, 1, 2, 2, 3, 3, 4, 4}));
  EXPECT_EQ(racks, (std::vector<uint32_t>{0, 0, 0, 0, 0, 0, 1, 1, 1, 1}));
}

TEST(SimCluster, WithoutRacksEverySwitchIsInRackZero) {
  auto c = uniform_cluster(UniformSpec{4, 1, 0, 0});
  ASSERT_TRUE(c);
  apply_topology(*c, 1, 0);
  EXPECT_EQ(c->nodes[3].switch_id, 3u);
  EXPECT_EQ(c->nodes[3].rack_id, 0u);
}

TEST(SimCluster, GivesEachGpuModelNameOneIndex) {
  Cluster c;
  EXPECT_EQ(model_index(c, ""), 0u);
  EXPECT_EQ(model_index(c, "T4"), 1u);
  EXPECT_EQ(model_index(c, "A10"), 2u);
  EXPECT_EQ(model_index(c, "T4"), 1u);
}

TEST(SimCluster, LargestNodeTakesEachQuantitysMaximum) {
  Cluster c;
  c.nodes.push_back(idle_node("a", Resources{64000, 100, 2}, 0));
  c.nodes.push_back(idle_node("b", Resources{32000, 500, 8}, 0));
  EXPECT_EQ(largest_node(c), (Resources{64000, 500, 8}));
}

}  // namespace
}  // namespace cadre::sim
