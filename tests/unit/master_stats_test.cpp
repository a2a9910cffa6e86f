// Specifies master/stats.hpp and the getStats reply (master/messages.cpp):
// what `cadre diag` shows must be what the master counted.
#include <gtest/gtest.h>

#include "cluster_fixture.hpp"
#include "common/codec.hpp"
#include "master/wire/encode.hpp"
#include "master/stats.hpp"

namespace cadre {
namespace {

using cluster_fixture::ClusterFixture;

TEST(MasterStats, KeepsTheLastTheLongestAndTheTotalPass) {
  MasterStats s;
  s.record_pass(PassTiming{100, 2000, 300, 2000});
  s.record_pass(PassTiming{10, 20, 30, 50});
  EXPECT_EQ(s.passes, 2u);
  EXPECT_EQ(s.last_pass.total_us(), 60);
  EXPECT_EQ(s.last_pass.decide_us, 20);
  EXPECT_EQ(s.max_pass_us, 2400);
  EXPECT_EQ(s.total_pass_us, 2460);
}

TEST(MasterStats, SamplesThisProcesssMemoryAndCpu) {
  ProcessUsage u = sample_process_usage();
  EXPECT_GT(u.rss_bytes, 1024u * 1024u);  // a test binary is bigger than 1 MiB resident
  EXPECT_GE(u.cpu_user_us + u.cpu_system_us, 0);
}

TEST(StatsReply, CarriesEveryCounterToTheClient) {
  StatsReport r;
  r.stats.started_ms = 1000;
  r.stats.record_pass(PassTiming{11, 22, 33, 50});
  r.stats.messages = 7;
  r.stats.heartbeats = 5;
  r.stats.commits = 3;
  r.stats.last_commit_us = 444;
  r.uptime_s = 9;
  r.jobs_pending = 100000;
  r.jobs_running = 12;
  r.nodes_registered = 10000;
  r.nodes_up = 9999;
  r.malformed_messages = 2;
  r.usage = ProcessUsage{123456789, 5000000, 250000};

  auto decoded = decode(wire::encode_stats_reply(42, r));
  ASSERT_TRUE(decoded) << decoded.error();
  auto env = (*decoded)->envelope();
  EXPECT_EQ(env.getRequestId(), 42u);
  ASSERT_TRUE(env.isStatsReply());
  auto s = env.getStatsReply();
  EXPECT_EQ(s.getUptimeSec(), 9);
  EXPECT_EQ(s.getPasses(), 1u);
  EXPECT_EQ(s.getLastPassUs(), 66);
  EXPECT_EQ(s.getMaxPassUs(), 66);
  EXPECT_EQ(s.getTotalPassUs(), 66);
  EXPECT_EQ(s.getLastSnapshotUs(), 11);
  EXPECT_EQ(s.getLastDecideUs(), 22);
  EXPECT_EQ(s.getLastApplyUs(), 33);
  EXPECT_EQ(s.getLastPassCpuUs(), 50);
  EXPECT_EQ(s.getJobsPending(), 100000u);
  EXPECT_EQ(s.getJobsRunning(), 12u);
  EXPECT_EQ(s.getNodesRegistered(), 10000u);
  EXPECT_EQ(s.getNodesUp(), 9999u);
  EXPECT_EQ(s.getMessagesHandled(), 7u);
  EXPECT_EQ(s.getMalformedMessages(), 2u);
  EXPECT_EQ(s.getHeartbeats(), 5u);
  EXPECT_EQ(s.getCommits(), 3u);
  EXPECT_EQ(s.getLastCommitUs(), 444);
  EXPECT_EQ(s.getRssBytes(), 123456789u);
  EXPECT_EQ(s.getCpuUserUs(), 5000000);
  EXPECT_EQ(s.getCpuSystemUs(), 250000);
}

class StatsReportTest : public ClusterFixture {};

TEST_F(StatsReportTest, CountsJobsAndNodesAsTheClusterHoldsThem) {
  add_node("n1", 4, 0);
  add_node("n2", 4, 0);
  ASSERT_TRUE(cluster_.drain_node("n2", "maintenance"));
  const JobId running = submit(cluster_fixture::spec(4));
  schedule();
  start_all(running);
  submit(cluster_fixture::spec(4));  // n1 is full and n2 drained: waits
  submit(cluster_fixture::spec(1));

  MasterStats stats;
  stats.started_ms = 1000;
  StatsReport r = wire::make_stats_report(stats, cluster_, 61000);
  r.malformed_messages = 3;
  EXPECT_EQ(r.jobs_running, 1u);
  EXPECT_EQ(r.jobs_pending, 2u);
  EXPECT_EQ(r.nodes_registered, 2u);
  EXPECT_EQ(r.nodes_up, 1u);
  EXPECT_EQ(r.malformed_messages, 3u);
  EXPECT_EQ(r.uptime_s, 60);
  EXPECT_GT(r.usage.rss_bytes, 0u);
}

TEST_F(StatsReportTest, APassCountsOnlyWhenThereWasSomethingToDecide) {
  add_node("n1", 4, 0);
  PassTiming t;
  EXPECT_FALSE(cluster_.schedule(sched::Policy{}, cluster_fixture::kT0 + 1, &t));
  submit(cluster_fixture::spec(1));
  EXPECT_TRUE(cluster_.schedule(sched::Policy{}, cluster_fixture::kT0 + 2, &t));
  EXPECT_GE(t.snapshot_us, 0);
  EXPECT_GE(t.decide_us, 0);
  EXPECT_GE(t.apply_us, 0);
  EXPECT_EQ(cluster_fixture::decode_all(cluster_, cluster_.take_commands()).launches.size(), 1u);
}

// What the scale work changed in Cluster: the same outcomes at less cost.
class ClusterAtScale : public ClusterFixture {};

TEST_F(ClusterAtScale, AJobStartedLaterWithAShorterLimitStillTimesOutFirst) {
  add_node("n1", 8, 0);
  JobSpec long_one = cluster_fixture::spec(1);
  long_one.time_limit_s = 100;
  const JobId a = submit(long_one);
  // Both clocks move together here: second t is wall kT0 + t, monotonic
  // now_ms_ + 1000 t.
  auto at = [&](int64_t t) { tick(now_ms_ + t * 1000, cluster_fixture::kT0 + t); };
  schedule();  // starts at kT0 + 1: its limit is at kT0 + 101
  at(1);
  at(50);
  JobSpec short_one = cluster_fixture::spec(1);
  short_one.time_limit_s = 10;
  const JobId b = submit(short_one);
  cluster_.schedule(sched::Policy{}, cluster_fixture::kT0 + 60);  // limit at kT0 + 70
  at(60);
  at(69);
  EXPECT_EQ(job(b).state, JobState::running);
  at(70);
  EXPECT_EQ(job(b).state, JobState::timeout);
  EXPECT_EQ(job(a).state, JobState::running);
  at(100);
  EXPECT_EQ(job(a).state, JobState::running);
  at(101);
  EXPECT_EQ(job(a).state, JobState::timeout);
}

TEST_F(ClusterAtScale, EvictsAnEndedJobOnlyWhenItIsAmongTheChanged) {
  const JobId id = submit(cluster_fixture::spec(1));  // no node yet: stays pending
  ASSERT_TRUE(cluster_.cancel(id, cluster_fixture::kT0).ok);
  cluster_.evict_ended({});
  EXPECT_NE(cluster_.find_job(id), nullptr);
  cluster_.evict_ended(cluster_.take_dirty_jobs());
  EXPECT_EQ(cluster_.find_job(id), nullptr);
}

TEST_F(ClusterAtScale, AJobThatStartedNoLongerCountsAgainstThePendingLimit) {
  Limits limits;
  limits.max_pending_jobs_per_user = 1;
  cluster_.set_limits(limits);
  add_node("n1", 1, 0);
  submit(cluster_fixture::spec(1));
  EXPECT_FALSE(cluster_.submit(cluster_fixture::spec(1), cluster_fixture::kT0)) << "one pending already";
  schedule();  // the first starts
  const JobId second = submit(cluster_fixture::spec(1));
  EXPECT_NE(second, 0u);
  schedule();  // n1 is full: the second waits
  EXPECT_FALSE(cluster_.submit(cluster_fixture::spec(1), cluster_fixture::kT0)) << "the second still waits";
}

TEST_F(ClusterAtScale, ASubmitThatCanNeverRunIsRefusedAgainAfterANodeRegisters) {
  add_node("n1", 4, 0);
  EXPECT_FALSE(cluster_.submit(cluster_fixture::spec(1, Resources{8000, 1024, 0}), cluster_fixture::kT0));
  add_node("n2", 16, 0);  // the verdict per shape is forgotten: now it fits
  EXPECT_TRUE(cluster_.submit(cluster_fixture::spec(1, Resources{8000, 1024, 0}), cluster_fixture::kT0));
}

}  // namespace
}  // namespace cadre
