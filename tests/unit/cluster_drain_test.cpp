// Specification of draining and resuming nodes in master/state's Cluster:
// what a drain means for scheduling.
#include <gtest/gtest.h>

#include "cluster_fixture.hpp"

namespace cadre {
namespace {

using namespace cluster_fixture;

class ClusterDrain : public ClusterFixture {};

TEST_F(ClusterDrain, ADrainedNodeKeepsItsJobsButTakesNoNewOnes) {
  add_node("a", 1, 0);
  add_node("b", 1, 0);
  JobId first = submit(spec(1));
  schedule();
  const std::string busy = job(first).tasks[0].node;
  const std::string idle = busy == "a" ? "b" : "a";
  ASSERT_TRUE(cluster_.drain_node(idle, "bad DIMM"));
  EXPECT_EQ(node(idle).state, NodeState::drain);
  EXPECT_EQ(node(idle).reason, "bad DIMM");
  JobId second = submit(spec(1));
  schedule();
  EXPECT_EQ(job(second).state, JobState::pending) << "nothing new on a DRAIN node";

  ASSERT_TRUE(cluster_.drain_node(busy, ""));
  EXPECT_EQ(job(first).state, JobState::running) << "running jobs go on";
  EXPECT_EQ(node(busy).reason, "drained by an admin");

  ASSERT_TRUE(cluster_.resume_node(idle));
  EXPECT_EQ(node(idle).state, NodeState::up);
  EXPECT_EQ(node(idle).reason, "");
  schedule();
  EXPECT_EQ(job(second).state, JobState::running);
  EXPECT_EQ(job(second).tasks[0].node, idle);
}

// Refusals for DOWN and unknown nodes: node_table_test.cpp.

}  // namespace
}  // namespace cadre
