// Specification of master/state/node_table: nodes registering,
// heartbeats, silent nodes going DOWN, revoked keys, drain and resume, on
// a bare ClusterState.
#include "master/state/node_table.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/cluster_fixture.hpp"

namespace cadre {
namespace {

using namespace cluster_fixture;

class NodeTable : public StateFixture {};

TEST_F(NodeTable, HeartbeatFromAnUnregisteredNodeReturnsFalse) {
  EXPECT_FALSE(state::heartbeat(s_, "ghost", now_ms_, kT0));
  EXPECT_EQ(s_.find_node("ghost"), nullptr) << "a heartbeat does not create a node";
  add_node("n1", 8, 0);
  s_.dirty_nodes.clear();
  EXPECT_TRUE(state::heartbeat(s_, "n1", now_ms_ + 5, kT0 + 5));
  EXPECT_EQ(node("n1").last_seen_ms, now_ms_ + 5);
  EXPECT_EQ(node("n1").last_seen_unix, kT0 + 5);
  EXPECT_TRUE(s_.dirty_nodes.empty()) << "heartbeats must cost no disk writes";
}

TEST_F(NodeTable, RegistrationRecordsTheNode) {
  add_node("n1", 8, 4, {{"rack", "r1"}});
  const Node& n = node("n1");
  EXPECT_EQ(n.state, NodeState::up);
  EXPECT_EQ(n.address, "addr-n1");
  EXPECT_EQ(n.total, (Resources{8000, 64 * 1024, 4}));
  EXPECT_EQ(n.labels, (std::map<std::string, std::string>{{"rack", "r1"}}));
  EXPECT_EQ(n.free_gpus(), (std::vector<uint32_t>{0, 1, 2, 3}));
  EXPECT_EQ(s_.dirty_nodes, (std::set<std::string>{"n1"}));
  EXPECT_TRUE(n.registered);
  EXPECT_EQ(n.partitions, 1u) << "a member of the one partition of every node";
}

TEST_F(NodeTable, ANodeSilentPastTheTimeoutGoesDown) {
  add_node("a", 8, 0);
  add_node("b", 8, 0);
  s_.dirty_nodes.clear();
  now_ms_ += kNodeTimeoutMs;
  ASSERT_TRUE(state::heartbeat(s_, "a", now_ms_, kT0 + 10));
  state::check_node_timeouts(s_, now_ms_, kT0 + 10);
  EXPECT_EQ(node("b").state, NodeState::up) << "down at its timeout, not before";
  state::check_node_timeouts(s_, now_ms_ + 1, kT0 + 11);
  EXPECT_EQ(node("a").state, NodeState::up);
  EXPECT_EQ(node("b").state, NodeState::down);
  EXPECT_FALSE(node("b").registered);
  EXPECT_EQ(node("b").reason, "no heartbeat for 10s");
  EXPECT_EQ(s_.dirty_nodes, (std::set<std::string>{"b"}));
  EXPECT_TRUE(s_.commands.empty()) << "no rank ran there: nothing to kill";
}

TEST_F(NodeTable, DownAndUnknownNodesAreRefused) {
  EXPECT_FALSE(state::drain_node(s_, "ghost", ""));
  EXPECT_FALSE(state::resume_node(s_, "ghost"));
  add_node("a", 1, 0);
  state::node_revoked(s_, "a", kT0);
  EXPECT_EQ(node("a").state, NodeState::down);
  EXPECT_EQ(node("a").reason, "its key was revoked");
  auto r = state::resume_node(s_, "a");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("comes back UP when its agent registers"), std::string::npos) << r.error();
  EXPECT_FALSE(state::drain_node(s_, "a", "x"));
  // Registering again brings it back and clears the reason.
  add_node("a", 1, 0);
  EXPECT_EQ(node("a").state, NodeState::up);
  EXPECT_EQ(node("a").reason, "");
}

TEST_F(NodeTable, DrainAndResumeAreDurableChanges) {
  add_node("a", 1, 0);
  s_.dirty_nodes.clear();
  ASSERT_TRUE(state::drain_node(s_, "a", ""));
  EXPECT_EQ(node("a").state, NodeState::drain);
  EXPECT_EQ(node("a").reason, "drained by an admin");
  EXPECT_EQ(s_.dirty_nodes, (std::set<std::string>{"a"}));
  s_.dirty_nodes.clear();
  ASSERT_TRUE(state::resume_node(s_, "a"));
  EXPECT_EQ(node("a").state, NodeState::up);
  EXPECT_EQ(s_.dirty_nodes, (std::set<std::string>{"a"}));
}

TEST_F(NodeTable, AnAgentRunningAnUnknownRankIsToldToKillIt) {
  NodeRegistration reg = registration("a", 8, {});
  reg.running.push_back(live(42, 3, 2, 1));
  state::register_node(s_, reg, now_ms_, kT0);
  ASSERT_EQ(s_.commands.size(), 1u);
  EXPECT_EQ(s_.commands[0].node, "a");
  const auto* k = std::get_if<KillCommand>(&s_.commands[0].what);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->job, 42u);
  EXPECT_EQ(k->rank, 3u);
  EXPECT_EQ(k->attempt, 2u);
  EXPECT_EQ(k->step, 1u);
}

}  // namespace
}  // namespace cadre
