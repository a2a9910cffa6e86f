// Specification of agent/config: the [agent] section of cadre.toml.
#include "agent/config.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace cadre::agent {
namespace {

::testing::AssertionResult starts_with(const std::string& s, std::string_view prefix) {
  if (s.starts_with(prefix)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << s << "' does not start with '" << prefix << "'";
}

AgentConfig parse_ok(std::string_view text) {
  auto c = parse_agent_config(text, "cadre.toml");
  EXPECT_TRUE(c.ok()) << c.error();
  return c.ok() ? *c : AgentConfig{};
}

std::string error_of(std::string_view text) {
  auto c = parse_agent_config(text, "cadre.toml");
  EXPECT_FALSE(c.ok()) << "parsed, but expected an error:\n" << text;
  return c.ok() ? std::string() : c.error();
}

TEST(AgentConfigParse, ReadsEveryKey) {
  AgentConfig c = parse_ok(R"([agent]
master = "tcp://head:7700"
name = "node17"
cpus = 64
memory = "256G"
gpus = 8
labels = { rack = "r1", switch = "s3" }
work_dir = "/srv/cadre-agent"
address = "10.0.0.17"
kill_grace = "30s"
allow_root_jobs = true
cgroup = "/sys/fs/cgroup/cadre.slice"
cgroups = false
key = "/etc/cadre/node.key"
master_key = "/etc/cadre/master.pub"
log_level = "debug"
)");
  EXPECT_EQ(c.master, "tcp://head:7700");
  EXPECT_EQ(c.name, "node17");
  EXPECT_EQ(c.cpus, 64);
  EXPECT_EQ(c.memory_mb, 256 * 1024);
  EXPECT_EQ(c.gpus, 8);
  ASSERT_TRUE(c.labels.has_value());
  EXPECT_EQ(*c.labels, (Labels{{"rack", "r1"}, {"switch", "s3"}}));
  EXPECT_EQ(c.work_dir, "/srv/cadre-agent");
  EXPECT_EQ(c.address, "10.0.0.17");
  EXPECT_EQ(c.kill_grace_s, 30);
  EXPECT_EQ(c.allow_root_jobs, true);
  EXPECT_EQ(c.cgroup, "/sys/fs/cgroup/cadre.slice");
  EXPECT_EQ(c.cgroups, false);
  EXPECT_EQ(c.key, "/etc/cadre/node.key");
  EXPECT_EQ(c.master_key, "/etc/cadre/master.pub");
  EXPECT_EQ(c.log_level, "debug");
}

TEST(AgentConfigParse, EmptyFileAndMissingSectionSetNothing) {
  for (std::string_view text : {"", "[master]\nlisten = \"tcp://*:7700\"\n"}) {
    AgentConfig c = parse_ok(text);
    EXPECT_FALSE(c.master || c.name || c.cpus || c.memory_mb || c.gpus || c.labels || c.work_dir || c.address ||
                 c.kill_grace_s || c.allow_root_jobs || c.cgroup || c.cgroups || c.key || c.master_key ||
                 c.log_level);
  }
}

TEST(AgentConfigParse, AMalformedMasterEndpointIsRefused) {
  EXPECT_EQ(error_of("[agent]\nmaster = \"tcp://head\"\n"),
            "cadre.toml:2:10: agent.master: 'tcp://head': no port (expected tcp://HOST:PORT or ipc:///path)");
  EXPECT_NE(error_of("[agent]\nmaster = \"tcp://a:1,tcp://b:2\"\n").find("one master"), std::string::npos);
  EXPECT_EQ(parse_ok("[agent]\nmaster = \"tcp://[fd00::1]:7700\"\n").master, "tcp://[fd00::1]:7700");
}

TEST(AgentConfigParse, LabelsMayBeTheFlagsText) {
  AgentConfig c = parse_ok("[agent]\nlabels = \"rack=r1,switch=s3\"\n");
  ASSERT_TRUE(c.labels.has_value());
  EXPECT_EQ(*c.labels, (Labels{{"rack", "r1"}, {"switch", "s3"}}));
}

TEST(AgentConfigParse, FeaturesAreAnArrayOrTheFlagsText) {
  AgentConfig c = parse_ok("[agent]\nfeatures = [\"a100\", \"ib\"]\n");
  ASSERT_TRUE(c.features.has_value());
  EXPECT_EQ(*c.features, (std::vector<std::string>{"a100", "ib"}));
  EXPECT_EQ(*parse_ok("[agent]\nfeatures = \"a100, ib\"\n").features, (std::vector<std::string>{"a100", "ib"}));
  EXPECT_NE(error_of("[agent]\nfeatures = [\"a|b\"]\n").find("holds a character other than"), std::string::npos);
  EXPECT_NE(error_of("[agent]\nfeatures = [1]\n").find("an array of strings"), std::string::npos);
  EXPECT_NE(error_of("[agent]\nfeatures = 5\n").find("an array of strings"), std::string::npos);
}

TEST(AgentConfigParse, KillGraceTakesSecondsOrADuration) {
  EXPECT_EQ(parse_ok("[agent]\nkill_grace = 5\n").kill_grace_s, 5);
  EXPECT_EQ(parse_ok("[agent]\nkill_grace = \"2m\"\n").kill_grace_s, 120);
  EXPECT_EQ(parse_ok("[agent]\nkill_grace = 0\n").kill_grace_s, 0);
}

TEST(AgentConfigParse, TheMastersSectionsAreKnownButNotChecked) {
  // A value the master would refuse is the master's business.
  parse_ok("[master]\nnode_timeout = \"soon\"\n[scheduler]\npolicy = \"x\"\n[[partition]]\nbogus = 1\n"
           "[limits]\n[security]\nkey = 5\n[agent]\ncpus = 2\n");
}

TEST(AgentConfigErrors, UnknownKeysNameFileLineAndSuggest) {
  EXPECT_TRUE(starts_with(error_of("[agent]\ncpus = 2\nmaster_kye = \"x\"\n"),
                          "cadre.toml:3:1: unknown key 'master_kye' in [agent] (did you mean 'master_key'?)"));
  EXPECT_TRUE(starts_with(error_of("[agnet]\n"), "cadre.toml:1:2: unknown table [agnet] (did you mean 'agent'?)"));
}

TEST(AgentConfigErrors, WrongTypesNameTheKey) {
  EXPECT_TRUE(starts_with(error_of("[agent]\ncpus = \"4\"\n"), "cadre.toml:2:8: agent.cpus: expected an integer"));
  EXPECT_TRUE(starts_with(error_of("[agent]\nmaster = 7700\n"), "cadre.toml:2:10: agent.master: expected a non-empty string"));
  EXPECT_TRUE(starts_with(error_of("[agent]\ncgroups = \"no\"\n"), "cadre.toml:2:11: agent.cgroups: expected true or false"));
  EXPECT_TRUE(starts_with(error_of("[agent]\nallow_root_jobs = 1\n"), "cadre.toml:2:19: agent.allow_root_jobs"));
  EXPECT_TRUE(starts_with(error_of("[agent]\nlabels = 3\n"), "cadre.toml:2:10: agent.labels: expected a table"));
  EXPECT_TRUE(starts_with(error_of("[agent]\nlabels = { rack = 1 }\n"), "cadre.toml:2:19: agent.labels.rack: expected a string"));
  EXPECT_TRUE(starts_with(error_of("agent = 5\n"), "cadre.toml:1:9: agent: expected a table"));
}

TEST(AgentConfigErrors, BadValuesSayWhatIsWanted) {
  EXPECT_TRUE(starts_with(error_of("[agent]\ncpus = 0\n"), "cadre.toml:2:8: agent.cpus: must be at least 1, got 0"));
  EXPECT_TRUE(starts_with(error_of("[agent]\ngpus = -1\n"), "cadre.toml:2:8: agent.gpus: must not be negative"));
  EXPECT_TRUE(starts_with(error_of("[agent]\ngpus = 65\n"), "cadre.toml:2:8: agent.gpus: must be at most 64"));
  EXPECT_TRUE(starts_with(error_of("[agent]\nmemory = 32\n"), "cadre.toml:2:10: agent.memory: expected a size like \"32G\""));
  EXPECT_TRUE(starts_with(error_of("[agent]\nmemory = \"lots\"\n"), "cadre.toml:2:10: agent.memory: "));
  EXPECT_TRUE(starts_with(error_of("[agent]\nname = \"node 1\"\n"), "cadre.toml:2:8: agent.name: a node name is"));
  EXPECT_TRUE(starts_with(error_of("[agent]\nkill_grace = \"2h\"\n"), "cadre.toml:2:14: agent.kill_grace: must be at most 1h"));
  EXPECT_TRUE(starts_with(error_of("[agent]\nkill_grace = \"soon\"\n"), "cadre.toml:2:14: agent.kill_grace: expected a duration"));
  EXPECT_TRUE(starts_with(error_of("[agent]\ncgroup = \"cadre.slice\"\n"), "cadre.toml:2:10: agent.cgroup: expected the absolute path"));
  EXPECT_TRUE(starts_with(error_of("[agent]\nlog_level = \"loud\"\n"), "cadre.toml:2:13: agent.log_level: expected one of debug, info"));
  EXPECT_TRUE(starts_with(error_of("[agent]\nlabels = \"rack\"\n"), "cadre.toml:2:10: agent.labels: expected key=value pairs"));
  EXPECT_TRUE(starts_with(error_of("[agent]\nlabels = { \"a=b\" = \"c\" }\n"), "cadre.toml:2:20: agent.labels.a=b: labels have no ','"));
}

TEST(AgentConfigErrors, KeyAndMasterKeyGoTogether) {
  EXPECT_TRUE(starts_with(error_of("[agent]\ncpus = 1\nkey = \"/k\"\n"), "cadre.toml:3:7: agent.key: needs agent.master_key too"));
  EXPECT_TRUE(starts_with(error_of("[agent]\nmaster_key = \"/k.pub\"\n"), "cadre.toml:2:14: agent.master_key: needs agent.key too"));
}

TEST(AgentConfigLoad, DropInsOverrideKeyByKeyAndErrorsNameTheirFile) {
  const std::string dir = testing::TempDir() + "/agent_config_test_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/cadre.toml.d");
  const std::string path = dir + "/cadre.toml";
  std::ofstream(path) << "[agent]\nmaster = \"tcp://old:7700\"\ncpus = 4\n";
  std::ofstream(dir + "/cadre.toml.d/50-join.toml") << "[agent]\nmaster = \"tcp://head:7700\"\nname = \"node9\"\n";
  std::ofstream(dir + "/cadre.toml.d/README") << "not toml, not read";
  auto c = load_agent_config(path);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->master, "tcp://head:7700");
  EXPECT_EQ(c->name, "node9");
  EXPECT_EQ(c->cpus, 4);

  std::ofstream(dir + "/cadre.toml.d/60-local.toml") << "# local\n[agent]\ngpus = \"all\"\n";
  auto bad = load_agent_config(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(starts_with(bad.error(), dir + "/cadre.toml.d/60-local.toml:3:8: agent.gpus: expected an integer"));
  std::filesystem::remove_all(dir);
}

TEST(AgentConfigLoad, ThePackagedConfigParses) {
  const std::string path = std::string(CADRE_SOURCE_DIR) + "/packaging/cadre.toml";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is not in this tree";
  auto c = load_agent_config(path);
  EXPECT_TRUE(c.ok()) << c.error();
}

TEST(AgentConfigLoad, MissingFileSaysWhichAndWhy) {
  auto c = load_agent_config("/nonexistent/cadre.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error(), "cannot read config file /nonexistent/cadre.toml: No such file or directory");
}

TEST(AgentConfigErrors, AnAddressIsOneWordOfPrintableText) {
  EXPECT_EQ(parse_ok("[agent]\naddress = \"fe80::1%eth0\"\n").address, "fe80::1%eth0");
  EXPECT_TRUE(starts_with(error_of("[agent]\naddress = \"a b\"\n"), "cadre.toml:2:11: agent.address: an address is"));
  EXPECT_TRUE(starts_with(error_of("[agent]\naddress = \"\"\n"), "cadre.toml:2:11: agent.address: expected a non-empty"));
}

TEST(AgentConfigErrors, LabelsAreBoundedAsTheMasterBoundsThem) {
  std::string many = "[agent]\nlabels = {";
  for (size_t i = 0; i <= limits::kMaxLabels; ++i) many += (i ? ", k" : " k") + std::to_string(i) + " = \"v\"";
  EXPECT_TRUE(starts_with(error_of(many + " }\n"), "cadre.toml:2:10: agent.labels: 65 labels; at most 64"));
}

TEST(NodeNames, AreKeyFileNames) {
  for (std::string_view good : {"node17", "gpu-01.rack_2", "n"})
    EXPECT_TRUE(check_node_name(good).ok()) << good;
  const std::string longest(limits::kMaxNodeNameBytes, 'n');
  EXPECT_TRUE(check_node_name(longest).ok());
  for (std::string_view bad : {"", " ", "a b", "a,b", "a=b", "../x", "a/b", ".hidden", "x\x01y", "x\ny", "x\xffy", "\t"})
    EXPECT_FALSE(check_node_name(bad).ok()) << bad;
  EXPECT_FALSE(check_node_name(longest + "n").ok());
  EXPECT_NE(check_node_name("a/b").error().find("'a/b'"), std::string::npos);
}

TEST(Addresses, AreAHostNameOrAnIpLiteral) {
  for (std::string_view good : {"10.0.0.17", "node17.example.org", "::1", "garbage"})
    EXPECT_TRUE(check_address(good).ok()) << good;
  for (std::string_view bad : {"", " ", "a b", "x\x01y", "x\ny", "x\xffy"})
    EXPECT_FALSE(check_address(bad).ok()) << bad;
  EXPECT_TRUE(check_address(std::string(limits::kMaxAddressBytes, 'a')).ok());
  EXPECT_FALSE(check_address(std::string(limits::kMaxAddressBytes + 1, 'a')).ok());
}

TEST(Labels, ParseTheFlagsText) {
  auto l = parse_labels("rack=r1,switch=");
  ASSERT_TRUE(l.ok()) << l.error();
  EXPECT_EQ(*l, (Labels{{"rack", "r1"}, {"switch", ""}}));
  EXPECT_FALSE(parse_labels("=r1").ok());
  EXPECT_FALSE(parse_labels("rack=r1,").ok());
}

TEST(Labels, AtMost64OfAtMost256BytesEach) {
  std::string many;
  for (size_t i = 0; i < limits::kMaxLabels; ++i) many += (i ? ",k" : "k") + std::to_string(i) + "=v";
  EXPECT_TRUE(parse_labels(many).ok());
  EXPECT_EQ(parse_labels(many + ",one=more").error(), "65 labels; at most 64 are allowed");
  const std::string longest(limits::kMaxLabelBytes, 'a');
  EXPECT_TRUE(parse_labels(longest + "=" + longest).ok());
  EXPECT_FALSE(parse_labels(longest + "a=1").ok());
  EXPECT_FALSE(parse_labels("k=" + longest + "a").ok());
}

}  // namespace
}  // namespace cadre::agent
