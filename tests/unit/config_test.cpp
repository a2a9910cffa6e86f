// Specification of master/config: cadre.toml, its checks and node patterns.
#include "master/config.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "common/toml_file.hpp"

namespace cadre {
namespace {

// Assertions that print the whole message when they fail.
::testing::AssertionResult starts_with(const std::string& s, std::string_view prefix) {
  if (s.starts_with(prefix)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << s << "' does not start with '" << prefix << "'";
}
::testing::AssertionResult contains(const std::string& s, std::string_view part) {
  if (s.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << s << "' does not contain '" << part << "'";
}

MasterConfig parse_ok(std::string_view text) {
  auto c = parse_master_config(text, "cadre.toml");
  EXPECT_TRUE(c.ok()) << c.error();
  return c.ok() ? *c : MasterConfig{};
}

std::string error_of(std::string_view text) {
  auto c = parse_master_config(text, "cadre.toml");
  EXPECT_FALSE(c.ok()) << "parsed, but expected an error:\n" << text;
  return c.ok() ? std::string() : c.error();
}

constexpr std::string_view kFull = R"([master]
listen = "tcp://*:7701"
state_dir = "/srv/cadre"
node_timeout = "45s"
max_retries = 5
master_ports = "31000-31999"
log_level = "debug"

[scheduler]
policy = "conservative"
preemption = false
reservation_depth = 50
unlimited_as = "30d"
interval = "2s"
debounce = "250ms"
fairshare_half_life = "1d"
gpu_billing = 4.5

[scheduler.weights]
age = 10.0
max_age = "2d"
size = 20
fairshare = 30.5
job = 40.0
partition = 50.0

[[partition]]
name = "gpu"
nodes = ["gpu[01-16]", "dgx*"]
default = true
default_time = "1h"
max_time = "2-00:00:00"
tier = 1
preemptible = false
max_running_jobs_per_user = 10
max_gpus_per_user = 32

[[partition]]
name = "cpu"
tier = -2
)";

// ---- What a file sets ----

TEST(ConfigParse, ReadsEveryKeyIntoTheConfig) {
  MasterConfig c = parse_ok(kFull);
  EXPECT_EQ(c.listen, "tcp://*:7701");
  EXPECT_EQ(c.state_dir, "/srv/cadre");
  EXPECT_EQ(c.node_timeout_ms, 45000);
  EXPECT_EQ(c.max_retries, 5u);
  EXPECT_EQ(c.master_ports, (PortRange{31000, 1000}));
  EXPECT_EQ(c.log_level, "debug");

  EXPECT_EQ(c.policy.backfill, sched::Backfill::conservative);
  EXPECT_FALSE(c.policy.preemption);
  EXPECT_EQ(c.policy.reservation_depth, 50u);
  EXPECT_EQ(c.policy.unlimited_as_s, 30 * 86400);
  EXPECT_EQ(c.interval_ms, 2000);
  EXPECT_EQ(c.debounce_ms, 250);
  EXPECT_EQ(c.fairshare_half_life_s, 86400);
  EXPECT_DOUBLE_EQ(c.gpu_billing, 4.5);

  EXPECT_DOUBLE_EQ(c.policy.weights.age, 10.0);
  EXPECT_EQ(c.policy.weights.max_age_s, 2 * 86400);
  EXPECT_DOUBLE_EQ(c.policy.weights.size, 20.0);
  EXPECT_DOUBLE_EQ(c.policy.weights.fairshare, 30.5);
  EXPECT_DOUBLE_EQ(c.policy.weights.job, 40.0);
  EXPECT_DOUBLE_EQ(c.policy.weights.partition, 50.0);

  ASSERT_EQ(c.partitions.size(), 2u);
  const PartitionConfig& gpu = c.partitions[0];
  EXPECT_EQ(gpu.name, "gpu");
  EXPECT_EQ(gpu.nodes, (std::vector<std::string>{"gpu[01-16]", "dgx*"}));
  EXPECT_TRUE(gpu.is_default);
  EXPECT_EQ(gpu.default_time_s, 3600);
  EXPECT_EQ(gpu.max_time_s, 2 * 86400);
  EXPECT_EQ(gpu.tier, 1);
  EXPECT_FALSE(gpu.preemptible);
  EXPECT_EQ(gpu.max_running_jobs_per_user, 10u);
  EXPECT_EQ(gpu.max_gpus_per_user, 32);

  const PartitionConfig& cpu = c.partitions[1];
  EXPECT_EQ(cpu.name, "cpu");
  EXPECT_TRUE(cpu.nodes.empty());
  EXPECT_FALSE(cpu.is_default);
  EXPECT_EQ(cpu.default_time_s, 0);
  EXPECT_EQ(cpu.max_time_s, 0);
  EXPECT_EQ(cpu.tier, -2);
  EXPECT_TRUE(cpu.preemptible);
  EXPECT_EQ(cpu.max_running_jobs_per_user, 0u);
  EXPECT_EQ(cpu.max_gpus_per_user, 0);
}

TEST(ConfigParse, EmptyFileKeepsEveryDefault) {
  MasterConfig c = parse_ok("# nothing set\n");
  MasterConfig d;
  EXPECT_FALSE(c.listen || c.state_dir || c.log_level || c.node_timeout_ms || c.max_retries);
  EXPECT_EQ(c.policy.backfill, d.policy.backfill);
  EXPECT_EQ(c.policy.preemption, d.policy.preemption);
  EXPECT_EQ(c.policy.reservation_depth, d.policy.reservation_depth);
  EXPECT_EQ(c.policy.unlimited_as_s, d.policy.unlimited_as_s);
  EXPECT_EQ(c.policy.weights.max_age_s, d.policy.weights.max_age_s);
  EXPECT_DOUBLE_EQ(c.policy.weights.fairshare, d.policy.weights.fairshare);
  EXPECT_EQ(c.interval_ms, 10000);
  EXPECT_EQ(c.debounce_ms, 0);
  EXPECT_EQ(c.fairshare_half_life_s, 7 * 86400);
  EXPECT_DOUBLE_EQ(c.gpu_billing, 8.0);
  EXPECT_TRUE(c.partitions.empty());
  EXPECT_EQ(default_partition(c), "default");
}

TEST(ConfigParse, DurationsAreSecondsSuffixedOrSlurmTimes) {
  auto interval_of = [](const std::string& v) { return parse_ok("[scheduler]\ninterval = " + v + "\n").interval_ms; };
  EXPECT_EQ(interval_of("45"), 45000);
  EXPECT_EQ(interval_of("\"500ms\""), 500);
  EXPECT_EQ(interval_of("\"30s\""), 30000);
  EXPECT_EQ(interval_of("\"5m\""), 300000);
  EXPECT_EQ(interval_of("\"2h\""), 7200000);
  EXPECT_EQ(interval_of("\"7d\""), 7 * 86400000LL);
  EXPECT_EQ(interval_of("\"1:00:00\""), 3600000);
  EXPECT_EQ(interval_of("\"2-00:00:00\""), 2 * 86400000LL);
}

TEST(ConfigParse, UnlimitedMaxTimeMeansNone) {
  MasterConfig c = parse_ok("[[partition]]\nname = \"p\"\nmax_time = \"UNLIMITED\"\n");
  EXPECT_EQ(c.partitions.at(0).max_time_s, 0);
}

TEST(ConfigParse, DefaultPartitionIsTheMarkedOneElseTheFirst) {
  EXPECT_EQ(default_partition(parse_ok(kFull)), "gpu");
  MasterConfig second = parse_ok("[[partition]]\nname = \"a\"\n[[partition]]\nname = \"b\"\ndefault = true\n");
  EXPECT_EQ(default_partition(second), "b");
  EXPECT_EQ(default_partition(parse_ok("[[partition]]\nname = \"a\"\n[[partition]]\nname = \"b\"\n")), "a");
}

TEST(ConfigParse, ExampleFileParses) {
  auto c = load_master_config(std::string(CADRE_SOURCE_DIR) + "/packaging/cadre.toml.example");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->listen, "tcp://*:7700");
  EXPECT_EQ(c->policy.backfill, sched::Backfill::easy);
  ASSERT_EQ(c->partitions.size(), 2u);
  EXPECT_EQ(default_partition(*c), "gpu");
  ASSERT_EQ(c->qos.size(), 2u);
  EXPECT_EQ(default_qos_name(c->qos), "normal");
}

TEST(ConfigParse, AccountsAreNamesWithTheirMembers) {
  MasterConfig c = parse_ok("[accounts]\nphysics = [\"alice\", \"bob\"]\nchem-lab = []\n\"a.b_c\" = [\"Carol-2\"]\n");
  EXPECT_EQ(c.accounts, (std::map<std::string, std::vector<std::string>>{
                            {"a.b_c", {"Carol-2"}}, {"chem-lab", {}}, {"physics", {"alice", "bob"}}}));
  EXPECT_TRUE(parse_ok("").accounts.empty()) << "no [accounts]: everyone charges their own name only";
}

// ---- Errors name file, line, column and key ----

TEST(ConfigErrors, UnknownKeyNamesItsTableAndSuggestsTheKey) {
  std::string e = error_of("[scheduler]\ninterval = \"5s\"\npolcy = \"easy\"\n");
  EXPECT_TRUE(starts_with(e, "cadre.toml:3:1: unknown key 'polcy' in [scheduler]"));
  EXPECT_TRUE(contains(e, "did you mean 'policy'?"));
}

TEST(ConfigErrors, UnknownKeyWithNoCloseMatchListsTheKnownOnes) {
  EXPECT_TRUE(starts_with(error_of("[master]\n\nbananas = 1\n"),
                          "cadre.toml:3:1: unknown key 'bananas' in [master] (known keys: listen, state_dir"));
}

TEST(ConfigErrors, UnknownTablesAnywhereAreErrors) {
  EXPECT_TRUE(starts_with(error_of("[schedular]\npolicy = \"easy\"\n"), "cadre.toml:1:2: unknown table [schedular]"));
  EXPECT_TRUE(
      starts_with(error_of("[scheduler.weigths]\nage = 1\n"), "cadre.toml:1:12: unknown table [scheduler.weigths]"));
  EXPECT_TRUE(
      starts_with(error_of("\n[[partitions]]\nname = \"a\"\n"), "cadre.toml:2:3: unknown table [[partitions]]"));
  EXPECT_TRUE(starts_with(error_of("x = 1\n"), "cadre.toml:1:1: unknown key 'x' at the top level"));
  EXPECT_TRUE(starts_with(error_of("[[partition]]\nname = \"a\"\ncolour = \"red\"\n"),
                          "cadre.toml:3:1: unknown key 'colour' in [[partition]]"));
}

TEST(ConfigErrors, BadChoiceListsTheChoices) {
  EXPECT_EQ(error_of("# comment\n\n\n\n\n[scheduler]\npolicy = \"eazy\"\n"),
            "cadre.toml:7:10: scheduler.policy: expected one of fcfs, greedy, easy, conservative, got 'eazy'");
  EXPECT_EQ(error_of("[master]\nlog_level = \"loud\"\n"),
            "cadre.toml:2:13: master.log_level: expected one of debug, info, warning, error, got 'loud'");
}

TEST(ConfigErrors, AMalformedListenEndpointIsNamedWithItsLine) {
  EXPECT_EQ(error_of("[master]\nlisten = \"tcp://*:99999\"\n"),
            "cadre.toml:2:10: master.listen: 'tcp://*:99999': port '99999' is above 65535 (expected tcp://HOST:PORT or "
            "ipc:///path)");
  EXPECT_TRUE(contains(error_of("[master]\nlisten = \"inproc://x\"\n"), "inproc"));
  EXPECT_TRUE(contains(error_of("[master]\nlisten = \"tcp://*:7700,\"\n"), "endpoint 2 of the list is empty"));
  // Port 0 (the kernel chooses) and a list are what a master may bind.
  EXPECT_EQ(parse_ok("[master]\nlisten = \"tcp://127.0.0.1:0,ipc:///run/cadre/x.sock\"\n").listen,
            "tcp://127.0.0.1:0,ipc:///run/cadre/x.sock");
}

TEST(ConfigErrors, BadDurationSaysWhatADurationLooksLike) {
  EXPECT_EQ(error_of("[master]\nlisten = \"tcp://*:1\"\nnode_timeout = true\n"),
            "cadre.toml:3:16: master.node_timeout: expected a duration like \"30s\", got true");
  EXPECT_TRUE(starts_with(error_of("[scheduler]\ninterval = \"5 minutes\"\n"),
                          "cadre.toml:2:12: scheduler.interval: expected a duration like \"30s\", got '5 minutes'"));
  EXPECT_TRUE(starts_with(error_of("[scheduler]\ninterval = -5\n"), "cadre.toml:2:12: scheduler.interval: expected"));
  EXPECT_TRUE(starts_with(error_of("[scheduler]\ninterval = \"99999999d\"\n"), "cadre.toml:2:12: scheduler.interval"));
  EXPECT_TRUE(contains(error_of("[scheduler]\ninterval = \"99999999d\"\n"), "(at most 100000 days)"));
  EXPECT_TRUE(contains(error_of("[scheduler]\ninterval = 8640000000001\n"), "(at most 100000 days)"));
}

TEST(ConfigErrors, QuotedBareNumberIsAmbiguous) {
  std::string e = error_of("[scheduler]\ninterval = \"90\"\n");
  EXPECT_TRUE(starts_with(e, "cadre.toml:2:12: scheduler.interval:"));
  EXPECT_TRUE(contains(e, "write 90 for seconds"));
}

TEST(ConfigErrors, DurationsThatMustBePositiveOrWholeSeconds) {
  EXPECT_TRUE(starts_with(error_of("[scheduler]\ninterval = 0\n"),
                          "cadre.toml:2:12: scheduler.interval: must be longer than zero"));
  EXPECT_TRUE(starts_with(error_of("[scheduler]\nfairshare_half_life = \"1500ms\"\n"),
                          "cadre.toml:2:23: scheduler.fairshare_half_life: must be a whole number of seconds"));
  EXPECT_TRUE(starts_with(error_of("[scheduler.weights]\nmax_age = \"0s\"\n"),
                          "cadre.toml:2:11: scheduler.weights.max_age: must be longer than zero"));
}

TEST(ConfigErrors, SyntaxErrorsCarryTomlsPosition) {
  EXPECT_TRUE(starts_with(error_of("[master]\nlisten = = 1\n"), "cadre.toml:2:10: "));
  EXPECT_TRUE(starts_with(error_of("[master]\nlisten = \"a\"\nlisten = \"b\"\n"), "cadre.toml:3:"));
}

TEST(ConfigErrors, WrongTypesNameTheKey) {
  EXPECT_EQ(error_of("[master]\nlisten = 7700\n"),
            "cadre.toml:2:10: master.listen: expected a non-empty string, got 7700");
  EXPECT_EQ(error_of("[scheduler]\npreemption = \"yes\"\n"),
            "cadre.toml:2:14: scheduler.preemption: expected true or false, got 'yes'");
  EXPECT_EQ(error_of("[scheduler]\nreservation_depth = 1.5\n"),
            "cadre.toml:2:21: scheduler.reservation_depth: expected an integer, got 1.5");
  EXPECT_TRUE(starts_with(error_of("master = 1\n"), "cadre.toml:1:10: master: expected a table, got 1"));
}

TEST(ConfigErrors, MasterPortsMustBeARangeOfUnprivilegedPorts) {
  EXPECT_TRUE(starts_with(error_of("[master]\nmaster_ports = \"80-90\"\n"),
                          "cadre.toml:2:16: master.master_ports: expected a port range FIRST-LAST"));
  EXPECT_TRUE(starts_with(error_of("[master]\nmaster_ports = 29500\n"), "cadre.toml:2:16: master.master_ports: expected a non-empty string"));
}

TEST(ConfigErrors, IntegersMustBeInRange) {
  EXPECT_EQ(error_of("[master]\nmax_retries = -1\n"),
            "cadre.toml:2:15: master.max_retries: must not be negative, got -1");
  EXPECT_EQ(error_of("[master]\nmax_retries = 4294967296\n"),
            "cadre.toml:2:15: master.max_retries: must be at most 4294967295, got 4294967296");
  EXPECT_TRUE(starts_with(error_of("[[partition]]\nname = \"a\"\ntier = 2147483648\n"),
                          "cadre.toml:3:8: partition.tier: must be at most 2147483647"));
  EXPECT_TRUE(starts_with(error_of("[[partition]]\nname = \"a\"\ntier = -2147483649\n"),
                          "cadre.toml:3:8: partition.tier: must be at least -2147483648"));
  EXPECT_TRUE(starts_with(error_of("[[partition]]\nname = \"a\"\nmax_gpus_per_user = -3\n"),
                          "cadre.toml:3:21: partition.max_gpus_per_user: must not be negative"));
}

TEST(ConfigErrors, WeightsMustBeFiniteAndNotNegative) {
  EXPECT_EQ(error_of("[scheduler.weights]\nage = -1.0\n"),
            "cadre.toml:2:7: scheduler.weights.age: expected a finite number >= 0, got -1");
  EXPECT_TRUE(starts_with(error_of("[scheduler.weights]\nsize = inf\n"), "cadre.toml:2:8: scheduler.weights.size:"));
  EXPECT_TRUE(starts_with(error_of("[scheduler.weights]\njob = nan\n"), "cadre.toml:2:7: scheduler.weights.job:"));
  EXPECT_TRUE(starts_with(error_of("[scheduler]\ngpu_billing = \"8\"\n"),
                          "cadre.toml:2:15: scheduler.gpu_billing: expected a number, got '8'"));
}

TEST(ConfigErrors, PartitionMustBeAnArrayOfTables) {
  std::string e = error_of("[partition]\nname = \"a\"\n");
  EXPECT_TRUE(starts_with(e, "cadre.toml:1:1: partition: expected [[partition]] tables, got a table"));
  EXPECT_TRUE(contains(e, "two brackets"));
}

TEST(ConfigErrors, PartitionNeedsAValidName) {
  EXPECT_TRUE(starts_with(error_of("[master]\n\n[[partition]]\ntier = 1\n"),
                          "cadre.toml:3:1: partition: every [[partition]] needs a name"));
  EXPECT_TRUE(starts_with(error_of("[[partition]]\nname = \"gpu nodes\"\n"),
                          "cadre.toml:2:8: partition.name: expected a name of 1 to 64 letters"));
  EXPECT_TRUE(starts_with(error_of("[[partition]]\nname = \"\"\n"), "cadre.toml:2:8: partition.name:"));
  EXPECT_TRUE(starts_with(error_of("[[partition]]\nname = \"" + std::string(65, 'a') + "\"\n"),
                          "cadre.toml:2:8: partition.name:"));
  EXPECT_TRUE(parse_ok("[[partition]]\nname = \"" + std::string(64, 'a') + "\"\n").partitions.size() == 1);
  EXPECT_TRUE(parse_ok("[[partition]]\nname = \"A_b.c-9\"\n").partitions.size() == 1);
}

TEST(ConfigErrors, PartitionNamesAreUnique) {
  EXPECT_EQ(error_of("[[partition]]\nname = \"a\"\n\n[[partition]]\nname = \"a\"\n"),
            "cadre.toml:5:8: partition.name: 'a' is already the name of the partition at line 1");
}

TEST(ConfigErrors, AtMostOnePartitionIsTheDefault) {
  EXPECT_EQ(error_of("[[partition]]\nname = \"a\"\ndefault = true\n[[partition]]\nname = \"b\"\ndefault = true\n"),
            "cadre.toml:6:11: partition.default: 'b' and 'a' (line 1) are both marked default; only one may be");
}

TEST(ConfigErrors, AtMost64Partitions) {
  std::string text;
  for (int i = 0; i < 65; ++i) text += "[[partition]]\nname = \"p" + std::to_string(i) + "\"\n";
  EXPECT_EQ(error_of(text), "cadre.toml:129:1: too many partitions: at most 64");
  text.resize(text.rfind("[[partition]]"));
  EXPECT_EQ(parse_ok(text).partitions.size(), 64u);
}

TEST(ConfigErrors, MaxTimeIsAtLeastDefaultTime) {
  EXPECT_EQ(error_of("[[partition]]\nname = \"a\"\ndefault_time = \"2h\"\nmax_time = \"1h\"\n"),
            "cadre.toml:3:16: partition.default_time: 2:00:00 is longer than max_time 1:00:00");
  parse_ok("[[partition]]\nname = \"a\"\ndefault_time = \"1h\"\nmax_time = \"1h\"\n");
  parse_ok("[[partition]]\nname = \"a\"\ndefault_time = \"2h\"\n");
}

TEST(ConfigErrors, NodePatternsMustBeValid) {
  EXPECT_EQ(error_of("[[partition]]\nname = \"a\"\nnodes = [\"n1\", \"gpu[01-\"]\n"),
            "cadre.toml:3:16: partition.nodes: invalid node pattern 'gpu[01-': the '[' at position 4 is never closed");
  std::string e = error_of("[[partition]]\nname = \"a\"\nnodes = [\"gpu[16-01]\"]\n");
  EXPECT_TRUE(starts_with(e, "cadre.toml:3:10: partition.nodes: invalid node pattern 'gpu[16-01]'"));
  EXPECT_TRUE(contains(e, "runs backwards"));
  EXPECT_TRUE(starts_with(error_of("[[partition]]\nname = \"a\"\nnodes = [\"gpu]\"]\n"),
                          "cadre.toml:3:10: partition.nodes: invalid node pattern 'gpu]'"));
  EXPECT_TRUE(starts_with(error_of("[[partition]]\nname = \"a\"\nnodes = [\"gpu[a-b]\"]\n"),
                          "cadre.toml:3:10: partition.nodes: invalid node pattern 'gpu[a-b]'"));
  EXPECT_TRUE(starts_with(error_of("[[partition]]\nname = \"a\"\nnodes = [\"\"]\n"),
                          "cadre.toml:3:10: partition.nodes: invalid node pattern ''"));
  EXPECT_TRUE(contains(error_of("[[partition]]\nname = \"a\"\nnodes = [\"a[1-2],b1\"]\n"),
                       "give each pattern as its own string"));
  EXPECT_TRUE(starts_with(error_of("[[partition]]\nname = \"a\"\nnodes = [3]\n"),
                          "cadre.toml:3:10: partition.nodes: expected a node pattern (a string), got 3"));
  EXPECT_TRUE(starts_with(error_of("[[partition]]\nname = \"a\"\nnodes = \"n1\"\n"),
                          "cadre.toml:3:9: partition.nodes: expected a list of node patterns"));
  EXPECT_TRUE(starts_with(error_of("[[partition]]\nname = \"a\"\nnodes = []\n"),
                          "cadre.toml:3:9: partition.nodes: an empty list matches no node"));
}

TEST(ConfigErrors, AccountNamesAndMembersAreUserNames) {
  EXPECT_TRUE(starts_with(error_of("[accounts]\nphysics = \"alice\"\n"),
                          "cadre.toml:2:11: accounts.physics: expected a list of user names"));
  EXPECT_TRUE(starts_with(error_of("[accounts]\nphysics = [\"alice\", 7]\n"),
                          "cadre.toml:2:21: accounts.physics: expected a user name (a string)"));
  std::string e = error_of("[accounts]\nphysics = [\"alice\", \"bob smith\"]\n");
  EXPECT_TRUE(starts_with(e, "cadre.toml:2:21: accounts.physics: 'bob smith' is not a usable user name"));
  EXPECT_TRUE(starts_with(error_of("[accounts]\nphysics = [\"\"]\n"), "cadre.toml:2:12: accounts.physics: '' is not"));
  EXPECT_TRUE(starts_with(error_of("[accounts]\nphysics = [\"-rf\"]\n"), "cadre.toml:2:12: accounts.physics:"));
  EXPECT_TRUE(starts_with(error_of("[accounts]\nphysics = [\"alice\", \"alice\"]\n"),
                          "cadre.toml:2:21: accounts.physics: 'alice' is listed twice"));

  const std::string long_name(65, 'a');
  e = error_of("[accounts]\n" + long_name + " = []\n");
  EXPECT_TRUE(starts_with(e, "cadre.toml:2:") && contains(e, "is not a usable account name (1 to 64")) << e;
  EXPECT_EQ(parse_ok("[accounts]\n" + std::string(64, 'a') + " = []\n").accounts.size(), 1u);
  e = error_of("[accounts]\n\"high energy\" = [\"alice\"]\n");
  EXPECT_TRUE(contains(e, "'high energy' is not a usable account name")) << e;
  EXPECT_TRUE(starts_with(error_of("accounts = 3\n"), "cadre.toml:1:12: accounts: expected a table"));
}

TEST(ConfigErrors, FirstErrorInTheFileIsReported) {
  // toml++ keeps keys sorted; errors still come in the order of the file.
  EXPECT_TRUE(starts_with(error_of("[scheduler]\npolicy = \"x\"\ninterval = true\n"), "cadre.toml:2:"));
  EXPECT_TRUE(starts_with(error_of("[scheduler]\ninterval = true\npolicy = \"x\"\n"), "cadre.toml:2:"));
}

// ---- Loading a file ----

TEST(ConfigLoad, MissingFileSaysWhichAndWhy) {
  auto c = load_master_config("/nonexistent/cadre.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error(), "cannot read config file /nonexistent/cadre.toml: No such file or directory");
}

TEST(ConfigLoad, DirectoryIsNotAConfigFile) {
  auto c = load_master_config(testing::TempDir());
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(contains(c.error(), "cannot read config file"));
}

TEST(ConfigLoad, ErrorsNameThePathGiven) {
  const std::string path = testing::TempDir() + "/config_test_bad.toml";
  std::ofstream(path) << "[scheduler]\npolcy = \"easy\"\n";
  auto c = load_master_config(path);
  std::remove(path.c_str());
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(starts_with(c.error(), path + ":2:1: unknown key 'polcy'"));
}

TEST(ConfigParse, TheAgentSectionIsKnownAndLeftToTheAgent) {
  // A value the agent would refuse is the agent's business.
  MasterConfig c = parse_ok("[agent]\ncpus = \"many\"\n[master]\nmax_retries = 2\n");
  EXPECT_EQ(c.max_retries, 2u);
  EXPECT_TRUE(starts_with(error_of("agent = 1\n"), "cadre.toml:1:9: agent: expected a table"));
}

// ---- Drop-ins: FILE.d/*.toml ----

class ConfigDropIns : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir() + "/config_test_dropins_" + std::to_string(getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ + "/cadre.toml.d");
    path_ = dir_ + "/cadre.toml";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ + "/" + name) << text; }

  std::string dir_, path_;
};

TEST_F(ConfigDropIns, LaterFilesOverrideKeyByKeyInNameOrder) {
  write("cadre.toml", "[master]\nlisten = \"tcp://*:7700\"\nmax_retries = 1\n[scheduler.weights]\nage = 1.0\nsize = 2.0\n");
  write("cadre.toml.d/20-b.toml", "[master]\nmax_retries = 3\n[scheduler.weights]\nsize = 5.0\n");
  write("cadre.toml.d/10-a.toml", "[master]\nmax_retries = 2\nstate_dir = \"/srv\"\n");
  write("cadre.toml.d/30-c.toml.dpkg-old", "[master]\nmax_retries = 99\n");
  write("cadre.toml.d/.40-hidden.toml", "[master]\nmax_retries = 98\n");
  auto c = load_master_config(path_);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->listen, "tcp://*:7700");
  EXPECT_EQ(c->state_dir, "/srv");
  EXPECT_EQ(c->max_retries, 3u);
  EXPECT_EQ(c->policy.weights.age, 1.0);
  EXPECT_EQ(c->policy.weights.size, 5.0);
}

TEST_F(ConfigDropIns, ALaterPartitionListReplacesTheWholeList) {
  write("cadre.toml", "[[partition]]\nname = \"a\"\n[[partition]]\nname = \"b\"\n");
  write("cadre.toml.d/50-site.toml", "[[partition]]\nname = \"c\"\ndefault = true\n");
  auto c = load_master_config(path_);
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_EQ(c->partitions.size(), 1u);
  EXPECT_EQ(c->partitions[0].name, "c");
}

TEST_F(ConfigDropIns, ErrorsNameTheFileTheValueCameFrom) {
  write("cadre.toml", "[master]\nlisten = \"tcp://*:7700\"\n");
  write("cadre.toml.d/50-site.toml", "# site\n[master]\nnode_timeout = \"soon\"\n");
  auto c = load_master_config(path_);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(starts_with(c.error(), dir_ + "/cadre.toml.d/50-site.toml:3:16: master.node_timeout: expected a duration"));

  write("cadre.toml.d/50-site.toml", "[master]\nlisten = \n");
  c = load_master_config(path_);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(starts_with(c.error(), dir_ + "/cadre.toml.d/50-site.toml:2:"));

  write("cadre.toml.d/50-site.toml", "[scheduler]\npolcy = \"easy\"\n");
  c = load_master_config(path_);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(starts_with(c.error(), dir_ + "/cadre.toml.d/50-site.toml:2:1: unknown key 'polcy'"));
}

TEST_F(ConfigDropIns, ADropInAddsAnAccountOrReplacesOnesMembers) {
  write("cadre.toml", "[accounts]\nphysics = [\"alice\"]\nchem = [\"carol\"]\n");
  write("cadre.toml.d/50-site.toml", "[accounts]\nphysics = [\"bob\"]\nbio = [\"dan\"]\n");
  auto c = load_master_config(path_);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->accounts, (std::map<std::string, std::vector<std::string>>{
                             {"bio", {"dan"}}, {"chem", {"carol"}}, {"physics", {"bob"}}}));

  write("cadre.toml.d/60-bad.toml", "\n[accounts]\nbio = [\"d n\"]\n");
  c = load_master_config(path_);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(starts_with(c.error(), dir_ + "/cadre.toml.d/60-bad.toml:3:8: accounts.bio:")) << c.error();
}

TEST_F(ConfigDropIns, AValueOverriddenByALaterFileIsNotChecked) {
  write("cadre.toml", "[master]\nmax_retries = -1\n");
  write("cadre.toml.d/50-fix.toml", "[master]\nmax_retries = 4\n");
  auto c = load_master_config(path_);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->max_retries, 4u);
}

TEST(TomlDurations, TextFormsInMilliseconds) {
  bool too_long = false;
  EXPECT_EQ(duration_text_ms("500ms", too_long), 500);
  EXPECT_EQ(duration_text_ms("2h", too_long), 7'200'000);
  EXPECT_EQ(duration_text_ms("1:00:00", too_long), 3'600'000);
  EXPECT_EQ(duration_text_ms("90", too_long), std::nullopt);
  EXPECT_EQ(duration_text_ms("999999999d", too_long), std::nullopt);
  EXPECT_TRUE(too_long);
}

// ---- Node patterns ----

TEST(NodeMatch, ExactNames) {
  EXPECT_TRUE(node_matches("gpu01", "gpu01"));
  EXPECT_FALSE(node_matches("gpu01", "gpu011"));
  EXPECT_FALSE(node_matches("gpu01", "gpu0"));
  EXPECT_FALSE(node_matches("gpu01", "GPU01"));
}

TEST(NodeMatch, ShellGlobs) {
  EXPECT_TRUE(node_matches("dgx*", "dgx"));
  EXPECT_TRUE(node_matches("dgx*", "dgx-a100-7"));
  EXPECT_FALSE(node_matches("dgx*", "xdgx1"));
  EXPECT_TRUE(node_matches("*", "anything"));
  EXPECT_TRUE(node_matches("n?", "n7"));
  EXPECT_FALSE(node_matches("n?", "n"));
  EXPECT_FALSE(node_matches("n?", "n10"));
  EXPECT_TRUE(node_matches("*-gpu-*", "rack1-gpu-03"));
  EXPECT_FALSE(node_matches("*-gpu-*", "rack1-cpu-03"));
}

TEST(NodeMatch, RangesKeepZeroPadding) {
  EXPECT_TRUE(node_matches("gpu[01-16]", "gpu01"));
  EXPECT_TRUE(node_matches("gpu[01-16]", "gpu09"));
  EXPECT_TRUE(node_matches("gpu[01-16]", "gpu16"));
  EXPECT_FALSE(node_matches("gpu[01-16]", "gpu1"));
  EXPECT_FALSE(node_matches("gpu[01-16]", "gpu00"));
  EXPECT_FALSE(node_matches("gpu[01-16]", "gpu17"));
  EXPECT_FALSE(node_matches("gpu[01-16]", "gpu016"));
  EXPECT_TRUE(node_matches("n[8-10]", "n9"));
  EXPECT_TRUE(node_matches("n[8-10]", "n10"));
  EXPECT_FALSE(node_matches("n[8-10]", "n09"));
  EXPECT_TRUE(node_matches("n[098-100]", "n099"));
  EXPECT_TRUE(node_matches("n[098-100]", "n100"));
  EXPECT_FALSE(node_matches("n[098-100]", "n99"));
}

TEST(NodeMatch, ListsAndSeveralRanges) {
  EXPECT_TRUE(node_matches("n[1-3,7]", "n2"));
  EXPECT_TRUE(node_matches("n[1-3,7]", "n7"));
  EXPECT_FALSE(node_matches("n[1-3,7]", "n5"));
  EXPECT_TRUE(node_matches("n[7]", "n7"));
  EXPECT_TRUE(node_matches("r[1-2]n[01-04]", "r2n03"));
  EXPECT_FALSE(node_matches("r[1-2]n[01-04]", "r3n03"));
  EXPECT_TRUE(node_matches("n[1-3]0", "n20"));
  EXPECT_FALSE(node_matches("n[1-3]0", "n40"));
  EXPECT_TRUE(node_matches("gpu[01-04]*", "gpu03-ib"));
}

TEST(NodeMatch, InvalidPatternsMatchNothing) {
  EXPECT_FALSE(node_matches("gpu[01-", "gpu01"));
  EXPECT_FALSE(node_matches("", ""));
  EXPECT_FALSE(node_matches("n[3-1]", "n2"));
  EXPECT_FALSE(check_node_pattern("n[[1]]").ok());
  EXPECT_FALSE(check_node_pattern("n 1").ok());
  EXPECT_TRUE(check_node_pattern("gpu[01-16]").ok());
}

TEST(NodeMatch, ManyStarsStayFast) {
  // Memoised: this would take exponential time with plain backtracking.
  EXPECT_FALSE(node_matches("*a*a*a*a*a*a*a*a*a*a*b", std::string(200, 'a')));
}

}  // namespace
}  // namespace cadre
