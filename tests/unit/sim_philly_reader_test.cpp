// Specification of sim/philly_reader: Philly GPU jobs and machines.
#include "sim/philly_reader.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace cadre::sim {
namespace {

constexpr const char* kHeader = "#job id,arrival time (sec),topology,shape,size,duration (sec)\n";

Result<Trace> jobs(const std::string& rows) {
  std::istringstream in(kHeader + rows);
  return read_philly_jobs(in);
}

TEST(PhillyReader, ReadsAShapeAsAGangOfOneGpuRanks) {
  auto t = jobs("0,266563.0,CLOS,8+8,16,3613.4");
  ASSERT_TRUE(t) << t.error();
  ASSERT_EQ(t->jobs.size(), 1u);
  const TraceJob& j = t->jobs[0];
  EXPECT_EQ(j.submit_s, 266563);
  EXPECT_EQ(j.run_s, 3613);
  EXPECT_EQ(j.limit_s, 7200);
  EXPECT_EQ(j.shape, (sched::GangShape{Resources{1000, 0, 1}, 2, 8, 16}));
}

TEST(PhillyReader, KeepsZeroDurations) {
  auto t = jobs("0,5.0,CLOS,1,1,0.0\n");
  ASSERT_TRUE(t) << t.error();
  ASSERT_EQ(t->jobs.size(), 1u);
  EXPECT_EQ(t->jobs[0].run_s, 0);
  EXPECT_EQ(t->jobs[0].limit_s, 3600);
  EXPECT_EQ(t->jobs[0].shape, (sched::GangShape{Resources{1000, 0, 1}, 1, 1, 1}));
}

TEST(PhillyReader, SkipsMalformedRows) {
  auto t = jobs("0,0.0,CLOS,8+4,12,10.0\n"   // unequal parts
                "1,0.0,CLOS,8+8,8,10.0\n"    // parts do not add up
                "2,x,CLOS,1,1,10.0\n"        // no arrival
                "3,0.0,CLOS,1,1\n"           // too few columns
                "4,0.0,CLOS,1,1,-3\n"        // negative duration
                "5,7.0,CLOS,2+2,4,10.0\n");
  ASSERT_TRUE(t) << t.error();
  ASSERT_EQ(t->jobs.size(), 1u);
  EXPECT_EQ(t->jobs[0].shape.nodes, 2u);
  EXPECT_EQ(t->skipped, 5);
  EXPECT_EQ(t->first_problem, "line 2: shape '8+4' has unequal parts");
}

TEST(PhillyReader, RejectsAFileWithoutTheHeader) {
  std::istringstream in("0,0.0,CLOS,1,1,10.0\n");
  EXPECT_FALSE(read_philly_jobs(in));
}

TEST(PhillyReader, ReadsMachinesWithFourCpusPerGpuAndNoMemory) {
  std::istringstream in("machineId, number of GPUs, single GPU mem\nm0,2, 12GB\nm1, 8, 24GB\n");
  auto c = read_philly_machines(in);
  ASSERT_TRUE(c) << c.error();
  ASSERT_EQ(c->nodes.size(), 2u);
  EXPECT_EQ(c->nodes[0].name, "m0");
  EXPECT_EQ(c->nodes[0].total, (Resources{8000, 0, 2}));
  EXPECT_EQ(c->nodes[1].total, (Resources{32000, 0, 8}));
  EXPECT_EQ(c->gpu_models, (std::vector<std::string>{"", "12GB", "24GB"}));
  EXPECT_EQ(c->nodes[1].gpu_model, 2u);
}

}  // namespace
}  // namespace cadre::sim
