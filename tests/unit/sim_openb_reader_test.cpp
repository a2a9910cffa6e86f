// Specification of sim/openb_reader: Alibaba's openb pods and nodes.
#include "sim/openb_reader.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace cadre::sim {
namespace {

constexpr const char* kPodHeader =
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n";

Result<Trace> pods(const std::string& rows) {
  std::istringstream in(kPodHeader + rows);
  return read_openb_pods(in);
}

TEST(OpenbReader, ReadsAPodAsASingleRankJob) {
  auto t = pods("p0,12000,16384,2,1000,,LS,Running,100,7300,100\n");
  ASSERT_TRUE(t) << t.error();
  ASSERT_EQ(t->jobs.size(), 1u);
  const TraceJob& j = t->jobs[0];
  EXPECT_EQ(j.submit_s, 100);
  EXPECT_EQ(j.run_s, 7200);
  EXPECT_EQ(j.limit_s, 7200);  // exactly two hours stays two hours
  EXPECT_EQ(j.shape, (sched::GangShape{Resources{12000, 16384, 2}, 0, 0, 1}));
  EXPECT_TRUE(j.gpu_models.empty());
  EXPECT_EQ(j.user, "u");
  EXPECT_EQ(j.account, "a");
}

TEST(OpenbReader, AGpuShareTakesAWholeGpu) {
  auto t = pods("p0,6000,12288,1,460,,LS,Running,0,10,0\n");
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ(t->jobs[0].shape.per_task.gpus, 1);
  EXPECT_EQ(t->jobs[0].limit_s, 3600);  // at least an hour
}

TEST(OpenbReader, ReadsAllowedModels) {
  auto t = pods("p0,1000,1024,1,1000,V100M16|V100M32,LS,Running,0,3601,0\n");
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ(t->jobs[0].gpu_models, (std::vector<std::string>{"V100M16", "V100M32"}));
  EXPECT_EQ(t->jobs[0].limit_s, 7200);  // rounded up to the next hour
}

TEST(OpenbReader, SkipsRowsWithoutAUsableDeletionTime) {
  auto t = pods("p0,1000,1024,0,0,,BE,Pending,100,,\n"
                "p1,1000,1024,0,0,,BE,Failed,100,50,\n"
                "p2,1000,1024,0,0,,BE,Failed,100,1x,\n"
                "p3,1000,1024,0,0,,BE\n"
                "p4,-5,1024,0,0,,BE,Running,100,200,100\n"
                "p5,1000,1024,0,0,,BE,Running,100,200,100\n");
  ASSERT_TRUE(t) << t.error();
  ASSERT_EQ(t->jobs.size(), 1u);
  EXPECT_EQ(t->skipped, 5);
  EXPECT_EQ(t->first_problem, "line 2: no deletion_time");
}

TEST(OpenbReader, RejectsAFileWithoutThePodColumns) {
  std::istringstream in("sn,cpu_milli,memory_mib,gpu,model\n");
  auto t = read_openb_pods(in);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().find("not an openb pod list: the header has no column 'num_gpu'"), std::string::npos) << t.error();
}

TEST(OpenbReader, ReadsNodesWithTheirGpuModels) {
  std::istringstream in("sn,cpu_milli,memory_mib,gpu,model\n"
                        "a,64000,262144,2,P100\n"
                        "b,32000,131072,0,\n"
                        "c,96000,786432,8,V100M32\n");
  auto c = read_openb_nodes(in);
  ASSERT_TRUE(c) << c.error();
  ASSERT_EQ(c->nodes.size(), 3u);
  EXPECT_EQ(c->gpu_models, (std::vector<std::string>{"", "P100", "V100M32"}));
  EXPECT_EQ(c->nodes[0].total, (Resources{64000, 262144, 2}));
  EXPECT_EQ(c->nodes[0].free, c->nodes[0].total);
  EXPECT_EQ(c->nodes[0].free_gpus, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(c->nodes[0].gpu_model, 1u);
  EXPECT_EQ(c->nodes[1].gpu_model, 0u);
  EXPECT_EQ(c->nodes[2].gpu_model, 2u);
  EXPECT_EQ(c->nodes[2].name, "c");
}

TEST(OpenbReader, RejectsAMalformedNodeRow) {
  std::istringstream in("sn,cpu_milli,memory_mib,gpu,model\na,64000,lots,2,P100\n");
  auto c = read_openb_nodes(in);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("line 2"), std::string::npos) << c.error();
}

}  // namespace
}  // namespace cadre::sim
