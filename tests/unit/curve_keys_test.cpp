// Specification of common/curve_keys: CURVE key pairs on disk.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/curve_keys.hpp"

namespace cadre {
namespace {

class CurveKeys : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cadre-keys-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  static mode_t mode_of(const std::string& p) {
    struct stat st {};
    EXPECT_EQ(stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 0777;
  }
  static void write(const std::string& p, const std::string& text) { std::ofstream(p) << text; }

  std::string dir_;
};

TEST_F(CurveKeys, AGeneratedPairIsWrittenWithItsModesAndReadsBack) {
  auto keys = generate_curve_keypair();
  ASSERT_TRUE(keys) << keys.error();
  EXPECT_TRUE(valid_z85_key(keys->public_key));
  EXPECT_TRUE(valid_z85_key(keys->secret_key));
  EXPECT_NE(keys->public_key, keys->secret_key);

  // A permissive umask must not loosen the secret file.
  mode_t old = umask(0);
  Status written = write_key_pair(path("node1"), *keys);
  umask(old);
  ASSERT_TRUE(written) << written.error();
  EXPECT_EQ(mode_of(path("node1")), 0600u);
  EXPECT_EQ(mode_of(path("node1.pub")), 0644u);

  auto both = read_key_file(path("node1"));
  ASSERT_TRUE(both) << both.error();
  EXPECT_EQ(both->public_key, keys->public_key);
  EXPECT_EQ(both->secret_key, keys->secret_key);
  auto pub = read_key_file(path("node1.pub"));
  ASSERT_TRUE(pub) << pub.error();
  EXPECT_EQ(pub->public_key, keys->public_key);
  EXPECT_EQ(pub->secret_key, "") << "the public file must not carry the secret";
}

TEST_F(CurveKeys, NeverOverwritesEitherFile) {
  auto first = generate_curve_keypair();
  auto second = generate_curve_keypair();
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(write_key_pair(path("k"), *first));
  Status again = write_key_pair(path("k"), *second);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().find("already exists"), std::string::npos) << again.error();
  EXPECT_EQ(read_key_file(path("k"))->secret_key, first->secret_key);

  // Only the .pub exists: still refused, and no secret file is left behind.
  write(path("lone.pub"), "x");
  ASSERT_FALSE(write_key_pair(path("lone"), *second));
  EXPECT_FALSE(std::filesystem::exists(path("lone")));
}

TEST_F(CurveKeys, MalformedFilesNameTheLine) {
  write(path("bad"), "# comment\npublic-key = \"short\"\n");
  auto r = read_key_file(path("bad"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find(path("bad") + ":2:"), std::string::npos) << r.error();

  write(path("odd"), "colour = \"blue\"\n");
  r = read_key_file(path("odd"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find(":1:"), std::string::npos) << r.error();

  write(path("empty"), "# nothing\n");
  EXPECT_FALSE(read_key_file(path("empty")));
  EXPECT_FALSE(read_key_file(path("missing")));
}

TEST(CurveKeyText, OnlyFortyZ85CharactersAreAKey) {
  EXPECT_FALSE(valid_z85_key(""));
  EXPECT_FALSE(valid_z85_key(std::string(39, 'a')));
  EXPECT_FALSE(valid_z85_key(std::string(40, '~')));  // '~' is not in Z85's alphabet
  EXPECT_TRUE(valid_z85_key(std::string(40, 'a')));
}

}  // namespace
}  // namespace cadre

namespace cadre {
namespace {

TEST(CurveRoutingId, BothEndsDeriveTheSameIdAndNoOtherKeyDoes) {
  auto master = generate_curve_keypair();
  auto agent = generate_curve_keypair();
  auto other = generate_curve_keypair();
  ASSERT_TRUE(master && agent && other);
  auto at_agent = curve_routing_id(agent->secret_key, master->public_key);
  auto at_master = curve_routing_id(master->secret_key, agent->public_key);
  auto impostor = curve_routing_id(other->secret_key, master->public_key);
  ASSERT_TRUE(at_agent && at_master && impostor);
  EXPECT_EQ(*at_agent, *at_master);
  EXPECT_NE(*impostor, *at_master);
  EXPECT_EQ(at_agent->size(), 33u);
  EXPECT_EQ(at_agent->front(), 'k');
}

TEST(CurveRoutingId, RefusesKeysThatAreNotZ85) {
  auto master = generate_curve_keypair();
  ASSERT_TRUE(master);
  EXPECT_FALSE(curve_routing_id("short", master->public_key));
  EXPECT_FALSE(curve_routing_id(master->secret_key, "not a key"));
}

TEST(RandomRoutingId, IsFreshEachTime) {
  EXPECT_NE(random_routing_id(), random_routing_id());
  EXPECT_EQ(random_routing_id().size(), 33u);
}

}  // namespace
}  // namespace cadre
