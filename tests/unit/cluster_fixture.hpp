// Shared by the specifications of master/state (cluster_test.cpp,
// cluster_steps_test.cpp, node_table_test.cpp, admission_test.cpp): the
// typed commands to agents, with what the agent would receive of the job
// (the launch encoded and decoded with cadre::decode, as an agent would),
// job specs, and fixtures that drive a Cluster (nodes registering, jobs
// submitted and scheduled, ranks reporting) or a bare ClusterState.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/codec.hpp"
#include "common/log.hpp"
#include "master/wire/encode.hpp"
#include "master/state/cluster.hpp"
#include "master/state/node_table.hpp"
#include "master/state/partitions.hpp"

namespace cadre::cluster_fixture {

inline constexpr int64_t kNodeTimeoutMs = 10000;
inline constexpr int64_t kT0 = 1700000000;  // unix seconds at the start of every test

struct LaunchCmd {
  std::string node;
  JobId job = 0;
  Attempt attempt = 0;
  uint32_t step = 0, rank = 0, world_size = 0, local_rank = 0, local_world_size = 0, node_rank = 0;
  std::vector<std::string> nodelist, job_nodelist, argv;
  std::vector<uint32_t> tasks_per_node, gpus;
  Resources limits;
  bool batch = false;
  std::string script, workdir, output_pattern, master_addr, user, job_name;
  uint16_t master_port = 0;
  uint32_t uid = 0, gid = 0;
};

struct KillCmd {
  std::string node;
  JobId job = 0;
  Attempt attempt = 0;
  uint32_t rank = 0;
  uint32_t step = 0;
  auto operator<=>(const KillCmd&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const KillCmd& k) {
  return os << "Kill{" << k.node << " job " << k.job << " attempt " << k.attempt << " step " << k.step << " rank "
            << k.rank << "}";
}

// The commands of one turn, decoded.
struct Commands {
  std::vector<LaunchCmd> launches;
  std::vector<KillCmd> kills;
  size_t total = 0;

  std::set<KillCmd> kill_set() const { return {kills.begin(), kills.end()}; }
};

// What the agent receives of the job besides the layout (command, user,
// output files, the job's node list): `l`'s launch encoded as the service
// does and decoded as an agent would.
inline void fill_from_wire(const Job& job, const LaunchCommand& cmd, LaunchCmd& x) {
  auto d = decode(wire::encode_launch(job, cmd));
  EXPECT_TRUE(d) << d.error();
  if (!d) return;
  auto env = (*d)->envelope();
  ASSERT_TRUE(env.isLaunch());
  auto l = env.getLaunch();
  EXPECT_EQ(l.getJobId(), cmd.job);
  EXPECT_EQ(l.getAttempt(), cmd.attempt);
  EXPECT_EQ(l.getRank(), cmd.target.rank);
  EXPECT_EQ(l.getMasterPort(), cmd.master_port);
  for (auto n : l.getJobNodelist()) x.job_nodelist.emplace_back(n.cStr());
  x.script = l.getScript().cStr();
  x.workdir = l.getWorkdir().cStr();
  x.output_pattern = l.getOutputPattern().cStr();
  x.user = l.getUser().cStr();
  x.uid = l.getUid();
  x.gid = l.getGid();
  x.job_name = l.getJobName().cStr();
}

// The typed commands of a turn; `cluster` holds their jobs.
inline Commands decode_all(const Cluster& cluster, const std::vector<AgentCommand>& commands) {
  Commands out;
  out.total = commands.size();
  for (const AgentCommand& c : commands) {
    if (const auto* k = std::get_if<KillCommand>(&c.what)) {
      out.kills.push_back(KillCmd{c.node, k->job, k->attempt, k->rank, k->step});
      continue;
    }
    const LaunchCommand& l = std::get<LaunchCommand>(c.what);
    const LaunchTarget& t = l.target;
    LaunchCmd x;
    x.node = c.node;
    x.job = l.job;
    x.attempt = l.attempt;
    x.step = t.step;
    x.rank = t.rank;
    x.world_size = t.world_size;
    x.local_rank = t.local_rank;
    x.local_world_size = t.local_world_size;
    x.node_rank = t.node_rank;
    x.nodelist = t.nodes;
    x.argv = t.argv;
    x.tasks_per_node = t.tasks_per_node;
    x.gpus = t.gpus;
    x.limits = t.limits;
    x.batch = t.batch;
    x.master_addr = l.master_addr;
    x.master_port = l.master_port;
    if (const Job* j = cluster.find_job(l.job)) fill_from_wire(*j, l, x);
    else ADD_FAILURE() << "a launch for job " << l.job << ", which the cluster does not hold";
    out.launches.push_back(std::move(x));
  }
  return out;
}

inline JobSpec spec(uint32_t ntasks, Resources per_task = Resources{1000, 1024, 0}) {
  JobSpec s;
  s.argv = {"/usr/bin/python3", "train.py"};
  s.workdir = "/home/ada";
  s.per_task = per_task;
  s.ntasks = ntasks;
  s.user = "ada";
  s.uid = 1000;
  s.gid = 100;
  // Most tests check what a node failure does without requeueing; the
  // requeue tests turn it back on.
  s.requeue = false;
  return s;
}

inline JobSpec gang(uint32_t nodes, uint32_t tasks_per_node, Resources per_task = Resources{1000, 1024, 1}) {
  JobSpec s = spec(nodes * tasks_per_node, per_task);
  s.nodes = nodes;
  s.tasks_per_node = tasks_per_node;
  return s;
}

// A rank an agent reports as still running.
inline RunningTaskRef live(JobId job, uint32_t rank, Attempt attempt, uint32_t step = 0) {
  RunningTaskRef r;
  r.job = job;
  r.step = step;
  r.rank = rank;
  r.attempt = attempt;
  return r;
}

// A node's registration: `cpus` cpus, 64G, GPUs of `models` (or `gpus`
// GPUs of no known model when given), reached at "addr-<name>".
inline NodeRegistration registration(const std::string& name, int64_t cpus, const std::vector<std::string>& models,
                                     std::vector<RunningTaskRef> running = {}, int64_t gpus = -1,
                                     std::map<std::string, std::string> labels = {}) {
  NodeRegistration reg;
  reg.name = name;
  reg.address = "addr-" + name;
  reg.total = Resources{cpus * 1000, 64 * 1024, gpus < 0 ? static_cast<int64_t>(models.size()) : gpus};
  reg.labels = std::move(labels);
  reg.running = std::move(running);
  for (uint32_t i = 0; i < models.size(); ++i) reg.gpus.push_back(NodeGpu{i, "GPU-" + name + std::to_string(i), models[i], 81920, {}});
  return reg;
}

// A bare ClusterState (one partition of every node) for the pieces of
// master/state that can be specified alone.
class StateFixture : public ::testing::Test {
 protected:
  StateFixture() { state::set_partitions(s_, {}); }
  void SetUp() override { log::set_level(log::Level::error); }
  void TearDown() override { log::set_level(log::Level::info); }

  void add_node(const std::string& name, int64_t cpus, int64_t gpus,
                std::map<std::string, std::string> labels = {}) {
    state::register_node(s_, registration(name, cpus, {}, {}, gpus, std::move(labels)), now_ms_, kT0);
  }
  const Node& node(const std::string& name) {
    const Node* n = s_.find_node(name);
    if (!n) throw std::runtime_error("node " + name + " is not in the cluster");
    return *n;
  }

  int64_t now_ms_ = 1000;
  ClusterState s_{kNodeTimeoutMs, 3};
};

class ClusterFixture : public ::testing::Test {
 protected:
  void SetUp() override { log::set_level(log::Level::error); }
  void TearDown() override { log::set_level(log::Level::info); }

  // Registers a node with `cpus` cpus, 64G and `gpus` GPUs, all of
  // `gpu_model` when given, at time now_ms_.
  void add_node(const std::string& name, int64_t cpus, int64_t gpus, std::vector<RunningTaskRef> running = {},
                const std::string& gpu_model = "") {
    std::vector<std::string> models;
    if (!gpu_model.empty()) models.assign(static_cast<size_t>(gpus), gpu_model);
    add_node_with_models(name, cpus, models, std::move(running), gpus);
  }
  void add_node_with_models(const std::string& name, int64_t cpus, const std::vector<std::string>& models,
                            std::vector<RunningTaskRef> running = {}, int64_t gpus = -1) {
    cluster_.register_node(registration(name, cpus, models, std::move(running), gpus, node_labels_), now_ms_, kT0);
  }

  JobId submit(JobSpec s) {
    auto id = cluster_.submit(std::move(s), kT0);
    EXPECT_TRUE(id) << id.error();
    return id ? *id : 0;
  }

  Commands schedule() {
    // First come, first served among equals (no size factor): these tests
    // are about the state machine; the scheduler's rules have their own.
    sched::Policy policy;
    policy.weights.size = 0;
    cluster_.schedule(policy, kT0 + 1);
    return take();
  }
  Commands take() { return decode_all(cluster_, cluster_.take_commands()); }

  // Time passes: every UP node keeps its heartbeat on the monotonic clock
  // (`ms`), then the timeouts are checked at `ms` and the wall clock `unix_s`.
  void tick(int64_t ms, int64_t unix_s) {
    for (const auto& [name, n] : cluster_.nodes()) {
      if (n.state == NodeState::up) {
        ASSERT_TRUE(cluster_.heartbeat(name, ms, unix_s));
      }
    }
    cluster_.check_timeouts(ms, unix_s);
  }

  void report(const std::string& node, JobId id, uint32_t rank, TaskEventKind kind, int32_t exit_code = 0,
              int32_t signal = 0, uint32_t step = 0, bool oom = false, std::string message = "") {
    TaskEvent ev;
    ev.node = node;
    ev.job = id;
    ev.step = step;
    ev.rank = rank;
    ev.attempt = job(id).attempt;
    ev.kind = kind;
    ev.exit_code = exit_code;
    ev.signal = signal;
    ev.oom_killed = oom;
    ev.message = std::move(message);
    cluster_.task_event(ev, kT0 + 10);
  }
  void step_exit(JobId id, uint32_t step, uint32_t rank, int32_t exit_code = 0, int32_t signal = 0) {
    report(step_of(id, step).ranks.at(rank).node, id, rank, TaskEventKind::exited, exit_code, signal, step);
  }
  // Every rank still launching reports `started`.
  void start_all(JobId id) {
    for (const Task& t : std::vector<Task>(job(id).tasks))
      if (t.state == TaskState::launching) report(t.node, id, t.rank, TaskEventKind::started);
  }

  // Every task of a running job, for the agents' registrations.
  std::vector<RunningTaskRef> live_on(JobId id, const std::string& node) {
    std::vector<RunningTaskRef> out;
    for (const Task& t : job(id).tasks)
      if (t.node == node && (t.state == TaskState::launching || t.state == TaskState::running))
        out.push_back(live(id, t.rank, job(id).attempt));
    return out;
  }

  const Job& job(JobId id) {
    const Job* j = cluster_.find_job(id);
    if (!j) throw std::runtime_error("job " + std::to_string(id) + " is not in the cluster");
    return *j;
  }
  const Node& node(const std::string& name) {
    const Node* n = cluster_.find_node(name);
    if (!n) throw std::runtime_error("node " + name + " is not in the cluster");
    return *n;
  }
  const Step& step_of(JobId id, uint32_t step) {
    const Step* s = cluster_.find_step(id, step);
    if (!s) throw std::runtime_error("job " + std::to_string(id) + " has no step " + std::to_string(step));
    return *s;
  }
  std::vector<uint32_t> gpus_of(JobId id, const std::string& node_name) {
    std::vector<uint32_t> out;
    for (const Task& t : job(id).tasks)
      if (t.node == node_name) out.insert(out.end(), t.gpus.begin(), t.gpus.end());
    std::sort(out.begin(), out.end());
    return out;
  }

  std::map<std::string, std::string> node_labels_;  // given to every node add_node registers
  int64_t now_ms_ = 1000;
  Cluster cluster_{kNodeTimeoutMs};
};

}  // namespace cadre::cluster_fixture
