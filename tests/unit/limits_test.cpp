// Specification of master/limits (the per-user submission rate) and of the
// per-user limits Cluster::submit enforces, and their [limits] config keys.
#include <gtest/gtest.h>

#include <string>

#include "cluster_fixture.hpp"
#include "master/config.hpp"
#include "master/limits.hpp"

namespace cadre {
namespace {

using namespace cluster_fixture;

// ---- SubmitRateLimiter ----

TEST(SubmitRateLimiter, AllowsTheBurstThenRefusesWithTheWaitUntilTheNextToken) {
  SubmitRateLimiter limiter(10.0, 3);  // 10 per second, 3 at once
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(limiter.take("ada", 1000)) << "submission " << i;
  auto wait = limiter.take("ada", 1000);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 100);  // one token every 100 ms
  // 100 ms later one more is allowed, and only one.
  EXPECT_FALSE(limiter.take("ada", 1100));
  EXPECT_TRUE(limiter.take("ada", 1100));
}

TEST(SubmitRateLimiter, UsersHaveTheirOwnBuckets) {
  SubmitRateLimiter limiter(1.0, 2);
  EXPECT_FALSE(limiter.take("ada", 0));
  EXPECT_FALSE(limiter.take("ada", 0));
  EXPECT_TRUE(limiter.take("ada", 0));
  EXPECT_FALSE(limiter.take("bob", 0)) << "ada's flood must not cost bob anything";
}

TEST(SubmitRateLimiter, RefillsNoFurtherThanTheBurst) {
  SubmitRateLimiter limiter(1000.0, 5);
  EXPECT_FALSE(limiter.take("ada", 0));
  // An hour of quiet buys 5, not 3.6 million.
  int allowed = 0;
  while (!limiter.take("ada", 3600 * 1000)) ++allowed;
  EXPECT_EQ(allowed, 5);
}

TEST(SubmitRateLimiter, ARateOfZeroMeansNoLimit) {
  SubmitRateLimiter limiter(0.0, 1);
  for (int i = 0; i < 10000; ++i) ASSERT_FALSE(limiter.take("ada", 0));
  EXPECT_EQ(limiter.tracked_users(), 0u);
}

TEST(SubmitRateLimiter, ForgetsUsersWhoseBucketsAreFullAgain) {
  SubmitRateLimiter limiter(10.0, 10);  // full again 1 s after the last take
  for (int u = 0; u < 100; ++u) EXPECT_FALSE(limiter.take("user" + std::to_string(u), 0));
  EXPECT_EQ(limiter.tracked_users(), 100u);
  EXPECT_FALSE(limiter.take("late", 5000));
  EXPECT_EQ(limiter.tracked_users(), 1u);
}

// ---- Limits at submit ----

class ClusterLimits : public ClusterFixture {};

TEST_F(ClusterLimits, AUserMayHaveOnlySoManyPendingJobs) {
  Limits l;
  l.max_pending_jobs_per_user = 3;
  cluster_.set_limits(l);
  for (int i = 0; i < 3; ++i) submit(spec(1));
  auto refused = cluster_.submit(spec(1), kT0);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(),
            "user ada already has 3 pending jobs, the most allowed (limits.max_pending_jobs_per_user); wait for "
            "some to start");
  JobSpec bob = spec(1);
  bob.user = "bob";
  EXPECT_TRUE(cluster_.submit(bob, kT0)) << "another user is not affected";

  // Once some start, the user may submit again.
  add_node("a", 2, 0);
  schedule();
  EXPECT_TRUE(cluster_.submit(spec(1), kT0));
}

TEST_F(ClusterLimits, CommandsAndScriptsHaveAMaximumSize) {
  Limits l;
  l.max_command_bytes = 100;
  l.max_script_bytes = 50;
  cluster_.set_limits(l);
  JobSpec big = spec(1);
  big.argv = {"echo", std::string(200, 'x')};
  auto refused = cluster_.submit(big, kT0);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), "the command is 206 bytes; at most 100 are allowed (put long inputs in a file)");

  JobSpec batch = spec(1);
  batch.batch = true;
  batch.script = "#!/bin/sh\n" + std::string(60, '#');
  refused = cluster_.submit(batch, kT0);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), "the batch script is 70 bytes; at most 50 are allowed");

  l.max_command_bytes = 0;  // no limit
  cluster_.set_limits(l);
  EXPECT_TRUE(cluster_.submit(big, kT0));
}

// ---- [limits] in cadre.toml ----

TEST(LimitsConfig, EveryKeyIsRead) {
  auto c = parse_master_config(
      "[limits]\nmax_pending_jobs_per_user = 50\nsubmit_rate = 2.5\nsubmit_burst = 20\n"
      "max_command_bytes = 4096\nmax_script_bytes = 8192\n",
      "cadre.toml");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->limits.max_pending_jobs_per_user, 50u);
  EXPECT_DOUBLE_EQ(c->limits.submit_rate, 2.5);
  EXPECT_EQ(c->limits.submit_burst, 20u);
  EXPECT_EQ(c->limits.max_command_bytes, 4096u);
  EXPECT_EQ(c->limits.max_script_bytes, 8192u);
}

TEST(LimitsConfig, DefaultsWhenAbsent) {
  auto c = parse_master_config("", "cadre.toml");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->limits.max_pending_jobs_per_user, 100000u);
  EXPECT_EQ(c->limits.submit_rate, 0.0);
  EXPECT_EQ(c->limits.max_script_bytes, 1024u * 1024u);
}

TEST(LimitsConfig, BadValuesAndUnknownKeysNameTheLine) {
  auto c = parse_master_config("[limits]\nsubmit_burst = 0\n", "cadre.toml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("cadre.toml:2"), std::string::npos) << c.error();
  EXPECT_NE(c.error().find("limits.submit_burst"), std::string::npos) << c.error();

  c = parse_master_config("[limits]\nsubmit_rate = -1\n", "cadre.toml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("limits.submit_rate"), std::string::npos) << c.error();

  c = parse_master_config("[limits]\nmax_jobs = 3\n", "cadre.toml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("max_jobs"), std::string::npos) << c.error();
}

}  // namespace
}  // namespace cadre

namespace cadre {
namespace {

TEST(SecurityConfig, EveryKeyIsReadAndAnEmptyLocalSocketTurnsItOff) {
  auto c = parse_master_config(
      "[security]\nkey = \"/etc/cadre/master.key\"\nagent_keys = \"/etc/cadre/agents\"\n"
      "user_keys = \"/etc/cadre/users\"\nlocal_socket = \"\"\nadmin_group = \"hpc\"\n",
      "cadre.toml");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->key_file, "/etc/cadre/master.key");
  EXPECT_EQ(c->agent_keys_dir, "/etc/cadre/agents");
  EXPECT_EQ(c->user_keys_dir, "/etc/cadre/users");
  EXPECT_EQ(c->local_socket, "");
  EXPECT_EQ(c->admin_group, "hpc");

  auto bad = parse_master_config("[security]\nkey = \"\"\n", "cadre.toml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("security.key"), std::string::npos) << bad.error();
  bad = parse_master_config("[security]\nlocal_socket = 3\n", "cadre.toml");
  ASSERT_FALSE(bad);
  bad = parse_master_config("[security]\ncert = \"x\"\n", "cadre.toml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("cert"), std::string::npos) << bad.error();
}

}  // namespace
}  // namespace cadre
