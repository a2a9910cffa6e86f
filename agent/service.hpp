// AgentService: the node agent's event loop.
//
// One thread runs an io_context with the DEALER socket to the master, the
// heartbeat and registration timers, SIGCHLD (to reap ranks) and
// SIGTERM/SIGINT. Ranks are launched and killed on the master's word and
// their exits reported back.
//
// Not thread-safe: construct, run() and destroy on one thread.
#pragma once

#include "common/asio.hpp"

#include <zmq.hpp>

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "agent/launch_spec.hpp"
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
  std::string work_dir;
  int64_t kill_grace_ms = 10000;
  bool allow_root_jobs = false;
};

class AgentService {
 public:
  explicit AgentService(AgentOptions options);
  ~AgentService();
  void start();
  int run();

 private:
  struct RankProcess {
    LaunchSpec spec;
    pid_t pid = 0;
    bool killing = false;
    std::unique_ptr<boost::asio::steady_timer> kill_timer;
  };
  // Job, rank, attempt: an older attempt of a rank may still be dying
  // while the new one starts.
  using RankKey = std::tuple<JobId, uint32_t, Attempt>;

  void on_message(Frames&& frames);
  void handle_launch(Launch::Reader l);
  void handle_kill(Kill::Reader k);
  void send_register();
  void send_heartbeat();
  void send_task_status(const LaunchSpec& spec, ::TaskEvent event, int32_t exit_code, int32_t signal,
                        const std::string& message);
  void send(std::string bytes);
  void arm_register_retry();
  void arm_heartbeat();
  void arm_sigchld();
  void reap();
  void kill_rank(RankProcess& p);
  std::string job_dir(const LaunchSpec& spec) const;
  void shutdown();

  AgentOptions options_;
  boost::asio::io_context io_;
  zmq::context_t zmq_;
  ZmqChannel channel_;
  boost::asio::steady_timer register_timer_;
  boost::asio::steady_timer heartbeat_timer_;
  boost::asio::signal_set sigchld_;
  boost::asio::signal_set stop_signals_;
  std::map<RankKey, RankProcess> ranks_;
  bool registered_ = false;
  uint32_t heartbeat_interval_ms_ = 1000;
  uint64_t malformed_ = 0;
};

}  // namespace cadre::agent
