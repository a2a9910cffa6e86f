#include "common/job_update.hpp"

#include <gtest/gtest.h>

#include <csignal>

#include "common/job_signal.hpp"

namespace cadre {
namespace {

constexpr int64_t kNow = 1796639400;  // 2026-12-07 10:30:00 UTC

JobSpec pending_spec() {
  JobSpec s;
  s.name = "a";
  s.argv = {"true"};
  s.nodes = 2;
  s.tasks_per_node = 2;
  s.ntasks = 4;
  s.time_limit_s = 600;
  s.array = "0-9%2";
  return s;
}

TEST(JobUpdate, ReadsScontrolKeysInAnyCase) {
  auto u = parse_job_updates({"TimeLimit=1:00:00", "jobname=b", "NUMNODES=3", "Requeue=0", "ArrayTaskThrottle=5"}, kNow);
  ASSERT_TRUE(u) << u.error();
  JobSpec s = pending_spec();
  ASSERT_TRUE(apply_job_updates(s, *u, false));
  EXPECT_EQ(s.time_limit_s, 3600);
  EXPECT_EQ(s.name, "b");
  EXPECT_EQ(s.nodes, 3u);
  EXPECT_EQ(s.ntasks, 6u) << "the ranks per node stay";
  EXPECT_FALSE(s.requeue);
  EXPECT_EQ(s.array, "0-9%5");
}

TEST(JobUpdate, TimeLimitAddsAndTakesOffMinutes) {
  JobSpec s = pending_spec();
  ASSERT_TRUE(apply_job_updates(s, *parse_job_updates({"TimeLimit+=30"}, kNow), false));
  EXPECT_EQ(s.time_limit_s, 600 + 1800);
  ASSERT_TRUE(apply_job_updates(s, *parse_job_updates({"TimeLimit-=100"}, kNow), false));
  EXPECT_EQ(s.time_limit_s, 60) << "never below a minute";
  s.time_limit_s = 0;
  EXPECT_FALSE(apply_job_updates(s, *parse_job_updates({"TimeLimit+=5"}, kNow), false));
}

TEST(JobUpdate, ARunningJobTakesOnlyItsLimitNameAndRequeue) {
  JobSpec s = pending_spec();
  EXPECT_TRUE(apply_job_updates(s, *parse_job_updates({"TimeLimit=5", "Name=x", "Requeue=1"}, kNow), true));
  Status st = apply_job_updates(s, *parse_job_updates({"Partition=gpu"}, kNow), true);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error(), "Partition can only change while the job is pending");
}

TEST(JobUpdate, RefusesWhatItCannotRead) {
  for (const char* bad : {"TimeLimit", "=5", "Colour=blue", "NumNodes=0", "NumNodes=x", "Requeue=2",
                          "Priority=-1", "JobName=", "JobName+=x", "Dependency=before:3", "TimeLimit=soon"})
    EXPECT_FALSE(parse_job_update(bad, kNow)) << bad;
  EXPECT_TRUE(parse_job_update("Dependency=", kNow));
  EXPECT_FALSE(parse_job_updates({}, kNow));
  JobSpec s = pending_spec();
  s.array.clear();
  EXPECT_FALSE(apply_job_updates(s, *parse_job_updates({"ArrayTaskThrottle=2"}, kNow), false));
  EXPECT_FALSE(apply_job_updates(s, *parse_job_updates({"NumTasks=5"}, kNow), false)) << "5 ranks over 2 nodes";
}

}  // namespace
}  // namespace cadre

namespace cadre {
namespace {

TEST(JobSignal, ReadsSbatchForms) {
  auto a = parse_job_signal("USR1@90");
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->number, SIGUSR1);
  EXPECT_EQ(a->before_s, 90);
  EXPECT_FALSE(a->batch_only);
  auto b = parse_job_signal("B:SIGUSR2");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->number, SIGUSR2);
  EXPECT_EQ(b->before_s, 60) << "60 s before the limit by default";
  EXPECT_TRUE(b->batch_only);
  auto c = parse_job_signal("R:10@0");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->number, 10);
  EXPECT_EQ(c->before_s, 0);
  for (const char* bad : {"", "USR9", "B:", "USR1@x", "USR1@70000", "0", "65", "@5"}) EXPECT_FALSE(parse_job_signal(bad)) << bad;
}

}  // namespace
}  // namespace cadre

namespace cadre {
namespace {

TEST(JobUpdate, StartTimeSetsOrLiftsTheBeginTimeAndTravelsAsAUnixTime) {
  auto later = parse_job_update("StartTime=now+1hour", 1796639400);
  ASSERT_TRUE(later) << later.error();
  EXPECT_EQ(later->field, UpdateField::begin_time);
  EXPECT_EQ(later->number, 1796639400 + 3600);
  EXPECT_EQ(portable_update_word(*later, "StartTime=now+1hour"), "StartTime=uts1796643000");
  auto again = parse_job_update(portable_update_word(*later, "StartTime=now+1hour"), 1796639400 + 5);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->number, later->number) << "the master reads the same time, whatever its clock says now";
  auto now = parse_job_update("begintime=now", 1796639400);
  ASSERT_TRUE(now);
  EXPECT_EQ(now->number, 0) << "a time already come lifts the wait";
  EXPECT_EQ(portable_update_word(*now, "begintime=now"), "StartTime=now");
  JobSpec s;
  s.begin_time = 5;
  ASSERT_TRUE(apply_job_updates(s, {*later}, false));
  EXPECT_EQ(s.begin_time, 1796643000);
  EXPECT_FALSE(apply_job_updates(s, {*now}, true)) << "only while pending";
  auto bad = parse_job_update("StartTime=soon", 1796639400);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("'StartTime=soon': --begin 'soon': expected"), std::string::npos) << bad.error();
}

}  // namespace
}  // namespace cadre
