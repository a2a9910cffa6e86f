// Specification of sim/engine and sim/workload: replaying jobs through
// decide() on a simulated cluster.
#include "sim/engine.hpp"

#include <gtest/gtest.h>

namespace cadre::sim {
namespace {

TraceJob job(int64_t submit, uint32_t ranks, int64_t run) {
  TraceJob j;
  j.submit_s = submit;
  j.run_s = run;
  j.limit_s = run;
  j.shape = sched::GangShape{Resources{1000, 0, 0}, 0, 0, ranks};
  return j;
}

Cluster four_nodes() { return *uniform_cluster(UniformSpec{4, 1, 0, 0}); }

// A holds half the cluster until 100; B needs all of it; C fits beside A
// and ends (70) before B could start (100).
Trace backfill_case() {
  Trace t;
  t.jobs = {job(0, 2, 100), job(10, 4, 10), job(20, 2, 50)};
  return t;
}

Metrics run(sched::Backfill backfill, const Trace& trace) {
  Cluster c = four_nodes();
  Workload w = prepare_workload(trace, c, 0);
  sched::Policy p;
  p.backfill = backfill;
  return replay(c, w, p);
}

TEST(SimEngine, FcfsKeepsASmallJobBehindABlockedBigOne) {
  Metrics m = run(sched::Backfill::fcfs, backfill_case());
  EXPECT_EQ(m.started, 3);
  EXPECT_DOUBLE_EQ(m.mean_wait_s, (0 + 90 + 90) / 3.0);  // C runs 110-160
  EXPECT_DOUBLE_EQ(m.makespan_s, 160);
}

TEST(SimEngine, EasyBackfillsASmallJobThatEndsBeforeTheReservation) {
  Metrics m = run(sched::Backfill::easy, backfill_case());
  EXPECT_EQ(m.started, 3);
  EXPECT_DOUBLE_EQ(m.mean_wait_s, (0 + 90 + 0) / 3.0);  // C runs 20-70
  EXPECT_DOUBLE_EQ(m.makespan_s, 110);
  // Busy: A 2 x 100 + B 4 x 10 + C 2 x 50 cpu-seconds of 4 cpus x 110 s.
  EXPECT_DOUBLE_EQ(m.utilization, 340.0 / (4 * 110));
  EXPECT_GE(m.reservations, 1);
  EXPECT_EQ(m.preemptions, 0);
  EXPECT_EQ(m.unfinished, 0);
}

TEST(SimEngine, GivesTheSameFiguresEveryTime) {
  Trace t;
  for (int i = 0; i < 200; ++i) t.jobs.push_back(job(i * 7, 1 + (i * 13) % 4, 5 + (i * 31) % 97));
  Metrics a = run(sched::Backfill::conservative, t);
  Metrics b = run(sched::Backfill::conservative, t);
  EXPECT_EQ(a.started, 200);
  EXPECT_EQ(a.mean_wait_s, b.mean_wait_s);
  EXPECT_EQ(a.p99_wait_s, b.p99_wait_s);
  EXPECT_EQ(a.utilization, b.utilization);
  EXPECT_EQ(a.reservations, b.reservations);
}

TEST(SimEngine, RunsZeroSecondJobs) {
  Trace t;
  t.jobs = {job(5, 1, 0), job(5, 4, 0)};
  Metrics m = run(sched::Backfill::easy, t);
  EXPECT_EQ(m.started, 2);
  EXPECT_EQ(m.unfinished, 0);
  EXPECT_DOUBLE_EQ(m.makespan_s, 0);
}

TEST(SimWorkload, SkipsJobsTheClusterCanNeverHold) {
  Trace t;
  t.jobs = {job(0, 2, 10), job(1, 5, 10), job(2, 4, 10)};
  Cluster c = four_nodes();
  Workload w = prepare_workload(t, c, 0);
  ASSERT_EQ(w.jobs.size(), 2u);
  EXPECT_EQ(w.never_fit, 1);
  EXPECT_EQ(w.jobs[1].id, 2u);  // ids stay dense
  EXPECT_EQ(w.jobs[1].submit_s, 2);
  EXPECT_NE(w.first_never_fit.find("job 2"), std::string::npos) << w.first_never_fit;
}

TEST(SimWorkload, TakesTheFirstJobsBeforeSkipping) {
  Trace t;
  t.jobs = {job(0, 5, 10), job(1, 1, 10), job(2, 1, 10)};
  Cluster c = four_nodes();
  Workload w = prepare_workload(t, c, 2);
  EXPECT_EQ(w.jobs.size(), 1u);
  EXPECT_EQ(w.never_fit, 1);
}

TEST(SimWorkload, AJobAskingForAModelNoNodeHasNeverFits) {
  Trace t;
  t.jobs = {job(0, 1, 10)};
  t.jobs[0].shape.per_task.gpus = 1;
  t.jobs[0].gpu_models = {"A100"};
  Cluster c = *uniform_cluster(UniformSpec{2, 8, 8, 1024});
  Workload w = prepare_workload(t, c, 0);
  EXPECT_TRUE(w.jobs.empty());
  EXPECT_EQ(w.never_fit, 1);
  EXPECT_EQ(c.gpu_models, (std::vector<std::string>{"", "A100"}));
}

TEST(SimWorkload, GivesUsersAndAccountsDenseIds) {
  Trace t;
  t.jobs = {job(0, 1, 10), job(1, 1, 10), job(2, 1, 10)};
  t.jobs[0].user = "7";
  t.jobs[1].user = "9";
  t.jobs[2].user = "7";
  t.jobs[2].account = "b";
  Cluster c = four_nodes();
  Workload w = prepare_workload(t, c, 0);
  EXPECT_EQ(w.users, (std::vector<std::string>{"7", "9"}));
  EXPECT_EQ(w.accounts, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(w.jobs[2].user, 0u);
  EXPECT_EQ(w.pairs.size(), 3u);
}

}  // namespace
}  // namespace cadre::sim
