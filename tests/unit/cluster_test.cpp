// Specification of master/state's Cluster: the master's state machine,
// without I/O. Commands to agents are the typed ones it queues (what the
// agent receives of the job is checked through the wire encoding).
#include "master/state/cluster.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/cluster_fixture.hpp"

namespace cadre {
namespace {

using namespace cluster_fixture;

class ClusterTest : public ClusterFixture {
 protected:
  ClusterTest() { node_labels_ = {{"rack", "r1"}}; }

  using ClusterFixture::report;
  // A report with the agent's message (launch_failed, lost).
  void report(const std::string& node, JobId id, uint32_t rank, TaskEventKind kind, int32_t exit_code,
              int32_t signal, std::string message) {
    ClusterFixture::report(node, id, rank, kind, exit_code, signal, /*step=*/0, /*oom=*/false, std::move(message));
  }

  // Every rank still holding resources reports an exit with `signal`.
  void exit_live_ranks(JobId id, int32_t signal) {
    for (const Task& t : std::vector<Task>(job(id).tasks))
      if (holds_resources(t.state)) report(t.node, id, t.rank, TaskEventKind::exited, 0, signal);
  }

  std::set<KillCmd> kills_for(JobId id, std::initializer_list<std::pair<const char*, uint32_t>> ranks) {
    std::set<KillCmd> out;
    for (auto& [n, r] : ranks) out.insert(KillCmd{n, id, job(id).attempt, r});
    return out;
  }
};

// ---- submit ----

TEST_F(ClusterTest, SubmitQueuesAPendingJobWithIncreasingIds) {
  add_node("n1", 8, 0);
  JobId a = submit(spec(1));
  JobId b = submit(spec(1));
  EXPECT_EQ(a, 1u);
  EXPECT_EQ(b, 2u);
  EXPECT_EQ(cluster_.last_job_id(), 2u);
  const Job& j = job(a);
  EXPECT_EQ(j.state, JobState::pending);
  EXPECT_EQ(j.submit_time, kT0);
  EXPECT_EQ(j.attempt, 0u);
  EXPECT_TRUE(j.tasks.empty());
  EXPECT_EQ(take().total, 0u) << "submitting sends nothing to agents";
}

// ---- schedule and launch ----

TEST_F(ClusterTest, ScheduleSendsEachRankItsLaunchOnItsNode) {
  add_node("n1", 8, 4);
  add_node("n2", 8, 4);
  JobSpec s = gang(2, 2, Resources{2000, 4096, 2});
  s.name = "train";
  s.output_pattern = "log-%j-%t";
  JobId id = submit(s);
  Commands cmds = schedule();
  ASSERT_EQ(cmds.launches.size(), 4u);
  EXPECT_TRUE(cmds.kills.empty());

  const Job& j = job(id);
  EXPECT_EQ(j.state, JobState::running);
  EXPECT_EQ(j.attempt, 1u);
  EXPECT_EQ(j.start_time, kT0 + 1);
  ASSERT_EQ(j.tasks.size(), 4u);
  EXPECT_EQ(j.node_list(), (std::vector<std::string>{"n1", "n2"}));

  std::map<std::string, std::set<uint32_t>> gpus_by_node;
  for (const LaunchCmd& l : cmds.launches) {
    ASSERT_LT(l.rank, 4u);
    const Task& t = j.tasks[l.rank];
    EXPECT_EQ(t.state, TaskState::launching);
    EXPECT_EQ(l.node, t.node) << "rank " << l.rank << " sent to the wrong node";
    EXPECT_EQ(l.job, id);
    EXPECT_EQ(l.attempt, 1u);
    EXPECT_EQ(l.world_size, 4u);
    EXPECT_EQ(l.node_rank, l.rank / 2);
    EXPECT_EQ(l.node, l.node_rank == 0 ? "n1" : "n2");
    EXPECT_EQ(l.local_rank, l.rank % 2);
    EXPECT_EQ(l.local_world_size, 2u);
    EXPECT_EQ(l.nodelist, (std::vector<std::string>{"n1", "n2"}));
    EXPECT_EQ(l.tasks_per_node, (std::vector<uint32_t>{2, 2}));
    EXPECT_EQ(l.gpus, t.gpus);
    EXPECT_EQ(l.gpus.size(), 2u);
    for (uint32_t g : l.gpus) EXPECT_TRUE(gpus_by_node[l.node].insert(g).second) << "GPU " << g << " twice";
    EXPECT_EQ(l.argv, (std::vector<std::string>{"/usr/bin/python3", "train.py"}));
    EXPECT_EQ(l.workdir, "/home/ada");
    EXPECT_EQ(l.output_pattern, "log-%j-%t");
    EXPECT_EQ(l.master_addr, "addr-n1") << "MASTER_ADDR is rank 0's node";
    EXPECT_EQ(l.master_port, master_port_for(id, PortRange{}));
    EXPECT_EQ(l.user, "ada");
    EXPECT_EQ(l.uid, 1000u);
    EXPECT_EQ(l.gid, 100u);
    EXPECT_EQ(l.job_name, "train");
  }
  for (const char* n : {"n1", "n2"}) {
    EXPECT_EQ(node(n).used, (Resources{4000, 8192, 4})) << n;
    EXPECT_TRUE(node(n).free_gpus().empty()) << n;
  }
}

TEST_F(ClusterTest, AJobThatDoesNotFitYetWaitsForResources) {
  add_node("n1", 4, 0);
  JobId big = submit(spec(4));
  JobId next = submit(spec(1));
  EXPECT_EQ(job(next).reason, "Priority");
  Commands cmds = schedule();
  EXPECT_EQ(cmds.launches.size(), 4u);
  EXPECT_EQ(job(big).state, JobState::running);
  EXPECT_EQ(job(next).state, JobState::pending);
  EXPECT_EQ(job(next).reason, "Reservation") << "the first job that cannot start holds the EASY reservation";
  EXPECT_GT(job(next).expected_start, kT0);
  EXPECT_EQ(schedule().total, 0u) << "a second pass launches nothing new";
}

TEST_F(ClusterTest, HigherPriorityJobLaunchesFirst) {
  add_node("n1", 4, 0);
  JobId low = submit(spec(4));
  JobSpec s = spec(4);
  s.priority = 10;
  JobId high = submit(s);
  Commands cmds = schedule();
  ASSERT_EQ(cmds.launches.size(), 4u);
  for (const LaunchCmd& l : cmds.launches) EXPECT_EQ(l.job, high);
  EXPECT_EQ(job(low).state, JobState::pending);
}

TEST_F(ClusterTest, StartedMovesARankFromLaunchingToRunning) {
  add_node("n1", 8, 0);
  JobId id = submit(spec(2));
  schedule();
  report("n1", id, 0, TaskEventKind::started);
  EXPECT_EQ(job(id).tasks[0].state, TaskState::running);
  EXPECT_EQ(job(id).tasks[1].state, TaskState::launching);
  EXPECT_EQ(job(id).state, JobState::running);
}

// ---- ranks end ----

TEST_F(ClusterTest, AllRanksExitingZeroCompletesTheJob) {
  add_node("n1", 8, 2);
  add_node("n2", 8, 2);
  JobId id = submit(gang(2, 2));
  schedule();
  start_all(id);
  cluster_.take_dirty_jobs();
  for (uint32_t r = 0; r < 4; ++r) {
    EXPECT_EQ(job(id).state, JobState::running) << "completed before rank " << r << " exited";
    report(job(id).tasks[r].node, id, r, TaskEventKind::exited, 0);
  }
  const Job& j = job(id);
  EXPECT_EQ(j.state, JobState::completed);
  EXPECT_EQ(j.exit_code, 0);
  EXPECT_EQ(j.end_time, kT0 + 10);
  for (const Task& t : j.tasks) EXPECT_EQ(t.state, TaskState::completed);
  EXPECT_EQ(take().total, 0u) << "nothing to kill";
  EXPECT_TRUE(node("n1").used.is_zero());
  EXPECT_TRUE(node("n2").used.is_zero());
  EXPECT_EQ(node("n1").free_gpus(), (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(cluster_.take_dirty_jobs(), (std::set<JobId>{id}));
}

TEST_F(ClusterTest, ARankExitingNonZeroFailsTheJobAndKillsTheOthers) {
  add_node("n1", 8, 2);
  add_node("n2", 8, 2);
  JobId id = submit(gang(2, 2));
  schedule();
  start_all(id);
  report("n1", id, 1, TaskEventKind::exited, 3);

  const Job& j = job(id);
  EXPECT_EQ(j.state, JobState::failed);
  EXPECT_EQ(j.exit_code, 3);
  EXPECT_EQ(j.reason, "rank 1 on n1 exited with code 3");
  EXPECT_EQ(j.tasks[1].state, TaskState::failed);
  EXPECT_EQ(j.tasks[1].exit_code, 3);
  Commands cmds = take();
  EXPECT_TRUE(cmds.launches.empty());
  EXPECT_EQ(cmds.kill_set(), kills_for(id, {{"n1", 0}, {"n2", 2}, {"n2", 3}}));
  EXPECT_EQ(cmds.kills.size(), 3u) << "one kill per live rank";
  for (uint32_t r : {0u, 2u, 3u}) EXPECT_EQ(j.tasks[r].state, TaskState::killing);

  // The killed ranks report back; the job keeps the first failure.
  exit_live_ranks(id, 15);
  EXPECT_EQ(job(id).state, JobState::failed);
  EXPECT_EQ(job(id).exit_code, 3);
  for (uint32_t r : {0u, 2u, 3u}) {
    EXPECT_EQ(job(id).tasks[r].state, TaskState::cancelled) << "killed by cadre, did not fail on its own";
    EXPECT_EQ(job(id).tasks[r].exit_code, 128 + 15);
  }
  EXPECT_FALSE(job(id).holds_resources());
  EXPECT_TRUE(node("n2").used.is_zero());
  EXPECT_EQ(take().total, 0u) << "no second round of kills";
}

TEST_F(ClusterTest, ARankKilledByASignalFailsTheJobWith128PlusTheSignal) {
  add_node("n1", 8, 0);
  JobId id = submit(spec(2));
  schedule();
  report("n1", id, 0, TaskEventKind::exited, 0, 9);
  EXPECT_EQ(job(id).state, JobState::failed);
  EXPECT_EQ(job(id).exit_code, 137);
  EXPECT_EQ(job(id).reason, "rank 0 on n1 killed by signal 9");
}

TEST_F(ClusterTest, ARankThatCannotStartFailsTheJobWithTheAgentsMessage) {
  add_node("n1", 8, 0);
  JobId id = submit(spec(2));
  schedule();
  report("n1", id, 1, TaskEventKind::launch_failed, 0, 0, "cannot enter working directory /nope");
  const Job& j = job(id);
  EXPECT_EQ(j.state, JobState::failed);
  EXPECT_EQ(j.exit_code, 127);
  EXPECT_EQ(j.reason, "rank 1 could not start on n1: cannot enter working directory /nope");
  EXPECT_EQ(take().kill_set(), kills_for(id, {{"n1", 0}}));
}

TEST_F(ClusterTest, ReportsForAnotherAttemptNodeOrRankAreIgnored) {
  add_node("n1", 8, 0);
  add_node("n2", 8, 0);
  JobId id = submit(spec(2));
  schedule();
  const std::string where = job(id).tasks[0].node;
  const std::string other = where == "n1" ? "n2" : "n1";
  cluster_.take_dirty_jobs();
  auto send = [&](std::string node, uint32_t rank, Attempt attempt) {
    TaskEvent ev;
    ev.node = node;
    ev.job = id;
    ev.rank = rank;
    ev.attempt = attempt;
    ev.kind = TaskEventKind::exited;
    ev.exit_code = 1;
    cluster_.task_event(ev, kT0);
  };
  send(where, 0, 2);       // stale or future attempt
  send(other, 0, 1);       // wrong node
  send(where, 7, 1);       // no such rank
  TaskEvent unknown_job;
  unknown_job.node = where;
  unknown_job.job = 99;
  unknown_job.kind = TaskEventKind::exited;
  cluster_.task_event(unknown_job, kT0);
  EXPECT_EQ(job(id).state, JobState::running);
  EXPECT_TRUE(cluster_.take_dirty_jobs().empty());
  EXPECT_EQ(take().total, 0u);
}

// ---- cancel ----

TEST_F(ClusterTest, CancellingARunningJobKillsEveryRankAndMarksItCancelled) {
  add_node("n1", 8, 2);
  add_node("n2", 8, 2);
  JobId id = submit(gang(2, 1));
  schedule();
  report(job(id).tasks[0].node, id, 0, TaskEventKind::started);
  CancelOutcome o = cluster_.cancel(id, kT0 + 5);
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.id, id);
  const Job& j = job(id);
  EXPECT_EQ(j.state, JobState::cancelled);
  EXPECT_EQ(j.end_time, kT0 + 5);
  EXPECT_EQ(j.reason, "cancelled by user");
  EXPECT_EQ(take().kill_set(), kills_for(id, {{"n1", 0}, {"n2", 1}}));
  exit_live_ranks(id, 15);
  for (const Task& t : job(id).tasks) EXPECT_EQ(t.state, TaskState::cancelled);
  EXPECT_EQ(job(id).state, JobState::cancelled);
}

TEST_F(ClusterTest, CancellingAPendingJobLaunchesNothing) {
  add_node("n1", 8, 0);
  JobId id = submit(spec(1));
  CancelOutcome o = cluster_.cancel(id, kT0);
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(job(id).state, JobState::cancelled);
  EXPECT_EQ(take().total, 0u);
  EXPECT_EQ(schedule().total, 0u) << "a cancelled job must never launch";
  EXPECT_EQ(job(id).attempt, 0u);
}

TEST_F(ClusterTest, CancellingAnUnknownOrEndedJobIsRefused) {
  add_node("n1", 8, 0);
  CancelOutcome unknown = cluster_.cancel(42, kT0);
  EXPECT_FALSE(unknown.ok);
  EXPECT_EQ(unknown.message, "no active job 42");
  JobId id = submit(spec(1));
  ASSERT_TRUE(cluster_.cancel(id, kT0).ok);
  CancelOutcome again = cluster_.cancel(id, kT0);
  EXPECT_FALSE(again.ok);
  EXPECT_EQ(again.message, "job " + std::to_string(id) + " already ended CANCELLED");
}

TEST_F(ClusterTest, ResourcesAreHeldUntilTheAgentReportsTheExit) {
  add_node("n1", 4, 2);
  JobId first = submit(spec(2, Resources{2000, 1024, 1}));
  schedule();
  ASSERT_TRUE(cluster_.cancel(first, kT0).ok);
  take();
  JobId second = submit(spec(2, Resources{2000, 1024, 1}));
  EXPECT_EQ(schedule().total, 0u) << "launched onto GPUs whose ranks may still be running";
  EXPECT_EQ(job(second).state, JobState::pending);
  EXPECT_EQ(node("n1").used, (Resources{4000, 2048, 2}));

  report("n1", first, 0, TaskEventKind::exited, 0, 15);
  EXPECT_EQ(schedule().total, 0u) << "half the room is not enough for the gang";
  report("n1", first, 1, TaskEventKind::exited, 0, 15);
  Commands cmds = schedule();
  EXPECT_EQ(cmds.launches.size(), 2u);
  EXPECT_EQ(job(second).state, JobState::running);
}

// ---- timeouts ----

TEST_F(ClusterTest, ASilentNodeGoesDownAndItsJobFailsWithKillsElsewhere) {
  add_node("a", 8, 2);
  add_node("b", 8, 2);
  JobId id = submit(gang(2, 2));
  schedule();
  start_all(id);
  cluster_.take_dirty_nodes();

  now_ms_ += kNodeTimeoutMs / 2;
  ASSERT_TRUE(cluster_.heartbeat("a", now_ms_, kT0 + 5));
  cluster_.check_timeouts(now_ms_, kT0 + 20);
  EXPECT_EQ(node("b").state, NodeState::up) << "down before its timeout";

  now_ms_ += kNodeTimeoutMs / 2 + 1;
  cluster_.check_timeouts(now_ms_, kT0 + 30);
  EXPECT_EQ(node("a").state, NodeState::up);
  EXPECT_EQ(node("b").state, NodeState::down);
  EXPECT_EQ(cluster_.take_dirty_nodes(), (std::set<std::string>{"b"}));

  const Job& j = job(id);
  EXPECT_EQ(j.state, JobState::node_fail);
  EXPECT_NE(j.reason.find("node b went DOWN"), std::string::npos) << j.reason;
  EXPECT_EQ(j.end_time, kT0 + 30);
  EXPECT_EQ(j.tasks[2].state, TaskState::lost);
  EXPECT_EQ(j.tasks[3].state, TaskState::lost);
  EXPECT_EQ(take().kill_set(), kills_for(id, {{"a", 0}, {"a", 1}})) << "kills go only to the live node";
  EXPECT_TRUE(node("b").used.is_zero());
  EXPECT_EQ(node("a").used, (Resources{2000, 2048, 2})) << "a's ranks hold until they exit";

  EXPECT_FALSE(cluster_.heartbeat("b", now_ms_, kT0 + 30)) << "a DOWN node must register again";
}

TEST_F(ClusterTest, ADownNodeTakesNoWorkUntilItRegistersAgain) {
  add_node("a", 8, 0);
  now_ms_ += kNodeTimeoutMs + 1;
  cluster_.check_timeouts(now_ms_, kT0);
  ASSERT_EQ(node("a").state, NodeState::down);
  JobId id = submit(spec(1));
  EXPECT_EQ(schedule().total, 0u);
  add_node("a", 8, 0);
  EXPECT_EQ(node("a").state, NodeState::up);
  EXPECT_EQ(schedule().launches.size(), 1u);
  EXPECT_EQ(job(id).state, JobState::running);
}

TEST_F(ClusterTest, AJobPastItsTimeLimitTimesOut) {
  add_node("n1", 8, 0);
  JobSpec s = spec(2);
  s.time_limit_s = 60;
  JobId id = submit(s);
  schedule();  // starts at kT0 + 1
  start_all(id);
  tick(now_ms_, kT0 + 1);  // both clocks at the start
  tick(now_ms_ + 59'000, kT0 + 60);
  EXPECT_EQ(job(id).state, JobState::running);
  EXPECT_EQ(take().total, 0u);
  tick(now_ms_ + 60'000, kT0 + 61);
  const Job& j = job(id);
  EXPECT_EQ(j.state, JobState::timeout);
  EXPECT_EQ(j.reason, "time limit of 1:00 reached");
  EXPECT_EQ(take().kill_set(), kills_for(id, {{"n1", 0}, {"n1", 1}}));
  tick(now_ms_ + 999'000, kT0 + 1000);
  EXPECT_EQ(take().total, 0u) << "a timed-out job is not killed twice";
  exit_live_ranks(id, 15);
  EXPECT_EQ(job(id).state, JobState::timeout);
}

TEST_F(ClusterTest, AWallClockSteppedForwardTimesNothingOut) {
  add_node("n1", 8, 0);
  JobSpec s = spec(1);
  s.time_limit_s = 3600;
  JobId id = submit(s);
  schedule();  // starts at kT0 + 1
  tick(now_ms_, kT0 + 1);
  // NTP steps the wall clock 5 hours ahead (or a VM resumes); 10 s pass.
  tick(now_ms_ + 10'000, kT0 + 1 + 5 * 3600 + 10);
  EXPECT_EQ(job(id).state, JobState::running) << "the step is not run time";
  tick(now_ms_ + 3'599'000, kT0 + 1 + 5 * 3600 + 3599);
  EXPECT_EQ(job(id).state, JobState::running);
  tick(now_ms_ + 3'600'000, kT0 + 1 + 5 * 3600 + 3600);
  EXPECT_EQ(job(id).state, JobState::timeout) << "an hour of run time, on the monotonic clock";
  EXPECT_EQ(job(id).end_time, kT0 + 1 + 5 * 3600 + 3600) << "end times stay wall times, for people";
}

TEST_F(ClusterTest, AWallClockSteppedBackLetsNothingOverrun) {
  add_node("n1", 8, 0);
  JobSpec s = spec(1);
  s.time_limit_s = 60;
  JobId id = submit(s);
  schedule();  // starts at kT0 + 1
  tick(now_ms_, kT0 + 1);
  // The wall clock goes 3 hours back; a minute of run time still ends it.
  tick(now_ms_ + 59'000, kT0 + 1 - 3 * 3600 + 59);
  EXPECT_EQ(job(id).state, JobState::running);
  tick(now_ms_ + 60'000, kT0 + 1 - 3 * 3600 + 60);
  EXPECT_EQ(job(id).state, JobState::timeout);
}

TEST_F(ClusterTest, ARestartedMasterCountsRunTimeFromTheLastSaveNotAStartAClockStepMoved) {
  add_node("n1", 8, 0);
  JobSpec s = spec(1);
  s.time_limit_s = 3600;
  JobId id = submit(s);
  schedule();  // starts at kT0 + 1
  tick(now_ms_, kT0 + 1);
  // The wall clock steps 5 hours ahead 10 minutes into the run; the
  // periodic save after it records 15 minutes of run time at the new time.
  tick(now_ms_ + 10 * 60'000, kT0 + 1 + 10 * 60);
  tick(now_ms_ + 15 * 60'000, kT0 + 1 + 5 * 3600 + 15 * 60);
  take();
  Job saved = job(id);
  ASSERT_EQ(saved.run_s, 15 * 60) << "the save counts run time on the monotonic clock";
  ASSERT_EQ(saved.run_at, kT0 + 1 + 5 * 3600 + 15 * 60);
  ASSERT_EQ(saved.start_time, kT0 + 1) << "the start stays the wall time people read";

  // The master restarts a minute later (a new process: a new monotonic clock).
  Node n = node("n1");
  cluster_ = Cluster(kNodeTimeoutMs);
  now_ms_ = 500;
  const int64_t restart_unix = saved.run_at + 60;
  cluster_.restore({n}, {saved}, id, now_ms_);
  add_node("n1", 8, 0, {live(id, 0, saved.attempt)});
  tick(now_ms_, restart_unix);
  EXPECT_EQ(job(id).state, JobState::running) << "16 minutes run, not 5 hours: the step is not run time";
  tick(now_ms_ + 43 * 60'000, restart_unix + 43 * 60);
  EXPECT_EQ(job(id).state, JobState::running);
  tick(now_ms_ + 44 * 60'000, restart_unix + 44 * 60);
  EXPECT_EQ(job(id).state, JobState::timeout) << "an hour of run time: 16 minutes before the restart, 44 after";
}

TEST_F(ClusterTest, AJobWithoutATimeLimitRunsForever) {
  add_node("n1", 8, 0);
  JobId id = submit(spec(1));
  schedule();
  cluster_.check_timeouts(now_ms_, kT0 + 100 * 86400);
  EXPECT_EQ(job(id).state, JobState::running);
}

// ---- registration ----

TEST_F(ClusterTest, ReRegistrationWithoutARankFailsItsJob) {
  add_node("a", 8, 2);
  add_node("b", 8, 2);
  JobId id = submit(gang(2, 1));
  schedule();
  start_all(id);
  const Attempt attempt = job(id).attempt;
  // Agent b restarted and lost its rank; a still runs rank 0.
  add_node("b", 8, 2, {});
  const Job& j = job(id);
  EXPECT_EQ(j.state, JobState::node_fail);
  EXPECT_EQ(j.reason, "rank 1 vanished from node b");
  EXPECT_EQ(j.tasks[1].state, TaskState::lost);
  EXPECT_TRUE(node("b").used.is_zero());
  EXPECT_EQ(take().kill_set(), (std::set<KillCmd>{{"a", id, attempt, 0}}));
}

TEST_F(ClusterTest, ReRegistrationReportingItsRanksChangesNothing) {
  add_node("a", 8, 2);
  JobId id = submit(spec(2, Resources{1000, 1024, 1}));
  schedule();
  start_all(id);
  cluster_.take_dirty_jobs();
  const Attempt attempt = job(id).attempt;
  add_node("a", 8, 2, {live(id, 0, attempt), live(id, 1, attempt)});
  EXPECT_EQ(job(id).state, JobState::running);
  EXPECT_EQ(take().total, 0u);
  EXPECT_TRUE(cluster_.take_dirty_jobs().empty());
  EXPECT_EQ(node("a").used, (Resources{2000, 2048, 2}));
}

TEST_F(ClusterTest, ReRegistrationReportingALaunchingRankMarksItRunning) {
  add_node("a", 8, 0);
  JobId id = submit(spec(1));
  schedule();
  ASSERT_EQ(job(id).tasks[0].state, TaskState::launching);
  // The agent's "started" was lost with the connection; its registration says enough.
  add_node("a", 8, 0, {live(id, 0, job(id).attempt)});
  EXPECT_EQ(job(id).tasks[0].state, TaskState::running);
  EXPECT_EQ(take().total, 0u);
}

TEST_F(ClusterTest, ReRegistrationReportingARankBeingKilledResendsTheKillOnce) {
  add_node("a", 8, 0);
  JobId id = submit(spec(1));
  schedule();
  ASSERT_TRUE(cluster_.cancel(id, kT0).ok);
  take();  // this kill is lost: the agent was reconnecting
  const Attempt attempt = job(id).attempt;
  add_node("a", 8, 0, {live(id, 0, attempt)});
  Commands cmds = take();
  EXPECT_EQ(cmds.kill_set(), (std::set<KillCmd>{{"a", id, attempt, 0}}));
  EXPECT_EQ(cmds.total, 1u) << "one kill, not one per reconciliation pass";
  EXPECT_EQ(job(id).tasks[0].state, TaskState::killing);
  EXPECT_EQ(node("a").used, (Resources{1000, 1024, 0})) << "still held until the exit is reported";
}

TEST_F(ClusterTest, ReRegistrationReportingAnUnknownRankKillsIt) {
  add_node("a", 8, 2);
  JobId id = submit(spec(1));
  schedule();
  const Attempt attempt = job(id).attempt;
  add_node("a", 8, 2, {live(id, 0, attempt), live(77, 3, 2), live(id, 0, attempt + 1)});
  EXPECT_EQ(job(id).state, JobState::running);
  EXPECT_EQ(take().kill_set(), (std::set<KillCmd>{{"a", 77, 2, 3}, {"a", id, attempt + 1, 0}}));
}

TEST_F(ClusterTest, ANodeThatWentDownAndComesBackHasItsOldRanksKilled) {
  add_node("a", 8, 0);
  JobId id = submit(spec(1));
  schedule();
  const Attempt attempt = job(id).attempt;
  now_ms_ += kNodeTimeoutMs + 1;
  cluster_.check_timeouts(now_ms_, kT0 + 20);
  ASSERT_EQ(job(id).state, JobState::node_fail);
  take();
  // The master gave up on the rank; the agent still runs it.
  add_node("a", 8, 0, {live(id, 0, attempt)});
  EXPECT_EQ(take().kill_set(), (std::set<KillCmd>{{"a", id, attempt, 0}}));
  EXPECT_TRUE(node("a").used.is_zero());
}

// ---- restore ----

TEST_F(ClusterTest, RestoreRebuildsAllocationsAndWaitsForNodesToComeBack) {
  Node n;
  n.name = "a";
  n.address = "addr-a";
  n.state = NodeState::up;
  n.total = Resources{8000, 64 * 1024, 4};
  Job j;
  j.id = 41;
  j.spec = spec(2, Resources{1000, 1024, 1});
  j.spec.name = "x";
  j.spec.output_pattern = "o";
  j.state = JobState::running;
  j.attempt = 3;
  j.tasks = {Task{0, "a", {2}, TaskState::running, 0}, Task{1, "a", {3}, TaskState::running, 0}};
  Job pending;
  pending.id = 42;
  pending.spec = spec(1);
  cluster_.restore({n}, {j, pending}, 42, now_ms_);

  EXPECT_EQ(node("a").used, (Resources{2000, 2048, 2}));
  EXPECT_EQ(node("a").free_gpus(), (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(schedule().total, 0u) << "a node not yet registered with this master takes no work";
  EXPECT_EQ(cluster_.submit(spec(1), kT0).value(), 43u) << "ids continue after the stored maximum";

  add_node("a", 8, 4, {live(41, 0, 3), live(41, 1, 3)});
  EXPECT_EQ(job(41).state, JobState::running);
  EXPECT_EQ(take().total, 0u);
  EXPECT_EQ(schedule().launches.size(), 2u) << "jobs 42 and 43 start once the node is back";
}

TEST_F(ClusterTest, RestoredNodesThatNeverReturnGoDownAfterOneTimeout) {
  Node n;
  n.name = "a";
  n.state = NodeState::up;
  n.total = Resources{8000, 1024, 0};
  Job j;
  j.id = 1;
  j.spec = spec(1);
  j.state = JobState::running;
  j.attempt = 1;
  j.tasks = {Task{0, "a", {}, TaskState::running, 0}};
  cluster_.restore({n}, {j}, 1, now_ms_);
  cluster_.check_timeouts(now_ms_ + kNodeTimeoutMs, kT0);
  EXPECT_EQ(node("a").state, NodeState::up) << "no grace period";
  cluster_.check_timeouts(now_ms_ + kNodeTimeoutMs + 1, kT0);
  EXPECT_EQ(node("a").state, NodeState::down);
  EXPECT_EQ(job(1).state, JobState::node_fail);
}

// ---- effects for the service ----

TEST_F(ClusterTest, TakeDirtyJobsListsChangedJobsOnce) {
  add_node("n1", 8, 0);
  JobId a = submit(spec(1));
  JobId b = submit(spec(8));
  JobId c = submit(spec(1));
  EXPECT_EQ(cluster_.take_dirty_jobs(), (std::set<JobId>{a, b, c}));
  EXPECT_TRUE(cluster_.take_dirty_jobs().empty()) << "taking clears the set";
  schedule();  // a and c start; b (all 8 cpus) waits
  // b's wait reason changed, but a pass recomputes it every time: it is
  // not written on its own.
  EXPECT_EQ(cluster_.take_dirty_jobs(), (std::set<JobId>{a, c}));
  EXPECT_EQ(job(b).reason, "Reservation");
  schedule();
  EXPECT_TRUE(cluster_.take_dirty_jobs().empty()) << "a pass that changes nothing dirties nothing";
  report("n1", a, 0, TaskEventKind::started);
  EXPECT_EQ(cluster_.take_dirty_jobs(), (std::set<JobId>{a}));
  ASSERT_TRUE(cluster_.cancel(c, kT0).ok);
  EXPECT_EQ(cluster_.take_dirty_jobs(), (std::set<JobId>{c}));
}

TEST_F(ClusterTest, EvictEndedDropsOnlyEndedJobsThatHoldNothing) {
  add_node("n1", 8, 0);
  JobId done = submit(spec(1));
  JobId killing = submit(spec(1));
  JobId waiting = submit(spec(8));
  JobId cancelled = submit(spec(1));
  ASSERT_TRUE(cluster_.cancel(cancelled, kT0).ok);
  schedule();
  ASSERT_EQ(job(done).state, JobState::running);
  ASSERT_EQ(job(killing).state, JobState::running);
  report("n1", done, 0, TaskEventKind::exited, 0);
  ASSERT_TRUE(cluster_.cancel(killing, kT0).ok);

  cluster_.evict_ended();
  EXPECT_EQ(cluster_.find_job(done), nullptr);
  EXPECT_EQ(cluster_.find_job(cancelled), nullptr);
  ASSERT_NE(cluster_.find_job(killing), nullptr) << "its rank may still be running";
  ASSERT_NE(cluster_.find_job(waiting), nullptr);

  report("n1", killing, 0, TaskEventKind::exited, 0, 15);
  cluster_.evict_ended();
  EXPECT_EQ(cluster_.find_job(killing), nullptr);
  EXPECT_NE(cluster_.find_job(waiting), nullptr);
  EXPECT_EQ(cluster_.jobs().size(), 1u);
}

}  // namespace
}  // namespace cadre

namespace cadre {
namespace {

TEST_F(ClusterTest, NodeFailureRequeuesTheWholeGangAsANewAttempt) {
  add_node("a", 8, 2);
  add_node("b", 8, 2);
  add_node("c", 8, 2);
  JobSpec s = gang(2, 1);
  s.requeue = true;
  JobId id = submit(s);
  schedule();
  start_all(id);
  const Attempt first = job(id).attempt;
  const std::string lost = job(id).tasks[1].node;
  const std::string survivor = job(id).tasks[0].node;
  take();

  for (auto& [name, n] : cluster_.nodes())
    if (name != lost) {
      ASSERT_TRUE(cluster_.heartbeat(name, now_ms_ + kNodeTimeoutMs, kT0 + 20));
    }
  now_ms_ += kNodeTimeoutMs + 1;
  cluster_.check_timeouts(now_ms_, kT0 + 30);
  EXPECT_EQ(job(id).state, JobState::pending);
  EXPECT_NE(job(id).reason.find("Requeued"), std::string::npos) << job(id).reason;
  Commands kills = take();
  ASSERT_EQ(kills.kills.size(), 1u);
  EXPECT_EQ(kills.kills[0].node, survivor) << "the surviving rank is killed";
  EXPECT_EQ(kills.kills[0].rank, 0u);

  cluster_.schedule(sched::Policy{}, kT0 + 31);
  EXPECT_TRUE(take().launches.empty()) << "no new attempt while a rank of the old one lives";

  report(survivor, id, 0, TaskEventKind::exited, 0, SIGTERM);
  cluster_.schedule(sched::Policy{}, kT0 + 32);
  Commands next = take();
  ASSERT_EQ(next.launches.size(), 2u);
  EXPECT_EQ(job(id).state, JobState::running);
  EXPECT_EQ(job(id).attempt, first + 1);
  for (const LaunchCmd& l : next.launches) {
    EXPECT_EQ(l.attempt, first + 1);
    EXPECT_NE(l.node, lost) << "the DOWN node gets nothing";
  }
}

TEST_F(ClusterTest, RequeueStopsAfterMaxRetriesWithNodeFail) {
  Cluster limited{kNodeTimeoutMs, 1};
  cluster_ = std::move(limited);
  add_node("a", 8, 2);
  JobSpec s = spec(1);
  s.requeue = true;
  JobId id = submit(s);
  for (int round = 0; round < 2; ++round) {
    schedule();
    ASSERT_EQ(job(id).state, JobState::running) << "round " << round;
    now_ms_ += kNodeTimeoutMs + 1;
    cluster_.check_timeouts(now_ms_, kT0 + 40 + round);
    if (round == 0) {
      EXPECT_EQ(job(id).state, JobState::pending) << "first failure requeues";
      add_node("a", 8, 2);  // the node comes back empty
    }
  }
  EXPECT_EQ(job(id).state, JobState::node_fail);
  EXPECT_EQ(job(id).attempt, 2u);
  EXPECT_NE(job(id).reason.find("no retries left"), std::string::npos) << job(id).reason;
}

TEST_F(ClusterTest, ExitsReportedAtRegistrationCountBeforeReconciliation) {
  add_node("a", 8, 2);
  JobId id = submit(spec(1));
  schedule();
  start_all(id);
  const Attempt attempt = job(id).attempt;
  RunningTaskRef done = live(id, 0, attempt);
  done.exited = true;
  done.exit_code = 0;
  add_node("a", 8, 2, {done});
  EXPECT_EQ(job(id).state, JobState::completed) << job(id).reason;
  EXPECT_EQ(job(id).tasks[0].state, TaskState::completed);
}

}  // namespace
}  // namespace cadre

namespace cadre {
namespace {

TEST_F(ClusterTest, ARankLostWithItsSupervisorIsANodeFailureNotAJobFailure) {
  add_node("a", 8, 2);
  add_node("b", 8, 2);
  JobSpec s = gang(2, 1);
  s.requeue = true;
  JobId id = submit(s);
  schedule();
  start_all(id);
  take();
  const std::string where = job(id).tasks[1].node;
  report(where, id, 1, TaskEventKind::lost, 0, SIGKILL, "the rank's supervisor died");
  EXPECT_EQ(job(id).state, JobState::pending) << job(id).reason;
  EXPECT_NE(job(id).reason.find("was lost on " + where), std::string::npos) << job(id).reason;
  EXPECT_EQ(job(id).tasks[1].state, TaskState::lost);
  EXPECT_EQ(take().kills.size(), 1u) << "the other rank is killed";
}

}  // namespace
}  // namespace cadre
