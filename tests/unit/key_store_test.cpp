// Specification of master/key_store: enrolled CURVE keys and ZAP answers.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zmq.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/curve_keys.hpp"
#include "master/server/key_store.hpp"

namespace cadre {
namespace {

class KeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cadre-keystore-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    agents_ = dir_ + "/agents";
    users_ = dir_ + "/users";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A fresh pair written to dir_/<file>; returns it.
  CurveKeyPair make(const std::string& file) {
    auto k = generate_curve_keypair();
    EXPECT_TRUE(k);
    EXPECT_TRUE(write_key_pair(dir_ + "/" + file, *k));
    return *k;
  }
  // The ZAP request a CURVE client with `key` makes.
  static Frames zap_request(const std::string& z85_public) {
    std::string raw(32, '\0');
    zmq_z85_decode(reinterpret_cast<uint8_t*>(raw.data()), z85_public.c_str());
    return Frames{"1.0", "7", "cadre", "127.0.0.1", "", "CURVE", raw};
  }

  KeyFolders folders() const { return KeyFolders{agents_, users_}; }

  std::string dir_, agents_, users_;
};

TEST_F(KeyStoreTest, EnrolledAgentsAndUsersAreFoundAndTheirZapAnswerNamesThem) {
  CurveKeyPair node = make("node1"), ada = make("ada"), stranger = make("stranger");
  ASSERT_TRUE(enroll_key(folders(), PeerKind::agent, "node1", dir_ + "/node1.pub"));
  ASSERT_TRUE(enroll_key(folders(), PeerKind::user, "ada", dir_ + "/ada.pub"));
  KeyStore keys(agents_, users_);
  EXPECT_TRUE(keys.reload().empty());

  ZapAnswer a = answer_zap(zap_request(node.public_key), keys);
  ASSERT_TRUE(a.accepted);
  EXPECT_EQ(a.reply, (Frames{"1.0", "7", "200", "OK", "agent:node1 " + node.public_key, ""}));
  a = answer_zap(zap_request(ada.public_key), keys);
  ASSERT_TRUE(a.accepted);
  EXPECT_EQ(a.reply[4], "user:ada " + ada.public_key);
  auto peer = keys.check(a.reply[4]);
  ASSERT_TRUE(peer);
  EXPECT_EQ(peer->kind, PeerKind::user);
  EXPECT_EQ(peer->name, "ada");

  a = answer_zap(zap_request(stranger.public_key), keys);
  EXPECT_FALSE(a.accepted);
  EXPECT_EQ(a.reply[2], "400");
  EXPECT_EQ(a.reply[4], "");
}

TEST_F(KeyStoreTest, OnlyCurveWithAWellFormedKeyIsAccepted) {
  KeyStore keys(agents_, users_);
  keys.reload();
  EXPECT_EQ(answer_zap(Frames{"1.0", "1", "cadre", "a", "", "NULL"}, keys).reply[2], "400");
  EXPECT_EQ(answer_zap(Frames{"1.0", "1", "cadre", "a", "", "CURVE", "short"}, keys).reply[2], "400");
  EXPECT_EQ(answer_zap(Frames{"2.0", "1"}, keys).reply[2], "500");
  EXPECT_EQ(answer_zap(Frames{}, keys).reply[2], "500");
}

TEST_F(KeyStoreTest, RevokingOrReplacingAnAgentKeyIsReportedAndItsOldIdStopsWorking) {
  CurveKeyPair first = make("n1"), second = make("n1b"), other = make("n2");
  ASSERT_TRUE(enroll_key(folders(), PeerKind::agent, "node1", dir_ + "/n1.pub"));
  ASSERT_TRUE(enroll_key(folders(), PeerKind::agent, "node2", dir_ + "/n2.pub"));
  KeyStore keys(agents_, users_);
  keys.reload();
  const std::string id = "agent:node1 " + first.public_key;
  ASSERT_TRUE(keys.check(id));

  // Another key for node1 is refused while one is enrolled.
  Status again = enroll_key(folders(), PeerKind::agent, "node1", dir_ + "/n1b.pub");
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().find("revoke it first"), std::string::npos);

  ASSERT_TRUE(revoke_key(agents_, "node1"));
  EXPECT_EQ(keys.reload(), std::vector<std::string>{"node1"});
  EXPECT_FALSE(keys.check(id)) << "a connection made with the revoked key must be cut off";
  EXPECT_TRUE(keys.check("agent:node2 " + other.public_key));

  // Re-enrolled with a new key: the old id still does not pass.
  ASSERT_TRUE(enroll_key(folders(), PeerKind::agent, "node1", dir_ + "/n1b.pub"));
  EXPECT_TRUE(keys.reload().empty());
  EXPECT_FALSE(keys.check(id));
  EXPECT_TRUE(keys.check("agent:node1 " + second.public_key));
  EXPECT_FALSE(revoke_key(agents_, "nobody"));
}

TEST_F(KeyStoreTest, BadFilesAndNamesAreSkippedAndReportedOnce) {
  std::filesystem::create_directories(agents_);
  std::ofstream(agents_ + "/broken.pub") << "public-key = \"nope\"\n";
  KeyStore keys(agents_, users_);
  std::vector<std::string> problems;
  keys.reload(&problems);
  EXPECT_EQ(problems.size(), 1u);
  EXPECT_EQ(keys.agents(), 0u);
  problems.clear();
  keys.reload(&problems);
  EXPECT_TRUE(problems.empty()) << "the same problem is not reported on every rescan";

  make("k");
  EXPECT_FALSE(enroll_key(folders(), PeerKind::agent, "../escape", dir_ + "/k.pub"));
  EXPECT_FALSE(enroll_key(folders(), PeerKind::agent, "", dir_ + "/k.pub"));
  EXPECT_FALSE(enroll_key(folders(), PeerKind::agent, "ok", dir_ + "/missing.pub"));
}

TEST_F(KeyStoreTest, AKeyIsEnrolledUnderOneNameOfOneKindOnly) {
  CurveKeyPair shared = make("shared");
  ASSERT_TRUE(enroll_key(folders(), PeerKind::agent, "n1", dir_ + "/shared.pub"));
  EXPECT_TRUE(enroll_key(folders(), PeerKind::agent, "n1", dir_ + "/shared.pub")) << "enrolling again is a no-op";

  Status as_user = enroll_key(folders(), PeerKind::user, "alice", dir_ + "/shared.pub");
  ASSERT_FALSE(as_user);
  EXPECT_NE(as_user.error().find("this key is already enrolled as agent n1 (" + agents_ + "/n1.pub)"),
            std::string::npos)
      << as_user.error();
  EXPECT_NE(as_user.error().find("one key is one identity"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(users_ + "/alice.pub"));

  Status as_agent = enroll_key(folders(), PeerKind::agent, "n2", dir_ + "/shared.pub");
  ASSERT_FALSE(as_agent);
  EXPECT_NE(as_agent.error().find("already enrolled as agent n1"), std::string::npos);

  // The other way round: a user's key cannot become an agent's.
  make("bob");
  ASSERT_TRUE(enroll_key(folders(), PeerKind::user, "bob", dir_ + "/bob.pub"));
  Status bob_as_node = enroll_key(folders(), PeerKind::agent, "n3", dir_ + "/bob.pub");
  ASSERT_FALSE(bob_as_node);
  EXPECT_NE(bob_as_node.error().find("already enrolled as user bob (" + users_ + "/bob.pub)"), std::string::npos);

  // Revoked, the key is free for another name.
  ASSERT_TRUE(revoke_key(agents_, "n1"));
  EXPECT_TRUE(enroll_key(folders(), PeerKind::user, "alice", dir_ + "/shared.pub"));
  KeyStore keys(agents_, users_);
  keys.reload();
  auto peer = keys.find(shared.public_key);
  ASSERT_TRUE(peer);
  EXPECT_EQ(peer->kind, PeerKind::user);
  EXPECT_EQ(peer->name, "alice");
}

TEST_F(KeyStoreTest, AKeyCopiedByHandIntoTwoFilesIsKeptInTheFirstAndSkippedInTheOther) {
  CurveKeyPair shared = make("shared"), other = make("other");
  ASSERT_TRUE(enroll_key(folders(), PeerKind::user, "alice", dir_ + "/shared.pub"));
  ASSERT_TRUE(enroll_key(folders(), PeerKind::user, "bob", dir_ + "/other.pub"));
  KeyStore keys(agents_, users_);
  keys.reload();
  ASSERT_TRUE(keys.check("user:alice " + shared.public_key));

  // By hand, around enroll_key: agents come first, then names in order.
  std::filesystem::create_directories(agents_);
  std::filesystem::copy_file(users_ + "/alice.pub", agents_ + "/zeta.pub");
  std::filesystem::copy_file(users_ + "/bob.pub", users_ + "/carol.pub");
  std::vector<std::string> problems;
  keys.reload(&problems);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find(users_ + "/alice.pub holds the same key as agent zeta (" + agents_ + "/zeta.pub)"),
            std::string::npos)
      << problems[0];
  EXPECT_NE(problems[1].find(users_ + "/carol.pub holds the same key as user bob"), std::string::npos)
      << problems[1];
  EXPECT_EQ(keys.agents(), 1u);
  EXPECT_EQ(keys.users(), 1u);
  EXPECT_FALSE(keys.check("user:alice " + shared.public_key)) << "alice's connection is cut at this rescan";
  EXPECT_TRUE(keys.check("user:bob " + other.public_key));
  EXPECT_FALSE(keys.check("user:carol " + other.public_key));

  problems.clear();
  keys.reload(&problems);
  EXPECT_TRUE(problems.empty()) << "the same problem is not reported on every rescan";

  // Two agents with one key: the first by name keeps it.
  std::filesystem::copy_file(agents_ + "/zeta.pub", agents_ + "/alpha.pub");
  EXPECT_EQ(keys.reload(&problems), std::vector<std::string>{"zeta"}) << "zeta lost its key to alpha";
  auto peer = keys.find(shared.public_key);
  ASSERT_TRUE(peer);
  EXPECT_EQ(peer->kind, PeerKind::agent);
  EXPECT_EQ(peer->name, "alpha");
}

TEST_F(KeyStoreTest, AnEnrolledKeyFileIsReadableByTheMasterWhateverTheUmask) {
  make("k");
  const mode_t old = umask(077);
  Status s = enroll_key(folders(), PeerKind::agent, "node1", dir_ + "/k.pub");
  umask(old);
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ(std::filesystem::status(agents_ + "/node1.pub").permissions() & std::filesystem::perms::all,
            std::filesystem::perms(0644));
}

TEST_F(KeyStoreTest, IdsThatAreNotOursAreNotPeers) {
  KeyStore keys(agents_, users_);
  keys.reload();
  EXPECT_FALSE(keys.check(""));
  EXPECT_FALSE(keys.check("agent:"));
  EXPECT_FALSE(keys.check("admin:root x"));
}

}  // namespace
}  // namespace cadre
