// Specification of preemption in master/state's Cluster (docs/scheduling.md,
// "Preemption"): which running gangs a higher-tier job stops, the kills sent
// for their ranks, the preemptor waiting until every victim rank is gone, the
// victims' requeue as a new attempt, and the retry rule (a preemption does
// not count against max_retries). decide()'s choice of victims alone is
// specified in decide_test.cpp; these drive the real Cluster end to end.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <set>
#include <string>
#include <vector>

#include "cluster_fixture.hpp"

namespace cadre {
namespace {

using namespace cluster_fixture;

constexpr Resources kFourGpus{1000, 1024, 4};

class Preemption : public ClusterFixture {
 protected:
  // Partitions over every node: "low" (tier 0, the default, preemptible),
  // "fixed" (tier 0, not preemptible) and "high" (tier 1).
  void SetUp() override {
    ClusterFixture::SetUp();
    configure_tiers();
  }
  void configure_tiers() {
    PartitionConfig low, fixed, high;
    low.name = "low";
    low.is_default = true;
    fixed.name = "fixed";
    fixed.preemptible = false;
    high.name = "high";
    high.tier = 1;
    SchedulerConfig config;
    config.partitions = {low, fixed, high};
    cluster_.configure(config);
  }

  JobId submit_to(const std::string& partition, JobSpec s) {
    s.partition = partition;
    return submit(std::move(s));
  }
  // One pass at `now` (unix seconds): what it sent to agents.
  Commands pass(int64_t now, bool preemption = true) {
    sched::Policy policy;
    policy.weights.size = 0;
    policy.preemption = preemption;
    cluster_.schedule(policy, now);
    return take();
  }
  // Every rank of `id` still holding resources exits as its agent reports
  // it: killed by SIGTERM, or with exit code 0.
  void end_ranks(JobId id, bool killed = true, const std::string& only_node = "") {
    for (const Task& t : std::vector<Task>(job(id).tasks))
      if (holds_resources(t.state) && (only_node.empty() || t.node == only_node))
        report(t.node, id, t.rank, TaskEventKind::exited, 0, killed ? SIGTERM : 0);
  }
  // The kills a pass must send to stop every rank of `id`'s current attempt.
  std::set<KillCmd> kills_for(JobId id) {
    std::set<KillCmd> out;
    for (const Task& t : job(id).tasks) out.insert(KillCmd{t.node, id, job(id).attempt, t.rank, 0});
    return out;
  }
  std::set<JobId> launched(const Commands& c) {
    std::set<JobId> out;
    for (const LaunchCmd& l : c.launches) out.insert(l.job);
    return out;
  }
  // Every (node, GPU index) the running jobs hold, with no index held twice.
  void expect_no_gpu_shared() {
    std::set<std::pair<std::string, uint32_t>> held;
    for (const auto& [id, j] : cluster_.jobs())
      for (const Task& t : j.tasks) {
        if (!holds_resources(t.state)) continue;
        for (uint32_t g : t.gpus) {
          EXPECT_TRUE(held.insert({t.node, g}).second) << "GPU " << g << " of " << t.node << " is held twice";
        }
      }
  }
};

TEST_F(Preemption, StopsTheCheapestLowerTierGangAndStartsTheJobOnlyOnItsFreedGpus) {
  add_node("a", 8, 4);
  add_node("b", 8, 4);
  JobId older = submit(gang(2, 2));  // 2 GPUs on each node
  pass(kT0 + 1);
  JobId younger = submit(gang(2, 2));  // the other 2 on each: fewer GPU-seconds run by kT0 + 20
  pass(kT0 + 5);
  start_all(older);
  start_all(younger);
  take();
  cluster_.take_dirty_jobs();
  ASSERT_EQ(gpus_of(younger, "a"), (std::vector<uint32_t>{2, 3}));

  JobId high = submit_to("high", gang(2, 2));
  Commands c = pass(kT0 + 20);
  EXPECT_EQ(c.kill_set(), kills_for(younger)) << "exactly the cheapest victim's ranks";
  EXPECT_EQ(c.kills.size(), 4u);
  EXPECT_TRUE(c.launches.empty()) << "nothing starts while the victim's ranks hold their GPUs";
  EXPECT_EQ(job(older).state, JobState::running);
  EXPECT_EQ(job(older).preemptions, 0u);
  EXPECT_EQ(job(high).state, JobState::pending);
  EXPECT_EQ(job(high).reason, "Preempting");
  const Job& victim = job(younger);
  EXPECT_EQ(victim.state, JobState::pending);
  EXPECT_EQ(victim.reason, "Preempted by job " + std::to_string(high));
  EXPECT_EQ(victim.preemptions, 1u);
  EXPECT_EQ(victim.attempt, 1u) << "a new attempt begins at its next launch";
  EXPECT_TRUE(cluster_.take_dirty_jobs().count(younger)) << "the requeue is persisted before the kills go out";

  // Half the victim is gone: the preemptor needs both nodes, so it waits.
  end_ranks(younger, true, "a");
  c = pass(kT0 + 21);
  EXPECT_TRUE(c.launches.empty() && c.kills.empty()) << c.launches.size() << " launches, " << c.kills.size()
                                                      << " kills";
  EXPECT_EQ(job(high).reason, "Preempting");

  end_ranks(younger);
  EXPECT_FALSE(job(younger).holds_resources());
  c = pass(kT0 + 22);
  EXPECT_EQ(launched(c), (std::set<JobId>{high})) << "the victim waits behind the job that preempted it";
  EXPECT_EQ(job(high).state, JobState::running);
  EXPECT_EQ(gpus_of(high, "a"), (std::vector<uint32_t>{2, 3}));
  EXPECT_EQ(gpus_of(high, "b"), (std::vector<uint32_t>{2, 3}));
  expect_no_gpu_shared();
  EXPECT_EQ(job(younger).state, JobState::pending);
  EXPECT_NE(job(younger).reason.find("Preempted by job " + std::to_string(high)), std::string::npos)
      << "the history stays behind the wait reason: " << job(younger).reason;

  // Space returns: the victim runs again, once, as attempt 2.
  end_ranks(high, false);
  EXPECT_EQ(job(high).state, JobState::completed);
  c = pass(kT0 + 40);
  EXPECT_EQ(launched(c), (std::set<JobId>{younger}));
  EXPECT_EQ(c.launches.size(), 4u);
  for (const LaunchCmd& l : c.launches) EXPECT_EQ(l.attempt, 2u);
  EXPECT_EQ(job(younger).state, JobState::running);
  EXPECT_EQ(job(younger).attempt, 2u);
  EXPECT_EQ(job(younger).preemptions, 1u);
  expect_no_gpu_shared();
  EXPECT_TRUE(pass(kT0 + 41).launches.empty()) << "started once";
}

TEST_F(Preemption, KillsOnlyTheVictimsRanksThatAreStillAlive) {
  add_node("a", 8, 4);
  JobId low = submit(gang(1, 4));
  pass(kT0 + 1);
  start_all(low);
  report("a", low, 2, TaskEventKind::exited, 0);  // done; the others still run
  take();
  ASSERT_EQ(job(low).state, JobState::running);

  JobId high = submit_to("high", gang(1, 3));
  Commands c = pass(kT0 + 20);
  std::set<KillCmd> expected = kills_for(low);
  expected.erase(KillCmd{"a", low, 1, 2, 0});
  EXPECT_EQ(c.kill_set(), expected);
  EXPECT_EQ(c.kills.size(), 3u);
  EXPECT_EQ(job(low).state, JobState::pending);
  EXPECT_EQ(job(high).reason, "Preempting");
}

TEST_F(Preemption, NeverStopsAJobOfANonPreemptiblePartition) {
  add_node("a", 8, 4);
  add_node("b", 8, 4);
  JobId low = submit(gang(1, 4));
  pass(kT0 + 1);
  // The cheaper candidate by work done: chosen first, were it preemptible.
  JobId fixed = submit_to("fixed", gang(1, 4));
  pass(kT0 + 10);
  ASSERT_NE(job(low).tasks[0].node, job(fixed).tasks[0].node);
  take();

  JobId high = submit_to("high", gang(1, 4));
  Commands c = pass(kT0 + 20);
  EXPECT_EQ(c.kill_set(), kills_for(low));
  EXPECT_EQ(job(fixed).state, JobState::running);
  EXPECT_EQ(job(fixed).preemptions, 0u);

  // With the preemptible job gone, nothing else may make room.
  end_ranks(low);
  pass(kT0 + 21);
  ASSERT_EQ(job(high).state, JobState::running);
  JobId second = submit_to("high", gang(1, 4));
  c = pass(kT0 + 30);
  EXPECT_TRUE(c.kills.empty()) << "killed a rank of job " << c.kills.front().job;
  EXPECT_EQ(job(fixed).state, JobState::running);
  EXPECT_EQ(job(second).state, JobState::pending);
  EXPECT_NE(job(second).reason, "Preempting");
}

TEST_F(Preemption, NeverWhenThePolicyTurnsItOff) {
  add_node("a", 8, 4);
  JobId low = submit(gang(1, 4));
  pass(kT0 + 1);
  take();
  JobId high = submit_to("high", gang(1, 4));
  Commands c = pass(kT0 + 20, /*preemption=*/false);
  EXPECT_TRUE(c.kills.empty());
  EXPECT_EQ(job(low).state, JobState::running);
  EXPECT_EQ(job(high).state, JobState::pending);
}

TEST_F(Preemption, AVictimBeingStoppedIsNotKilledAgainByLaterPasses) {
  add_node("a", 8, 4);
  add_node("b", 8, 4);
  JobId first = submit(gang(1, 4));
  pass(kT0 + 1);
  JobId second = submit(gang(1, 4));
  pass(kT0 + 10);
  start_all(first);
  start_all(second);
  take();

  JobId high = submit_to("high", gang(1, 4));
  ASSERT_EQ(pass(kT0 + 20).kill_set(), kills_for(second));
  for (int64_t t = kT0 + 21; t < kT0 + 24; ++t) {
    Commands again = pass(t);
    EXPECT_TRUE(again.kills.empty()) << "pass at +" << t - kT0 << " killed job " << again.kills.front().job;
    EXPECT_TRUE(again.launches.empty());
  }
  EXPECT_EQ(job(second).preemptions, 1u) << "one preemption, however many passes";
  EXPECT_EQ(job(first).state, JobState::running) << "the victim already leaving is enough";
  EXPECT_EQ(job(high).reason, "Preempting");
}

TEST_F(Preemption, AJobAlreadyEndingIsWaitedForNotPreempted) {
  add_node("a", 8, 4);
  add_node("b", 8, 4);
  JobId cancelled = submit(gang(1, 4));
  pass(kT0 + 1);
  JobId other = submit(gang(1, 4));
  pass(kT0 + 10);
  start_all(cancelled);
  start_all(other);
  ASSERT_TRUE(cluster_.cancel(cancelled, kT0 + 15).ok);
  ASSERT_EQ(take().kill_set(), kills_for(cancelled));

  JobId high = submit_to("high", gang(1, 4));
  Commands c = pass(kT0 + 20);
  EXPECT_TRUE(c.kills.empty()) << "no second kill for the cancelled job, and no victim needed";
  EXPECT_TRUE(c.launches.empty());
  EXPECT_EQ(job(cancelled).state, JobState::cancelled) << "a cancel is not turned into a requeue";
  EXPECT_EQ(job(cancelled).preemptions, 0u);
  EXPECT_EQ(job(other).state, JobState::running);
  EXPECT_EQ(job(high).state, JobState::pending);

  const std::string freed = job(cancelled).tasks[0].node;
  end_ranks(cancelled);
  c = pass(kT0 + 21);
  EXPECT_EQ(launched(c), (std::set<JobId>{high}));
  EXPECT_EQ(job(high).tasks[0].node, freed);
  expect_no_gpu_shared();
}

TEST_F(Preemption, AnEndingJobOfAnyPartitionIsWaitedForBeforeAVictimIsChosen) {
  add_node("a", 8, 4);
  add_node("b", 8, 4);
  JobId fixed = submit_to("fixed", gang(1, 4));
  pass(kT0 + 1);
  JobId low = submit(gang(1, 4));
  pass(kT0 + 10);
  ASSERT_NE(job(low).tasks[0].node, job(fixed).tasks[0].node);
  start_all(fixed);
  start_all(low);
  // The job of the partition no one may preempt is cancelled: its node is
  // about to be free, so the high job waits for it and kills nobody.
  ASSERT_TRUE(cluster_.cancel(fixed, kT0 + 15).ok);
  ASSERT_EQ(take().kill_set(), kills_for(fixed));
  JobId high = submit_to("high", gang(1, 4));
  Commands c = pass(kT0 + 20);
  EXPECT_TRUE(c.kills.empty()) << "preempted job " << c.kills.front().job << " though a node is being freed";
  EXPECT_EQ(job(low).state, JobState::running);
  EXPECT_EQ(job(low).preemptions, 0u);
  end_ranks(fixed);
  c = pass(kT0 + 21);
  EXPECT_EQ(launched(c), (std::set<JobId>{high}));
  expect_no_gpu_shared();
}

TEST_F(Preemption, IsNotCountedAgainstTheNodeFailureRetries) {
  Cluster limited{kNodeTimeoutMs, /*max_retries=*/1};
  cluster_ = std::move(limited);
  configure_tiers();
  add_node("a", 8, 4);
  JobSpec s = gang(1, 1, kFourGpus);
  s.requeue = true;
  JobId low = submit(s);
  pass(kT0 + 1);
  start_all(low);

  // Attempt 1 is preempted, and runs again as attempt 2 once the
  // preemptor is done.
  JobId high = submit_to("high", gang(1, 1, kFourGpus));
  pass(kT0 + 20);
  end_ranks(low);
  ASSERT_EQ(launched(pass(kT0 + 21)), (std::set<JobId>{high}));
  end_ranks(high, false);
  ASSERT_EQ(launched(pass(kT0 + 30)), (std::set<JobId>{low}));
  ASSERT_EQ(job(low).attempt, 2u);

  // Its first node failure: the one retry max_retries = 1 allows.
  report("a", low, 0, TaskEventKind::lost, 0, SIGKILL, 0, false, "the rank's supervisor died");
  EXPECT_EQ(job(low).state, JobState::pending) << job(low).reason;
  EXPECT_TRUE(job(low).reason.starts_with("Requeued: ")) << job(low).reason;
  ASSERT_EQ(launched(pass(kT0 + 40)), (std::set<JobId>{low}));
  ASSERT_EQ(job(low).attempt, 3u);

  // Its second: no retries left.
  report("a", low, 0, TaskEventKind::lost, 0, SIGKILL, 0, false, "the rank's supervisor died");
  EXPECT_EQ(job(low).state, JobState::node_fail);
  EXPECT_NE(job(low).reason.find("no retries left after attempt 3"), std::string::npos) << job(low).reason;
}

TEST_F(Preemption, RequeuesAVictimThatAsksNotToBeRequeued) {
  // --no-requeue is about node failures; the docs requeue every victim.
  add_node("a", 8, 4);
  JobSpec s = gang(1, 1, kFourGpus);
  s.requeue = false;
  JobId low = submit(s);
  pass(kT0 + 1);
  JobId high = submit_to("high", gang(1, 1, kFourGpus));
  pass(kT0 + 20);
  EXPECT_EQ(job(low).state, JobState::pending);
  EXPECT_EQ(job(low).reason, "Preempted by job " + std::to_string(high));
}

}  // namespace
}  // namespace cadre
