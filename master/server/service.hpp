// MasterService: the master's event loop.
//
// One thread runs one io_context that owns everything: the tcp ROUTER
// socket agents and clients talk to, the local (ipc) socket, the ZAP
// handler, the timers (heartbeat checks, time limits, periodic
// scheduling) and the signals. Each message is attributed to its peer
// (Peers), decoded within bounds (wire/) and handed to JobRequests or
// NodeRequests. Each loop turn runs the scheduler if anything asked for
// it, commits every change in one transaction, and only then encodes and
// sends the replies and the cluster's agent commands (commit before
// observe). A read is a turn of its own, so a failed commit (a full disk)
// never takes its answer back.
//
// Not thread-safe: construct, run() and destroy on one thread.
#pragma once

#include "common/asio.hpp"

#include <zmq.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "common/codec.hpp"
#include "common/transport.hpp"
#include "master/server/mail_notices.hpp"
#include "master/server/fault_point.hpp"
#include "master/server/job_requests.hpp"
#include "master/server/node_requests.hpp"
#include "master/server/server_state.hpp"

namespace cadre {

class MasterService {
 public:
  MasterService(MasterOptions options, std::unique_ptr<Store> store);
  // Loads state from the store and binds the sockets. Throws on start-up
  // failure (the caller reports it and exits).
  void start();
  // Runs until SIGTERM or SIGINT. Returns the process exit status.
  int run();

 private:
  // Binds every --listen endpoint (after setup_curve when keyed); throws
  // with the endpoint named when one cannot be bound.
  void bind_listen();
  void setup_curve();
  void setup_local_socket();
  void answer_zap(Frames&& request);
  void reload_keys();
  // A Cluster configured from the options, with the stored state loaded.
  Status load_cluster(Cluster& into);

  void on_message(Frames&& frames);
  void on_local_message(Frames&& frames);
  // Decodes and dispatches one message from `r.peer`.
  void handle(Request r, const std::string& body);
  void dispatch(const Request& r, Envelope::Reader env);
  // A message this peer may not send: counted, logged, answered.
  void refuse_message(const Request& r, const std::string& why);

  // Ends a loop turn: schedule if asked, commit, then send.
  // Pass::skip commits and answers without a scheduling pass (around a
  // read, which must not wait for or trigger one).
  enum class Pass { run, skip };
  void end_turn(Pass pass = Pass::run);
  // Runs a pass when one is wanted and due; true when it preempted a gang.
  bool schedule_if_wanted();
  // Writes the turn's changes in one transaction; false when it failed.
  Status commit_turn(const std::set<JobId>& jobs, const std::set<std::string>& nodes,
                     const std::set<std::string>& reservations);
  void send_commands();
  void send_frames(std::vector<Frames> frames);
  // After a failed commit: answer this turn's clients with an error and
  // rebuild the state from what the store really holds.
  void recover_from_store_failure(const std::string& error);
  void arm_tick();

  ServerState s_;
  JobRequests jobs_;
  NodeRequests nodes_;
  boost::asio::io_context io_;
  zmq::context_t zmq_;
  ZmqChannel channel_;
  boost::asio::steady_timer tick_;
  boost::asio::signal_set signals_;
  int64_t last_pass_ms_ = 0;
  int64_t last_usage_save_ms_ = 0;
  boost::asio::steady_timer debounce_;
  bool debounce_armed_ = false;
  bool failed_ = false;
  FaultPoint fault_ = FaultPoint::none;  // testing only: CADRE_FAULT_POINT, read at start
  std::unique_ptr<ZmqChannel> zap_;    // answers ZeroMQ's authentication requests
  std::unique_ptr<ZmqChannel> local_;  // the local (ipc) socket, when configured
  // Replies to peers of the local socket carry this before their routing id.
  static constexpr std::string_view kLocalPeerPrefix = "\x01local:";
  int64_t last_key_scan_ms_ = 0;
  int64_t last_refusal_log_ms_ = 0;          // refused handshakes are logged at most every 10 s
  int64_t last_message_refusal_log_ms_ = 0;  // and so are refused messages
  MailNotices mail_;                         // --mail-type, after each commit
};

}  // namespace cadre
