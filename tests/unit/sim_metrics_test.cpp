// Specification of sim/metrics: the figures a replay is judged by.
#include "sim/metrics.hpp"

#include <gtest/gtest.h>

namespace cadre::sim {
namespace {

// Three jobs on a 16-cpu cluster:
//   A: submitted 0,  runs 0-100   (100 s, 1 cpu,  1 node)    wait 0
//   B: submitted 10, runs 100-105 (5 s,  16 cpus, 16 nodes)  wait 90
//   C: submitted 20, runs 120-320 (200 s, 2 cpus, 2 nodes)   wait 100
std::vector<JobOutcome> timeline() {
  return {{0, 0, 100, 100, 1}, {10, 100, 105, 5, 16}, {20, 120, 320, 200, 2}};
}

TEST(SimMetrics, WaitsMeanMedianAndP99ByNearestRank) {
  Metrics m = summarize(timeline(), 580, 16);
  EXPECT_DOUBLE_EQ(m.mean_wait_s, 190.0 / 3);
  EXPECT_DOUBLE_EQ(m.median_wait_s, 90);
  EXPECT_DOUBLE_EQ(m.p99_wait_s, 100);
}

TEST(SimMetrics, BoundedSlowdownCountsShortRunsAsTenSeconds) {
  // A: 100/100 = 1; B: (90 + 5) / 10 = 9.5; C: 300 / 200 = 1.5.
  EXPECT_DOUBLE_EQ(summarize(timeline(), 580, 16).mean_bounded_slowdown, 4.0);
}

TEST(SimMetrics, CompletionTimeMakespanAndUtilization) {
  // Busy: A 1 x 100 + B 16 x 5 + C 2 x 200 = 580 cpu-seconds of 16 x 320.
  Metrics m = summarize(timeline(), 580, 16);
  EXPECT_DOUBLE_EQ(m.mean_jct_s, (100.0 + 95 + 300) / 3);
  EXPECT_DOUBLE_EQ(m.makespan_s, 320);
  EXPECT_DOUBLE_EQ(m.utilization, 580.0 / (16 * 320));
}

TEST(SimMetrics, LargestWaitOfJobsOfSixteenNodesOrMore) {
  EXPECT_DOUBLE_EQ(summarize(timeline(), 580, 16).max_wait_large_s, 90);
  auto small = timeline();
  small[1].nodes_spanned = 15;
  EXPECT_DOUBLE_EQ(summarize(small, 580, 16).max_wait_large_s, 0);
}

TEST(SimMetrics, NoJobsGiveZeros) {
  Metrics m = summarize({}, 0, 16);
  EXPECT_EQ(m.mean_wait_s, 0);
  EXPECT_EQ(m.utilization, 0);
}

TEST(SimMetrics, NearestRankOfTheHundred) {
  std::vector<int64_t> v;
  for (int64_t i = 100; i >= 1; --i) v.push_back(i);
  EXPECT_DOUBLE_EQ(nearest_rank(v, 0.99), 99);
  EXPECT_DOUBLE_EQ(nearest_rank(v, 0.5), 50);
  EXPECT_DOUBLE_EQ(nearest_rank(v, 1.0), 100);
}

TEST(SimMetrics, NodesSpannedByAGang) {
  const Resources largest{32000, 0, 8};
  EXPECT_EQ(nodes_spanned(sched::GangShape{Resources{1000, 0, 1}, 4, 2, 8}, largest), 4u);
  EXPECT_EQ(nodes_spanned(sched::GangShape{Resources{1000, 0, 0}, 0, 0, 250}, largest), 8u);   // 250 / 32 cpus
  EXPECT_EQ(nodes_spanned(sched::GangShape{Resources{1000, 0, 1}, 0, 0, 17}, largest), 3u);    // 17 / 8 GPUs
  EXPECT_EQ(nodes_spanned(sched::GangShape{Resources{1000, 0, 0}, 0, 0, 16}, Resources{1000, 0, 0}), 16u);
}

}  // namespace
}  // namespace cadre::sim
