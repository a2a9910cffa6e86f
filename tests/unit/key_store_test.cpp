// Specification of master/key_store: enrolled CURVE keys and ZAP answers.
#include <gtest/gtest.h>
#include <zmq.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/curve_keys.hpp"
#include "master/key_store.hpp"

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

  std::string dir_, agents_, users_;
};

TEST_F(KeyStoreTest, EnrolledAgentsAndUsersAreFoundAndTheirZapAnswerNamesThem) {
  CurveKeyPair node = make("node1"), ada = make("ada"), stranger = make("stranger");
  ASSERT_TRUE(enroll_key(agents_, "node1", dir_ + "/node1.pub"));
  ASSERT_TRUE(enroll_key(users_, "ada", dir_ + "/ada.pub"));
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
  ASSERT_TRUE(enroll_key(agents_, "node1", dir_ + "/n1.pub"));
  ASSERT_TRUE(enroll_key(agents_, "node2", dir_ + "/n2.pub"));
  KeyStore keys(agents_, users_);
  keys.reload();
  const std::string id = "agent:node1 " + first.public_key;
  ASSERT_TRUE(keys.check(id));

  // Another key for node1 is refused while one is enrolled.
  Status again = enroll_key(agents_, "node1", dir_ + "/n1b.pub");
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().find("revoke it first"), std::string::npos);

  ASSERT_TRUE(revoke_key(agents_, "node1"));
  EXPECT_EQ(keys.reload(), std::vector<std::string>{"node1"});
  EXPECT_FALSE(keys.check(id)) << "a connection made with the revoked key must be cut off";
  EXPECT_TRUE(keys.check("agent:node2 " + other.public_key));

  // Re-enrolled with a new key: the old id still does not pass.
  ASSERT_TRUE(enroll_key(agents_, "node1", dir_ + "/n1b.pub"));
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
  EXPECT_FALSE(enroll_key(agents_, "../escape", dir_ + "/k.pub"));
  EXPECT_FALSE(enroll_key(agents_, "", dir_ + "/k.pub"));
  EXPECT_FALSE(enroll_key(agents_, "ok", dir_ + "/missing.pub"));
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
