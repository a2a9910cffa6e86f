// Specification of master/scheduler/decide: the policy as a pure function.
#include "master/scheduler/decide.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace cadre::sched {
namespace {

NodeView node(std::string name, int64_t cpus, int64_t gpus) {
  NodeView n;
  n.name = std::move(name);
  n.total = Resources{cpus * 1000, 256 * 1024, gpus};
  n.free = n.total;
  n.free_gpus.resize(static_cast<size_t>(gpus));
  std::iota(n.free_gpus.begin(), n.free_gpus.end(), 0u);
  return n;
}

// A job of `ntasks` one-cpu ranks anywhere.
PendingJob job(JobId id, uint32_t ntasks, int32_t priority = 0, int64_t submit_time = 100) {
  PendingJob j;
  j.id = id;
  j.priority = priority;
  j.submit_time = submit_time;
  j.shape = GangShape{Resources{1000, 1024, 0}, 0, 0, ntasks};
  return j;
}

std::vector<JobId> started(const Decisions& d) {
  std::vector<JobId> ids;
  for (const Placement& p : d.placements) ids.push_back(p.job);
  return ids;
}

TEST(Decide, HigherPriorityStartsFirst) {
  // Room for one 4-rank job only.
  Snapshot s{{node("a", 4, 0)}, {job(1, 4, 0), job(2, 4, 10), job(3, 4, 5)}};
  EXPECT_EQ(started(decide(s, Policy{}, 0)), (std::vector<JobId>{2}));
}

TEST(Decide, EqualPriorityGoesByEarlierSubmitTime) {
  Snapshot s{{node("a", 4, 0)}, {job(1, 4, 0, 300), job(2, 4, 0, 100), job(3, 4, 0, 200)}};
  EXPECT_EQ(started(decide(s, Policy{}, 0)), (std::vector<JobId>{2}));
}

TEST(Decide, EqualPriorityAndSubmitTimeGoesByLowerId) {
  Snapshot s{{node("a", 4, 0)}, {job(9, 4), job(4, 4), job(7, 4)}};
  EXPECT_EQ(started(decide(s, Policy{}, 0)), (std::vector<JobId>{4}));
}

TEST(Decide, PlacementsComeInRankedOrder) {
  Snapshot s{{node("a", 16, 0)}, {job(1, 1, 0, 3), job(2, 1, 5, 9), job(3, 1, 0, 1), job(4, 1, -1, 0)}};
  EXPECT_EQ(started(decide(s, Policy{}, 0)), (std::vector<JobId>{2, 3, 1, 4}));
}

TEST(Decide, StartedJobsTakeWhatIsFreeFromTheJobsAfterThem) {
  Snapshot s{{node("a", 4, 0)}, {job(1, 3), job(2, 2), job(3, 1)}};
  // 1 takes 3 cpus; 2 does not fit in the last one; 3 does.
  EXPECT_EQ(started(decide(s, Policy{}, 0)), (std::vector<JobId>{1, 3}));
}

TEST(Decide, StrictOrderStopsAtTheFirstJobThatDoesNotFit) {
  Snapshot s{{node("a", 4, 0)}, {job(1, 3, 0, 1), job(2, 2, 0, 2), job(3, 1, 0, 3)}};
  EXPECT_EQ(started(decide(s, Policy{.strict_order = true}, 0)), (std::vector<JobId>{1}));
}

TEST(Decide, StrictOrderStartsNothingBehindABlockedHead) {
  Snapshot s{{node("a", 4, 0)}, {job(1, 8, 10), job(2, 1), job(3, 1)}};
  EXPECT_TRUE(decide(s, Policy{.strict_order = true}, 0).placements.empty());
}

TEST(Decide, GreedyLetsASmallerJobPassABlockedOne) {
  Snapshot s{{node("a", 4, 0)}, {job(1, 8, 10), job(2, 1), job(3, 1)}};
  EXPECT_EQ(started(decide(s, Policy{.strict_order = false}, 0)), (std::vector<JobId>{2, 3}));
}

TEST(Decide, GangsOfLaterJobsNeverShareGpusWithEarlierOnes) {
  PendingJob a = job(1, 2);
  a.shape.per_task.gpus = 2;
  PendingJob b = job(2, 2);
  b.shape.per_task.gpus = 2;
  Snapshot s{{node("a", 16, 8)}, {a, b}};
  Decisions d = decide(s, Policy{}, 0);
  ASSERT_EQ(d.placements.size(), 2u);
  std::vector<uint32_t> all;
  for (const Placement& p : d.placements)
    for (const RankSlot& r : p.gang.ranks) all.insert(all.end(), r.gpus.begin(), r.gpus.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(Decide, NoPendingJobsNoDecisions) {
  Snapshot s{{node("a", 4, 0)}, {}};
  EXPECT_TRUE(decide(s, Policy{}, 0).placements.empty());
}

TEST(Decide, NoNodesNoDecisions) {
  Snapshot s{{}, {job(1, 1)}};
  EXPECT_TRUE(decide(s, Policy{}, 0).placements.empty());
}

TEST(Decide, SameSnapshotGivesIdenticalDecisions) {
  Snapshot s;
  for (int i = 0; i < 6; ++i) s.nodes.push_back(node("n" + std::to_string(i), 8 + i, i % 3 * 2));
  for (JobId id = 1; id <= 40; ++id) {
    PendingJob j = job(id, static_cast<uint32_t>(1 + id % 5), static_cast<int32_t>(id % 3), static_cast<int64_t>(id % 7));
    j.shape.per_task.gpus = id % 4 == 0 ? 1 : 0;
    if (id % 6 == 0) j.shape = GangShape{j.shape.per_task, 2, 2, 4};
    s.pending.push_back(j);
  }
  Decisions first = decide(s, Policy{}, 1000);
  ASSERT_FALSE(first.placements.empty());
  // Input order must not matter either.
  Snapshot shuffled = s;
  std::reverse(shuffled.pending.begin(), shuffled.pending.end());
  std::reverse(shuffled.nodes.begin(), shuffled.nodes.end());
  for (int run = 0; run < 3; ++run) {
    Decisions again = decide(run == 2 ? shuffled : s, Policy{}, 1000 + run);
    ASSERT_EQ(again.placements.size(), first.placements.size());
    for (size_t i = 0; i < first.placements.size(); ++i) {
      const Placement& x = first.placements[i];
      const Placement& y = again.placements[i];
      EXPECT_EQ(x.job, y.job);
      ASSERT_EQ(x.gang.ranks.size(), y.gang.ranks.size());
      const auto& xn = s.nodes;
      const auto& yn = run == 2 ? shuffled.nodes : s.nodes;
      for (size_t r = 0; r < x.gang.ranks.size(); ++r) {
        EXPECT_EQ(x.gang.ranks[r].rank, y.gang.ranks[r].rank);
        EXPECT_EQ(xn[x.gang.ranks[r].node].name, yn[y.gang.ranks[r].node].name) << "job " << x.job << " rank " << r;
        EXPECT_EQ(x.gang.ranks[r].gpus, y.gang.ranks[r].gpus);
      }
    }
  }
}

TEST(Decide, DoesNotChangeTheSnapshot) {
  Snapshot s{{node("a", 4, 2)}, {job(1, 2)}};
  Snapshot copy = s;
  (void)decide(s, Policy{}, 0);
  EXPECT_EQ(s.nodes[0].free, copy.nodes[0].free);
  EXPECT_EQ(s.nodes[0].free_gpus, copy.nodes[0].free_gpus);
}

}  // namespace
}  // namespace cadre::sched
