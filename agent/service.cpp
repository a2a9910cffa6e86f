#include "agent/service.hpp"

#include <sys/syscall.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capnp/message.h>

#include <algorithm>
#include <filesystem>

#include "agent/spawn.hpp"
#include "agent/supervisor.hpp"
#include "common/curve_keys.hpp"
#include "common/endpoint.hpp"
#include "common/gpu.hpp"
#include "common/log.hpp"
#include "common/proto_text.hpp"

namespace cadre::agent {
namespace {

constexpr int kRegisterRetryMs = 1000;
// A refused handshake is retried after 1 s, then 2, 4, ... up to 30 s: an
// admin enrolling the key now is served at once, a revoked node does not
// knock every second forever.
constexpr int64_t kFirstReconnectMs = 1000;
constexpr int64_t kMaxReconnectMs = 30000;

}  // namespace

AgentService::AgentService(AgentOptions options)
    : options_(std::move(options)),
      zmq_(1),
      channel_(io_, zmq_, zmq::socket_type::dealer),
      register_timer_(io_),
      heartbeat_timer_(io_),
      reconnect_timer_(io_),
      sigchld_(io_, SIGCHLD),
      stop_signals_(io_, SIGTERM, SIGINT) {}

AgentService::~AgentService() {
  if (handshake_watch_) handshake_watch_->stop();
  channel_.close();
}

void AgentService::start() {
  std::filesystem::create_directories(options_.work_dir + "/ranks");
  setup_isolation();
  arm_sigchld();
  // After setup_isolation, so the helper starts in the agent's own cgroup.
  launcher_.prestart();
  recover_ranks();
  // Job cgroups (and cpus) of jobs whose ranks all ended while no agent ran.
  std::vector<std::pair<JobId, Attempt>> jobs;
  for (const auto& [key, cpus] : job_cpus_) jobs.push_back(key);
  for (const auto& [job, attempt] : jobs) remove_job_dir_if_done(job, attempt);
  // A fixed routing id lets the master reach this agent right after a
  // reconnect, before its next heartbeat. With CURVE it is derived from
  // this node's key and the master's (curve_routing_id): the master sends
  // this node's commands there and nowhere else, and no one without one of
  // the two secret keys can take it over.
  std::string routing_id = "agent:" + options_.name;
  if (!options_.master_public.empty()) {
    auto derived = curve_routing_id(options_.curve_secret, options_.master_public);
    if (!derived) throw std::runtime_error("cannot derive the routing id from the CURVE keys: " + derived.error());
    routing_id = *derived;
  }
  channel_.socket().set(zmq::sockopt::routing_id, routing_id);
  channel_.socket().set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxMessageBytes));
  channel_.socket().set(zmq::sockopt::reconnect_ivl, 200);
  channel_.socket().set(zmq::sockopt::reconnect_ivl_max, 5000);
  if (!options_.master_public.empty()) {
    // The handshake only completes with the master that holds this key.
    channel_.socket().set(zmq::sockopt::curve_serverkey, options_.master_public);
    channel_.socket().set(zmq::sockopt::curve_publickey, options_.curve_public);
    channel_.socket().set(zmq::sockopt::curve_secretkey, options_.curve_secret);
  }
  // main() checked the endpoint; an IPv6 literal needs ZeroMQ's ipv6 option.
  if (auto e = parse_endpoint(options_.master); e && e->is_ipv6()) channel_.socket().set(zmq::sockopt::ipv6, 1);
  if (!options_.master_public.empty())
    handshake_watch_.emplace(io_, zmq_, channel_.socket(), [this](HandshakeWatch::Event e) { on_handshake(e); });
  channel_.socket().connect(options_.master);
  channel_.start([this](Frames&& f) { on_message(std::move(f)); });
  stop_signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    // Ranks keep running under their supervisors; a restarted agent
    // finds them again.
    CADRE_LOG(info) << "signal " << sig << ": stopping; " << live_.size() << " ranks keep running";
    if (handshake_watch_) handshake_watch_->stop();
    reconnect_timer_.cancel();
    channel_.close();
    io_.stop();
  });
  CADRE_LOG(info) << "node " << options_.name << " (" << options_.total.to_string() << ", address "
                  << options_.address << ") connecting to " << options_.master;
  send_register();
  arm_register_retry();
}

int AgentService::run() {
  io_.run();
  return 0;
}

void AgentService::recover_ranks() {
  for (const RankId& id : list_rank_dirs(options_.work_dir)) {
    const std::string dir = rank_dir_path(options_.work_dir, id);
    if (auto exit = read_exit(dir)) {
      unacked_[id] = *exit;
      continue;
    }
    auto pid = read_pid(dir + "/supervisor");
    if (pid && is_supervisor_of(*pid, dir) && watch(id, *pid)) continue;
    if (withdraw_request(dir) || !std::filesystem::exists(dir + "/request.claimed")) {
      // No supervisor claimed the request (the agent died mid-launch), and
      // none can now: the rank never started. Forget it; the master sees it
      // vanish and requeues its gang.
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
      continue;
    }
    // Claimed: its supervisor recorded its pid before that, so look again
    // (it may have done so after the first look).
    pid = read_pid(dir + "/supervisor");
    if (pid && is_supervisor_of(*pid, dir) && watch(id, *pid)) continue;
    // The node rebooted or the supervisor was killed: how the rank ended is
    // unknown, so it counts as lost (a node failure), and anything of it
    // still running goes.
    if (auto rank = read_pid(dir + "/rank"); rank && is_rank_process(*rank, id)) ::kill(-*rank, SIGKILL);
    RankExit lost{false, true, 0, SIGKILL, "the rank's supervisor was gone when the agent restarted"};
    (void)write_exit(dir, lost);
    unacked_[id] = lost;
  }
  if (!live_.empty() || !unacked_.empty())
    CADRE_LOG(info) << "found " << live_.size() << " running ranks and " << unacked_.size()
                    << " unreported exits from an earlier agent";
}

bool AgentService::watch(const RankId& id, pid_t supervisor, int pidfd) {
  // Via syscall(): glibc 2.36's <sys/pidfd.h> lacks C linkage for C++.
  int fd = pidfd >= 0 ? pidfd : static_cast<int>(syscall(SYS_pidfd_open, supervisor, 0));
  if (fd < 0) return false;
  LiveRank& r = live_[id];
  r.supervisor = supervisor;
  r.pidfd = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd);
  // A pidfd turns readable when the process exits.
  r.pidfd->async_wait(boost::asio::posix::stream_descriptor::wait_read, [this, id](const boost::system::error_code& ec) {
    if (!ec) on_supervisor_exit(id);
  });
  return true;
}

void AgentService::on_supervisor_exit(const RankId& id) {
  auto it = live_.find(id);
  if (it == live_.end()) return;
  const std::string dir = rank_dir_path(options_.work_dir, id);
  std::optional<RankExit> exit = read_exit(dir);
  if (!exit) {
    // Killed before it could record anything; its rank died with it
    // (PR_SET_PDEATHSIG), and anything the rank left in its group goes too.
    if (auto rank = read_pid(dir + "/rank"); rank && is_rank_process(*rank, id)) ::kill(-*rank, SIGKILL);
    exit = RankExit{false, true, 0, SIGKILL, "the rank's supervisor died"};
    (void)write_exit(dir, *exit);
  }
  live_.erase(it);
  CADRE_LOG(info) << "job " << id.job << (id.step ? " step " + std::to_string(id.step) : "") << " rank " << id.rank
                  << " " << (exit->oom_killed ? "exceeded its memory limit; " : "")
                  << (exit->launch_failed  ? "could not start: " + exit->message
                      : exit->signal != 0 ? "killed by signal " + std::to_string(exit->signal)
                                          : "exited with code " + std::to_string(exit->exit_code));
  unacked_[id] = *exit;
  send_exit(id, *exit);
}

void AgentService::send(std::string bytes) {
  if (!channel_.send(Frames{std::move(bytes)})) CADRE_LOG(warning) << "could not queue a message to the master";
}

void AgentService::send_register() {
  capnp::MallocMessageBuilder m;
  auto r = start_envelope(m, 0).initRegister();
  r.setName(text(options_.name));
  r.setAddress(text(options_.address));
  auto total = r.initTotal();
  total.setMillicores(options_.total.millicores);
  total.setMemoryMb(options_.total.memory_mb);
  total.setGpus(static_cast<int32_t>(options_.total.gpus));
  auto labels = r.initLabels(static_cast<unsigned>(options_.labels.size()));
  for (unsigned i = 0; i < options_.labels.size(); ++i) {
    labels[i].setKey(text(options_.labels[i].first));
    labels[i].setValue(text(options_.labels[i].second));
  }
  auto features = r.initFeatures(static_cast<unsigned>(options_.features.size()));
  for (unsigned i = 0; i < options_.features.size(); ++i) features.set(i, text(options_.features[i]));
  auto running = r.initRunning(static_cast<unsigned>(live_.size() + unacked_.size()));
  unsigned i = 0;
  for (auto& [id, live] : live_) {
    running[i].setJobId(id.job);
    running[i].setRank(id.rank);
    running[i].setAttempt(id.attempt);
    running[i].setStep(id.step);
    ++i;
  }
  for (auto& [id, exit] : unacked_) {
    auto t = running[i++];
    t.setJobId(id.job);
    t.setRank(id.rank);
    t.setAttempt(id.attempt);
    t.setStep(id.step);
    t.setOomKilled(exit.oom_killed);
    t.setExited(true);
    t.setLaunchFailed(exit.launch_failed);
    t.setLost(exit.lost);
    t.setExitCode(exit.exit_code);
    t.setSignal(exit.signal);
    t.setMessage(text(exit.message));
  }
  auto gpus = r.initGpus(static_cast<unsigned>(options_.gpus.size()));
  for (unsigned g = 0; g < options_.gpus.size(); ++g) to_proto(options_.gpus[g], gpus[g]);
  r.setIsolation(text(isolation_));
  send(encode(m));
}

void AgentService::arm_register_retry() {
  register_timer_.expires_after(std::chrono::milliseconds(kRegisterRetryMs));
  register_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || registered_) return;
    // Say so now and then (after 4, 8, 16... tries): a master that is
    // down, or a name that does not resolve yet at boot, may come later.
    if (++unanswered_registers_ >= 4 && (unanswered_registers_ & (unanswered_registers_ - 1)) == 0) {
      std::string why;
      if (auto e = parse_endpoint(options_.master); e)
        if (Status resolves = check_host_resolves(*e); !resolves) why = " (" + resolves.error() + ")";
      CADRE_LOG(warning) << "no answer from the master at " << options_.master << " after " << unanswered_registers_
                         << " tries" << why << "; still trying";
    }
    send_register();
    arm_register_retry();
  });
}

void AgentService::on_handshake(HandshakeWatch::Event event) {
  if (event == HandshakeWatch::Event::succeeded) {
    if (failed_handshakes_ > 0)
      CADRE_LOG(info) << "the master at " << options_.master << " accepted this node's key after " << failed_handshakes_
                      << " refused handshakes";
    failed_handshakes_ = 0;
    reconnect_backoff_ms_ = 0;
    return;
  }
  ++failed_handshakes_;
  reconnect_backoff_ms_ = reconnect_backoff_ms_ == 0 ? kFirstReconnectMs : std::min(2 * reconnect_backoff_ms_, kMaxReconnectMs);
  // The first refusal and then every 8th: enough to find in the log, not a line a second.
  if (failed_handshakes_ == 1 || failed_handshakes_ % 8 == 0) {
    if (event == HandshakeWatch::Event::key_refused)
      CADRE_LOG(warning) << "the master at " << options_.master << " refused this node's key (" << failed_handshakes_
                         << " times): enroll it on the master (cadre-master enroll-agent " << options_.name
                         << ", or copy its .pub into the master's agent key folder); retrying in "
                         << reconnect_backoff_ms_ / 1000 << " s";
    else
      CADRE_LOG(warning) << "the CURVE handshake with " << options_.master << " failed (" << failed_handshakes_
                         << " times): is master.pub the master's public key, and does the master use CURVE? "
                         << "retrying in " << reconnect_backoff_ms_ / 1000 << " s";
  }
  // libzmq drops a connection whose handshake failed and does not retry it:
  // connect afresh (the endpoint stays the same).
  reconnect_timer_.expires_after(std::chrono::milliseconds(reconnect_backoff_ms_));
  reconnect_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    try {
      channel_.socket().disconnect(options_.master);
    } catch (const zmq::error_t&) {
      // Already gone with the failed connection: nothing to undo.
    }
    try {
      channel_.socket().connect(options_.master);
    } catch (const zmq::error_t& e) {
      CADRE_LOG(error) << "cannot connect to " << options_.master << " again: " << e.what();
    }
  });
}

void AgentService::send_heartbeat() {
  capnp::MallocMessageBuilder m;
  start_envelope(m, 0).initHeartbeat().setName(text(options_.name));
  send(encode(m));
}

void AgentService::arm_heartbeat() {
  heartbeat_timer_.expires_after(std::chrono::milliseconds(heartbeat_interval_ms_));
  heartbeat_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    send_heartbeat();
    // Exit reports stay until acknowledged: one may have been lost.
    for (auto& [id, exit] : unacked_) send_exit(id, exit);
    arm_heartbeat();
  });
}

void AgentService::on_message(Frames&& frames) {
  if (frames.size() != 1) {
    ++malformed_;
    CADRE_LOG(warning) << "dropped a message of " << frames.size() << " frames; " << malformed_ << " so far";
    return;
  }
  auto decoded = decode(frames[0]);
  if (!decoded) {
    ++malformed_;
    CADRE_LOG(warning) << "dropped a bad message: " << decoded.error() << "; " << malformed_ << " so far";
    return;
  }
  try {
    auto env = (*decoded)->envelope();
    switch (env.which()) {
      case Envelope::REGISTER_REPLY: {
        uint32_t interval = env.getRegisterReply().getHeartbeatIntervalMs();
        heartbeat_interval_ms_ = std::clamp<uint32_t>(interval, 20, 60000);
        if (!registered_) CADRE_LOG(info) << "registered; heartbeat every " << heartbeat_interval_ms_ << " ms";
        registered_ = true;
        unanswered_registers_ = 0;
        register_timer_.cancel();
        heartbeat_timer_.cancel();
        arm_heartbeat();
        return;
      }
      case Envelope::PLEASE_REGISTER:
        if (!registered_) return;  // a registration is already on its way
        CADRE_LOG(info) << "the master asks this node to register again";
        registered_ = false;
        send_register();
        arm_register_retry();
        return;
      case Envelope::LAUNCH: return handle_launch(env.getLaunch());
      case Envelope::KILL: return handle_kill(env.getKill());
      case Envelope::TASK_ACK: return handle_ack(env.getTaskAck());
      case Envelope::ERROR:
        CADRE_LOG(error) << "master says: " << env.getError().getMessage().cStr();
        return;
      default:
        ++malformed_;
        CADRE_LOG(warning) << "unexpected message kind " << static_cast<int>(env.which());
        return;
    }
  } catch (const kj::Exception& e) {
    ++malformed_;
    CADRE_LOG(warning) << "dropped a message that failed to read: " << e.getDescription().cStr();
  }
}

void AgentService::handle_kill(Kill::Reader k) {
  auto it = live_.find(RankId{k.getJobId(), k.getRank(), k.getAttempt(), k.getStep()});
  if (it == live_.end()) {
    CADRE_LOG(debug) << "kill for job " << k.getJobId() << " step " << k.getStep() << " rank " << k.getRank()
                     << ": not running here";
    return;
  }
  if (const int sig = k.getSignal(); sig != 0) {
    // --signal: a warning to the rank (its process group, or with B: the
    // batch script alone), which goes on running.
    if (sig < 1 || sig > 64) return;
    const std::string dir = rank_dir_path(options_.work_dir, it->first);
    auto pid = read_pid(dir + "/rank");
    if (!pid || !is_rank_process(*pid, it->first)) return;
    ::kill(k.getLeaderOnly() ? *pid : -*pid, sig);
    CADRE_LOG(info) << "job " << k.getJobId() << " rank " << k.getRank() << ": sent signal " << sig;
    return;
  }
  // The supervisor sends SIGTERM to the rank's group and SIGKILL after the
  // grace period, even if this agent restarts meanwhile.
  ::kill(it->second.supervisor, SIGTERM);
  it->second.killing = true;
}

void AgentService::handle_ack(TaskAck::Reader a) {
  const RankId id{a.getJobId(), a.getRank(), a.getAttempt(), a.getStep()};
  if (unacked_.erase(id) == 0) return;
  std::error_code ec;
  std::filesystem::remove_all(rank_dir_path(options_.work_dir, id), ec);
  remove_job_dir_if_done(id.job, id.attempt);
}

void AgentService::arm_sigchld() {
  sigchld_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    // Supervisors report through their folders and pidfds; only reap here.
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    arm_sigchld();
  });
}

void AgentService::send_started(const RankId& id) {
  capnp::MallocMessageBuilder m;
  auto s = start_envelope(m, 0).initTaskStatus();
  s.setNode(text(options_.name));
  s.setJobId(id.job);
  s.setRank(id.rank);
  s.setAttempt(id.attempt);
  s.setStep(id.step);
  s.setEvent(::TaskEvent::STARTED);
  send(encode(m));
}

void AgentService::send_exit(const RankId& id, const RankExit& exit) {
  capnp::MallocMessageBuilder m;
  auto s = start_envelope(m, 0).initTaskStatus();
  s.setNode(text(options_.name));
  s.setJobId(id.job);
  s.setRank(id.rank);
  s.setAttempt(id.attempt);
  s.setEvent(exit.launch_failed ? ::TaskEvent::LAUNCH_FAILED : exit.lost ? ::TaskEvent::LOST : ::TaskEvent::EXITED);
  s.setExitCode(exit.exit_code);
  s.setSignal(exit.signal);
  s.setMessage(text(exit.message));
  s.setStep(id.step);
  s.setOomKilled(exit.oom_killed);
  send(encode(m));
}

}  // namespace cadre::agent
