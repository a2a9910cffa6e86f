// MasterService: the master's event loop.
//
// One thread runs one io_context that owns everything: the ROUTER socket
// agents and clients talk to, the timers (heartbeat checks, time limits,
// periodic scheduling) and the signals. Each loop turn handles a batch of
// messages, runs the scheduler if anything asked for it, commits every
// change in one transaction, and only then sends replies and agent
// commands (commit before observe).
//
// Not thread-safe: construct, run() and destroy on one thread.
#pragma once

#include "common/asio.hpp"

#include <zmq.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/codec.hpp"
#include "common/transport.hpp"
#include "master/cluster.hpp"
#include "master/key_store.hpp"
#include "master/stats.hpp"
#include "master/store/store.hpp"

namespace cadre {

// CURVE on the tcp endpoint: on when key_file is set.
struct SecurityOptions {
  std::string key_file;        // the master's key pair (cadre keygen)
  std::string agent_keys_dir;  // <name>.pub of each enrolled agent
  std::string user_keys_dir;   // <name>.pub of each enrolled user
  std::string local_socket;    // path of the ipc socket for users on this host; "" = none
  std::string admin_group;     // besides root, members of this group are admins
};

struct MasterOptions {
  std::string listen = "tcp://*:7700";
  std::string state_dir;
  int64_t node_timeout_ms = 30000;
  uint32_t max_retries = 3;  // requeues of a gang after node failures
  // Off only to measure what group commit buys (bench/): one transaction,
  // and one fsync, per message instead of per loop turn.
  bool group_commit = true;
  sched::Policy policy;
  SchedulerConfig scheduler;       // partitions and fair share
  int64_t interval_ms = 10000;     // a pass at least this often (ages and fair share move)
  int64_t debounce_ms = 0;         // at most one event-driven pass per this long
  Limits limits;                   // per-user limits on submissions
  SecurityOptions security;
};

// Counters for what the master refused or dropped; logged and kept.
struct MasterCounters {
  uint64_t malformed_messages = 0;
  uint64_t undeliverable = 0;
  uint64_t rate_limited = 0;         // submissions refused by limits.submit_rate
  uint64_t refused_submissions = 0;  // refused by validation or the other limits
  uint64_t refused_connections = 0;  // handshakes with an unknown key (ZAP)
  uint64_t refused_messages = 0;     // from a revoked key, or a peer acting outside its role
};

class MasterService {
 public:
  MasterService(MasterOptions options, std::unique_ptr<Store> store);
  // Loads state from the store and binds the socket. Throws on start-up
  // failure (the caller reports it and exits).
  void start();
  // Runs until SIGTERM or SIGINT. Returns the process exit status.
  int run();

 private:
  void on_message(Frames&& frames);
  void dispatch(const std::string& peer, Envelope::Reader env);
  // With CURVE: whether the peer of the message being handled may send it.
  Status authorize(Envelope::Reader env) const;
  void setup_curve();
  void setup_local_socket();
  void on_local_message(Frames&& frames);
  // Decodes and dispatches one request from `peer` (current_peer_ set).
  void handle(const std::string& peer, const std::string& body);
  void reload_keys();
  void handle_register(const std::string& peer, Register::Reader r);
  void handle_task_status(const std::string& peer, TaskStatus::Reader s);
  void handle_submit(const std::string& peer, uint64_t request_id, Submit::Reader s);
  void handle_submit_many(const std::string& peer, uint64_t request_id, SubmitMany::Reader s);
  // One job through identity, the rate limit and Cluster::submit.
  Result<JobId> submit_one(JobSpec spec);
  void handle_list_jobs(const std::string& peer, uint64_t request_id, ListJobs::Reader request);
  void handle_show_job(const std::string& peer, uint64_t request_id, JobId id);
  void handle_cancel(const std::string& peer, uint64_t request_id, Cancel::Reader c);
  void handle_list_nodes(const std::string& peer, uint64_t request_id);
  void handle_list_partitions(const std::string& peer, uint64_t request_id);
  void handle_get_stats(const std::string& peer, uint64_t request_id);
  void handle_run_step(const std::string& peer, uint64_t request_id, RunStep::Reader r);
  void handle_show_step(const std::string& peer, uint64_t request_id, ShowStep::Reader s);
  void handle_set_node_state(const std::string& peer, uint64_t request_id, SetNodeState::Reader r);
  // Root, or a member of admin_group (always true without a verified identity).
  bool is_admin() const;
  std::string no_account_message() const;
  void handle_show_step_id(const std::string& peer, uint64_t request_id, JobId job, uint32_t step);
  // A Cluster configured from the options, with the stored state loaded.
  Status load_cluster(Cluster& into);
  void reply(const std::string& peer, std::string bytes);
  void reply_error(const std::string& peer, uint64_t request_id, const std::string& text);

  // Ends a loop turn: schedule if asked, commit, then send.
  void end_turn();
  // After a failed commit: answer this turn's clients with an error and
  // rebuild the state from what the store really holds.
  void recover_from_store_failure(const std::string& error);
  std::string store_failure_message() const;
  void arm_tick();

  MasterOptions options_;
  std::unique_ptr<Store> store_;
  Cluster cluster_;
  boost::asio::io_context io_;
  zmq::context_t zmq_;
  ZmqChannel channel_;
  boost::asio::steady_timer tick_;
  boost::asio::signal_set signals_;
  std::vector<Frames> replies_;  // held until the turn's changes are committed
  // Client requests handled in this turn, answered with an error if the
  // turn's commit fails.
  std::vector<std::pair<std::string, uint64_t>> turn_requests_;
  // Set while the store cannot be written: no new work is accepted.
  std::optional<std::string> store_error_;
  bool schedule_wanted_ = false;
  int64_t last_pass_ms_ = 0;
  int64_t last_usage_save_ms_ = 0;
  boost::asio::steady_timer debounce_;
  bool debounce_armed_ = false;
  bool failed_ = false;
  MasterCounters counters_;
  MasterStats stats_;  // for getStats (cadre diag)
  SubmitRateLimiter rate_limiter_;
  bool curve_ = false;
  KeyStore keys_;
  std::unique_ptr<ZmqChannel> zap_;        // answers ZeroMQ's authentication requests
  std::unique_ptr<ZmqChannel> local_;      // the local (ipc) socket, when configured
  // Replies to peers of the local socket carry this before their routing id.
  static constexpr std::string_view kLocalPeerPrefix = "\x01local:";
  // Who sent the message being handled, when known for sure: by an
  // enrolled key (CURVE) or by the kernel (local socket). Empty for tcp
  // without CURVE, where a request's own claims are taken.
  std::optional<Peer> current_peer_;
  int64_t last_key_scan_ms_ = 0;
  int64_t last_refusal_log_ms_ = 0;      // refused handshakes are logged at most every 10 s
  std::map<std::string, int64_t> rate_logged_ms_;  // user -> when a flood of theirs was last logged
};

}  // namespace cadre
