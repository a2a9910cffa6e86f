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

TEST(LaunchLayout, AJobFirstTriesItsOwnPort) {
  Job j = job_on(7, {"a"});
  std::map<JobId, Job> jobs{{7, j}};
  EXPECT_EQ(master_port_for(7), kMasterPortBase + 7);
  EXPECT_EQ(master_port_for(kMasterPortSpan + 7), kMasterPortBase + 7) << "ids wrap around the range";
  EXPECT_EQ(pick_master_port(jobs, j, "a"), master_port_for(7));
}

TEST(LaunchLayout, APortHeldOnRankZerosNodeIsPassedOver) {
  Job holder = job_on(1, {"a"});
  holder.master_port = master_port_for(2);
  Job elsewhere = job_on(3, {"b"});
  elsewhere.master_port = master_port_for(2) + 1;
  Job j = job_on(2, {"a"});
  std::map<JobId, Job> jobs{{1, holder}, {2, j}, {3, elsewhere}};
  EXPECT_EQ(pick_master_port(jobs, j, "a"), master_port_for(2) + 1) << "only ports on node a count";
  jobs.at(1).state = JobState::completed;
  EXPECT_EQ(pick_master_port(jobs, j, "a"), master_port_for(2)) << "an ended job holds no port";
}

TEST(LaunchLayout, EachStepGetsThePortNextToItsJobs) {
  Job j = job_on(1, {"a"});
  j.master_port = kMasterPortBase + kMasterPortSpan - 1;
  EXPECT_EQ(step_master_port(j, 0), j.master_port);
  EXPECT_EQ(step_master_port(j, 1), kMasterPortBase) << "wraps within the range";
  j.master_port = 0;
  EXPECT_EQ(step_master_port(j, 2), master_port_for(1) + 2) << "a job without a port yet uses its first choice";
}

}  // namespace
}  // namespace cadre
