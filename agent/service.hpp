// AgentService: the node agent's event loop.
//
// One thread runs an io_context with the DEALER socket to the master, the
// registration and heartbeat timers, SIGCHLD (to reap supervisors) and
// SIGTERM/SIGINT. Each rank runs under its own supervisor process (see
// supervisor.hpp); the agent watches supervisors through pidfds, reports
// each rank's end and keeps the report on disk until the master
// acknowledges it. A restarted agent finds its ranks in WORK/ranks.
//
// Not thread-safe: construct, run() and destroy on one thread.
#pragma once

#include "common/asio.hpp"

#include <zmq.hpp>

#include <map>
#include <optional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/cgroup.hpp"
#include "agent/launcher.hpp"
#include "agent/gpu_discovery.hpp"
#include "agent/handshake_watch.hpp"
#include "agent/launch_spec.hpp"
#include "agent/rank_dir.hpp"
#include "common/codec.hpp"
#include "common/resources.hpp"
#include "common/transport.hpp"

namespace cadre::agent {

struct AgentOptions {
  std::string master = "tcp://127.0.0.1:7700";
  std::string name;
  std::string address;
  Resources total;
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::string> features;  // -C/--constraint matches these
  std::string work_dir;
  int64_t kill_grace_ms = 10000;
  bool allow_root_jobs = false;
  std::vector<GpuInfo> gpus;   // what discovery found (reported to the master)
  std::string cli;             // the cadre CLI, for Open MPI's launcher inside jobs
  std::string slurm_bin;       // Slurm's front ends (srun, ...) beside it; "" when not installed
  bool cgroups = true;         // confine ranks in cgroup v2 where the agent can
  std::string cgroup_base;     // the delegated cgroup to use (default: the agent's own)
  // CURVE (all three set, or none): this node's key pair and the master's public key.
  std::string curve_public, curve_secret, master_public;
};

class AgentService {
 public:
  explicit AgentService(AgentOptions options);
  ~AgentService();
  // Finds ranks left by an earlier agent, then connects. Throws on
  // start-up failure.
  void start();
  int run();

 private:
  struct LiveRank {
    pid_t supervisor = 0;
    std::unique_ptr<boost::asio::posix::stream_descriptor> pidfd;
    bool killing = false;
  };

  void recover_ranks();
  // Watches the supervisor through `pidfd` (taken over), or one it opens.
  bool watch(const RankId& id, pid_t supervisor, int pidfd = -1);
  void on_supervisor_exit(const RankId& id);

  void on_message(Frames&& frames);
  void handle_launch(Launch::Reader l);
  void handle_kill(Kill::Reader k);
  void handle_ack(TaskAck::Reader a);
  void send_register();
  void send_heartbeat();
  void send_started(const RankId& id);
  void send_exit(const RankId& id, const RankExit& exit);
  void send(std::string bytes);
  void arm_register_retry();
  // After a refused handshake: says why, and connects afresh after a backoff.
  void on_handshake(HandshakeWatch::Event event);
  void arm_heartbeat();
  void arm_sigchld();
  void remove_job_dir_if_done(JobId job, Attempt attempt);
  // Sets up cgroup v2 confinement, or says why ranks run in process groups.
  void setup_isolation();
  // The cgroup a rank runs in (made with its limits), or why not.
  Result<std::string> rank_cgroup(const LaunchSpec& spec, const RankId& id);
  std::string job_dir(JobId job, Attempt attempt) const;

  AgentOptions options_;
  boost::asio::io_context io_;
  zmq::context_t zmq_;
  ZmqChannel channel_;
  boost::asio::steady_timer register_timer_;
  boost::asio::steady_timer heartbeat_timer_;
  boost::asio::steady_timer reconnect_timer_;
  int64_t reconnect_backoff_ms_ = 0;      // 0 until a handshake fails; doubles to a cap
  uint32_t failed_handshakes_ = 0;         // since the last successful one
  std::optional<HandshakeWatch> handshake_watch_;  // after channel_: stopped before it closes
  boost::asio::signal_set sigchld_;
  boost::asio::signal_set stop_signals_;
  std::map<RankId, LiveRank> live_;       // supervisor still running
  std::map<RankId, RankExit> unacked_;    // ended; master has not acknowledged
  bool registered_ = false;
  uint32_t unanswered_registers_ = 0;  // register messages sent since the last answer
  uint32_t heartbeat_interval_ms_ = 1000;
  uint64_t malformed_ = 0;
  std::string isolation_ = "process groups";  // what confines ranks here, as `cadre nodes` shows it
  CgroupManager cgroups_{CgroupSupport{}};
  std::optional<CpuSetAllocator> cpusets_;     // with the cpuset controller: whole cpus per job
  std::map<std::pair<JobId, Attempt>, std::vector<int>> job_cpus_;
  // Forks rank supervisors; /proc/self/exe still names this binary after a
  // package upgrade replaced the file.
  SupervisorLauncher launcher_{"/proc/self/exe"};
};

}  // namespace cadre::agent
