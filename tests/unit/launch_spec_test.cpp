// Specification of agent/launch_spec: where a rank's output goes and what
// environment it starts with.
#include "agent/launch_spec.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include <map>

namespace cadre::agent {
namespace {

LaunchSpec two_node_spec() {
  LaunchSpec s;
  s.job = 1234;
  s.attempt = 2;
  s.job_name = "train";
  s.rank = 5;
  s.world_size = 8;
  s.local_rank = 1;
  s.local_world_size = 4;
  s.node_rank = 1;
  s.nodelist = {"gpu-01", "gpu-02"};
  s.tasks_per_node = {4, 4};
  s.gpus = {2, 3};
  s.argv = {"python", "train.py"};
  s.workdir = "/home/ada/exp";
  s.output_pattern = "cadre-%j-%t.out";
  s.master_addr = "10.0.0.1";
  s.master_port = 30734;
  s.user = "ada";
  return s;
}

// NAME -> every value it was given, in order.
std::map<std::string, std::vector<std::string>> parse_env(const std::vector<std::string>& env) {
  std::map<std::string, std::vector<std::string>> out;
  for (const std::string& e : env) {
    auto eq = e.find('=');
    EXPECT_NE(eq, std::string::npos) << "entry without '=': " << e;
    if (eq != std::string::npos) out[e.substr(0, eq)].push_back(e.substr(eq + 1));
  }
  return out;
}

// ---- output_path ----

TEST(LaunchSpec, OutputPathSubstitutesJobAndRankInTheWorkdir) {
  EXPECT_EQ(output_path(two_node_spec(), "gpu-02"), "/home/ada/exp/cadre-1234-5.out");
}

TEST(LaunchSpec, OutputPathSubstitutesNodeAndAttempt) {
  LaunchSpec s = two_node_spec();
  s.output_pattern = "logs/%n/%j.%a.%t";
  EXPECT_EQ(output_path(s, "gpu-02"), "/home/ada/exp/logs/gpu-02/1234.2.5");
}

TEST(LaunchSpec, OutputPathTurnsDoublePercentIntoOnePercent) {
  LaunchSpec s = two_node_spec();
  s.output_pattern = "100%%-%%j-%j";
  EXPECT_EQ(output_path(s, "n"), "/home/ada/exp/100%-%j-1234");
}

TEST(LaunchSpec, OutputPathKeepsUnknownEscapesAndATrailingPercent) {
  LaunchSpec s = two_node_spec();
  s.output_pattern = "a%xb%";
  EXPECT_EQ(output_path(s, "n"), "/home/ada/exp/a%xb%");
}

TEST(LaunchSpec, OutputPathUsesAnAbsolutePatternAsIs) {
  LaunchSpec s = two_node_spec();
  s.output_pattern = "/scratch/%j/rank-%t.log";
  EXPECT_EQ(output_path(s, "n"), "/scratch/1234/rank-5.log");
}

TEST(LaunchSpec, OutputPathSubstitutesEveryOccurrence) {
  LaunchSpec s = two_node_spec();
  s.output_pattern = "%t-%t-%j-%j";
  EXPECT_EQ(output_path(s, "n"), "/home/ada/exp/5-5-1234-1234");
}

// ---- rank_environment ----

TEST(LaunchSpec, RankEnvironmentHasEveryVariableWithItsValue) {
  auto env = parse_env(rank_environment(two_node_spec(), "gpu-02", "/var/lib/cadre/1234/hostfile", {}));
  const std::map<std::string, std::string> want{
      {"CADRE_JOB_ID", "1234"},
      {"CADRE_JOB_NAME", "train"},
      {"CADRE_ATTEMPT", "2"},
      {"CADRE_RANK", "5"},
      {"CADRE_WORLD_SIZE", "8"},
      {"CADRE_LOCAL_RANK", "1"},
      {"CADRE_LOCAL_WORLD_SIZE", "4"},
      {"CADRE_NODE_RANK", "1"},
      {"CADRE_NNODES", "2"},
      {"CADRE_NODE_NAME", "gpu-02"},
      {"CADRE_NODELIST", "gpu-01,gpu-02"},
      {"CADRE_HOSTFILE", "/var/lib/cadre/1234/hostfile"},
      {"CUDA_VISIBLE_DEVICES", "2,3"},
      {"RANK", "5"},
      {"WORLD_SIZE", "8"},
      {"LOCAL_RANK", "1"},
      {"LOCAL_WORLD_SIZE", "4"},
      {"GROUP_RANK", "1"},
      {"MASTER_ADDR", "10.0.0.1"},
      {"MASTER_PORT", "30734"},
  };
  for (auto& [name, value] : want) {
    ASSERT_EQ(env.count(name), 1u) << name << " is missing";
    ASSERT_EQ(env[name].size(), 1u) << name << " is set more than once";
    EXPECT_EQ(env[name][0], value) << name;
  }
  EXPECT_EQ(env.size(), want.size()) << "unexpected extra variables";
}

TEST(LaunchSpec, RankEnvironmentKeepsTheBase) {
  std::vector<std::string> base{"PATH=/usr/bin:/bin", "HOME=/home/ada", "USER=ada"};
  auto env = rank_environment(two_node_spec(), "gpu-02", "/h", base);
  for (const std::string& entry : base)
    EXPECT_EQ(std::count(env.begin(), env.end(), entry), 1) << entry;
}

TEST(LaunchSpec, CadreVariablesWinOverTheBase) {
  std::vector<std::string> base{"RANK=99", "CUDA_VISIBLE_DEVICES=0,1,2,3", "HOME=/home/ada"};
  auto env = parse_env(rank_environment(two_node_spec(), "gpu-02", "/h", base));
  ASSERT_EQ(env["RANK"].size(), 1u);
  EXPECT_NE(env["RANK"][0], "99");
  ASSERT_EQ(env["CUDA_VISIBLE_DEVICES"].size(), 1u);
  EXPECT_NE(env["CUDA_VISIBLE_DEVICES"][0], "0,1,2,3");
  EXPECT_EQ(env["HOME"].size(), 1u);
}

TEST(LaunchSpec, RankWithoutGpusSeesAnEmptyCudaVisibleDevices) {
  LaunchSpec s = two_node_spec();
  s.gpus.clear();
  auto env = parse_env(rank_environment(s, "gpu-02", "/h", {}));
  ASSERT_EQ(env["CUDA_VISIBLE_DEVICES"].size(), 1u) << "unset would expose every GPU";
  EXPECT_EQ(env["CUDA_VISIBLE_DEVICES"][0], "");
}

TEST(LaunchSpec, SingleNodeSingleGpuEnvironment) {
  LaunchSpec s;
  s.job = 1;
  s.nodelist = {"solo"};
  s.tasks_per_node = {1};
  s.gpus = {7};
  s.master_addr = "solo";
  s.master_port = 29501;
  auto env = parse_env(rank_environment(s, "solo", "/h", {}));
  EXPECT_EQ(env["CADRE_NODELIST"], (std::vector<std::string>{"solo"}));
  EXPECT_EQ(env["CUDA_VISIBLE_DEVICES"], (std::vector<std::string>{"7"}));
  EXPECT_EQ(env["WORLD_SIZE"], (std::vector<std::string>{"1"}));
  EXPECT_EQ(env["RANK"], (std::vector<std::string>{"0"}));
  EXPECT_EQ(env["MASTER_PORT"], (std::vector<std::string>{"29501"}));
}

// ---- hostfile_text ----

TEST(LaunchSpec, HostfileHasOneLinePerNodeWithItsSlots) {
  LaunchSpec s = two_node_spec();
  s.tasks_per_node = {4, 2};
  EXPECT_EQ(hostfile_text(s), "gpu-01 slots=4\ngpu-02 slots=2\n");
}

TEST(LaunchSpec, HostfileDefaultsToOneSlotWhenCountsAreMissing) {
  LaunchSpec s = two_node_spec();
  s.nodelist = {"a", "b", "c"};
  s.tasks_per_node = {3};
  EXPECT_EQ(hostfile_text(s), "a slots=3\nb slots=1\nc slots=1\n");
}

TEST(LaunchSpec, HostfileOfNoNodesIsEmpty) {
  LaunchSpec s;
  EXPECT_EQ(hostfile_text(s), "");
}

}  // namespace
}  // namespace cadre::agent
