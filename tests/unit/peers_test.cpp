// Specification of master/server/peers: a peer is its key, and an agent's
// commands go only to the routing id derived from its enrolled key.
#include "master/server/peers.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <capnp/message.h>

#include <cstdlib>
#include <filesystem>

#include "common/codec.hpp"
#include "common/curve_keys.hpp"

namespace cadre {
namespace {

class PeersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cadre-peers-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    master_ = *generate_curve_keypair();
    node1_ = enroll(PeerKind::agent, "node1");
    node2_ = enroll(PeerKind::agent, "node2");
    ada_ = enroll(PeerKind::user, "ada");
    peers_.enable_curve(master_.secret_key, KeyStore(dir_ + "/agents", dir_ + "/users"));
    peers_.reload_keys(nullptr);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  CurveKeyPair enroll(PeerKind kind, const std::string& name) {
    auto k = generate_curve_keypair();
    EXPECT_TRUE(k);
    EXPECT_TRUE(write_key_pair(dir_ + "/" + name, *k));
    EXPECT_TRUE(enroll_key(KeyFolders{dir_ + "/agents", dir_ + "/users"}, kind, name, dir_ + "/" + name + ".pub"));
    return *k;
  }
  std::optional<Peer> peer(PeerKind kind, const std::string& name, const CurveKeyPair& k) {
    return peers_.from_user_id(user_id_of(Peer{kind, name, k.public_key, false, 0, 0}));
  }
  std::string route_of(const CurveKeyPair& k) { return *curve_routing_id(k.secret_key, master_.public_key); }
  Status authorize_heartbeat(const std::optional<Peer>& who, const std::string& routing, const std::string& node) {
    capnp::MallocMessageBuilder m;
    start_envelope(m, 0).initHeartbeat().setName(node);
    auto d = decode(encode(m));
    return peers_.authorize(who, routing, (*d)->envelope());
  }
  Status authorize_submit(const std::optional<Peer>& who, const std::string& routing) {
    capnp::MallocMessageBuilder m;
    start_envelope(m, 1).initSubmit();
    auto d = decode(encode(m));
    return peers_.authorize(who, routing, (*d)->envelope());
  }

  std::string dir_;
  CurveKeyPair master_, node1_, node2_, ada_;
  Peers peers_;
};

TEST_F(PeersTest, AnAgentSpeaksForItsNodeOnlyUnderTheRoutingIdItsKeyDerives) {
  auto n1 = peer(PeerKind::agent, "node1", node1_);
  ASSERT_TRUE(n1);
  EXPECT_TRUE(authorize_heartbeat(n1, route_of(node1_), "node1"));
  // The routing id agents used to pick for themselves, or anyone else's.
  EXPECT_FALSE(authorize_heartbeat(n1, "agent:node1", "node1"));
  EXPECT_FALSE(authorize_heartbeat(n1, route_of(node2_), "node1"));
  // Its own key, another node's name.
  EXPECT_FALSE(authorize_heartbeat(n1, route_of(node1_), "node2"));
}

TEST_F(PeersTest, AUserKeyIsNeverAnAgentAndAnAgentKeyMakesNoClientRequests) {
  auto ada = peer(PeerKind::user, "ada", ada_);
  ASSERT_TRUE(ada);
  EXPECT_FALSE(authorize_heartbeat(ada, route_of(node1_), "node1"));
  EXPECT_FALSE(authorize_heartbeat(ada, "agent:node1", "node1"));
  EXPECT_TRUE(authorize_submit(ada, random_routing_id()));
  auto n1 = peer(PeerKind::agent, "node1", node1_);
  EXPECT_FALSE(authorize_submit(n1, route_of(node1_)));
}

TEST_F(PeersTest, CommandsForANodeGoToTheIdOfItsEnrolledKeyAndNowhereWithoutOne) {
  EXPECT_EQ(peers_.route_to("node1"), route_of(node1_));
  EXPECT_EQ(peers_.route_to("node2"), route_of(node2_));
  EXPECT_FALSE(peers_.route_to("ada"));
  // Learned routes count only without CURVE.
  peers_.learn_route("node3", "agent:node3");
  EXPECT_FALSE(peers_.route_to("node3"));
}

TEST_F(PeersTest, WithoutCurveRoutesAreLearnedAndClaimsStand) {
  Peers open;
  open.learn_route("n1", "agent:n1");
  EXPECT_EQ(open.route_to("n1"), "agent:n1");
  EXPECT_TRUE(open.is_admin(std::nullopt));
}

TEST_F(PeersTest, TheLocalSocketsPeerIsTheKernelsUid) {
  auto me = Peers::from_local_address("/run/cadre.sock:" + std::to_string(getuid()) + ":0:42");
  ASSERT_TRUE(me);
  EXPECT_EQ(me->uid, getuid());
  EXPECT_FALSE(Peers::from_local_address(""));
  EXPECT_FALSE(Peers::from_local_address("no colons"));
  EXPECT_FALSE(Peers::from_local_address(":x:0:1"));
}

}  // namespace
}  // namespace cadre
