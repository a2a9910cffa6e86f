// Specification of sim/swf_reader: Standard Workload Format logs as jobs.
#include "sim/swf_reader.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace cadre::sim {
namespace {

Trace read(const std::string& text) {
  std::istringstream in(text);
  return read_swf(in);
}

// Fields: job submit wait run alloc cpu mem req_procs req_time req_mem status user group app queue part prev think
constexpr const char* kHeader = "; Version: 2.2\n; MaxNodes: 100\n;\n";

TEST(SwfReader, ReadsSizeRunLimitUserAndGroup) {
  Trace t = read(std::string(kHeader) + "    1  10 5  97  56 -1 -1  64 210000 -1 1  7  3 -1 -1 -1 -1 -1\n");
  ASSERT_EQ(t.jobs.size(), 1u);
  const TraceJob& j = t.jobs[0];
  EXPECT_EQ(j.submit_s, 10);
  EXPECT_EQ(j.run_s, 97);
  EXPECT_EQ(j.limit_s, 210000);
  EXPECT_EQ(j.shape, (sched::GangShape{Resources{1000, 0, 0}, 0, 0, 64}));  // requested, not allocated
  EXPECT_EQ(j.user, "7");
  EXPECT_EQ(j.account, "3");
  EXPECT_EQ(t.skipped, 0);
}

TEST(SwfReader, FallsBackToAllocatedSizeAndRunTimeAsLimit) {
  Trace t = read("1 0 -1 1451 128 -1 -1 -1 -1 -1 -1 1 1 -1 -1 -1 -1 -1\n");
  ASSERT_EQ(t.jobs.size(), 1u);
  EXPECT_EQ(t.jobs[0].shape.ntasks, 128u);
  EXPECT_EQ(t.jobs[0].limit_s, 1451);
}

TEST(SwfReader, CutsAJobThatRanPastItsLimitAndCountsIt) {
  Trace t = read("1 0 0 500 4 -1 -1 4 300 -1 1 1 1 -1 -1 -1 -1 -1\n");
  ASSERT_EQ(t.jobs.size(), 1u);
  EXPECT_EQ(t.jobs[0].run_s, 300);
  EXPECT_EQ(t.capped, 1);
}

TEST(SwfReader, GivesAZeroSecondJobALimitOfOneSecond) {
  Trace t = read("1 0 0 0 4 -1 -1 4 -1 -1 1 1 1 -1 -1 -1 -1 -1\n");
  ASSERT_EQ(t.jobs.size(), 1u);
  EXPECT_EQ(t.jobs[0].run_s, 0);
  EXPECT_EQ(t.jobs[0].limit_s, 1);  // 0 would mean "no limit" to the scheduler
}

TEST(SwfReader, SkipsAndCountsUnusableAndMalformedRows) {
  Trace t = read(std::string(kHeader) +
                 "1 0 0 10 -1 -1 -1 -1 60 -1 1 1 1 -1 -1 -1 -1 -1\n"   // no size
                 "2 0 0 -1 4 -1 -1 4 60 -1 1 1 1 -1 -1 -1 -1 -1\n"     // no run time
                 "3 0 0 10 4 -1 -1 4 60\n"                             // too few fields
                 "4 0 0 1x 4 -1 -1 4 60 -1 1 1 1 -1 -1 -1 -1 -1\n"     // not a number
                 "\n"
                 "5 9 0 10 2 -1 -1 2 60 -1 1 1 1 -1 -1 -1 -1 -1\n");
  ASSERT_EQ(t.jobs.size(), 1u);
  EXPECT_EQ(t.jobs[0].submit_s, 9);
  EXPECT_EQ(t.skipped, 4);
  EXPECT_EQ(t.first_problem, "line 4: size -1");
}

TEST(SwfReader, OrdersJobsBySubmitTimeKeepingFileOrderForTies) {
  Trace t = read("1 50 0 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n"
                 "2 20 0 11 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n"
                 "3 20 0 12 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n");
  ASSERT_EQ(t.jobs.size(), 3u);
  EXPECT_EQ(t.jobs[0].run_s, 11);
  EXPECT_EQ(t.jobs[1].run_s, 12);
  EXPECT_EQ(t.jobs[2].run_s, 10);
}

}  // namespace
}  // namespace cadre::sim
