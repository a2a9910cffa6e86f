#include "master/server/service.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "common/curve_keys.hpp"
#include "common/endpoint.hpp"
#include "common/ids.hpp"
#include "common/limits.hpp"
#include "common/log.hpp"
#include "master/wire/encode.hpp"

namespace cadre {
namespace {

// Requests that change nothing (see handle()).
bool is_read(Envelope::Which kind) {
  switch (kind) {
    case Envelope::LIST_JOBS:
    case Envelope::SHOW_JOB:
    case Envelope::SHOW_STEP:
    case Envelope::LIST_NODES:
    case Envelope::LIST_PARTITIONS:
    case Envelope::GET_STATS: return true;
    default: return false;
  }
}

}  // namespace

MasterService::MasterService(MasterOptions options, std::unique_ptr<Store> store)
    : s_(std::move(options), std::move(store)),
      // A slice of a long request runs as a turn of its own: committed,
      // and its answer sent, when it is done.
      jobs_(s_,
            [this](std::function<void()> f) {
              boost::asio::post(io_, [this, f = std::move(f)] {
                f();
                end_turn();
              });
            }),
      nodes_(s_),
      zmq_(1),
      channel_(io_, zmq_, zmq::socket_type::router),
      tick_(io_),
      signals_(io_, SIGTERM, SIGINT),
      debounce_(io_),
      mail_(s_.options.mail_program) {
  s_.peers.set_admin_group(s_.options.security.admin_group);
}

Status MasterService::load_cluster(Cluster& into) {
  into.configure(s_.options.scheduler);
  into.set_limits(s_.options.limits);
  auto nodes = s_.store->load_nodes();
  if (!nodes) return make_error("cannot load nodes: " + nodes.error());
  auto jobs = s_.store->load_active_jobs();
  if (!jobs) return make_error("cannot load jobs: " + jobs.error());
  auto max_id = s_.store->max_job_id();
  if (!max_id) return make_error(max_id.error());
  auto usage = s_.store->load_usage();
  if (!usage) return make_error("cannot load fair-share usage: " + usage.error());
  size_t node_count = nodes->size(), job_count = jobs->size();
  into.restore(std::move(*nodes), std::move(*jobs), *max_id, steady_now_ms());
  into.restore_usage(*usage);
  auto reservations = s_.store->load_reservations();
  if (!reservations) return make_error("cannot load reservations: " + reservations.error());
  into.restore_reservations(std::move(*reservations));
  // Ended jobs that waiting dependencies name come back into memory.
  for (JobId id : into.missing_dependency_targets()) {
    auto array = s_.store->load_array_jobs(id);
    if (!array) return make_error("cannot load job " + std::to_string(id) + ": " + array.error());
    if (array->empty()) {
      auto job = s_.store->load_job(id);
      if (!job) return make_error("cannot load job " + std::to_string(id) + ": " + job.error());
      if (*job) array->push_back(std::move(**job));
    }
    into.adopt_ended(std::move(*array));
  }
  CADRE_LOG(info) << "recovered " << job_count << " active jobs and " << node_count << " nodes; next job id "
                  << *max_id + 1;
  // What the loaded jobs are now was mailed (or not) before the restart.
  for (const auto& [id, job] : into.jobs()) mail_.baseline(job);
  return {};
}

void MasterService::setup_curve() {
  const SecurityOptions& sec = s_.options.security;
  auto key = read_key_file(sec.key_file);
  if (!key) throw std::runtime_error(key.error());
  if (key->secret_key.empty())
    throw std::runtime_error(sec.key_file + " holds no secret key (give the file cadre keygen wrote, not the .pub)");
  s_.peers.enable_curve(key->secret_key, KeyStore(sec.agent_keys_dir, sec.user_keys_dir));
  reload_keys();
  // The ZAP handler must be bound before the first connection arrives.
  zap_ = std::make_unique<ZmqChannel>(io_, zmq_, zmq::socket_type::rep);
  zap_->socket().bind("inproc://zeromq.zap.01");
  zap_->start([this](Frames&& request) { answer_zap(std::move(request)); });
  channel_.socket().set(zmq::sockopt::curve_server, true);
  channel_.socket().set(zmq::sockopt::curve_secretkey, key->secret_key);
  channel_.socket().set(zmq::sockopt::zap_domain, "cadre");
  channel_.read_property("User-Id");
  CADRE_LOG(info) << "CURVE on: public key " << key->public_key << "; " << s_.peers.keys().agents()
                  << " agents and " << s_.peers.keys().users() << " users enrolled";
}

void MasterService::answer_zap(Frames&& request) {
  ZapAnswer a = cadre::answer_zap(request, s_.peers.keys());
  // A key enrolled a moment ago counts at once; the rescan it costs is
  // rate-limited, so strangers knocking cannot keep the disk busy.
  if (!a.accepted && steady_now_ms() - last_key_scan_ms_ >= 200) {
    reload_keys();
    a = cadre::answer_zap(request, s_.peers.keys());
  }
  if (a.accepted) {
    CADRE_LOG(debug) << "accepted " << a.who;
  } else {
    ++s_.counters.refused_connections;
    // Strangers knocking in a loop get one line per 10 s, not one each.
    const int64_t now = steady_now_ms();
    if (last_refusal_log_ms_ == 0 || now - last_refusal_log_ms_ >= 10000) {
      last_refusal_log_ms_ = now;
      CADRE_LOG(warning) << "refused a connection: " << a.who << "; " << s_.counters.refused_connections
                         << " so far";
    }
  }
  zap_->send(a.reply);
}

void MasterService::reload_keys() {
  std::vector<std::string> problems;
  for (const std::string& agent : s_.peers.reload_keys(&problems)) {
    CADRE_LOG(warning) << "the key of agent " << agent << " was revoked";
    s_.cluster.node_revoked(agent, unix_now());
  }
  for (const std::string& p : problems) CADRE_LOG(warning) << "skipped a key file: " << p;
  last_key_scan_ms_ = steady_now_ms();
}

void MasterService::setup_local_socket() {
  const std::string& path = s_.options.security.local_socket;
  local_ = std::make_unique<ZmqChannel>(io_, zmq_, zmq::socket_type::router);
  local_->socket().set(zmq::sockopt::router_mandatory, 1);
  local_->socket().set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(limits::kMaxMessageBytes));
  local_->read_property("Peer-Address");
  // A socket file left by a master that died would refuse the bind.
  ::unlink(path.c_str());
  try {
    local_->socket().bind("ipc://" + path);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("cannot listen on the local socket " + path + ": " + e.what());
  }
  // Every local user may connect; the kernel tells who they are.
  ::chmod(path.c_str(), 0666);
  // ...provided they can reach it: the default path sits in the state
  // folder, which is 0700.
  const std::string folder = path.substr(0, path.find_last_of('/') + 1);
  struct stat st {};
  if (!folder.empty() && ::stat(folder.c_str(), &st) == 0 && (st.st_mode & S_IXOTH) == 0)
    CADRE_LOG(warning) << "the local socket " << path << " is in " << folder
                       << ", which other users cannot enter: only its owner and root can use it; set [security] "
                          "local_socket to a path such as /run/cadre/cadre.sock (as the packages do)";
  local_->start([this](Frames&& f) { on_local_message(std::move(f)); }, [this] { end_turn(); });
  CADRE_LOG(info) << "local users connect on ipc://" << path << " (identified by the kernel)";
}

void MasterService::bind_listen() {
  auto endpoints = parse_endpoint_list(s_.options.listen, EndpointRole::bind);
  if (!endpoints) throw std::runtime_error("--listen " + endpoints.error());
  const bool any_tcp = std::any_of(endpoints->begin(), endpoints->end(), [](const Endpoint& e) { return e.is_tcp(); });
  if (!s_.options.security.key_file.empty()) setup_curve();
  else if (any_tcp)
    CADRE_LOG(warning) << "no [security] key: " << s_.options.listen
                       << " is open to anyone who can reach it, unencrypted (see docs/security.md)";
  channel_.socket().set(zmq::sockopt::router_mandatory, 1);
  // An agent that reconnects takes its routing id back at once. With CURVE
  // that id is derived from keys no impostor holds (Peers), so only the
  // same key can take a connection over.
  channel_.socket().set(zmq::sockopt::router_handover, 1);
  // ZeroMQ drops larger messages before they are buffered whole.
  channel_.socket().set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(limits::kMaxMessageBytes));
  for (const Endpoint& e : *endpoints) {
    const std::string text = e.to_string();
    if (e.is_ipv6()) channel_.socket().set(zmq::sockopt::ipv6, 1);
    try {
      channel_.socket().bind(text);
    } catch (const zmq::error_t& err) {
      throw std::runtime_error("cannot listen on " + text + ": " + err.what());
    }
    // What was bound, with the port the kernel chose for port 0, so agents
    // and users can be told where to connect.
    const std::string bound = channel_.socket().get(zmq::sockopt::last_endpoint);
    CADRE_LOG(info) << "listening on " << bound << ", node timeout " << s_.options.node_timeout_ms << " ms";
  }
}

void MasterService::start() {
  s_.stats.started_ms = steady_now_ms();
  fault_ = fault_point_from_env();
  // The endpoints first: one the master cannot bind ends it (exit 2) before
  // it loads or touches any job.
  bind_listen();
  if (!s_.options.security.local_socket.empty()) setup_local_socket();
  if (Status s = load_cluster(s_.cluster); !s) throw std::runtime_error(s.error());
  channel_.start([this](Frames&& f) { on_message(std::move(f)); }, [this] { end_turn(); });
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    CADRE_LOG(info) << "signal " << sig << ": shutting down";
    end_turn();
    channel_.close();
    io_.stop();
  });
  s_.schedule_wanted = true;
  arm_tick();
}

int MasterService::run() {
  io_.run();
  return failed_ ? 1 : 0;
}

void MasterService::arm_tick() {
  const int64_t ms = std::clamp<int64_t>(s_.options.node_timeout_ms / 4, 50, 1000);
  tick_.expires_after(std::chrono::milliseconds(ms));
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    if (s_.store_error) {
      if (Status s = s_.store->probe(); s) {
        CADRE_LOG(info) << "the database takes writes again; accepting work";
        s_.store_error.reset();
      }
    }
    // Enrolled keys are re-read every second: enrolling takes effect, and
    // a revoked agent is cut off, without a restart.
    if (s_.peers.curve() && steady_now_ms() - last_key_scan_ms_ >= 1000) reload_keys();
    s_.cluster.check_timeouts(steady_now_ms(), unix_now());
    mail_.reap();
    if (mail_.enabled()) mail_.send(mail_.time_limit_mails(s_.cluster, unix_now()));
    // A pass when something changed (a job hit its limit, a node went
    // down), and every interval regardless: ages and fair share move.
    if (s_.cluster.has_changes() || steady_now_ms() - last_pass_ms_ >= s_.options.interval_ms)
      s_.schedule_wanted = true;
    end_turn();
    arm_tick();
  });
}

void MasterService::on_message(Frames&& frames) {
  if (frames.size() != 2) {
    ++s_.counters.malformed_messages;
    CADRE_LOG(warning) << "dropped a message of " << frames.size() << " frames (expected 2); "
                       << s_.counters.malformed_messages << " malformed so far";
    return;
  }
  Request r{frames[0], 0, std::nullopt};
  if (s_.peers.curve()) {
    // Checked on every message, so a revoked key is cut off at once even
    // on a connection it opened before.
    r.who = s_.peers.from_user_id(channel_.peer_property());
    if (!r.who) {
      CADRE_LOG(warning) << "dropped a message from a key that is no longer enrolled; "
                         << s_.counters.refused_messages + 1 << " refused so far";
      return refuse_message(r, "this key is no longer enrolled with the master (ask an admin; see docs/security.md)");
    }
  }
  handle(std::move(r), frames[1]);
}

void MasterService::on_local_message(Frames&& frames) {
  if (frames.size() != 2) {
    ++s_.counters.malformed_messages;
    return;
  }
  // Replies find their way back to this socket by the prefix.
  Request r{std::string(kLocalPeerPrefix) + frames[0], 0, std::nullopt};
  const std::string& address = local_->peer_property();
  r.who = Peers::from_local_address(address);
  if (!r.who)
    return refuse_message(r, "the master cannot tell who is on the local socket (peer " +
                                 (address.empty() ? std::string("unknown") : address) + " has no account here)");
  handle(std::move(r), frames[1]);
}

void MasterService::refuse_message(const Request& r, const std::string& why) {
  ++s_.counters.refused_messages;
  const int64_t now = steady_now_ms();
  if (last_message_refusal_log_ms_ == 0 || now - last_message_refusal_log_ms_ >= 10000) {
    last_message_refusal_log_ms_ = now;
    CADRE_LOG(warning) << "refused a message" << (r.who ? " from " + r.who->name : std::string()) << ": " << why
                       << "; " << s_.counters.refused_messages << " so far";
  }
  s_.out.answer(r.peer, r.id, encode_error(r.id, why));
}

void MasterService::handle(Request r, const std::string& body) {
  auto decoded = decode(body);
  if (!decoded) {
    ++s_.counters.malformed_messages;
    CADRE_LOG(warning) << "dropped a bad message: " << decoded.error() << "; " << s_.counters.malformed_messages
                       << " malformed so far";
    s_.out.send(r.peer, encode_error(0, decoded.error()));
    return;
  }
  try {
    Envelope::Reader env = (*decoded)->envelope();
    r.id = env.getRequestId();
    // A read is a turn of its own: the changes before it are committed
    // first and its answer leaves at once. In a turn whose commit fails
    // (a full disk, while agents keep reporting) it would be refused with
    // the changes, though it showed only committed state.
    // Neither end runs a scheduling pass: the turn's pass still comes once,
    // at its real end, so reads interleaved with submits cost no passes.
    const bool read = is_read(env.which());
    if (read) end_turn(Pass::skip);
    dispatch(r, env);
    if (read) end_turn(Pass::skip);
    else if (!s_.options.group_commit) end_turn();
  } catch (const kj::Exception& e) {
    // The Outbox answers the request, if it was one, at the end of the turn.
    ++s_.counters.malformed_messages;
    CADRE_LOG(warning) << "dropped a message that failed to read: " << e.getDescription().cStr();
  } catch (const std::exception& e) {
    ++s_.counters.malformed_messages;
    CADRE_LOG(warning) << "dropped a message that failed to handle: " << e.what();
  }
}

void MasterService::dispatch(const Request& r, Envelope::Reader env) {
  ++s_.stats.messages;
  const bool agent_message =
      env.isRegister() || env.isHeartbeat() || env.isTaskStatus();
  // Every client request gets exactly one answer (the Outbox sees to it).
  if (!agent_message) s_.out.open(r.peer, r.id);
  // Only tcp peers are routed by key: local peers are users by the kernel.
  const std::string routing = r.peer.starts_with(kLocalPeerPrefix) ? std::string() : r.peer;
  if (Status st = s_.peers.authorize(r.who, routing, env); !st) return refuse_message(r, st.error());
  if (agent_message && r.peer.starts_with(kLocalPeerPrefix))
    return refuse_message(r, "agents speak on the tcp endpoint, not the local socket");
  switch (env.which()) {
    case Envelope::REGISTER: return nodes_.register_node(r, env.getRegister());
    case Envelope::HEARTBEAT: return nodes_.heartbeat(r, env.getHeartbeat());
    case Envelope::TASK_STATUS: return nodes_.task_status(r, env.getTaskStatus());
    case Envelope::SUBMIT: return jobs_.submit(r, env.getSubmit());
    case Envelope::SUBMIT_MANY: return jobs_.submit_many(r, env.getSubmitMany());
    case Envelope::LIST_JOBS: return jobs_.list_jobs(r, env.getListJobs());
    case Envelope::SHOW_JOB: return jobs_.show_job(r, env.getShowJob().getId());
    case Envelope::CANCEL: return jobs_.cancel(r, env.getCancel());
    case Envelope::HOLD_JOBS: return jobs_.hold(r, env.getHoldJobs());
    case Envelope::UPDATE_JOB: return jobs_.update(r, env.getUpdateJob());
    case Envelope::REQUEUE_JOBS: return jobs_.requeue(r, env.getRequeueJobs());
    case Envelope::RUN_STEP: return jobs_.run_step(r, env.getRunStep());
    case Envelope::SHOW_STEP: return jobs_.show_step(r, env.getShowStep().getJobId(), env.getShowStep().getStep());
    case Envelope::LIST_NODES: return nodes_.list_nodes(r);
    case Envelope::LIST_PARTITIONS: return nodes_.list_partitions(r);
    case Envelope::SET_NODE_STATE: return nodes_.set_node_state(r, env.getSetNodeState());
    case Envelope::GET_STATS: return nodes_.get_stats(r);
    case Envelope::CREATE_RESERVATION: return nodes_.create_reservation(r, env.getCreateReservation());
    case Envelope::DELETE_RESERVATION: return nodes_.delete_reservation(r, env.getDeleteReservation());
    case Envelope::LIST_RESERVATIONS: return nodes_.list_reservations(r);
    default:
      ++s_.counters.malformed_messages;
      CADRE_LOG(warning) << "unexpected message kind " << static_cast<int>(env.which());
      return s_.out.answer(r.peer, r.id, encode_error(r.id, "the master does not accept this message kind"));
  }
}

bool MasterService::schedule_if_wanted() {
  // Nothing new starts while the database cannot record it.
  if (!s_.schedule_wanted || s_.store_error) return false;
  const int64_t now_ms = steady_now_ms();
  const int64_t wait_ms = last_pass_ms_ + s_.options.debounce_ms - now_ms;
  if (wait_ms > 0) {
    // Debounced: one pass for a burst of events, when the gap is over.
    if (!debounce_armed_) {
      debounce_armed_ = true;
      debounce_.expires_after(std::chrono::milliseconds(wait_ms));
      debounce_.async_wait([this](const boost::system::error_code& ec) {
        debounce_armed_ = false;
        if (!ec) end_turn();
      });
    }
    return false;
  }
  s_.schedule_wanted = false;
  last_pass_ms_ = now_ms;
  PassTiming timing;
  if (s_.cluster.schedule(s_.options.policy, unix_now(), &timing)) s_.stats.record_pass(timing);
  return timing.preempted > 0;
}

Status MasterService::commit_turn(const std::set<JobId>& jobs, const std::set<std::string>& nodes,
                                  const std::set<std::string>& reservations) {
  // Fair-share usage is worth keeping across restarts, not worth a write
  // per turn: saved with the turn's commit at most every 30 s.
  const bool save_usage = steady_now_ms() - last_usage_save_ms_ >= 30000 && s_.cluster.take_usage_dirty();
  if (jobs.empty() && nodes.empty() && reservations.empty() && !save_usage) return {};
  Status s = s_.store->begin();
  if (s && save_usage) {
    s = s_.store->save_usage(s_.cluster.usage_record());
    last_usage_save_ms_ = steady_now_ms();
  }
  for (JobId id : jobs) {
    if (!s) break;
    if (const Job* j = s_.cluster.find_job(id)) s = s_.store->save_job(*j);
  }
  for (const std::string& name : nodes) {
    if (!s) break;
    if (const Node* n = s_.cluster.find_node(name)) s = s_.store->save_node(*n);
  }
  for (const std::string& name : reservations) {
    if (!s) break;
    auto it = s_.cluster.reservations().find(name);
    s = it != s_.cluster.reservations().end() ? s_.store->save_reservation(it->second)
                                              : s_.store->delete_reservation(name);
  }
  if (!s) return s;
  const auto commit_started = std::chrono::steady_clock::now();
  s = s_.store->commit();
  s_.stats.last_commit_us = micros_since(commit_started);
  if (s) s_.stats.commits += 1;
  return s;
}

void MasterService::send_commands() {
  for (AgentCommand& c : s_.cluster.take_commands()) {
    // The destination is the master's to decide: with CURVE, the routing
    // id of the node's enrolled key, whoever else claims to be that node.
    std::optional<std::string> route = s_.peers.route_to(c.node);
    std::string bytes = wire::encode_command(c, s_.cluster);
    if (!route || bytes.empty() || !channel_.send(Frames{*route, std::move(bytes)})) {
      ++s_.counters.undeliverable;
      CADRE_LOG(warning) << "could not deliver a command to node " << c.node;
    }
  }
}

void MasterService::send_frames(std::vector<Frames> frames) {
  for (Frames& f : frames) {
    ZmqChannel* out = &channel_;
    if (f[0].starts_with(kLocalPeerPrefix)) {
      if (!local_) continue;
      f[0].erase(0, kLocalPeerPrefix.size());
      out = local_.get();
    }
    if (!out->send(f)) ++s_.counters.undeliverable;
  }
}

void MasterService::recover_from_store_failure(const std::string& error) {
  s_.store->rollback();
  if (!s_.store_error)
    CADRE_LOG(error) << "cannot persist state in " << s_.options.state_dir << ": " << error
                     << "; refusing new work until the database takes writes";
  s_.store_error = error;
  // Nothing of this turn may be observed: no replies, no commands. Every
  // client request of the turn gets the error instead (exactly one reply);
  // agents resend what was not acknowledged.
  (void)s_.cluster.take_commands();
  jobs_.drop_pending();
  send_frames(s_.out.fail(s_.store_failure_message(), s_.store_failure_message_partly_done()));

  // The store holds the last committed state: start over from it, as after
  // a restart (agents register again and their ranks are reconciled).
  Cluster fresh(s_.options.node_timeout_ms, s_.options.max_retries);
  if (Status s = load_cluster(fresh); !s) {
    CADRE_LOG(error) << "cannot reload state from the database either (" << s.error() << "); stopping";
    failed_ = true;
    channel_.close();
    io_.stop();
    return;
  }
  s_.cluster = std::move(fresh);
}

void MasterService::end_turn(Pass pass) {
  if (failed_) return;
  const bool preempted = pass == Pass::run && schedule_if_wanted();
  const std::set<JobId> dirty_jobs = s_.cluster.take_dirty_jobs();
  const std::set<std::string> dirty_nodes = s_.cluster.take_dirty_nodes();
  const std::set<std::string> dirty_reservations = s_.cluster.take_dirty_reservations();
  if (preempted) hit_fault_point(fault_, FaultPoint::preempt_before_commit);
  if (Status s = commit_turn(dirty_jobs, dirty_nodes, dirty_reservations); !s) return recover_from_store_failure(s.error());
  if (preempted) hit_fault_point(fault_, FaultPoint::preempt_after_commit);
  send_commands();
  send_frames(s_.out.take("the master could not read this request (a malformed field?); nothing was changed"));
  // Mail only what is committed.
  if (mail_.enabled()) mail_.send(mail_.changes(s_.cluster, dirty_jobs));
  // Every job that can have ended this turn is among the turn's changes:
  // looking at those alone keeps a turn's cost off the queue's length.
  s_.cluster.evict_ended(dirty_jobs);
}

}  // namespace cadre
