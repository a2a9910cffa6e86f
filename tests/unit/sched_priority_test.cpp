// Specification of master/scheduler/priority: the multifactor priority, its
// factors and its explanation.
#include "master/scheduler/priority.hpp"

#include <gtest/gtest.h>

namespace cadre::sched {
namespace {

// Four nodes of 8 cpus and 4 GPUs (32 cpus, 16 GPUs); partitions of tier
// 0, 5 and 10.
Snapshot cluster() {
  Snapshot s;
  for (int i = 0; i < 4; ++i) {
    NodeView n;
    n.name = "n" + std::to_string(i);
    n.total = Resources{8000, 65536, 4};
    s.nodes.push_back(n);
  }
  s.partitions = {PartitionView{"low", 0}, PartitionView{"mid", 5}, PartitionView{"top", 10}};
  return s;
}

PendingJob cpu_job(uint32_t ntasks) {
  PendingJob j;
  j.shape = GangShape{Resources{1000, 1024, 0}, 0, 0, ntasks};
  return j;
}

PriorityFactors factors(const PendingJob& j, const Snapshot& s, int64_t now, const Weights& w = {}) {
  return priority_of(j, s, cluster_totals(s), w, now);
}

TEST(Priority, ClusterTotalsSumNodesAndSpanTiers) {
  ClusterTotals t = cluster_totals(cluster());
  EXPECT_EQ(t.total, (Resources{32000, 4 * 65536, 16}));
  EXPECT_EQ(t.min_tier, 0);
  EXPECT_EQ(t.max_tier, 10);
}

TEST(Priority, AgeGrowsLinearlyToOneAtMaxAge) {
  Snapshot s = cluster();
  Weights w;
  w.max_age_s = 1000;
  PendingJob j = cpu_job(1);
  j.submit_time = 500;
  EXPECT_DOUBLE_EQ(factors(j, s, 500, w).age, 0.0);
  EXPECT_DOUBLE_EQ(factors(j, s, 400, w).age, 0.0) << "a submit time in the future counts as no wait";
  EXPECT_DOUBLE_EQ(factors(j, s, 750, w).age, 0.25);
  EXPECT_DOUBLE_EQ(factors(j, s, 1500, w).age, 1.0);
  EXPECT_DOUBLE_EQ(factors(j, s, 100000, w).age, 1.0) << "capped";
  w.max_age_s = 0;
  EXPECT_DOUBLE_EQ(factors(j, s, 100000, w).age, 0.0) << "no max age: no age factor";
}

TEST(Priority, SizeIsTheLargerShareOfCpusOrGpus) {
  Snapshot s = cluster();
  EXPECT_DOUBLE_EQ(factors(cpu_job(8), s, 0).size, 0.25);  // 8 of 32 cpus
  PendingJob gpu = cpu_job(2);
  gpu.shape.per_task.gpus = 2;                            // 4 of 16 GPUs beats 2 of 32 cpus
  EXPECT_DOUBLE_EQ(factors(gpu, s, 0).size, 0.25);
  EXPECT_DOUBLE_EQ(factors(cpu_job(64), s, 0).size, 1.0) << "capped at the whole cluster";
  EXPECT_DOUBLE_EQ(factors(cpu_job(1), Snapshot{}, 0).size, 0.0) << "an empty cluster";
}

TEST(Priority, TheJobsOwnPriorityIsWeightedPerUnit) {
  Snapshot s = cluster();
  PendingJob j = cpu_job(1);
  j.priority = 3;
  PriorityFactors f = factors(j, s, 0);
  EXPECT_DOUBLE_EQ(f.job, 3.0);
  PendingJob zero = cpu_job(1);
  EXPECT_DOUBLE_EQ(f.total - factors(zero, s, 0).total, 3000.0);
  j.priority = -2;
  EXPECT_DOUBLE_EQ(factors(j, s, 0).total - factors(zero, s, 0).total, -2000.0);
}

TEST(Priority, PartitionTierIsNormalisedFromLowestToHighest) {
  Snapshot s = cluster();
  PendingJob j = cpu_job(1);
  j.partition = 0;
  EXPECT_DOUBLE_EQ(factors(j, s, 0).partition, 0.0);
  j.partition = 1;
  EXPECT_DOUBLE_EQ(factors(j, s, 0).partition, 0.5);
  j.partition = 2;
  EXPECT_DOUBLE_EQ(factors(j, s, 0).partition, 1.0);
  j.partition = 7;
  EXPECT_DOUBLE_EQ(factors(j, s, 0).partition, 0.0) << "an unknown partition";
  s.partitions = {PartitionView{"only", 4}};
  j.partition = 0;
  EXPECT_DOUBLE_EQ(factors(j, s, 0).partition, 0.0) << "one tier: nothing to normalise";
}

TEST(Priority, FairShareIsTheMeanOfUserAndAccount) {
  Snapshot s = cluster();
  s.user_fairshare = {0.2, 0.6};
  s.account_fairshare = {0.4};
  PendingJob j = cpu_job(1);
  j.user = 1;
  j.account = 0;
  EXPECT_DOUBLE_EQ(factors(j, s, 0).fairshare, 0.5);
  j.user = 9;  // not in the table: no usage
  EXPECT_DOUBLE_EQ(factors(j, s, 0).fairshare, 0.7);
}

TEST(Priority, TotalIsTheWeightedSum) {
  Snapshot s = cluster();
  s.user_fairshare = {0.5};
  s.account_fairshare = {0.5};
  Weights w;
  w.max_age_s = 1000;
  PendingJob j = cpu_job(8);
  j.submit_time = 0;
  j.priority = 2;
  j.partition = 1;
  PriorityFactors f = factors(j, s, 500, w);
  // age 0.5, size 0.25, fair share 0.5, job 2, partition 0.5
  EXPECT_DOUBLE_EQ(f.total, 1000 * 0.5 + 1000 * 0.25 + 10000 * 0.5 + 1000 * 2 + 1000 * 0.5);
}

TEST(Priority, ExplainShowsTheSumAndEachWeightedPart) {
  Snapshot s = cluster();
  Weights w;
  w.max_age_s = 1000;
  PendingJob j = cpu_job(8);
  j.partition = 1;
  PriorityFactors f = factors(j, s, 500, w);
  EXPECT_EQ(explain(f, w), "11250 = age 500 + size 250 + fairshare 10000 + job 0 + partition 500 + qos 0");
  PendingJob low = cpu_job(1);
  low.priority = -1;
  EXPECT_EQ(explain(factors(low, s, 0, w), w), "9031 = age 0 + size 31 + fairshare 10000 + job -1000 + partition 0 + qos 0");
}

}  // namespace
}  // namespace cadre::sched
