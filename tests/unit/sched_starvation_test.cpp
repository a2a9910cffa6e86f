// Starvation: a 64-node job in a stream of 1-node jobs, run through
// decide() pass after pass. With EASY backfill the big job holds a
// reservation that no later job can delay, so it starts within the small
// jobs' longest time limit; with greedy the small jobs keep some node busy
// and it never starts.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>

#include "master/scheduler/decide.hpp"

namespace cadre::sched {
namespace {

constexpr int kNodes = 64;
constexpr int64_t kCpus = 4;
constexpr int64_t kTick = 10;           // seconds between passes
constexpr int64_t kBigSubmit = 300;     // the cluster is busy by then
constexpr int64_t kHorizon = 4000;      // simulated seconds
constexpr int64_t kMaxSmallLimit = 600;
constexpr size_t kBacklog = 80;         // small jobs always waiting: more than a tick drains (~8)
constexpr JobId kBig = 1'000'000;

// A tiny cluster simulator: jobs run exactly their time limit.
class StreamSim {
 public:
  explicit StreamSim(Backfill backfill) {
    policy_.backfill = backfill;
    for (int i = 0; i < kNodes; ++i) {
      NodeView n;
      n.name = "n" + std::to_string(100 + i);
      n.total = Resources{kCpus * 1000, 16 * 1024, 0};
      n.free = n.total;
      snap_.nodes.push_back(n);
    }
    snap_.partitions = {PartitionView{"main"}};
    snap_.gpu_models = {""};
  }

  // Runs to the horizon; returns when the big job started, if it did.
  std::optional<int64_t> run() {
    std::mt19937 rng(42);
    std::uniform_int_distribution<int64_t> limit_tenths(5, kMaxSmallLimit / kTick);
    JobId next = 1;
    for (int64_t now = 0; now <= kHorizon; now += kTick) {
      finish_until(now);
      // Small jobs keep arriving: as many as started since the last pass,
      // so the queue never runs dry (nor grows without bound).
      while (small_pending() < kBacklog) {
        PendingJob j;
        j.id = next++;
        j.submit_time = now;
        j.time_limit_s = limit_tenths(rng) * kTick;
        j.shape = GangShape{Resources{1000, 1024, 0}, 1, 1, 1};
        snap_.pending.push_back(j);
      }
      if (now == kBigSubmit) {
        PendingJob big;
        big.id = kBig;
        big.submit_time = now;
        big.time_limit_s = 600;
        big.shape = GangShape{Resources{kCpus * 1000, 1024, 0}, kNodes, 1, kNodes};
        snap_.pending.push_back(big);
      }
      const Decisions d = decide(snap_, policy_, now);
      for (const Placement& p : d.placements) {
        start(p, now);
        if (p.job == kBig) return now;
      }
      if (now == kBigSubmit + kTick) busy_when_big_came_ = !snap_.running.empty();
    }
    return std::nullopt;
  }

  bool busy_when_big_came() const { return busy_when_big_came_; }

 private:
  size_t small_pending() const {
    return static_cast<size_t>(std::count_if(snap_.pending.begin(), snap_.pending.end(),
                                             [](const PendingJob& j) { return j.id != kBig; }));
  }

  void finish_until(int64_t now) {
    std::erase_if(snap_.running, [&](const RunningJob& r) {
      if (r.expected_end > now) return false;
      for (const RankUse& u : r.ranks) snap_.nodes[u.node].free += r.per_task;
      return true;
    });
  }

  void start(const Placement& p, int64_t now) {
    auto it = std::find_if(snap_.pending.begin(), snap_.pending.end(),
                           [&](const PendingJob& j) { return j.id == p.job; });
    ASSERT_NE(it, snap_.pending.end());
    RunningJob r;
    r.id = it->id;
    r.start_time = now;
    r.expected_end = now + it->time_limit_s;
    r.per_task = it->shape.per_task;
    for (const RankSlot& slot : p.gang.ranks) {
      snap_.nodes[slot.node].free -= r.per_task;
      r.ranks.push_back(RankUse{slot.node, {}});
    }
    snap_.running.push_back(std::move(r));
    snap_.pending.erase(it);
  }

  Snapshot snap_;
  Policy policy_;
  bool busy_when_big_came_ = false;
};

TEST(DecideStarvation, EasyStartsTheBigJobWithinTheSmallJobsLongestTimeLimit) {
  StreamSim sim(Backfill::easy);
  std::optional<int64_t> start = sim.run();
  ASSERT_TRUE(start) << "the 64-node job never started under easy";
  // It is first in the queue from its submit (its size factor dwarfs the
  // small jobs' age), so it waits at most until everything running then
  // has reached its limit.
  EXPECT_LE(*start, kBigSubmit + kMaxSmallLimit);
  EXPECT_GT(*start, kBigSubmit) << "the cluster was meant to be full when it arrived";
}

TEST(DecideStarvation, GreedyStarvesTheBigJobForTheWholeRun) {
  StreamSim sim(Backfill::greedy);
  std::optional<int64_t> start = sim.run();
  EXPECT_TRUE(sim.busy_when_big_came());
  EXPECT_FALSE(start) << "started at " << start.value_or(0) << "; the stream should keep a node busy";
}

}  // namespace
}  // namespace cadre::sched
