// Specification of master/state/launch_layout: the layout each process of
// a job sees (ranks per node, local ranks, GPUs, limits, the batch
// script's share) and MASTER_PORT picking. Pure functions over the model.
#include "master/state/launch_layout.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace cadre {
namespace {

// A running job of ranks laid out on `nodes` (one entry per rank), two
// GPUs per rank numbered per node.
Job job_on(JobId id, const std::vector<std::string>& nodes, bool batch = false) {
  Job j;
  j.id = id;
  j.state = JobState::running;
  j.spec.argv = {"/bin/train"};
  j.spec.per_task = Resources{1000, 1024, 2};
  j.spec.ntasks = static_cast<uint32_t>(nodes.size());
  j.spec.batch = batch;
  std::map<std::string, uint32_t> next_gpu;
  for (uint32_t r = 0; r < nodes.size(); ++r) {
    Task t;
    t.rank = r;
    t.node = nodes[r];
    uint32_t& g = next_gpu[t.node];
    t.gpus = {g, g + 1};
    g += 2;
    t.state = TaskState::running;
    j.tasks.push_back(t);
  }
  return j;
}

TEST(LaunchLayout, TasksPerNodeCountsRanksInNodeOrder) {
  EXPECT_EQ(tasks_per_node(job_on(1, {"a", "a", "b", "c", "c", "c"})), (std::vector<uint32_t>{2, 1, 3}));
  EXPECT_TRUE(tasks_per_node(Job{}).empty());
}

TEST(LaunchLayout, AJobRankSeesItsPlaceInTheGang) {
  const Job j = job_on(1, {"a", "a", "b", "b"});
  const LaunchTarget t = job_rank_target(j, j.tasks[3]);
  EXPECT_EQ(t.step, 0u);
  EXPECT_EQ(t.rank, 3u);
  EXPECT_EQ(t.world_size, 4u);
  EXPECT_EQ(t.node_rank, 1u);
  EXPECT_EQ(t.local_rank, 1u);
  EXPECT_EQ(t.local_world_size, 2u);
  EXPECT_EQ(t.nodes, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(t.tasks_per_node, (std::vector<uint32_t>{2, 2}));
  EXPECT_EQ(t.gpus, (std::vector<uint32_t>{2, 3}));
  EXPECT_EQ(t.limits, j.spec.per_task);
  EXPECT_FALSE(t.batch);
  EXPECT_EQ(t.argv, j.spec.argv);
}

TEST(LaunchLayout, ABatchScriptHoldsItsNodesWholeShare) {
  const Job j = job_on(1, {"a", "a", "a", "b"}, /*batch=*/true);
  const LaunchTarget t = job_rank_target(j, j.tasks[0]);
  EXPECT_TRUE(t.batch);
  EXPECT_EQ(t.limits, j.spec.per_task.times(3));
  EXPECT_EQ(t.gpus, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5}));
}

const PortRange kPorts{29500, 3268};

TEST(LaunchLayout, AJobFirstTriesItsOwnPort) {
  Job j = job_on(7, {"a"});
  std::map<JobId, Job> jobs{{7, j}};
  EXPECT_EQ(master_port_for(7, kPorts), 29507);
  EXPECT_EQ(master_port_for(3268 + 7, kPorts), 29507) << "ids wrap around the range";
  EXPECT_EQ(pick_master_port(jobs, j, "a", kPorts), 29507);
  EXPECT_EQ(master_port_for(7, PortRange{40000, 5}), 40002) << "a configured range";
}

TEST(LaunchLayout, APortHeldOnRankZerosNodeIsPassedOver) {
  Job holder = job_on(1, {"a"});
  holder.master_port = master_port_for(2, kPorts);
  Job elsewhere = job_on(3, {"b"});
  elsewhere.master_port = master_port_for(2, kPorts) + 1;
  Job j = job_on(2, {"a"});
  std::map<JobId, Job> jobs{{1, holder}, {2, j}, {3, elsewhere}};
  EXPECT_EQ(pick_master_port(jobs, j, "a", kPorts), master_port_for(2, kPorts) + 1) << "only ports on node a count";
  jobs.at(1).state = JobState::completed;
  EXPECT_EQ(pick_master_port(jobs, j, "a", kPorts), master_port_for(2, kPorts)) << "an ended job holds no port";
}

TEST(LaunchLayout, APortPassedOverWrapsWithinASmallRange) {
  const PortRange two{40000, 2};
  Job holder = job_on(1, {"a"});
  holder.master_port = 40001;
  Job j = job_on(3, {"a"});  // first choice 40001
  std::map<JobId, Job> jobs{{1, holder}, {3, j}};
  EXPECT_EQ(pick_master_port(jobs, j, "a", two), 40000);
}

TEST(LaunchLayout, EachStepGetsThePortNextToItsJobs) {
  Job j = job_on(1, {"a"});
  j.master_port = 32767;
  EXPECT_EQ(step_master_port(j, 0, kPorts), j.master_port);
  EXPECT_EQ(step_master_port(j, 1, kPorts), 29500) << "wraps within the range";
  j.master_port = 0;
  EXPECT_EQ(step_master_port(j, 2, kPorts), master_port_for(1, kPorts) + 2) << "a job without a port yet uses its first choice";
  j.master_port = 29600;  // saved under another range before a restart
  EXPECT_EQ(step_master_port(j, 1, PortRange{40000, 10}), 40001) << "stays inside today's range";
}

TEST(PortRange, ParsesFirstDashLastAndRefusesTheRest) {
  auto r = parse_port_range("30000-30099");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(*r, (PortRange{30000, 100}));
  EXPECT_EQ(to_string(*r), "30000-30099");
  auto one = parse_port_range("40000-40000");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->count, 1);
  auto widest = parse_port_range("1024-65535");
  ASSERT_TRUE(widest);
  EXPECT_EQ(widest->last(), 65535);
  for (const char* bad : {"", "29500", "-", "80-100", "30000-29999", "30000-70000", "a-b", "30000--1", " 30000-30001"}) {
    auto e = parse_port_range(bad);
    EXPECT_FALSE(e) << bad;
    if (!e) {
      EXPECT_NE(e.error().find("FIRST-LAST"), std::string::npos) << e.error();
    }
  }
}

}  // namespace
}  // namespace cadre
