// Specification of agent/join and master/enroll_node: the two halves of
// the one-command node install.
#include "agent/join.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/config.hpp"
#include "common/curve_keys.hpp"
#include "common/join_token.hpp"
#include "master/enroll_node.hpp"

namespace cadre {
namespace {

namespace fs = std::filesystem;

class Join : public ::testing::Test {
 protected:
  void SetUp() override {
    // The pid keeps test runs from different build folders apart.
    dir_ = (fs::path(testing::TempDir()) / ("join_test_" + std::to_string(getpid()) + "_" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .lexically_normal()
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_ + "/master/agents");
    ASSERT_TRUE(write_key_pair(dir_ + "/master/master.key", *generate_curve_keypair()).ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  // What enroll-agent prints, and the token in it.
  std::string enroll(const std::string& name) {
    NodeEnrollment e{name, dir_ + "/master/agents", dir_ + "/master/master.key", "tcp://127.0.0.1:7700"};
    auto line = enroll_new_node(e);
    EXPECT_TRUE(line.ok()) << line.error();
    return line.ok() ? *line : "";
  }
  static std::string token_in(const std::string& line) {
    const size_t at = line.find("cadre1:");
    return line.substr(at, line.find(' ', at) - at);
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static unsigned mode_of(const std::string& path) {
    struct stat st {};
    stat(path.c_str(), &st);
    return st.st_mode & 0777;
  }

  std::string dir_;
};

TEST_F(Join, EnrollPrintsOneLineAndJoinWritesKeysAndTheDropIn) {
  const std::string line = enroll("node9");
  EXPECT_TRUE(line.starts_with("sh -c 'apt-get install -y cadre-agent && cadre-agent join cadre1:"));
  EXPECT_TRUE(line.ends_with(" && systemctl enable --now cadre-agent'"));
  EXPECT_EQ(line.find('\n'), std::string::npos);

  const std::string node = dir_ + "/node";
  auto report = agent::join_cluster({token_in(line), node, false});
  ASSERT_TRUE(report.ok()) << report.error();
  // The node's public key is the one the master enrolled; its secret stays on the node.
  auto enrolled = read_key_file(dir_ + "/master/agents/node9.pub");
  auto mine = read_key_file(node + "/node.key");
  ASSERT_TRUE(enrolled.ok() && mine.ok());
  EXPECT_EQ(mine->public_key, enrolled->public_key);
  EXPECT_TRUE(enrolled->secret_key.empty());
  EXPECT_EQ(read_key_file(node + "/master.pub")->public_key, read_key_file(dir_ + "/master/master.key")->public_key);
  EXPECT_EQ(mode_of(node + "/node.key"), 0600u);
  EXPECT_EQ(mode_of(node + "/node.key.pub"), 0644u);
  EXPECT_EQ(mode_of(node + "/master.pub"), 0644u);

  // The drop-in is what the agent reads, next to an untouched cadre.toml.
  std::ofstream(node + "/cadre.toml") << "[agent]\ncpus = 2\n";
  auto config = agent::load_agent_config(node + "/cadre.toml");
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->master, "tcp://127.0.0.1:7700");
  EXPECT_EQ(config->name, "node9");
  EXPECT_EQ(config->key, node + "/node.key");
  EXPECT_EQ(config->master_key, node + "/master.pub");
  EXPECT_EQ(config->cpus, 2);
}

TEST_F(Join, RunningItAgainChangesNothing) {
  const std::string token = token_in(enroll("node9"));
  ASSERT_TRUE(agent::join_cluster({token, dir_ + "/node", false}).ok());
  const std::string key = read(dir_ + "/node/node.key");
  auto again = agent::join_cluster({token, dir_ + "/node", false});
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(read(dir_ + "/node/node.key"), key);
}

TEST_F(Join, ADifferentNodeKeyIsReplacedOnlyWithForce) {
  ASSERT_TRUE(agent::join_cluster({token_in(enroll("node9")), dir_ + "/node", false}).ok());
  const std::string old_key = read(dir_ + "/node/node.key");
  const std::string other = token_in(enroll("node10"));
  auto refused = agent::join_cluster({other, dir_ + "/node", false});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("already holds another node key"), std::string::npos) << refused.error();
  EXPECT_EQ(read(dir_ + "/node/node.key"), old_key);
  EXPECT_NE(read(dir_ + "/node/cadre.toml.d/50-join.toml").find("node9"), std::string::npos);

  ASSERT_TRUE(agent::join_cluster({other, dir_ + "/node", true}).ok());
  EXPECT_NE(read(dir_ + "/node/node.key"), old_key);
  EXPECT_NE(read(dir_ + "/node/cadre.toml.d/50-join.toml").find("node10"), std::string::npos);
}

TEST_F(Join, ABadTokenWritesNothing) {
  std::string token = token_in(enroll("node9"));
  token[20] = token[20] == 'A' ? 'B' : 'A';
  auto r = agent::join_cluster({token, dir_ + "/node", false});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("not a usable join token"), std::string::npos) << r.error();
  EXPECT_FALSE(fs::exists(dir_ + "/node"));
}

TEST_F(Join, EnrollRefusesANameThatHasAKeyAndNeedsTheMastersKey) {
  enroll("node9");
  NodeEnrollment again{"node9", dir_ + "/master/agents", dir_ + "/master/master.key", "tcp://127.0.0.1:7700"};
  EXPECT_FALSE(enroll_new_node(again).ok());
  NodeEnrollment keyless{"node11", dir_ + "/master/agents", "", "tcp://127.0.0.1:7700"};
  auto r = enroll_new_node(keyless);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("[security] key"), std::string::npos) << r.error();
  NodeEnrollment quote{"node12", dir_ + "/master/agents", dir_ + "/master/master.key", "tcp://127.0.0.1:7700",
                       "x'; rm -rf /"};
  EXPECT_FALSE(enroll_new_node(quote).ok());
  EXPECT_FALSE(fs::exists(dir_ + "/master/agents/node12.pub"));
}

TEST_F(Join, ADebPackageIsInstalledByPath) {
  NodeEnrollment e{"node9", dir_ + "/master/agents", dir_ + "/master/master.key", "tcp://127.0.0.1:7700",
                   "cadre-agent_1.0_amd64.deb"};
  auto line = enroll_new_node(e);
  ASSERT_TRUE(line.ok()) << line.error();
  EXPECT_TRUE(line->starts_with("sh -c 'apt-get install -y ./cadre-agent_1.0_amd64.deb && "));
}

TEST(AgentEndpoint, AWildcardHostBecomesThisHostsName) {
  EXPECT_EQ(*agent_endpoint("tcp://*:7700", "head.example.org"), "tcp://head.example.org:7700");
  EXPECT_EQ(*agent_endpoint("tcp://0.0.0.0:7701", "head"), "tcp://head:7701");
  EXPECT_EQ(*agent_endpoint("tcp://10.0.0.1:7700", "head"), "tcp://10.0.0.1:7700");
  EXPECT_FALSE(agent_endpoint("ipc:///run/cadre.sock", "head").ok());
  // The first tcp endpoint of a list; a kernel-chosen port cannot be told.
  EXPECT_EQ(*agent_endpoint("ipc:///run/cadre.sock,tcp://[::]:7702", "head"), "tcp://head:7702");
  EXPECT_EQ(*agent_endpoint("tcp://[fd00::1]:7700", "head"), "tcp://[fd00::1]:7700");
  EXPECT_FALSE(agent_endpoint("tcp://*:0", "head").ok());
  EXPECT_FALSE(agent_endpoint("tcp://*:99999", "head").ok());
}

}  // namespace
}  // namespace cadre
