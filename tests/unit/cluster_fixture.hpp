// Shared by the specifications of master/cluster (cluster_test.cpp and
// cluster_steps_test.cpp): the commands to agents, decoded with
// cadre::decode as an agent would, job specs, and a fixture that drives a
// Cluster (nodes registering, jobs submitted and scheduled, ranks reporting).
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
#include <vector>

#include "common/codec.hpp"
#include "common/log.hpp"
#include "master/cluster.hpp"
#include "master/messages.hpp"

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

inline Commands decode_all(const std::vector<AgentCommand>& commands) {
  Commands out;
  out.total = commands.size();
  for (const AgentCommand& c : commands) {
    auto d = decode(c.bytes);
    EXPECT_TRUE(d) << d.error();
    if (!d) continue;
    auto env = (*d)->envelope();
    if (env.isLaunch()) {
      auto l = env.getLaunch();
      LaunchCmd x;
      x.node = c.node;
      x.job = l.getJobId();
      x.attempt = l.getAttempt();
      x.step = l.getStep();
      x.rank = l.getRank();
      x.world_size = l.getWorldSize();
      x.local_rank = l.getLocalRank();
      x.local_world_size = l.getLocalWorldSize();
      x.node_rank = l.getNodeRank();
      for (auto n : l.getNodelist()) x.nodelist.emplace_back(n.cStr());
      for (auto n : l.getJobNodelist()) x.job_nodelist.emplace_back(n.cStr());
      for (auto a : l.getArgv()) x.argv.emplace_back(a.cStr());
      for (auto t : l.getTasksPerNode()) x.tasks_per_node.push_back(t);
      for (auto g : l.getGpus()) x.gpus.push_back(g);
      x.limits = from_proto(l.getLimits());
      x.batch = l.getBatch();
      x.script = l.getScript().cStr();
      x.workdir = l.getWorkdir().cStr();
      x.output_pattern = l.getOutputPattern().cStr();
      x.master_addr = l.getMasterAddr().cStr();
      x.master_port = l.getMasterPort();
      x.user = l.getUser().cStr();
      x.uid = l.getUid();
      x.gid = l.getGid();
      x.job_name = l.getJobName().cStr();
      out.launches.push_back(std::move(x));
    } else if (env.isKill()) {
      auto k = env.getKill();
      out.kills.push_back(KillCmd{c.node, k.getJobId(), k.getAttempt(), k.getRank(), k.getStep()});
    } else {
      ADD_FAILURE() << "unexpected command of kind " << static_cast<int>(env.which()) << " to " << c.node;
    }
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
    NodeRegistration reg;
    reg.name = name;
    reg.address = "addr-" + name;
    reg.total = Resources{cpus * 1000, 64 * 1024, gpus < 0 ? static_cast<int64_t>(models.size()) : gpus};
    reg.labels = node_labels_;
    reg.running = std::move(running);
    for (uint32_t i = 0; i < models.size(); ++i) reg.gpus.push_back(NodeGpu{i, "GPU-" + name + std::to_string(i), models[i], 81920, {}});
    cluster_.register_node(reg, "route-" + name, now_ms_, kT0);
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
  Commands take() { return decode_all(cluster_.take_commands()); }

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
