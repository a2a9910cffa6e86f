// Specification of master/scheduler/timeline: what a node has free over a
// window of future time, given releases and reservations.
#include "master/scheduler/timeline.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace cadre::sched {
namespace {

const Resources kFour{4000, 4096, 4};
const Resources kOne{1000, 1024, 1};

struct Window {
  Resources free;
  std::vector<uint32_t> gpus;
};

Window window(const Timeline& t, uint32_t node, const Resources& now_free, const std::vector<uint32_t>& now_gpus,
              int64_t from, int64_t to) {
  Window w;
  uint64_t mask = 0;
  t.window(node, now_free, gpu_mask(now_gpus), from, to, w.free, mask);
  w.gpus = gpu_list(mask);
  return w;
}

TEST(Timeline, GpuMaskAndListRoundTrip) {
  EXPECT_EQ(gpu_mask({0, 3, 63}), (uint64_t{1} | uint64_t{8} | (uint64_t{1} << 63)));
  EXPECT_EQ(gpu_list(gpu_mask({5, 1, 9})), (std::vector<uint32_t>{1, 5, 9}));
  EXPECT_EQ(gpu_mask({64, 100}), 0u) << "indices past the mask are ignored";
  EXPECT_TRUE(gpu_list(0).empty());
}

TEST(Timeline, WithoutEventsAWindowIsWhatIsFreeNow) {
  Timeline t(2);
  Window w = window(t, 1, kOne, {2}, 0, 1000);
  EXPECT_EQ(w.free, kOne);
  EXPECT_EQ(w.gpus, (std::vector<uint32_t>{2}));
  EXPECT_TRUE(t.touched_nodes().empty());
  EXPECT_TRUE(t.reserved_nodes().empty());
}

TEST(Timeline, AReleaseCountsFromItsTimeOn) {
  Timeline t(1);
  t.add_release(0, 100, kOne, gpu_mask({3}));
  // Before the release, or across it: only what is free now.
  EXPECT_EQ(window(t, 0, Resources{}, {}, 0, 100).free, Resources{});
  EXPECT_EQ(window(t, 0, Resources{}, {}, 50, 200).free, Resources{});
  EXPECT_TRUE(window(t, 0, Resources{}, {}, 50, 200).gpus.empty());
  // From the release on (a release exactly at `from` counts).
  Window after = window(t, 0, Resources{}, {}, 100, 200);
  EXPECT_EQ(after.free, kOne);
  EXPECT_EQ(after.gpus, (std::vector<uint32_t>{3}));
  EXPECT_EQ(t.touched_nodes(), (std::vector<uint32_t>{0}));
  EXPECT_TRUE(t.reserved_nodes().empty());
}

TEST(Timeline, AReservationTakesItsShareOverItsHalfOpenWindow) {
  Timeline t(2);
  t.add_reservation(1, 100, 200, kOne, gpu_mask({0}));
  EXPECT_TRUE(t.reserved(1));
  EXPECT_FALSE(t.reserved(0));
  EXPECT_EQ(t.reserved_nodes(), (std::vector<uint32_t>{1}));
  const std::vector<uint32_t> all{0, 1, 2, 3};
  Window during = window(t, 1, kFour, all, 0, 150);
  EXPECT_EQ(during.free, kFour - kOne);
  EXPECT_EQ(during.gpus, (std::vector<uint32_t>{1, 2, 3}));
  // Windows that end as it starts, or start as it ends, do not see it.
  EXPECT_EQ(window(t, 1, kFour, all, 0, 100).free, kFour);
  Window later = window(t, 1, kFour, all, 200, 300);
  EXPECT_EQ(later.free, kFour);
  EXPECT_EQ(later.gpus, all);
  // A window that spans it sees its minimum.
  EXPECT_EQ(window(t, 1, kFour, all, 0, 1000).free, kFour - kOne);
}

TEST(Timeline, EventsAtOneInstantApplyTogether) {
  // Node free: 2 cpus. Reservation B [100, 200) is added first, then A
  // [10, 100); both take 2 cpus. At 100, A's end and B's start cancel: the
  // node never has less than 0 free over [0, 300), and 2 from 200.
  Timeline t(1);
  const Resources two{2000, 0, 0};
  t.add_reservation(0, 100, 200, two, 0);
  t.add_reservation(0, 10, 100, two, 0);
  EXPECT_EQ(window(t, 0, two, {}, 0, 300).free, Resources{});
  EXPECT_EQ(window(t, 0, two, {}, 100, 300).free, Resources{});
  EXPECT_EQ(window(t, 0, two, {}, 200, 300).free, two);

  // Same with a release: job ends at 100 handing its 2 cpus to B.
  Timeline u(1);
  u.add_reservation(0, 100, 200, two, 0);
  u.add_release(0, 100, two, 0);
  EXPECT_EQ(window(u, 0, Resources{}, {}, 0, 300).free, Resources{}) << "no false dip below zero";
  EXPECT_EQ(window(u, 0, Resources{}, {}, 200, 300).free, two);
}

TEST(Timeline, AGpuReleasedAndReservedAtOneInstantStaysTaken) {
  Timeline t(1);
  t.add_release(0, 100, kOne, gpu_mask({2}));
  t.add_reservation(0, 100, 200, kOne, gpu_mask({2}));
  Window w = window(t, 0, Resources{}, {}, 100, 150);
  EXPECT_TRUE(w.gpus.empty());
  EXPECT_EQ(window(t, 0, Resources{}, {}, 200, 250).gpus, (std::vector<uint32_t>{2}));
}

TEST(Timeline, MoveReleasesMovesEveryEventOfTheOwner) {
  Timeline t(3);
  t.add_release(0, 5000, kOne, gpu_mask({0}), 7);
  t.add_release(2, 5000, kOne, gpu_mask({1}), 7);
  t.add_release(1, 3000, kOne, gpu_mask({2}), 8);
  t.move_releases(7, 10);
  EXPECT_EQ(window(t, 0, Resources{}, {}, 10, 20).gpus, (std::vector<uint32_t>{0}));
  EXPECT_EQ(window(t, 2, Resources{}, {}, 10, 20).free, kOne);
  EXPECT_TRUE(window(t, 1, Resources{}, {}, 10, 20).gpus.empty()) << "another owner's release did not move";
  const auto& all = t.all_events();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].time, 10);
  EXPECT_EQ(all[1].time, 10);
  EXPECT_EQ(all[2].time, 3000);
  EXPECT_EQ(all[2].owner, 8u);
  t.move_releases(0, 1);  // owner 0 tags nothing
  EXPECT_EQ(t.all_events()[2].time, 3000);
}

TEST(Timeline, AllEventsAreSortedByTimeAcrossNodes) {
  Timeline t(3);
  t.add_release(2, 300, kOne, 0);
  t.add_reservation(0, 100, 400, kOne, 0);
  t.add_release(1, 200, kOne, 0);
  const auto& all = t.all_events();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.time < b.time; }));
  EXPECT_EQ(all[0].node, 0u);
  EXPECT_EQ(all[0].delta, Resources{} - kOne) << "a reservation's start takes";
  EXPECT_EQ(all[1].node, 1u);
  EXPECT_EQ(all[2].node, 2u);
  EXPECT_EQ(all[3].delta, kOne) << "its end gives back";
  // Adding after reading keeps it sorted on the next read.
  t.add_release(1, 50, kOne, 0);
  EXPECT_EQ(t.all_events().front().time, 50);
  std::vector<uint32_t> touched = t.touched_nodes();
  std::sort(touched.begin(), touched.end());
  EXPECT_EQ(touched, (std::vector<uint32_t>{0, 1, 2}));
}

}  // namespace
}  // namespace cadre::sched
