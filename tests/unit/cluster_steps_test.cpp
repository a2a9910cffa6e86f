// Specification of the master's newer Cluster features: batch jobs, steps
// (`cadre run`, the MPI launcher), GPU types, OUT_OF_MEMORY and MASTER_PORT.
// Commands to agents are decoded with cadre::decode, as an agent would.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "master/state/cluster.hpp"
#include "tests/unit/cluster_fixture.hpp"

namespace cadre {
namespace {

using namespace cluster_fixture;

const char* const kH100 = "NVIDIA H100 80GB HBM3";
const char* const kA100 = "NVIDIA A100-SXM4-80GB";
const char* const kScript = "#!/bin/bash\n#SBATCH --nodes=2\ncadre run hostname\n";

JobSpec batch(uint32_t nodes, uint32_t tasks_per_node, Resources per_task = Resources{1000, 1024, 1}) {
  JobSpec s = gang(nodes, tasks_per_node, per_task);
  s.argv = {"/home/ada/job.sh"};
  s.batch = true;
  s.script = kScript;
  return s;
}

// ============================== batch jobs ==============================

class ClusterBatch : public ClusterFixture {
 protected:
  // Two nodes a and b (8 cpus, 4 GPUs); a batch job of 2 nodes x 2 tasks, running.
  JobId start_batch(JobSpec s = batch(2, 2)) {
    add_node("a", 8, 4);
    add_node("b", 8, 4);
    JobId id = submit(std::move(s));
    launches_ = schedule();
    EXPECT_EQ(job(id).state, JobState::running);
    return id;
  }
  Commands launches_;
};

TEST_F(ClusterBatch, OnlyTheScriptStartsOnRankZeroWithItsNodesWholeShare) {
  JobId id = start_batch();
  ASSERT_EQ(launches_.launches.size(), 1u) << "only the script is launched";
  const LaunchCmd& l = launches_.launches[0];
  EXPECT_EQ(l.node, "a");
  EXPECT_EQ(l.job, id);
  EXPECT_EQ(l.step, 0u);
  EXPECT_EQ(l.rank, 0u);
  EXPECT_TRUE(l.batch);
  EXPECT_EQ(l.script, kScript);
  EXPECT_EQ(l.limits, (Resources{2000, 2048, 2})) << "per task x the 2 tasks on its node";
  EXPECT_EQ(l.gpus, gpus_of(id, "a")) << "every GPU the job holds on its node";
  EXPECT_EQ(l.gpus.size(), 2u);
  EXPECT_EQ(l.job_nodelist, (std::vector<std::string>{"a", "b"}));

  const Job& j = job(id);
  ASSERT_EQ(j.tasks.size(), 4u);
  EXPECT_EQ(j.tasks[0].state, TaskState::launching);
  for (uint32_t r = 1; r < 4; ++r) EXPECT_EQ(j.tasks[r].state, TaskState::allocated) << "rank " << r;
  EXPECT_EQ(j.spec.output_pattern, "cadre-%j.out") << "one output file for the script";
  for (const char* n : {"a", "b"}) {
    EXPECT_EQ(node(n).used, (Resources{2000, 2048, 2})) << "allocated slots hold resources on " << n;
    EXPECT_EQ(node(n).free_gpus().size(), 2u) << n;
  }
}

TEST_F(ClusterBatch, TheScriptExitingZeroCompletesTheJobAndFreesEverySlot) {
  JobId id = start_batch();
  report("a", id, 0, TaskEventKind::started);
  EXPECT_EQ(job(id).state, JobState::running);
  report("a", id, 0, TaskEventKind::exited, 0);
  const Job& j = job(id);
  EXPECT_EQ(j.state, JobState::completed);
  EXPECT_EQ(j.exit_code, 0);
  EXPECT_EQ(j.end_time, kT0 + 10);
  for (const Task& t : j.tasks) EXPECT_EQ(t.state, TaskState::completed) << "rank " << t.rank;
  EXPECT_FALSE(j.holds_resources());
  EXPECT_TRUE(node("a").used.is_zero());
  EXPECT_TRUE(node("b").used.is_zero());
  EXPECT_EQ(node("b").free_gpus().size(), 4u);
  EXPECT_EQ(take().total, 0u) << "allocated slots have no process to kill";
}

TEST_F(ClusterBatch, TheScriptExitingNonZeroFailsTheJobWithItsCode) {
  JobId id = start_batch();
  report("a", id, 0, TaskEventKind::exited, 3);
  const Job& j = job(id);
  EXPECT_EQ(j.state, JobState::failed);
  EXPECT_EQ(j.exit_code, 3);
  EXPECT_EQ(j.reason, "rank 0 on a exited with code 3");
  for (uint32_t r = 1; r < 4; ++r) EXPECT_EQ(j.tasks[r].state, TaskState::cancelled) << "rank " << r;
  EXPECT_FALSE(j.holds_resources());
  EXPECT_TRUE(node("a").used.is_zero());
  EXPECT_TRUE(node("b").used.is_zero());
  EXPECT_EQ(take().total, 0u);
}

TEST_F(ClusterBatch, CancelFreesAllocatedSlotsAtOnceAndKillsOnlyTheScript) {
  JobId id = start_batch();
  report("a", id, 0, TaskEventKind::started);
  ASSERT_TRUE(cluster_.cancel(id, kT0 + 5).ok);
  Commands cmds = take();
  EXPECT_EQ(cmds.kill_set(), (std::set<KillCmd>{{"a", id, job(id).attempt, 0, 0}}));
  EXPECT_EQ(cmds.total, 1u);
  const Job& j = job(id);
  EXPECT_EQ(j.state, JobState::cancelled);
  EXPECT_EQ(j.tasks[0].state, TaskState::killing);
  for (uint32_t r = 1; r < 4; ++r) EXPECT_EQ(j.tasks[r].state, TaskState::cancelled) << "rank " << r;
  EXPECT_EQ(node("a").used, (Resources{1000, 1024, 1})) << "the script's slot is held until it exits";
  EXPECT_TRUE(node("b").used.is_zero()) << "b held only allocated slots";
  report("a", id, 0, TaskEventKind::exited, 0, 15);
  EXPECT_TRUE(node("a").used.is_zero());
  EXPECT_FALSE(job(id).holds_resources());
}

TEST_F(ClusterBatch, ANodeHoldingOnlyAllocatedSlotsFailingRequeuesTheGang) {
  JobSpec s = batch(2, 2);
  s.requeue = true;
  JobId id = start_batch(s);
  report("a", id, 0, TaskEventKind::started);
  const Attempt first = job(id).attempt;
  now_ms_ += kNodeTimeoutMs + 1;
  ASSERT_TRUE(cluster_.heartbeat("a", now_ms_, kT0 + 20));
  cluster_.check_timeouts(now_ms_, kT0 + 20);
  const Job& j = job(id);
  EXPECT_EQ(j.state, JobState::pending);
  EXPECT_EQ(j.reason.rfind("Requeued: node b went DOWN", 0), 0u) << j.reason;
  EXPECT_EQ(j.tasks[2].state, TaskState::lost);
  EXPECT_EQ(j.tasks[3].state, TaskState::lost);
  EXPECT_EQ(j.tasks[1].state, TaskState::cancelled) << "a's idle slot is freed with the gang";
  EXPECT_EQ(take().kill_set(), (std::set<KillCmd>{{"a", id, first, 0, 0}}));
  // Once the script is gone the gang starts again as a new attempt.
  report("a", id, 0, TaskEventKind::exited, 0, 15);
  add_node("b", 8, 4);
  Commands again = schedule();
  EXPECT_EQ(job(id).state, JobState::running);
  EXPECT_EQ(job(id).attempt, first + 1);
  ASSERT_EQ(again.launches.size(), 1u);
  EXPECT_TRUE(again.launches[0].batch);
}

TEST_F(ClusterBatch, ANodeHoldingOnlyAllocatedSlotsFailingWithoutRequeueIsNodeFail) {
  JobId id = start_batch();
  now_ms_ += kNodeTimeoutMs + 1;
  ASSERT_TRUE(cluster_.heartbeat("a", now_ms_, kT0 + 20));
  cluster_.check_timeouts(now_ms_, kT0 + 20);
  EXPECT_EQ(job(id).state, JobState::node_fail);
  EXPECT_TRUE(node("b").used.is_zero());
  EXPECT_EQ(take().kill_set(), (std::set<KillCmd>{{"a", id, job(id).attempt, 0, 0}}));
}

TEST_F(ClusterBatch, ReRegistrationDoesNotCountAllocatedSlotsAsVanished) {
  JobId id = start_batch();
  report("a", id, 0, TaskEventKind::started);
  cluster_.take_dirty_jobs();
  // b runs no process of the job: its slots only wait for steps.
  add_node("b", 8, 4, {});
  add_node("a", 8, 4, {live(id, 0, job(id).attempt)});
  EXPECT_EQ(job(id).state, JobState::running);
  for (uint32_t r = 1; r < 4; ++r) EXPECT_EQ(job(id).tasks[r].state, TaskState::allocated) << "rank " << r;
  EXPECT_EQ(node("b").used, (Resources{2000, 2048, 2}));
  EXPECT_EQ(take().total, 0u);
  EXPECT_TRUE(cluster_.take_dirty_jobs().empty());
  // The script itself is a process: a without it is a vanished rank.
  add_node("a", 8, 4, {});
  EXPECT_EQ(job(id).state, JobState::node_fail);
  EXPECT_EQ(job(id).reason, "rank 0 vanished from node a");
}

TEST_F(ClusterBatch, SubmitRefusesMalformedBatchRequests) {
  add_node("a", 8, 4);
  auto refused = [&](JobSpec s, const std::string& words) {
    auto r = cluster_.submit(std::move(s), kT0);
    ASSERT_FALSE(r) << "accepted a request that should mention '" << words << "'";
    EXPECT_NE(r.error().find(words), std::string::npos) << r.error();
  };
  JobSpec s = batch(1, 1);
  s.script.clear();
  refused(s, "a batch job needs a script");
  s = gang(1, 1);
  s.script = kScript;
  refused(s, "not a batch job");
  s = batch(1, 1);
  s.script = std::string((size_t{1} << 20) + 1, '#');
  refused(s, "the batch script is 1048577 bytes; at most 1048576");
  s = batch(1, 1);
  s.script = "echo caf\xE9\n";  // Latin-1, not UTF-8
  refused(s, "not UTF-8");
  s = gang(1, 1);
  s.argv = {"/bin/echo", "\xFF\xFE"};
  refused(s, "argument that is not UTF-8");
  EXPECT_TRUE(cluster_.jobs().empty());

  s = batch(1, 1);
  s.script = std::string(size_t{1} << 20, '#');
  EXPECT_TRUE(cluster_.submit(s, kT0)) << "exactly 1 MiB is allowed";
  s = batch(1, 1);
  s.script = "echo 'ünïcödé ✓ 🚀'\n";
  EXPECT_TRUE(cluster_.submit(s, kT0)) << "UTF-8 text is fine";
}

// The store keeps text as JSON, whose encoder refuses anything but strict
// UTF-8 (throwing in the middle of a commit): submit must refuse the same.
TEST_F(ClusterBatch, SubmitRefusesTextThatIsNotStrictUtf8) {
  add_node("a", 8, 4);
  for (const char* bad : {"\xC0\x80",           // overlong NUL
                          "\xE0\x80\xAF",       // overlong '/'
                          "\xED\xA0\x80",       // UTF-16 surrogate
                          "\xF4\x90\x80\x80",   // above U+10FFFF
                          "\xF5\x80\x80\x80"}) {  // never a lead byte
    JobSpec s = batch(1, 1);
    s.script = std::string("echo ") + bad;
    EXPECT_FALSE(cluster_.submit(s, kT0)) << "accepted a script holding " << testing::PrintToString(std::string(bad));
    s = gang(1, 1);
    s.argv = {"/bin/echo", bad};
    EXPECT_FALSE(cluster_.submit(s, kT0)) << "accepted an argument " << testing::PrintToString(std::string(bad));
  }
  JobSpec s = gang(1, 1);
  s.argv = {"/bin/echo", "\xF4\x8F\xBF\xBF", "\xEF\xBF\xBD", "\xE0\xA0\x80"};  // U+10FFFF, U+FFFD, U+0800
  EXPECT_TRUE(cluster_.submit(s, kT0)) << "the highest code point and the smallest 3-byte one are valid";
}

// ================================= steps =================================

class ClusterSteps : public ClusterFixture {
 protected:
  // Two nodes a and b (8 cpus, 4 GPUs); a job of 2 nodes x 2 tasks with 1 GPU each, running.
  JobId start_job(JobSpec s = gang(2, 2)) {
    add_node("a", 8, 4);
    add_node("b", 8, 4);
    JobId id = submit(std::move(s));
    schedule();
    start_all(id);
    EXPECT_EQ(job(id).state, JobState::running);
    cluster_.take_dirty_jobs();
    return id;
  }
  StepRequest request(JobId id) {
    StepRequest r;
    r.job = id;
    r.argv = {"/usr/bin/hostname"};
    r.workdir = "/home/ada";
    r.uid = 1000;
    return r;
  }
  uint32_t run(const StepRequest& r) {
    auto s = cluster_.run_step(r);
    EXPECT_TRUE(s) << s.error();
    return s ? *s : 0;
  }
  std::string refused(const StepRequest& r) {
    auto s = cluster_.run_step(r);
    EXPECT_FALSE(s) << "step accepted";
    return s ? "" : s.error();
  }
  static std::vector<std::string> nodes_of(const Commands& c) {
    std::vector<std::string> out;
    for (const LaunchCmd& l : c.launches) out.push_back(l.node);
    return out;
  }
};

TEST_F(ClusterSteps, AreRefusedForAnUnknownPendingOrEndedJob) {
  add_node("a", 8, 4);
  EXPECT_EQ(refused(request(99)), "no active job 99");
  JobId id = submit(gang(1, 1, Resources{1000, 1024, 0}));
  EXPECT_NE(refused(request(id)).find("is PENDING; steps run only inside a RUNNING job"), std::string::npos);
  schedule();
  ASSERT_EQ(job(id).state, JobState::running);
  ASSERT_TRUE(cluster_.cancel(id, kT0 + 2).ok);
  EXPECT_NE(refused(request(id)).find("is CANCELLED"), std::string::npos);
  EXPECT_EQ(take().launches.size(), 0u);
}

TEST_F(ClusterSteps, OnlyTheJobsOwnerOrRootMayStartOne) {
  JobId id = start_job();
  StepRequest r = request(id);
  r.uid = 1001;
  EXPECT_EQ(refused(r), "job " + std::to_string(id) + " belongs to ada; only its owner may start steps");
  EXPECT_EQ(take().total, 0u);
  EXPECT_EQ(cluster_.find_step(id, 1), nullptr);
  r.uid = 0;
  EXPECT_EQ(run(r), 1u) << "root may";
  r.uid = 1000;
  EXPECT_EQ(run(r), 2u) << "the owner may";
}

TEST_F(ClusterSteps, RefusesHostsOutsideTheAllocation) {
  add_node("c", 8, 4);
  JobId id = start_job();
  StepRequest r = request(id);
  r.hosts = {"a", "c"};
  EXPECT_EQ(refused(r), "node 'c' is not part of job " + std::to_string(id) + "'s allocation (a,b)");
  r.hosts = {"addr-a"};
  EXPECT_NE(refused(r).find("node 'addr-a' is not part"), std::string::npos);
  EXPECT_EQ(take().total, 0u) << "nothing launched for a refused step";
  EXPECT_TRUE(job(id).steps.empty());
}

TEST_F(ClusterSteps, RefusesMoreTasksOrNodesThanTheJobHolds) {
  JobId id = start_job();
  StepRequest r = request(id);
  r.ntasks = 5;
  EXPECT_EQ(refused(r), "--ntasks 5 is more than the 4 tasks job " + std::to_string(id) + " holds on 2 nodes");
  r = request(id);
  r.ntasks = 3;
  r.nnodes = 1;
  EXPECT_NE(refused(r).find("more than the 2 tasks"), std::string::npos);
  r = request(id);
  r.nnodes = 3;
  EXPECT_EQ(refused(r), "--nodes 3: job " + std::to_string(id) + " has only 2 nodes");
  r = request(id);
  r.nnodes = 2;
  r.ntasks = 1;
  EXPECT_NE(refused(r).find("fewer than --nodes 2"), std::string::npos);
  EXPECT_EQ(take().total, 0u);
  EXPECT_TRUE(job(id).steps.empty());
}

TEST_F(ClusterSteps, WithoutFlagsEveryTaskSlotGetsOneRankInNodeOrder) {
  JobId id = start_job();
  const uint32_t sid = run(request(id));
  EXPECT_EQ(sid, 1u);
  Commands c = take();
  ASSERT_EQ(c.launches.size(), 4u);
  const Job& j = job(id);
  for (const LaunchCmd& l : c.launches) {
    ASSERT_LT(l.rank, 4u);
    EXPECT_EQ(l.step, sid);
    EXPECT_EQ(l.job, id);
    EXPECT_EQ(l.attempt, j.attempt);
    EXPECT_FALSE(l.batch);
    EXPECT_EQ(l.node, l.rank < 2 ? "a" : "b") << "rank " << l.rank;
    EXPECT_EQ(l.node_rank, l.rank / 2);
    EXPECT_EQ(l.local_rank, l.rank % 2);
    EXPECT_EQ(l.local_world_size, 2u);
    EXPECT_EQ(l.world_size, 4u);
    EXPECT_EQ(l.nodelist, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(l.tasks_per_node, (std::vector<uint32_t>{2, 2}));
    EXPECT_EQ(l.argv, (std::vector<std::string>{"/usr/bin/hostname"}));
    EXPECT_EQ(l.limits, (Resources{1000, 1024, 1})) << "each rank gets its slot's share";
    EXPECT_EQ(l.gpus, j.tasks[l.rank].gpus) << "rank " << l.rank << " uses its slot's GPUs";
    EXPECT_EQ(l.master_addr, "addr-a");
    EXPECT_EQ(l.master_port, j.master_port + sid) << "each step has its own port next to the job's";
  }
  const Step& s = step_of(id, sid);
  ASSERT_EQ(s.ranks.size(), 4u);
  for (const StepRank& r : s.ranks) EXPECT_EQ(r.state, TaskState::launching);
  EXPECT_FALSE(s.done());
  EXPECT_EQ(node("a").used, (Resources{2000, 2048, 2})) << "a step holds no resources of its own";
  EXPECT_TRUE(cluster_.take_dirty_jobs().empty()) << "steps are volatile";
}

TEST_F(ClusterSteps, FewerTasksThanNodesUsesOnlyThatManyNodes) {
  add_node("c", 8, 4);
  JobId id = start_job(gang(3, 1));
  StepRequest r = request(id);
  r.ntasks = 2;
  run(r);
  Commands c = take();
  EXPECT_EQ(nodes_of(c), (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(c.launches.size(), 2u);
  EXPECT_EQ(c.launches[0].nodelist, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.launches[0].job_nodelist, (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(ClusterSteps, ExtraTasksFillEachNodesSlotsInNodeOrder) {
  JobId id = start_job();
  StepRequest r = request(id);
  r.ntasks = 3;
  run(r);
  Commands c = take();
  EXPECT_EQ(nodes_of(c), (std::vector<std::string>{"a", "a", "b"}));
  ASSERT_EQ(c.launches.size(), 3u);
  EXPECT_EQ(c.launches[2].tasks_per_node, (std::vector<uint32_t>{2, 1}));
  EXPECT_EQ(c.launches[2].node_rank, 1u);
  EXPECT_EQ(c.launches[2].local_rank, 0u);

  r = request(id);
  r.nnodes = 1;
  run(r);
  EXPECT_EQ(nodes_of(take()), (std::vector<std::string>{"a", "a"})) << "--nodes 1: every slot of the first node";
}

TEST_F(ClusterSteps, HostsWithWholeNodeGiveEachRankItsNodesWholeShare) {
  JobId id = start_job();
  StepRequest r = request(id);
  r.hosts = {"b"};
  r.whole_node = true;
  run(r);
  Commands c = take();
  ASSERT_EQ(c.launches.size(), 1u);
  EXPECT_EQ(c.launches[0].node, "b");
  EXPECT_EQ(c.launches[0].limits, (Resources{2000, 2048, 2}));
  EXPECT_EQ(c.launches[0].gpus, gpus_of(id, "b"));
  EXPECT_EQ(c.launches[0].gpus.size(), 2u);
  EXPECT_EQ(c.launches[0].nodelist, (std::vector<std::string>{"b"}));

  // Without whole_node a rank takes one slot's share.
  r.whole_node = false;
  r.hosts = {"b", "a"};
  run(r);
  c = take();
  ASSERT_EQ(c.launches.size(), 2u);
  EXPECT_EQ(nodes_of(c), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(c.launches[0].limits, (Resources{1000, 1024, 1}));
  EXPECT_EQ(c.launches[0].gpus, job(id).tasks[2].gpus);
  EXPECT_EQ(c.launches[1].gpus, job(id).tasks[0].gpus);
}

TEST_F(ClusterSteps, RankExitsUpdateTheStepButNeverTheJob) {
  JobId id = start_job();
  const uint32_t sid = run(request(id));
  take();
  const std::vector<Task> tasks_before = job(id).tasks;
  report("a", id, 0, TaskEventKind::started, 0, 0, sid);
  EXPECT_EQ(step_of(id, sid).ranks[0].state, TaskState::running);
  step_exit(id, sid, 0, 0);
  step_exit(id, sid, 1, 3);
  step_exit(id, sid, 2, 0, 9);
  EXPECT_FALSE(step_of(id, sid).done());
  report("b", id, 3, TaskEventKind::launch_failed, 0, 0, sid);
  const Step& s = step_of(id, sid);
  EXPECT_TRUE(s.done());
  EXPECT_EQ(s.ranks[0].state, TaskState::completed);
  EXPECT_EQ(s.ranks[1].state, TaskState::failed);
  EXPECT_EQ(s.ranks[1].exit_code, 3);
  EXPECT_EQ(s.ranks[2].exit_code, 128 + 9);
  EXPECT_EQ(s.ranks[2].message, "killed by signal 9");
  EXPECT_EQ(s.ranks[3].exit_code, 127) << "a launch failure without a code is 127, as a shell's";
  EXPECT_EQ(s.exit_code(), 137) << "the worst rank's";

  const Job& j = job(id);
  EXPECT_EQ(j.state, JobState::running);
  EXPECT_EQ(j.exit_code, 0);
  ASSERT_EQ(j.tasks.size(), tasks_before.size());
  for (size_t i = 0; i < j.tasks.size(); ++i) EXPECT_EQ(j.tasks[i].state, tasks_before[i].state) << "rank " << i;
  EXPECT_EQ(node("a").used, (Resources{2000, 2048, 2}));
  EXPECT_EQ(take().total, 0u);
}

TEST_F(ClusterSteps, ALaunchFailureKeepsTheAgentsCodeAndMessage) {
  JobId id = start_job();
  StepRequest r = request(id);
  r.hosts = {"a"};
  const uint32_t sid = run(r);
  TaskEvent ev;
  ev.node = "a";
  ev.job = id;
  ev.step = sid;
  ev.rank = 0;
  ev.attempt = job(id).attempt;
  ev.kind = TaskEventKind::launch_failed;
  ev.exit_code = 126;
  ev.message = "permission denied";
  cluster_.task_event(ev, kT0 + 3);
  EXPECT_EQ(step_of(id, sid).exit_code(), 126);
  EXPECT_EQ(step_of(id, sid).ranks[0].message, "could not start: permission denied");
  // Reports from another node or attempt are not this step's.
  JobId id2 = id;
  const uint32_t sid2 = run(r);
  ev.step = sid2;
  ev.node = "b";
  cluster_.task_event(ev, kT0 + 3);
  ev.node = "a";
  ev.attempt += 1;
  cluster_.task_event(ev, kT0 + 3);
  EXPECT_EQ(step_of(id2, sid2).ranks[0].state, TaskState::launching);
  EXPECT_EQ(job(id).state, JobState::running);
}

TEST_F(ClusterSteps, CancellingTheJobKillsLiveStepRanksByStepId) {
  JobId id = start_job();
  const uint32_t sid = run(request(id));
  take();
  step_exit(id, sid, 1, 0);
  const Attempt att = job(id).attempt;
  ASSERT_TRUE(cluster_.cancel(id, kT0 + 5).ok);
  EXPECT_EQ(take().kill_set(), (std::set<KillCmd>{{"a", id, att, 0, sid},
                                                  {"b", id, att, 2, sid},
                                                  {"b", id, att, 3, sid},
                                                  {"a", id, att, 0, 0},
                                                  {"a", id, att, 1, 0},
                                                  {"b", id, att, 2, 0},
                                                  {"b", id, att, 3, 0}}));
  EXPECT_EQ(step_of(id, sid).ranks[0].state, TaskState::killing);
  EXPECT_EQ(step_of(id, sid).ranks[1].state, TaskState::completed);
  EXPECT_FALSE(step_of(id, sid).done());
  step_exit(id, sid, 0, 0, 15);
  EXPECT_EQ(step_of(id, sid).ranks[0].exit_code, 143);
}

TEST_F(ClusterSteps, AJobWhoseRanksAllCompleteKillsItsLiveStepRanks) {
  JobId id = start_job();
  StepRequest r = request(id);
  r.hosts = {"b"};
  const uint32_t sid = run(r);
  take();
  for (uint32_t rank = 0; rank < 4; ++rank) report(rank < 2 ? "a" : "b", id, rank, TaskEventKind::exited, 0);
  ASSERT_EQ(job(id).state, JobState::completed);
  EXPECT_EQ(take().kill_set(), (std::set<KillCmd>{{"b", id, job(id).attempt, 0, sid}}))
      << "a step ends, at the latest, with its job";
  EXPECT_EQ(step_of(id, sid).ranks[0].state, TaskState::killing);
}

TEST_F(ClusterSteps, ABatchScriptEndingKillsItsLiveSteps) {
  add_node("a", 8, 4);
  add_node("b", 8, 4);
  JobId id = submit(batch(2, 2));
  schedule();
  report("a", id, 0, TaskEventKind::started);
  const uint32_t sid = run(request(id));
  Commands c = take();
  ASSERT_EQ(c.launches.size(), 4u) << "a step runs in the batch job's allocated slots";
  EXPECT_EQ(nodes_of(c), (std::vector<std::string>{"a", "a", "b", "b"}));
  step_exit(id, sid, 0, 0);
  report("a", id, 0, TaskEventKind::exited, 0);
  EXPECT_EQ(job(id).state, JobState::completed);
  const Attempt att = job(id).attempt;
  EXPECT_EQ(take().kill_set(),
            (std::set<KillCmd>{{"a", id, att, 1, sid}, {"b", id, att, 2, sid}, {"b", id, att, 3, sid}}));
}

TEST_F(ClusterSteps, ANodeReRegisteringWithoutAStepRankMarksItLost) {
  JobId id = start_job();
  const uint32_t sid = run(request(id));
  take();
  add_node("b", 8, 4, live_on(id, "b"));  // the job's ranks, not the step's
  const Step& s = step_of(id, sid);
  EXPECT_EQ(s.ranks[0].state, TaskState::launching);
  EXPECT_EQ(s.ranks[1].state, TaskState::launching);
  for (uint32_t r : {2u, 3u}) {
    EXPECT_EQ(s.ranks[r].state, TaskState::lost) << "rank " << r;
    EXPECT_EQ(s.ranks[r].exit_code, 255);
    EXPECT_EQ(s.ranks[r].message, "vanished from node b");
  }
  EXPECT_EQ(job(id).state, JobState::running) << "the job itself goes on";
  EXPECT_EQ(take().total, 0u);
}

TEST_F(ClusterSteps, ANodeReportingAStepRankItDoesNotKnowGetsAKillForThatStep) {
  JobId id = start_job();
  const uint32_t sid = run(request(id));
  take();
  const Attempt att = job(id).attempt;
  std::vector<RunningTaskRef> running = live_on(id, "a");
  running.push_back(live(id, 0, att, sid));
  running.push_back(live(id, 1, att, sid));
  running.push_back(live(id, 0, att, 7));    // a step that does not exist
  running.push_back(live(id, 2, att, sid));  // a rank of the step that is on b
  running.push_back(live(55, 0, 1, 2));      // a step of a job that does not exist
  add_node("a", 8, 4, running);
  EXPECT_EQ(take().kill_set(), (std::set<KillCmd>{{"a", id, att, 0, 7}, {"a", id, att, 2, sid}, {"a", 55, 1, 0, 2}}));
  EXPECT_EQ(step_of(id, sid).ranks[0].state, TaskState::launching);
  EXPECT_EQ(job(id).state, JobState::running);
}

TEST_F(ClusterSteps, ANodeReportingAStepRankBeingKilledGetsTheKillAgain) {
  JobId id = start_job();
  StepRequest r = request(id);
  r.hosts = {"a"};
  const uint32_t sid = run(r);
  const Attempt att = job(id).attempt;
  ASSERT_TRUE(cluster_.cancel(id, kT0 + 5).ok);
  take();  // lost: the agent was reconnecting
  std::vector<RunningTaskRef> running{live(id, 0, att), live(id, 1, att), live(id, 0, att, sid)};
  add_node("a", 8, 4, running);
  Commands c = take();
  EXPECT_EQ(c.kill_set(), (std::set<KillCmd>{{"a", id, att, 0, 0}, {"a", id, att, 1, 0}, {"a", id, att, 0, sid}}));
  EXPECT_EQ(c.total, 3u);
}

// =============================== GPU types ===============================

class ClusterGpu : public ClusterFixture {};

TEST_F(ClusterGpu, ModelMatchesIsACaseInsensitiveSubstring) {
  EXPECT_TRUE(gpu_model_matches("h100", kH100));
  EXPECT_TRUE(gpu_model_matches("H100", kH100));
  EXPECT_TRUE(gpu_model_matches("nvidia h100 80gb", kH100));
  EXPECT_TRUE(gpu_model_matches("", kH100)) << "no type asked: any model";
  EXPECT_TRUE(gpu_model_matches("", ""));
  EXPECT_FALSE(gpu_model_matches("a100", kH100));
  EXPECT_FALSE(gpu_model_matches("h100", ""));
  EXPECT_FALSE(gpu_model_matches("H100 PCIe", kH100));
  EXPECT_TRUE(gpu_model_matches("a100", kA100));
}

TEST_F(ClusterGpu, AJobAskingForATypeLandsOnlyOnNodesOfThatModel) {
  add_node("a", 8, 4, {}, kA100);
  add_node("z", 8, 4, {}, kH100);
  JobSpec s = gang(1, 4);
  s.gpu_type = "h100";
  JobId first = submit(s);
  JobId second = submit(s);
  Commands c = schedule();
  EXPECT_EQ(job(first).state, JobState::running);
  EXPECT_EQ(job(first).node_list(), (std::vector<std::string>{"z"}));
  ASSERT_EQ(c.launches.size(), 4u);
  for (const LaunchCmd& l : c.launches) EXPECT_EQ(l.node, "z");
  EXPECT_EQ(job(second).state, JobState::pending) << "the A100 node is free but is not an H100";
  EXPECT_EQ(node("a").free_gpus().size(), 4u);
  // Without a type any GPU will do.
  JobId any = submit(gang(1, 4));
  schedule();
  EXPECT_EQ(job(any).node_list(), (std::vector<std::string>{"a"}));
}

TEST_F(ClusterGpu, SubmitRefusesATypeNoNodeHasAndListsTheModels) {
  add_node("a", 8, 4, {}, kA100);
  add_node("z", 8, 4, {}, kH100);
  add_node("c", 8, 0);
  JobSpec s = gang(1, 1);
  s.gpu_type = "b200";
  auto r = cluster_.submit(s, kT0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "no node has GPUs of type 'b200' (models: " + std::string(kA100) + ", " + kH100 +
                           "; a node of mixed models matches no type)");
  EXPECT_TRUE(cluster_.jobs().empty());
  s.gpu_type = "A100";
  EXPECT_TRUE(cluster_.submit(s, kT0));
}

TEST_F(ClusterGpu, ATypeIsJudgedOnlyOnceEveryNodeHasRegistered) {
  Node gone;
  gone.name = "old";
  gone.state = NodeState::up;
  gone.total = Resources{8000, 65536, 4};
  cluster_.restore({gone}, {}, 0, now_ms_);
  add_node("a", 8, 4, {}, kA100);
  JobSpec s = gang(1, 1);
  s.gpu_type = "h100";
  auto r = cluster_.submit(s, kT0);
  ASSERT_TRUE(r) << "node old has not said what GPUs it has yet: " << r.error();
  EXPECT_EQ(job(*r).state, JobState::pending);
}

TEST_F(ClusterGpu, ATypeIsJudgedOnlyOnceThePartitionHasNodes) {
  SchedulerConfig config;
  PartitionConfig cpu, gpu;
  cpu.name = "cpu";
  cpu.nodes = {"c*"};
  cpu.is_default = true;
  gpu.name = "gpu";
  gpu.nodes = {"g*"};
  config.partitions = {cpu, gpu};
  cluster_.configure(config);
  add_node("c1", 8, 0);  // the GPU nodes have not registered yet
  JobSpec s = gang(1, 1);
  s.partition = "gpu";
  s.gpu_type = "h100";
  auto r = cluster_.submit(s, kT0);
  ASSERT_TRUE(r) << "refused before any node of the partition registered: " << r.error();
  add_node("g1", 8, 4, {}, kA100);
  auto refused = cluster_.submit(s, kT0);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), "no node in partition gpu has GPUs of type 'h100' (models: " + std::string(kA100) +
                                 "; a node of mixed models matches no type)");
}

TEST_F(ClusterGpu, NodesOfMixedModelsMatchNoType) {
  add_node_with_models("m", 8, {kH100, kH100, kA100, kA100});
  EXPECT_EQ(node("m").gpu_model(), "");
  JobSpec s = gang(1, 1);
  s.gpu_type = "h100";
  // Refused at once rather than waiting for a node that can never take it.
  auto refused = cluster_.submit(s, 1000);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("mixed models"), std::string::npos) << refused.error();
  JobId any = submit(gang(1, 1));
  schedule();
  EXPECT_EQ(job(any).state, JobState::running) << "a job without a type may use it";
}

// ============================= out of memory =============================

class ClusterStepsOutOfMemory : public ClusterFixture {};

TEST_F(ClusterStepsOutOfMemory, ARankKilledForMemoryEndsTheJobOutOfMemory) {
  add_node("a", 8, 0);
  add_node("b", 8, 0);
  JobId id = submit(gang(2, 1, Resources{1000, 4096, 0}));
  schedule();
  report("b", id, 1, TaskEventKind::exited, 0, 9, 0, /*oom=*/true);
  const Job& j = job(id);
  EXPECT_EQ(j.state, JobState::out_of_memory);
  EXPECT_EQ(to_string(j.state), "OUT_OF_MEMORY");
  EXPECT_EQ(j.exit_code, 137);
  EXPECT_EQ(j.reason, "rank 1 on b exceeded its memory limit (4G) and was killed by the kernel");
  EXPECT_EQ(j.tasks[1].state, TaskState::failed);
  EXPECT_EQ(take().kill_set(), (std::set<KillCmd>{{"a", id, j.attempt, 0, 0}}));
}

TEST_F(ClusterStepsOutOfMemory, ABatchScriptsLimitIsItsNodesWholeShare) {
  add_node("a", 8, 0);
  JobId id = submit(batch(1, 3, Resources{1000, 512, 0}));
  schedule();
  report("a", id, 0, TaskEventKind::exited, 0, 9, 0, /*oom=*/true);
  EXPECT_EQ(job(id).state, JobState::out_of_memory);
  EXPECT_EQ(job(id).reason, "rank 0 on a exceeded its memory limit (1536M) and was killed by the kernel");
  EXPECT_TRUE(node("a").used.is_zero());
}

TEST_F(ClusterStepsOutOfMemory, AStepRankKilledForMemoryFailsOnlyTheStep) {
  add_node("a", 8, 0);
  JobId id = submit(gang(1, 1, Resources{1000, 4096, 0}));
  schedule();
  StepRequest r;
  r.job = id;
  r.argv = {"/bin/big"};
  r.uid = 1000;
  auto sid = cluster_.run_step(r);
  ASSERT_TRUE(sid) << sid.error();
  report("a", id, 0, TaskEventKind::exited, 0, 9, *sid, /*oom=*/true);
  EXPECT_EQ(job(id).state, JobState::running);
  EXPECT_EQ(step_of(id, *sid).exit_code(), 137);
  EXPECT_EQ(step_of(id, *sid).ranks[0].message, "exceeded its memory limit and was killed by the kernel");
}

// ============================== MASTER_PORT ==============================

class ClusterStepsMasterPort : public ClusterFixture {
 protected:
  // Restores node a (`cpus` cpus) running rank 0 of job 1 (attempt 1), which
  // holds master_port_for(2, PortRange{}): the port job 2 would try first. The agent on a
  // then registers, reporting the rank.
  void restore_job_1_holding_job_2s_port(int64_t cpus) {
    Node a;
    a.name = "a";
    a.state = NodeState::up;
    a.total = Resources{cpus * 1000, 65536, 0};
    Job old;
    old.id = 1;
    old.spec = gang(1, 1, Resources{1000, 1024, 0});
    old.spec.partition = "default";
    old.state = JobState::running;
    old.attempt = 1;
    old.start_time = kT0;
    old.master_port = master_port_for(2, PortRange{});
    Task t;
    t.node = "a";
    t.state = TaskState::running;
    old.tasks = {t};
    cluster_.restore({a}, {old}, 1, now_ms_);
    add_node("a", cpus, 0, {live(1, 0, 1)});
  }
};

TEST_F(ClusterStepsMasterPort, JobsWhoseRankZeroSharesANodeGetDifferentPorts) {
  // Job 1 (restored) already holds the port job 2 would try first.
  restore_job_1_holding_job_2s_port(8);
  ASSERT_EQ(job(1).state, JobState::running);

  JobId id = submit(gang(1, 2, Resources{1000, 1024, 0}));
  ASSERT_EQ(id, 2u);
  Commands c = schedule();
  ASSERT_EQ(job(id).state, JobState::running);
  const uint16_t port = job(id).master_port;
  EXPECT_NE(port, 0);
  EXPECT_NE(port, job(1).master_port);
  EXPECT_GE(port, PortRange{}.first);
  ASSERT_EQ(c.launches.size(), 2u);
  for (const LaunchCmd& l : c.launches) EXPECT_EQ(l.master_port, port) << "the Launch carries the job's port";
}

TEST_F(ClusterStepsMasterPort, JobsOnDifferentNodesMayShareAPort) {
  // Job 1 holds job 2's first choice, but on another node: no conflict.
  restore_job_1_holding_job_2s_port(1);
  add_node("b", 8, 0);
  JobId id = submit(gang(1, 1, Resources{1000, 1024, 0}));
  schedule();
  ASSERT_EQ(job(id).node_list(), (std::vector<std::string>{"b"}));
  EXPECT_EQ(job(id).master_port, master_port_for(2, PortRange{}));
}

TEST_F(ClusterStepsMasterPort, TheConfiguredRangeIsWhereJobsGetTheirPorts) {
  SchedulerConfig config;
  config.master_ports = PortRange{41000, 3};
  cluster_.configure(config);
  add_node("a", 8, 0);
  std::set<uint16_t> ports;
  for (int i = 0; i < 3; ++i) {
    JobId id = submit(gang(1, 1, Resources{1000, 1024, 0}));
    Commands c = schedule();
    ASSERT_EQ(job(id).state, JobState::running);
    ASSERT_EQ(c.launches.size(), 1u);
    EXPECT_EQ(c.launches[0].master_port, job(id).master_port);
    EXPECT_GE(job(id).master_port, 41000);
    EXPECT_LE(job(id).master_port, 41002);
    ports.insert(job(id).master_port);
  }
  EXPECT_EQ(ports.size(), 3u) << "three jobs on one node, three different ports of the three";
}

}  // namespace
}  // namespace cadre
