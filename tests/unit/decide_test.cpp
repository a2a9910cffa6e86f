// Specification of master/scheduler/decide: the policy as a pure function.
// Each test builds a small snapshot by hand, so the expected decision can
// be worked out on paper; the comments give that working.
#include "master/scheduler/decide.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

namespace cadre::sched {
namespace {

constexpr int64_t kNow = 1000;

// A node of `cpus` cpus, 64 GiB and `gpus` GPUs, all free.
NodeView node(std::string name, int64_t cpus, int64_t gpus = 0, uint32_t switch_id = 0, uint32_t rack_id = 0) {
  NodeView n;
  n.name = std::move(name);
  n.total = Resources{cpus * 1000, 64 * 1024, gpus};
  n.free = n.total;
  n.free_gpus.resize(static_cast<size_t>(gpus));
  std::iota(n.free_gpus.begin(), n.free_gpus.end(), 0u);
  n.switch_id = switch_id;
  n.rack_id = rack_id;
  return n;
}

// `count` identical nodes n00, n01, ...
std::vector<NodeView> nodes(int count, int64_t cpus, int64_t gpus = 0) {
  std::vector<NodeView> out;
  for (int i = 0; i < count; ++i) out.push_back(node((i < 10 ? "n0" : "n") + std::to_string(i), cpus, gpus));
  return out;
}

// One partition of every node, unless the test gives its own.
Snapshot cluster(std::vector<NodeView> ns, std::vector<PartitionView> parts = {PartitionView{"main"}}) {
  Snapshot s;
  s.nodes = std::move(ns);
  s.partitions = std::move(parts);
  s.gpu_models = {""};
  return s;
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

// A job of `count` whole nodes (one rank of `cpus` cpus and `gpus` GPUs on
// each) that runs at most `limit` seconds.
PendingJob whole_nodes(JobId id, uint32_t count, int64_t cpus, int64_t limit, int64_t gpus = 0) {
  PendingJob j;
  j.id = id;
  j.submit_time = 100;
  j.time_limit_s = limit;
  j.shape = GangShape{Resources{cpus * 1000, 1024, gpus}, count, 1, count};
  return j;
}

// Starts a gang on the snapshot by hand: one rank of `per_task` on each
// node in `on` (a node may repeat), taking its lowest free GPUs.
RunningJob& run(Snapshot& s, JobId id, const std::vector<uint32_t>& on, Resources per_task, int64_t start,
                int64_t end, uint32_t partition = 0) {
  RunningJob r;
  r.id = id;
  r.partition = partition;
  r.start_time = start;
  r.expected_end = end;
  r.per_task = per_task;
  for (uint32_t n : on) {
    NodeView& v = s.nodes[n];
    v.free -= per_task;
    RankUse use{n, {}};
    for (int64_t g = 0; g < per_task.gpus; ++g) {
      use.gpus.push_back(v.free_gpus.front());
      v.free_gpus.erase(v.free_gpus.begin());
    }
    r.ranks.push_back(std::move(use));
  }
  s.running.push_back(std::move(r));
  return s.running.back();
}

// Every cpu and GPU of the nodes in `on` (all of one shape), one rank each.
RunningJob& run_whole(Snapshot& s, JobId id, const std::vector<uint32_t>& on, int64_t start, int64_t end,
                      uint32_t partition = 0) {
  Resources per_task = s.nodes[on.front()].total;
  per_task.memory_mb = 1024;
  return run(s, id, on, per_task, start, end, partition);
}

std::vector<JobId> started(const Decisions& d) {
  std::vector<JobId> ids;
  for (const Placement& p : d.placements) ids.push_back(p.job);
  return ids;
}

const Placement* placement_of(const Decisions& d, JobId id) {
  for (const Placement& p : d.placements)
    if (p.job == id) return &p;
  return nullptr;
}

const Waiting* waiting_of(const Decisions& d, JobId id) {
  for (const Waiting& w : d.waiting)
    if (w.job == id) return &w;
  return nullptr;
}

const Reservation* reservation_of(const Decisions& d, JobId id) {
  for (const Reservation& r : d.reservations)
    if (r.job == id) return &r;
  return nullptr;
}

// The reason a job waits, or "placed" / "missing" (readable in failures).
std::string reason_of(const Decisions& d, JobId id) {
  if (placement_of(d, id)) return "placed";
  const Waiting* w = waiting_of(d, id);
  return w ? std::string(to_string(w->reason)) : "missing";
}

std::set<uint32_t> nodes_of(const Placement& p) {
  std::set<uint32_t> out;
  for (const RankSlot& r : p.gang.ranks) out.insert(r.node);
  return out;
}

std::set<uint32_t> switches_of(const Snapshot& s, const Placement& p) {
  std::set<uint32_t> out;
  for (uint32_t n : nodes_of(p)) out.insert(s.nodes[n].switch_id);
  return out;
}

// The snapshot after the decisions' placements started at `now`: they run
// until their time limit, and leave the queue.
Snapshot after_placements(const Snapshot& s, const Decisions& d, const Policy& policy, int64_t now) {
  Snapshot next = s;
  for (const Placement& p : d.placements) {
    auto it = std::find_if(next.pending.begin(), next.pending.end(), [&](const PendingJob& j) { return j.id == p.job; });
    const PendingJob j = *it;
    next.pending.erase(it);
    RunningJob r;
    r.id = j.id;
    r.partition = j.partition;
    r.user = j.user;
    r.start_time = now;
    r.expected_end = now + (j.time_limit_s > 0 ? j.time_limit_s : policy.unlimited_as_s);
    r.per_task = j.shape.per_task;
    for (const RankSlot& slot : p.gang.ranks) {
      NodeView& v = next.nodes[slot.node];
      v.free -= j.shape.per_task;
      for (uint32_t g : slot.gpus) std::erase(v.free_gpus, g);
      r.ranks.push_back(RankUse{slot.node, slot.gpus});
    }
    next.running.push_back(std::move(r));
  }
  return next;
}

// The snapshot after `victims` were stopped: their resources are free.
Snapshot without_running(const Snapshot& s, const std::vector<JobId>& victims) {
  Snapshot next = s;
  std::erase_if(next.running, [&](const RunningJob& r) {
    if (std::find(victims.begin(), victims.end(), r.id) == victims.end()) return false;
    for (const RankUse& u : r.ranks) {
      NodeView& v = next.nodes[u.node];
      v.free += r.per_task;
      v.free_gpus.insert(v.free_gpus.end(), u.gpus.begin(), u.gpus.end());
      std::sort(v.free_gpus.begin(), v.free_gpus.end());
    }
    return true;
  });
  return next;
}

Policy with(Backfill b) {
  Policy p;
  p.backfill = b;
  return p;
}

// ---- ranking ----

TEST(Decide, HigherPriorityStartsFirst) {
  // Room for one 4-rank job only.
  Snapshot s = cluster({node("a", 4)});
  s.pending = {job(1, 4, 0), job(2, 4, 10), job(3, 4, 5)};
  EXPECT_EQ(started(decide(s, Policy{}, 0)), (std::vector<JobId>{2}));
}

TEST(Decide, EqualPriorityGoesByEarlierSubmitTime) {
  Snapshot s = cluster({node("a", 4)});
  s.pending = {job(1, 4, 0, 300), job(2, 4, 0, 100), job(3, 4, 0, 200)};
  EXPECT_EQ(started(decide(s, Policy{}, 0)), (std::vector<JobId>{2}));
}

TEST(Decide, EqualPriorityAndSubmitTimeGoesByLowerId) {
  Snapshot s = cluster({node("a", 4)});
  s.pending = {job(9, 4), job(4, 4), job(7, 4)};
  EXPECT_EQ(started(decide(s, Policy{}, 0)), (std::vector<JobId>{4}));
}

TEST(Decide, PlacementsComeInRankedOrder) {
  Snapshot s = cluster({node("a", 16)});
  s.pending = {job(1, 1, 0, 3), job(2, 1, 5, 9), job(3, 1, 0, 1), job(4, 1, -1, 0)};
  EXPECT_EQ(started(decide(s, Policy{}, 0)), (std::vector<JobId>{2, 3, 1, 4}));
}

TEST(Decide, AHigherPartitionTierComesBeforeAnyPriority) {
  Snapshot s = cluster({node("a", 4)}, {PartitionView{"low", 0}, PartitionView{"high", 1}});
  PendingJob low = job(1, 4, 1000);
  PendingJob high = job(2, 4, 0, 900);
  high.partition = 1;
  s.pending = {low, high};
  EXPECT_EQ(started(decide(s, Policy{}, 0)), (std::vector<JobId>{2}));
}

TEST(Decide, StartedJobsTakeWhatIsFreeFromTheJobsAfterThem) {
  Snapshot s = cluster({node("a", 4)});
  s.pending = {job(1, 3), job(2, 2), job(3, 1)};
  // 1 takes 3 cpus; 2 does not fit in the last one; 3 does.
  EXPECT_EQ(started(decide(s, Policy{}, 0)), (std::vector<JobId>{1, 3}));
}

TEST(Decide, GangsOfLaterJobsNeverShareGpusWithEarlierOnes) {
  PendingJob a = job(1, 2);
  a.shape.per_task.gpus = 2;
  PendingJob b = job(2, 2);
  b.shape.per_task.gpus = 2;
  Snapshot s = cluster({node("a", 16, 8)});
  s.pending = {a, b};
  Decisions d = decide(s, Policy{}, 0);
  ASSERT_EQ(d.placements.size(), 2u);
  std::vector<uint32_t> all;
  for (const Placement& p : d.placements)
    for (const RankSlot& r : p.gang.ranks) all.insert(all.end(), r.gpus.begin(), r.gpus.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(Decide, NoPendingJobsNoDecisions) {
  Snapshot s = cluster({node("a", 4)});
  Decisions d = decide(s, Policy{}, 0);
  EXPECT_TRUE(d.placements.empty());
  EXPECT_TRUE(d.waiting.empty());
  EXPECT_TRUE(d.reservations.empty());
}

TEST(Decide, NoNodesNoPlacementsButTheJobIsAccountedFor) {
  Snapshot s = cluster({});
  s.pending = {job(1, 1)};
  Decisions d = decide(s, Policy{}, 0);
  EXPECT_TRUE(d.placements.empty());
  EXPECT_EQ(reason_of(d, 1), "Resources");
}

TEST(Decide, SameSnapshotGivesIdenticalDecisions) {
  Snapshot s = cluster({});
  for (int i = 0; i < 6; ++i) s.nodes.push_back(node("n" + std::to_string(i), 8 + i, i % 3 * 2));
  for (JobId id = 1; id <= 40; ++id) {
    PendingJob j = job(id, static_cast<uint32_t>(1 + id % 5), static_cast<int32_t>(id % 3), static_cast<int64_t>(id % 7));
    j.shape.per_task.gpus = id % 4 == 0 ? 1 : 0;
    if (id % 6 == 0) j.shape = GangShape{j.shape.per_task, 2, 2, 4};
    s.pending.push_back(j);
  }
  Decisions first = decide(s, Policy{}, 1000);
  ASSERT_FALSE(first.placements.empty());
  // The order pending jobs are listed in must not matter either: the
  // ranking alone orders them.
  Snapshot shuffled = s;
  std::reverse(shuffled.pending.begin(), shuffled.pending.end());
  for (int run = 0; run < 3; ++run) {
    Decisions again = decide(run == 2 ? shuffled : s, Policy{}, 1000);
    ASSERT_EQ(again.placements.size(), first.placements.size());
    for (size_t i = 0; i < first.placements.size(); ++i) {
      const Placement& x = first.placements[i];
      const Placement& y = again.placements[i];
      EXPECT_EQ(x.job, y.job);
      ASSERT_EQ(x.gang.ranks.size(), y.gang.ranks.size());
      for (size_t r = 0; r < x.gang.ranks.size(); ++r) {
        EXPECT_EQ(x.gang.ranks[r].rank, y.gang.ranks[r].rank);
        EXPECT_EQ(x.gang.ranks[r].node, y.gang.ranks[r].node) << "job " << x.job << " rank " << r;
        EXPECT_EQ(x.gang.ranks[r].gpus, y.gang.ranks[r].gpus);
      }
    }
    ASSERT_EQ(again.waiting.size(), first.waiting.size());
    for (size_t i = 0; i < first.waiting.size(); ++i) {
      EXPECT_EQ(again.waiting[i].job, first.waiting[i].job);
      EXPECT_EQ(again.waiting[i].reason, first.waiting[i].reason);
      EXPECT_EQ(again.waiting[i].expected_start, first.waiting[i].expected_start);
    }
  }
}

TEST(Decide, DoesNotChangeTheSnapshot) {
  Snapshot s = cluster({node("a", 4, 2)});
  s.pending = {job(1, 2)};
  Snapshot copy = s;
  (void)decide(s, Policy{}, 0);
  EXPECT_EQ(s.nodes[0].free, copy.nodes[0].free);
  EXPECT_EQ(s.nodes[0].free_gpus, copy.nodes[0].free_gpus);
}

// ---- EASY backfill ----
//
// Four 4-cpu nodes at kNow = 1000: job 1 holds n00 and n01 until 1100,
// job 2 holds n02 until 1500, n03 is free. Job 10, first in the queue,
// wants three whole nodes for 1000 s: the earliest it fits is 1100, on
// n00, n01 and n03.
Snapshot easy_cluster(int node_count = 4) {
  Snapshot s = cluster(nodes(node_count, 4));
  run_whole(s, 1, {0, 1}, 0, 1100);
  run_whole(s, 2, {2}, 0, 1500);
  PendingJob big = whole_nodes(10, 3, 4, 1000);
  big.priority = 10;
  s.pending.push_back(big);
  return s;
}

TEST(DecideEasy, TheTopBlockedJobGetsAReservationAtTheEarliestTimeItsGangFits) {
  Snapshot s = easy_cluster();
  Decisions d = decide(s, Policy{}, kNow);
  EXPECT_TRUE(d.placements.empty());
  ASSERT_EQ(d.reservations.size(), 1u);
  EXPECT_EQ(d.reservations[0].job, 10u);
  EXPECT_EQ(d.reservations[0].start_time, 1100);
  EXPECT_EQ(d.reservations[0].nodes, (std::vector<uint32_t>{0, 1, 3}));
  const Waiting* w = waiting_of(d, 10);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->reason, WaitReason::reservation);
  EXPECT_EQ(w->expected_start, 1100);
}

TEST(DecideEasy, AShortJobThatEndsByTheReservationStartsNow) {
  Snapshot s = easy_cluster();
  s.pending.push_back(whole_nodes(11, 1, 4, 100));  // [1000, 1100): ends as the reservation begins
  Decisions d = decide(s, Policy{}, kNow);
  ASSERT_EQ(started(d), (std::vector<JobId>{11}));
  EXPECT_EQ(nodes_of(d.placements[0]), (std::set<uint32_t>{3}));
  ASSERT_TRUE(reservation_of(d, 10));
  EXPECT_EQ(reservation_of(d, 10)->start_time, 1100);

  // Recomputed with the backfilled job running, the reservation has not moved.
  Decisions again = decide(after_placements(s, d, Policy{}, kNow), Policy{}, kNow);
  ASSERT_TRUE(reservation_of(again, 10));
  EXPECT_EQ(reservation_of(again, 10)->start_time, 1100);
}

TEST(DecideEasy, ALongJobThatWouldOverlapTheReservedNodesWaitsWithReasonPriority) {
  Snapshot s = easy_cluster();
  s.pending.push_back(whole_nodes(12, 1, 4, 500));  // on n03 until 1500: past 1100
  Decisions d = decide(s, Policy{}, kNow);
  EXPECT_TRUE(d.placements.empty());
  EXPECT_EQ(reason_of(d, 12), "Priority");
  ASSERT_TRUE(reservation_of(d, 10));
  EXPECT_EQ(reservation_of(d, 10)->start_time, 1100);
}

TEST(DecideEasy, ALongJobStartsOnANodeTheReservationDoesNotNeed) {
  Snapshot s = easy_cluster(5);  // n04 is free too; the reservation needs only three of n00, n01, n03, n04
  s.pending.push_back(whole_nodes(12, 1, 4, 5000));
  Decisions d = decide(s, Policy{}, kNow);
  ASSERT_EQ(started(d), (std::vector<JobId>{12}));
  const Reservation* r = reservation_of(d, 10);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->start_time, 1100);
  for (uint32_t n : nodes_of(d.placements[0]))
    EXPECT_EQ(std::count(r->nodes.begin(), r->nodes.end(), n), 0) << "backfilled onto reserved node " << n;

  Decisions again = decide(after_placements(s, d, Policy{}, kNow), Policy{}, kNow);
  ASSERT_TRUE(reservation_of(again, 10));
  EXPECT_LE(reservation_of(again, 10)->start_time, 1100);
}

TEST(DecideEasy, OnlyTheFirstBlockedJobHoldsAReservation) {
  Snapshot s = easy_cluster();
  PendingJob second = whole_nodes(13, 4, 4, 100);
  second.priority = 5;
  s.pending.push_back(second);
  Decisions d = decide(s, Policy{}, kNow);
  ASSERT_EQ(d.reservations.size(), 1u);
  EXPECT_EQ(d.reservations[0].job, 10u);
  EXPECT_EQ(reason_of(d, 13), "Resources");
}

// ---- conservative backfill ----
//
// Four 4-cpu nodes: job 1 holds n00, n01 until 1100; job 2 holds n02, n03
// until 1200. Queue, in order: 21 (3 nodes, 500 s), 22 (4 nodes, 100 s),
// 23 (2 nodes, 100 s). 21 fits first at 1200; 22 needs all four, so after
// 21: 1700; 23 fits the hole n00, n01 leave over [1100, 1200).
TEST(DecideConservative, EveryBlockedJobGetsAReservationAndNoneOverlap) {
  Snapshot s = cluster(nodes(4, 4));
  run_whole(s, 1, {0, 1}, 0, 1100);
  run_whole(s, 2, {2, 3}, 0, 1200);
  PendingJob j21 = whole_nodes(21, 3, 4, 500);
  j21.priority = 3;
  PendingJob j22 = whole_nodes(22, 4, 4, 100);
  j22.priority = 2;
  PendingJob j23 = whole_nodes(23, 2, 4, 100);
  j23.priority = 1;
  s.pending = {j21, j22, j23};

  Decisions d = decide(s, with(Backfill::conservative), kNow);
  EXPECT_TRUE(d.placements.empty());
  ASSERT_EQ(d.reservations.size(), 3u);
  ASSERT_TRUE(reservation_of(d, 21) && reservation_of(d, 22) && reservation_of(d, 23));
  EXPECT_EQ(reservation_of(d, 21)->start_time, 1200);
  EXPECT_EQ(reservation_of(d, 22)->start_time, 1700);
  EXPECT_EQ(reservation_of(d, 23)->start_time, 1100);
  EXPECT_EQ(reservation_of(d, 23)->nodes, (std::vector<uint32_t>{0, 1}));
  for (JobId id : {21, 22, 23}) EXPECT_EQ(reason_of(d, id), "Reservation") << id;

  // Whole-node jobs: reservations that overlap in time share no node.
  auto limit = [&](JobId id) {
    for (const PendingJob& j : s.pending)
      if (j.id == id) return j.time_limit_s;
    return int64_t{0};
  };
  for (const Reservation& a : d.reservations)
    for (const Reservation& b : d.reservations) {
      if (a.job >= b.job) continue;
      const bool overlap = a.start_time < b.start_time + limit(b.job) && b.start_time < a.start_time + limit(a.job);
      if (!overlap) continue;
      for (uint32_t n : a.nodes)
        EXPECT_EQ(std::count(b.nodes.begin(), b.nodes.end(), n), 0)
            << "jobs " << a.job << " and " << b.job << " both hold node " << n;
    }

  // EASY reserves for the first only.
  Decisions easy = decide(s, Policy{}, kNow);
  ASSERT_EQ(easy.reservations.size(), 1u);
  EXPECT_EQ(easy.reservations[0].job, 21u);
}

TEST(DecideConservative, ReservationDepthCapsTheReservations) {
  Snapshot s = cluster(nodes(2, 4));
  run_whole(s, 1, {0, 1}, 0, 1100);
  for (JobId id = 1; id <= 5; ++id) s.pending.push_back(whole_nodes(30 + id, 2, 4, 100));
  Policy p = with(Backfill::conservative);
  p.reservation_depth = 2;
  Decisions d = decide(s, p, kNow);
  ASSERT_EQ(d.reservations.size(), 2u);
  EXPECT_EQ(d.reservations[0].start_time, 1100);
  EXPECT_EQ(d.reservations[1].start_time, 1200);
}

// ---- fcfs and greedy ----
//
// Two 4-cpu nodes: job 1 holds n00 until 1100. Queue: 31 (both nodes,
// 100 s), 32 (one node, 10000 s), 33 (one node, 50 s).
Snapshot order_cluster() {
  Snapshot s = cluster(nodes(2, 4));
  run_whole(s, 1, {0}, 0, 1100);
  PendingJob a = whole_nodes(31, 2, 4, 100);
  a.priority = 2;
  PendingJob b = whole_nodes(32, 1, 4, 10000);
  b.priority = 1;
  s.pending = {a, b, whole_nodes(33, 1, 4, 50)};
  return s;
}

TEST(DecideFcfs, ABlockedJobBlocksEverythingBehindIt) {
  Snapshot s = order_cluster();
  Decisions d = decide(s, with(Backfill::fcfs), kNow);
  EXPECT_TRUE(d.placements.empty()) << "33 would end before 31's reservation, yet fcfs never passes";
  ASSERT_TRUE(reservation_of(d, 31));
  EXPECT_EQ(reservation_of(d, 31)->start_time, 1100);
  EXPECT_EQ(reason_of(d, 32), "Priority");
  EXPECT_EQ(reason_of(d, 33), "Priority");
}

TEST(DecideFcfs, StopsAtTheFirstJobThatDoesNotFit) {
  Snapshot s = cluster({node("a", 4)});
  s.pending = {job(1, 3, 0, 1), job(2, 2, 0, 2), job(3, 1, 0, 3)};
  EXPECT_EQ(started(decide(s, with(Backfill::fcfs), 0)), (std::vector<JobId>{1}));
}

TEST(DecideFcfs, StartsNothingBehindAHeadThatCanNeverFit) {
  Snapshot s = cluster({node("a", 4)});
  s.pending = {job(1, 8, 10), job(2, 1), job(3, 1)};
  EXPECT_TRUE(decide(s, with(Backfill::fcfs), 0).placements.empty());
}

TEST(DecideEasy, BackfillsOnlyWhatCannotDelayTheHead) {
  Snapshot s = order_cluster();
  Decisions d = decide(s, Policy{}, kNow);
  EXPECT_EQ(started(d), (std::vector<JobId>{33}));
  EXPECT_EQ(reason_of(d, 32), "Priority");
}

TEST(DecideGreedy, AnythingThatFitsStartsAndNothingIsReserved) {
  Snapshot s = order_cluster();
  Decisions d = decide(s, with(Backfill::greedy), kNow);
  EXPECT_EQ(started(d), (std::vector<JobId>{32})) << "the long job takes the free node, delaying 31";
  EXPECT_TRUE(d.reservations.empty());
  EXPECT_EQ(reason_of(d, 31), "Resources");
  EXPECT_EQ(reason_of(d, 33), "Resources");
}

TEST(DecideGreedy, LetsSmallerJobsPassABlockedOne) {
  Snapshot s = cluster({node("a", 4)});
  s.pending = {job(1, 8, 10), job(2, 1), job(3, 1)};
  EXPECT_EQ(started(decide(s, with(Backfill::greedy), 0)), (std::vector<JobId>{2, 3}));
}

// ---- preemption ----
//
// Partition 0 "low" (tier 0) and 1 "high" (tier 1); every node is in both.
// Nodes have 4 cpus and 4 GPUs.
std::vector<PartitionView> tiers(bool low_preemptible = true) {
  PartitionView low{"low", 0, low_preemptible};
  PartitionView high{"high", 1};
  return {low, high};
}

PendingJob high_job(JobId id, uint32_t node_count) {
  PendingJob j = whole_nodes(id, node_count, 4, 1000, 4);
  j.partition = 1;
  return j;
}

TEST(DecidePreemption, AHigherTierJobPreemptsAWholeGangWhenThatLetsItStartNow) {
  Snapshot s = cluster(nodes(2, 4, 4), tiers());
  run_whole(s, 1, {0, 1}, 500, 5000);  // one gang over both nodes
  s.pending = {high_job(10, 1)};
  Decisions d = decide(s, Policy{}, kNow);
  EXPECT_TRUE(d.placements.empty());
  ASSERT_EQ(d.preemptions.size(), 1u);
  EXPECT_EQ(d.preemptions[0].preemptor, 10u);
  EXPECT_EQ(d.preemptions[0].victims, (std::vector<JobId>{1})) << "the whole gang, though one node would do";
  const Waiting* w = waiting_of(d, 10);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->reason, WaitReason::preempting);
  EXPECT_EQ(w->expected_start, kNow + 1);
  ASSERT_TRUE(reservation_of(d, 10));
  EXPECT_EQ(reservation_of(d, 10)->start_time, kNow + 1);

  // What the victims free is enough: without them the preemptor starts.
  Decisions next = decide(without_running(s, d.preemptions[0].victims), Policy{}, kNow + 1);
  EXPECT_EQ(started(next), (std::vector<JobId>{10}));
}

TEST(DecidePreemption, NoneWhenTheJobFitsWithout) {
  Snapshot s = cluster(nodes(2, 4, 4), tiers());
  run_whole(s, 1, {0}, 500, 5000);
  s.pending = {high_job(10, 1)};
  Decisions d = decide(s, Policy{}, kNow);
  EXPECT_TRUE(d.preemptions.empty());
  EXPECT_EQ(started(d), (std::vector<JobId>{10}));
}

TEST(DecidePreemption, NoneWhenEvenEvictingEverythingIsNotEnough) {
  Snapshot s = cluster(nodes(2, 4, 4), tiers());
  run_whole(s, 1, {0}, 500, 5000);
  run_whole(s, 2, {1}, 500, 5000);
  s.pending = {high_job(10, 3)};  // three nodes; the cluster has two
  Decisions d = decide(s, Policy{}, kNow);
  EXPECT_TRUE(d.preemptions.empty());
  EXPECT_TRUE(d.placements.empty());
  EXPECT_EQ(reason_of(d, 10), "Resources");
}

TEST(DecidePreemption, PicksTheVictimWithTheFewestGpuSecondsRun) {
  Snapshot s = cluster(nodes(2, 4, 4), tiers());
  run_whole(s, 1, {0}, 0, 5000);    // 4 GPUs x 1000 s
  run_whole(s, 2, {1}, 900, 5000);  // 4 GPUs x 100 s: cheaper
  s.pending = {high_job(10, 1)};
  Decisions d = decide(s, Policy{}, kNow);
  ASSERT_EQ(d.preemptions.size(), 1u);
  EXPECT_EQ(d.preemptions[0].victims, (std::vector<JobId>{2}));
}

TEST(DecidePreemption, AmongCpuJobsPicksTheFewestCpuSecondsRun) {
  Snapshot s = cluster(nodes(2, 4), tiers());
  run_whole(s, 1, {0}, 990, 5000);  // 4 cpus x 10 s
  run_whole(s, 2, {1}, 500, 5000);  // 4 cpus x 500 s
  PendingJob h = whole_nodes(10, 1, 4, 1000);
  h.partition = 1;
  s.pending = {h};
  Decisions d = decide(s, Policy{}, kNow);
  ASSERT_EQ(d.preemptions.size(), 1u);
  EXPECT_EQ(d.preemptions[0].victims, (std::vector<JobId>{1}));
}

TEST(DecidePreemption, GivesBackCheapVictimsThatDoNotHelp) {
  // Partition 2 "fixed" is not preemptible. On n00, job 3 (fixed) holds 3
  // GPUs and job 1 (low, cheapest) holds the fourth; job 2 (low) holds n01.
  // Evicting 1 alone frees one GPU: not enough. 1 then 2 is; 2 alone is too.
  std::vector<PartitionView> parts = tiers();
  parts.push_back(PartitionView{"fixed", 0, false});
  Snapshot s = cluster(nodes(2, 4, 4), parts);
  run(s, 3, {0}, Resources{3000, 1024, 3}, 0, 5000, 2);
  run(s, 1, {0}, Resources{1000, 1024, 1}, 900, 5000);  // 100 GPU-seconds
  run_whole(s, 2, {1}, 500, 5000);                       // 2000 GPU-seconds
  s.pending = {high_job(10, 1)};
  Decisions d = decide(s, Policy{}, kNow);
  ASSERT_EQ(d.preemptions.size(), 1u);
  EXPECT_EQ(d.preemptions[0].victims, (std::vector<JobId>{2}));
}

TEST(DecidePreemption, NeverPreemptsANonPreemptiblePartition) {
  Snapshot s = cluster(nodes(2, 4, 4), tiers(false));
  run_whole(s, 1, {0, 1}, 500, 5000);
  s.pending = {high_job(10, 1)};
  Decisions d = decide(s, Policy{}, kNow);
  EXPECT_TRUE(d.preemptions.empty());
  EXPECT_EQ(reason_of(d, 10), "Reservation");
  EXPECT_EQ(waiting_of(d, 10)->expected_start, 5000);
}

TEST(DecidePreemption, NeverWhenThePolicyTurnsItOff) {
  Snapshot s = cluster(nodes(2, 4, 4), tiers());
  run_whole(s, 1, {0, 1}, 500, 5000);
  s.pending = {high_job(10, 1)};
  Policy p;
  p.preemption = false;
  Decisions d = decide(s, p, kNow);
  EXPECT_TRUE(d.preemptions.empty());
  EXPECT_EQ(reason_of(d, 10), "Reservation");
}

TEST(DecidePreemption, NeverPreemptsTheSameTier) {
  Snapshot s = cluster(nodes(2, 4, 4), tiers());
  run_whole(s, 1, {0, 1}, 500, 5000, 1);
  s.pending = {high_job(10, 1)};
  Decisions d = decide(s, Policy{}, kNow);
  EXPECT_TRUE(d.preemptions.empty());
}

TEST(DecidePreemption, AnEndingJobIsNoVictimAndThePreemptorWaitsForIt) {
  Snapshot s = cluster(nodes(2, 4, 4), tiers());
  run_whole(s, 1, {0}, 500, 5000).ending = true;  // already being killed
  run_whole(s, 2, {1}, 999, 5000);                 // the cheapest otherwise
  s.pending = {high_job(10, 1)};
  Decisions d = decide(s, Policy{}, kNow);
  EXPECT_TRUE(d.preemptions.empty()) << "job 1 frees enough at once";
  const Waiting* w = waiting_of(d, 10);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->reason, WaitReason::preempting);
  EXPECT_EQ(w->expected_start, kNow + 1);
  ASSERT_TRUE(reservation_of(d, 10));
  EXPECT_EQ(reservation_of(d, 10)->nodes, (std::vector<uint32_t>{0}));
}

TEST(DecidePreemption, APreemptorStillWaitsAsPreemptingWhenOnlyItsVictimsAreLeft) {
  // The pass after a preemption: the victim is being killed (ending) and no
  // other lower-tier job runs. The preemptor still waits for its victims.
  Snapshot s = cluster(nodes(1, 4, 4), tiers());
  run_whole(s, 1, {0}, 500, 5000).ending = true;
  s.pending = {high_job(10, 1)};
  Decisions d = decide(s, Policy{}, kNow);
  EXPECT_TRUE(d.preemptions.empty());
  ASSERT_TRUE(waiting_of(d, 10));
  EXPECT_EQ(waiting_of(d, 10)->expected_start, kNow + 1);
  EXPECT_EQ(reason_of(d, 10), "Preempting");
}

TEST(DecidePreemption, UnderFcfsAPreemptorThatCannotStartYetBlocksTheJobsBehindIt) {
  // n02 is in "low" only. Job 10 preempts job 1 and waits for it; job 20
  // (low) would fit n02 now, but fcfs lets nothing pass a job that could
  // not start.
  Snapshot s = cluster(nodes(3, 4, 4), tiers());
  s.nodes[2].partitions = 0b01;
  run_whole(s, 1, {0, 1}, 500, 5000);
  PendingJob behind = whole_nodes(20, 1, 4, 100, 4);
  s.pending = {high_job(10, 1), behind};
  Decisions d = decide(s, with(Backfill::fcfs), kNow);
  ASSERT_EQ(d.preemptions.size(), 1u);
  EXPECT_EQ(reason_of(d, 10), "Preempting");
  EXPECT_EQ(reason_of(d, 20), "Priority");
}

// ---- fair share ----

TEST(DecideFairShare, OfTwoEqualJobsTheLighterUserGoesFirst) {
  Snapshot s = cluster({node("a", 4)});
  PendingJob heavy = job(1, 4, 0, 100);  // older and a lower id: would win on any tie
  heavy.user = 0;
  PendingJob light = job(2, 4, 0, 200);
  light.user = 1;
  s.pending = {heavy, light};
  s.user_fairshare = {0.2, 0.9};
  EXPECT_EQ(started(decide(s, Policy{}, kNow)), (std::vector<JobId>{2}));
  s.user_fairshare = {0.9, 0.2};
  EXPECT_EQ(started(decide(s, Policy{}, kNow)), (std::vector<JobId>{1}));
}

// ---- topology ----

TEST(DecideTopology, AGangLandsUnderTheTightestSwitchWithRoom) {
  // switch 0: four idle nodes. switch 1: two half-busy nodes and an idle
  // one. switch 2: two half-busy nodes. switch 3: six idle nodes. Best fit
  // alone would take the four half-busy nodes over two switches.
  Snapshot s = cluster({});
  auto add = [&](uint32_t sw, int count) {
    for (int i = 0; i < count; ++i)
      s.nodes.push_back(node("s" + std::to_string(sw) + "n" + std::to_string(i), 4, 0, sw, sw / 2));
  };
  add(0, 4);
  add(1, 3);
  add(2, 2);
  add(3, 6);
  for (uint32_t n : {4u, 5u, 7u, 8u}) run(s, n + 100, {n}, Resources{2000, 1024, 0}, 0, 5000);
  PendingJob j = whole_nodes(1, 4, 2, 100);
  s.pending = {j};
  Decisions d = decide(s, Policy{}, kNow);
  ASSERT_EQ(started(d), (std::vector<JobId>{1}));
  EXPECT_EQ(nodes_of(d.placements[0]), (std::set<uint32_t>{0, 1, 2, 3}));
}

// Nodes of `per_switch[i]` idle nodes under switch i; switches 0, 1 in rack
// 0 and 2, 3 in rack 1.
Snapshot switched(const std::vector<int>& per_switch) {
  Snapshot s = cluster({});
  for (uint32_t sw = 0; sw < per_switch.size(); ++sw)
    for (int i = 0; i < per_switch[sw]; ++i)
      s.nodes.push_back(node("s" + std::to_string(sw) + "n" + std::to_string(i), 4, 0, sw, sw / 2));
  return s;
}

TEST(DecideTopology, WithoutASwitchWithRoomItStaysInOneRack) {
  // Rack 0 holds 3 + 1 = 4 nodes, rack 1 3 + 2. The two roomiest switches
  // (0 and 2) would span both racks.
  Snapshot s = switched({3, 1, 3, 2});
  s.pending = {whole_nodes(1, 4, 4, 100)};
  Decisions d = decide(s, Policy{}, kNow);
  ASSERT_EQ(started(d), (std::vector<JobId>{1}));
  for (uint32_t n : nodes_of(d.placements[0])) EXPECT_EQ(s.nodes[n].rack_id, 0u) << s.nodes[n].name;
}

TEST(DecideTopology, WithoutARackWithRoomItUsesTheFewestSwitches) {
  // Six nodes: no rack has six (4 and 3); the fewest switches are 3 + 2 + 1.
  Snapshot s = switched({3, 1, 2, 1});
  s.pending = {whole_nodes(1, 6, 4, 100)};
  Decisions d = decide(s, Policy{}, kNow);
  ASSERT_EQ(started(d), (std::vector<JobId>{1}));
  EXPECT_EQ(switches_of(s, d.placements[0]).size(), 3u);
}

TEST(DecideTopology, AMaxSwitchesLimitHoldsUntilItsWaitIsOver) {
  Snapshot s = switched({2, 2});
  PendingJob j = whole_nodes(1, 4, 4, 100);
  j.submit_time = kNow;
  j.max_switches = 1;
  j.switches_wait_s = 600;
  s.pending = {j};
  for (int64_t now : {kNow, kNow + 599}) {
    Decisions d = decide(s, Policy{}, now);
    EXPECT_TRUE(d.placements.empty()) << now;
    EXPECT_EQ(reason_of(d, 1), "Topology") << now;
  }
  Decisions d = decide(s, Policy{}, kNow + 600);
  ASSERT_EQ(started(d), (std::vector<JobId>{1}));
  EXPECT_EQ(switches_of(s, d.placements[0]).size(), 2u);
}

TEST(DecideTopology, AMaxSwitchesLimitIsMetWhenAPlacementWithinItExists) {
  // Six idle nodes are wanted within two switches. Rack 0 has exactly six
  // over three switches; rack 1 has seven over two (4 + 3). Rack 1 fits.
  Snapshot s = cluster({});
  auto add = [&](uint32_t sw, uint32_t rack, int count) {
    for (int i = 0; i < count; ++i)
      s.nodes.push_back(node("s" + std::to_string(sw) + "n" + std::to_string(i), 4, 0, sw, rack));
  };
  add(0, 0, 2);
  add(1, 0, 2);
  add(2, 0, 2);
  add(3, 1, 4);
  add(4, 1, 3);
  PendingJob j = whole_nodes(1, 6, 4, 100);
  j.max_switches = 2;
  s.pending = {j};
  Decisions d = decide(s, Policy{}, kNow);
  ASSERT_EQ(started(d), (std::vector<JobId>{1})) << "waits: " << reason_of(d, 1);
  EXPECT_LE(switches_of(s, d.placements[0]).size(), 2u);
}

TEST(DecideTopology, NodesOfOneSwitchInDifferentRacksNeverGetPartOrTwiceAGang) {
  // n00 and n02: switch 0, rack 0; n01: switch 1, rack 0; n03: switch 1,
  // rack 1 (say, n03's agent was given a rack label and n01's was not).
  Snapshot s = cluster({node("n00", 4, 0, 0, 0), node("n01", 4, 0, 1, 0), node("n02", 4, 0, 0, 0),
                        node("n03", 4, 0, 1, 1)});
  s.pending = {whole_nodes(1, 3, 4, 100)};
  Decisions d = decide(s, Policy{}, kNow);
  ASSERT_EQ(started(d), (std::vector<JobId>{1}));
  EXPECT_EQ(nodes_of(d.placements[0]).size(), 3u) << "a 4-cpu node was given two 4-cpu ranks";

  for (NodeView& n : s.nodes) n.total = n.free = Resources{2000, 64 * 1024, 0};
  s.pending = {job(2, 5)};  // five one-cpu ranks
  d = decide(s, Policy{}, kNow);
  ASSERT_EQ(started(d), (std::vector<JobId>{2}));
  EXPECT_EQ(d.placements[0].gang.ranks.size(), 5u) << "part of a gang was started";
}

TEST(DecideTopology, AMaxSwitchesLimitWithoutAWaitHoldsForever) {
  Snapshot s = switched({2, 2});
  PendingJob j = whole_nodes(1, 4, 4, 100);
  j.max_switches = 1;
  s.pending = {j};
  EXPECT_EQ(reason_of(decide(s, Policy{}, kNow + 365 * 86400), 1), "Topology");
}

// ---- partitions ----

TEST(DecidePartitions, AJobLandsOnlyOnNodesOfItsPartition) {
  Snapshot s = cluster({node("a0", 4), node("a1", 4), node("b0", 64), node("b1", 64)},
                       {PartitionView{"a"}, PartitionView{"b"}});
  s.nodes[0].partitions = s.nodes[1].partitions = 0b01;
  s.nodes[2].partitions = s.nodes[3].partitions = 0b10;
  PendingJob in_b = job(1, 2);  // a0 would be the tighter fit
  in_b.partition = 1;
  PendingJob in_a = job(2, 40);  // too big for a's nodes
  in_a.partition = 0;
  s.pending = {in_b, in_a};
  Decisions d = decide(s, Policy{}, kNow);
  ASSERT_EQ(started(d), (std::vector<JobId>{1}));
  for (uint32_t n : nodes_of(d.placements[0])) EXPECT_TRUE(n == 2 || n == 3) << s.nodes[n].name;
  EXPECT_EQ(reason_of(d, 2), "Resources");
}

TEST(DecidePartitions, MaxRunningJobsPerUserCountsJobsStartedInThisPass) {
  PartitionView a{"a"};
  a.max_running_jobs_per_user = 2;
  Snapshot s = cluster({node("n", 64)}, {a, PartitionView{"b"}});
  run(s, 1, {0}, Resources{1000, 1024, 0}, 0, 5000).user = 7;
  run(s, 2, {0}, Resources{1000, 1024, 0}, 0, 5000, 1).user = 7;  // another partition: not counted
  for (JobId id = 10; id < 13; ++id) {
    PendingJob j = job(id, 1);
    j.user = 7;
    s.pending.push_back(j);
  }
  PendingJob other = job(20, 1);
  other.user = 8;
  s.pending.push_back(other);
  Decisions d = decide(s, Policy{}, kNow);
  EXPECT_EQ(started(d), (std::vector<JobId>{10, 20}));
  EXPECT_EQ(reason_of(d, 11), "PartitionLimit");
  EXPECT_EQ(reason_of(d, 12), "PartitionLimit");
}

TEST(DecidePartitions, MaxGpusPerUserCountsGpusStartedInThisPass) {
  PartitionView a{"a"};
  a.max_gpus_per_user = 4;
  Snapshot s = cluster({node("n", 64, 8)}, {a});
  run(s, 1, {0, 0}, Resources{1000, 1024, 1}, 0, 5000).user = 7;  // 2 GPUs
  for (JobId id = 10; id < 13; ++id) {
    PendingJob j = job(id, 1);
    j.shape.per_task.gpus = 1;
    j.user = 7;
    s.pending.push_back(j);
  }
  PendingJob other = job(20, 2);
  other.shape.per_task.gpus = 2;  // 4 GPUs: at the limit, not over it
  other.user = 8;
  s.pending.push_back(other);
  Decisions d = decide(s, Policy{}, kNow);
  std::vector<JobId> ids = started(d);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<JobId>{10, 11, 20}));
  EXPECT_EQ(reason_of(d, 12), "PartitionLimit");
}

// ---- reasons ----

TEST(DecideReasons, ResourcesWhenTheClusterIsFullAndReservationWithItsStart) {
  Snapshot s = cluster({node("a", 4)});
  run_whole(s, 1, {0}, 0, 2000);
  PendingJob first = job(2, 4, 1);
  PendingJob second = job(3, 4, 0);
  s.pending = {first, second};
  Decisions d = decide(s, Policy{}, kNow);
  ASSERT_TRUE(waiting_of(d, 2));
  EXPECT_EQ(waiting_of(d, 2)->reason, WaitReason::reservation);
  EXPECT_EQ(waiting_of(d, 2)->expected_start, 2000);
  ASSERT_TRUE(waiting_of(d, 3));
  EXPECT_EQ(waiting_of(d, 3)->reason, WaitReason::resources);
  EXPECT_EQ(waiting_of(d, 3)->expected_start, 0);
}

TEST(DecideReasons, NoReservationAtNever) {
  // Job 1 has no end in sight (kNever, RunningJob's default): nothing can
  // be promised behind it. A reservation at kNever would hold nothing (its
  // window [kNever, kNever) is empty) and report a start time that is not one.
  Snapshot s = cluster({node("a", 4)});
  run_whole(s, 1, {0}, 0, kNever);
  s.pending = {job(2, 4, 1), job(3, 4, 0)};
  for (Backfill b : {Backfill::easy, Backfill::conservative}) {
    Decisions d = decide(s, with(b), kNow);
    for (const Reservation& r : d.reservations)
      EXPECT_LT(r.start_time, kNever) << to_string(b) << ": job " << r.job << " reserved at kNever";
    ASSERT_TRUE(waiting_of(d, 2));
    EXPECT_EQ(waiting_of(d, 2)->reason, WaitReason::resources) << to_string(b);
    EXPECT_EQ(waiting_of(d, 2)->expected_start, 0) << to_string(b) << ": 0 is how an unknown start reads";
  }
}

TEST(DecideReasons, AnUnknownPartitionIsDown) {
  Snapshot s = cluster({node("a", 4)});
  PendingJob j = job(1, 1);
  j.partition = 5;
  s.pending = {j};
  EXPECT_EQ(reason_of(decide(s, Policy{}, kNow), 1), "PartitionDown");
}

TEST(DecideReasons, WaitingListsEveryUnplacedJobInRankOrder) {
  Snapshot s = cluster({node("a", 4)});
  run_whole(s, 1, {0}, 0, 2000);
  s.pending = {job(5, 1, 0), job(6, 1, 3), job(7, 1, 1)};
  Decisions d = decide(s, Policy{}, kNow);
  ASSERT_EQ(d.waiting.size(), 3u);
  EXPECT_EQ(d.waiting[0].job, 6u);
  EXPECT_EQ(d.waiting[1].job, 7u);
  EXPECT_EQ(d.waiting[2].job, 5u);
}

TEST(DecideReasons, NamesAreStable) {
  EXPECT_EQ(to_string(WaitReason::resources), "Resources");
  EXPECT_EQ(to_string(WaitReason::priority), "Priority");
  EXPECT_EQ(to_string(WaitReason::reservation), "Reservation");
  EXPECT_EQ(to_string(WaitReason::partition_limit), "PartitionLimit");
  EXPECT_EQ(to_string(WaitReason::topology), "Topology");
  EXPECT_EQ(to_string(WaitReason::preempting), "Preempting");
  EXPECT_EQ(to_string(WaitReason::partition_down), "PartitionDown");
  for (Backfill b : {Backfill::fcfs, Backfill::greedy, Backfill::easy, Backfill::conservative}) {
    Backfill parsed = Backfill::easy;
    EXPECT_TRUE(parse_backfill(to_string(b), parsed));
    EXPECT_EQ(parsed, b);
  }
  Backfill untouched = Backfill::greedy;
  EXPECT_FALSE(parse_backfill("backfill", untouched));
  EXPECT_EQ(untouched, Backfill::greedy);
}

}  // namespace
}  // namespace cadre::sched
