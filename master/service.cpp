#include "master/service.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capnp/message.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "common/ids.hpp"
#include "common/log.hpp"
#include "common/curve_keys.hpp"
#include "common/resources.hpp"
#include "master/messages.hpp"

namespace cadre {
namespace {

constexpr size_t kMaxEndedJobsListed = 10000;
// Jobs in one listJobs reply (about 6 MB): a million waiting jobs are listed
// in pages instead of one reply over the message size limit.
constexpr size_t kJobsPerPage = 10000;
constexpr size_t kMaxNameBytes = 200;

kj::StringPtr text(const std::string& s) { return kj::StringPtr(s.c_str(), s.size()); }

}  // namespace

MasterService::MasterService(MasterOptions options, std::unique_ptr<Store> store)
    : options_(std::move(options)),
      store_(std::move(store)),
      cluster_(options_.node_timeout_ms, options_.max_retries),
      zmq_(1),
      channel_(io_, zmq_, zmq::socket_type::router),
      tick_(io_),
      signals_(io_, SIGTERM, SIGINT),
      debounce_(io_),
      rate_limiter_(options_.limits.submit_rate, options_.limits.submit_burst) {}

Status MasterService::load_cluster(Cluster& into) {
  into.configure(options_.scheduler);
  into.set_limits(options_.limits);
  auto nodes = store_->load_nodes();
  if (!nodes) return make_error("cannot load nodes: " + nodes.error());
  auto jobs = store_->load_active_jobs();
  if (!jobs) return make_error("cannot load jobs: " + jobs.error());
  auto max_id = store_->max_job_id();
  if (!max_id) return make_error(max_id.error());
  auto usage = store_->load_usage();
  if (!usage) return make_error("cannot load fair-share usage: " + usage.error());
  size_t node_count = nodes->size(), job_count = jobs->size();
  into.restore(std::move(*nodes), std::move(*jobs), *max_id, steady_now_ms());
  into.restore_usage(*usage);
  CADRE_LOG(info) << "recovered " << job_count << " active jobs and " << node_count << " nodes; next job id "
                  << *max_id + 1;
  return {};
}

void MasterService::setup_curve() {
  const SecurityOptions& sec = options_.security;
  auto key = read_key_file(sec.key_file);
  if (!key) throw std::runtime_error(key.error());
  if (key->secret_key.empty())
    throw std::runtime_error(sec.key_file + " holds no secret key (give the file cadre keygen wrote, not the .pub)");
  keys_ = KeyStore(sec.agent_keys_dir, sec.user_keys_dir);
  reload_keys();
  // The ZAP handler must be bound before the first connection arrives.
  zap_ = std::make_unique<ZmqChannel>(io_, zmq_, zmq::socket_type::rep);
  zap_->socket().bind("inproc://zeromq.zap.01");
  zap_->start([this](Frames&& request) {
    ZapAnswer a = answer_zap(request, keys_);
    // A key enrolled a moment ago counts at once; the rescan it costs is
    // rate-limited, so strangers knocking cannot keep the disk busy.
    if (!a.accepted && steady_now_ms() - last_key_scan_ms_ >= 200) {
      reload_keys();
      a = answer_zap(request, keys_);
    }
    if (a.accepted) {
      CADRE_LOG(debug) << "accepted " << a.who;
    } else {
      ++counters_.refused_connections;
      // Strangers knocking in a loop get one line per 10 s, not one each.
      const int64_t now = steady_now_ms();
      if (last_refusal_log_ms_ == 0 || now - last_refusal_log_ms_ >= 10000) {
        last_refusal_log_ms_ = now;
        CADRE_LOG(warning) << "refused a connection: " << a.who << "; " << counters_.refused_connections << " so far";
      }
    }
    zap_->send(a.reply);
  });
  channel_.socket().set(zmq::sockopt::curve_server, true);
  channel_.socket().set(zmq::sockopt::curve_secretkey, key->secret_key);
  channel_.socket().set(zmq::sockopt::zap_domain, "cadre");
  channel_.read_property("User-Id");
  curve_ = true;
  CADRE_LOG(info) << "CURVE on: public key " << key->public_key << "; " << keys_.agents() << " agents and "
                  << keys_.users() << " users enrolled";
}

void MasterService::reload_keys() {
  std::vector<std::string> problems;
  for (const std::string& agent : keys_.reload(&problems)) {
    CADRE_LOG(warning) << "the key of agent " << agent << " was revoked";
    cluster_.node_revoked(agent, unix_now());
  }
  for (const std::string& p : problems) CADRE_LOG(warning) << "skipped a key file: " << p;
  last_key_scan_ms_ = steady_now_ms();
}

Status MasterService::authorize(Envelope::Reader env) const {
  // Without an identity (tcp without CURVE) the request's claims stand.
  if (!current_peer_) return {};
  const Peer& p = *current_peer_;
  auto as_agent = [&p](const std::string& name) -> Status {
    if (p.kind != PeerKind::agent) return make_error("only enrolled agents may send this");
    if (p.name != name) return make_error("agent " + p.name + " may speak only for itself, not for " + name);
    return {};
  };
  switch (env.which()) {
    case Envelope::REGISTER: return as_agent(env.getRegister().getName());
    case Envelope::HEARTBEAT: return as_agent(env.getHeartbeat().getName());
    case Envelope::TASK_STATUS: return as_agent(env.getTaskStatus().getNode());
    default:
      if (p.kind != PeerKind::user) return make_error("agent keys may not be used for client requests");
      return {};
  }
}

void MasterService::setup_local_socket() {
  const std::string& path = options_.security.local_socket;
  local_ = std::make_unique<ZmqChannel>(io_, zmq_, zmq::socket_type::router);
  local_->socket().set(zmq::sockopt::router_mandatory, 1);
  local_->socket().set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxMessageBytes));
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
  local_->start([this](Frames&& f) { on_local_message(std::move(f)); }, [this] { end_turn(); });
  CADRE_LOG(info) << "local users connect on ipc://" << path << " (identified by the kernel)";
}

void MasterService::start() {
  stats_.started_ms = steady_now_ms();
  if (Status s = load_cluster(cluster_); !s) throw std::runtime_error(s.error());
  if (!options_.security.local_socket.empty()) setup_local_socket();
  if (!options_.security.key_file.empty()) setup_curve();
  else if (!options_.listen.starts_with("ipc://") && !options_.listen.starts_with("inproc://"))
    CADRE_LOG(warning) << "no [security] key: " << options_.listen
                       << " is open to anyone who can reach it, unencrypted (see docs/security.md)";

  channel_.socket().set(zmq::sockopt::router_mandatory, 1);
  // Agents reconnect under the same routing id; the new connection wins.
  channel_.socket().set(zmq::sockopt::router_handover, 1);
  // ZeroMQ drops larger messages before they are buffered whole.
  channel_.socket().set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxMessageBytes));
  try {
    channel_.socket().bind(options_.listen);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("cannot listen on " + options_.listen + ": " + e.what());
  }
  CADRE_LOG(info) << "listening on " << options_.listen << ", node timeout " << options_.node_timeout_ms << " ms";
  channel_.start([this](Frames&& f) { on_message(std::move(f)); }, [this] { end_turn(); });
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    CADRE_LOG(info) << "signal " << sig << ": shutting down";
    end_turn();
    channel_.close();
    io_.stop();
  });
  schedule_wanted_ = true;
  arm_tick();
}

int MasterService::run() {
  io_.run();
  return failed_ ? 1 : 0;
}

void MasterService::arm_tick() {
  int64_t ms = std::clamp<int64_t>(options_.node_timeout_ms / 4, 50, 1000);
  tick_.expires_after(std::chrono::milliseconds(ms));
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    if (store_error_) {
      if (Status s = store_->probe(); s) {
        CADRE_LOG(info) << "the database takes writes again; accepting work";
        store_error_.reset();
      }
    }
    // Enrolled keys are re-read every second: enrolling takes effect, and
    // a revoked agent is cut off, without a restart.
    if (curve_ && steady_now_ms() - last_key_scan_ms_ >= 1000) reload_keys();
    cluster_.check_timeouts(steady_now_ms(), unix_now());
    // A pass when something changed (a job hit its limit, a node went
    // down), and every interval regardless: ages and fair share move.
    if (cluster_.has_changes() || steady_now_ms() - last_pass_ms_ >= options_.interval_ms) schedule_wanted_ = true;
    end_turn();
    arm_tick();
  });
}

void MasterService::on_message(Frames&& frames) {
  if (frames.size() != 2) {
    ++counters_.malformed_messages;
    CADRE_LOG(warning) << "dropped a message of " << frames.size() << " frames (expected 2); "
                       << counters_.malformed_messages << " malformed so far";
    return;
  }
  const std::string& peer = frames[0];
  current_peer_.reset();
  if (curve_) {
    // Checked on every message, so a revoked key is cut off at once even
    // on a connection it opened before.
    current_peer_ = keys_.check(channel_.peer_property());
    if (current_peer_ && current_peer_->kind == PeerKind::user) {
      if (const passwd* pw = getpwnam(current_peer_->name.c_str())) {
        current_peer_->has_account = true;
        current_peer_->uid = pw->pw_uid;
        current_peer_->gid = pw->pw_gid;
      }
    }
    if (!current_peer_) {
      ++counters_.refused_messages;
      CADRE_LOG(warning) << "dropped a message from a key that is no longer enrolled; " << counters_.refused_messages
                         << " so far";
      reply_error(peer, 0, "this key is no longer enrolled with the master (ask an admin; see docs/security.md)");
      return;
    }
  }
  handle(peer, frames[1]);
}

void MasterService::on_local_message(Frames&& frames) {
  if (frames.size() != 2) {
    ++counters_.malformed_messages;
    return;
  }
  // Replies find their way back to this socket by the prefix.
  const std::string peer = std::string(kLocalPeerPrefix) + frames[0];
  // The kernel's word for who is at the other end: libzmq ends the peer
  // address of a unix socket with ":uid:gid:pid" (SO_PEERCRED).
  const std::string& address = local_->peer_property();
  const passwd* pw = nullptr;
  const size_t pid_colon = address.rfind(':');
  const size_t gid_colon = pid_colon == std::string::npos || pid_colon == 0 ? std::string::npos
                                                                           : address.rfind(':', pid_colon - 1);
  const size_t uid_colon = gid_colon == std::string::npos || gid_colon == 0 ? std::string::npos
                                                                           : address.rfind(':', gid_colon - 1);
  if (uid_colon != std::string::npos) {
    auto uid = parse_count(std::string_view(address).substr(uid_colon + 1, gid_colon - uid_colon - 1), UINT32_MAX);
    if (uid) pw = getpwuid(static_cast<uid_t>(*uid));
  }
  if (!pw) {
    ++counters_.refused_messages;
    return reply_error(peer, 0, "the master cannot tell who is on the local socket (peer " +
                                    (address.empty() ? std::string("unknown") : address) + " has no account here)");
  }
  current_peer_ = Peer{PeerKind::user, pw->pw_name, "", true, pw->pw_uid, pw->pw_gid};
  handle(peer, frames[1]);
}

void MasterService::handle(const std::string& peer, const std::string& body) {
  auto decoded = decode(body);
  if (!decoded) {
    ++counters_.malformed_messages;
    CADRE_LOG(warning) << "dropped a bad message: " << decoded.error() << "; " << counters_.malformed_messages
                       << " malformed so far";
    reply_error(peer, 0, decoded.error());
    return;
  }
  try {
    dispatch(peer, (*decoded)->envelope());
    if (!options_.group_commit) end_turn();
  } catch (const kj::Exception& e) {
    ++counters_.malformed_messages;
    CADRE_LOG(warning) << "dropped a message that failed to read: " << e.getDescription().cStr();
  } catch (const std::exception& e) {
    ++counters_.malformed_messages;
    CADRE_LOG(warning) << "dropped a message that failed to handle: " << e.what();
  }
}

void MasterService::dispatch(const std::string& peer, Envelope::Reader env) {
  const uint64_t rid = env.getRequestId();
  ++stats_.messages;
  if (Status s = authorize(env); !s) {
    ++counters_.refused_messages;
    CADRE_LOG(warning) << "refused a message from " << (current_peer_->kind == PeerKind::agent ? "agent " : "user ")
                       << current_peer_->name << ": " << s.error();
    return reply_error(peer, rid, s.error());
  }
  switch (env.which()) {
    case Envelope::SUBMIT:
    case Envelope::CANCEL:
    case Envelope::LIST_JOBS:
    case Envelope::SHOW_JOB:
    case Envelope::LIST_PARTITIONS:
    case Envelope::RUN_STEP:
    case Envelope::SET_NODE_STATE:
    case Envelope::SUBMIT_MANY:
    case Envelope::SHOW_STEP:
    case Envelope::GET_STATS:
    case Envelope::LIST_NODES: turn_requests_.emplace_back(peer, rid); break;
    default: break;
  }
  switch (env.which()) {
    case Envelope::REGISTER: return handle_register(peer, env.getRegister());
    case Envelope::HEARTBEAT: {
      ++stats_.heartbeats;
      std::string name = env.getHeartbeat().getName();
      if (!cluster_.heartbeat(name, peer, steady_now_ms(), unix_now())) reply(peer, encode_please_register());
      return;
    }
    case Envelope::TASK_STATUS: return handle_task_status(peer, env.getTaskStatus());
    case Envelope::SUBMIT: return handle_submit(peer, rid, env.getSubmit());
    case Envelope::LIST_JOBS: return handle_list_jobs(peer, rid, env.getListJobs());
    case Envelope::SHOW_JOB: return handle_show_job(peer, rid, env.getShowJob().getId());
    case Envelope::CANCEL: return handle_cancel(peer, rid, env.getCancel());
    case Envelope::LIST_NODES: return handle_list_nodes(peer, rid);
    case Envelope::LIST_PARTITIONS: return handle_list_partitions(peer, rid);
    case Envelope::RUN_STEP: return handle_run_step(peer, rid, env.getRunStep());
    case Envelope::SET_NODE_STATE: return handle_set_node_state(peer, rid, env.getSetNodeState());
    case Envelope::SUBMIT_MANY: return handle_submit_many(peer, rid, env.getSubmitMany());
    case Envelope::SHOW_STEP: return handle_show_step(peer, rid, env.getShowStep());
    case Envelope::GET_STATS: return handle_get_stats(peer, rid);
    default:
      ++counters_.malformed_messages;
      CADRE_LOG(warning) << "unexpected message kind " << static_cast<int>(env.which());
      return reply_error(peer, rid, "the master does not accept this message kind");
  }
}

void MasterService::handle_register(const std::string& peer, Register::Reader r) {
  NodeRegistration reg;
  reg.name = r.getName();
  reg.address = r.getAddress();
  reg.total = from_proto(r.getTotal());
  if (reg.name.empty() || reg.name.size() > kMaxNameBytes || !reg.total.non_negative() || reg.total.gpus > 4096 ||
      reg.total.millicores > (int64_t{1} << 30) || reg.total.memory_mb > (int64_t{1} << 40)) {
    ++counters_.malformed_messages;
    CADRE_LOG(warning) << "refused a registration with a bad name or resources";
    return reply_error(peer, 0, "registration refused: node name must be 1-200 bytes and resources non-negative");
  }
  for (auto l : r.getLabels()) reg.labels[l.getKey()] = l.getValue();
  for (auto t : r.getRunning())
    reg.running.push_back({t.getJobId(), t.getStep(), t.getRank(), t.getAttempt(), t.getExited(), t.getLaunchFailed(),
                           t.getLost(), t.getExitCode(), t.getSignal(), t.getMessage(), t.getOomKilled()});
  if (r.getGpus().size() > 4096) {
    ++counters_.malformed_messages;
    return reply_error(peer, 0, "registration refused: more than 4096 GPUs listed");
  }
  for (auto g : r.getGpus()) reg.gpus.push_back(from_proto(g));
  reg.isolation = r.getIsolation();
  cluster_.register_node(reg, peer, steady_now_ms(), unix_now());
  // Exits the agent kept for us are recorded now; it may forget them once
  // this turn commits (acks go out after the commit).
  for (const RunningTaskRef& t : reg.running)
    if (t.exited) reply(peer, encode_task_ack(t.job, t.rank, t.attempt, t.step));
  uint32_t interval = static_cast<uint32_t>(std::clamp<int64_t>(options_.node_timeout_ms / 4, 50, 5000));
  reply(peer, encode_register_reply(interval));
  schedule_wanted_ = true;
}

void MasterService::handle_task_status(const std::string& peer, TaskStatus::Reader s) {
  TaskEvent ev;
  ev.node = s.getNode();
  ev.job = s.getJobId();
  ev.step = s.getStep();
  ev.oom_killed = s.getOomKilled();
  ev.rank = s.getRank();
  ev.attempt = s.getAttempt();
  switch (s.getEvent()) {
    case ::TaskEvent::STARTED: ev.kind = TaskEventKind::started; break;
    case ::TaskEvent::EXITED: ev.kind = TaskEventKind::exited; break;
    case ::TaskEvent::LAUNCH_FAILED: ev.kind = TaskEventKind::launch_failed; break;
    case ::TaskEvent::LOST: ev.kind = TaskEventKind::lost; break;
    default:
      ++counters_.malformed_messages;
      CADRE_LOG(warning) << "task status with unknown event from " << ev.node;
      return;
  }
  ev.exit_code = s.getExitCode();
  ev.signal = s.getSignal();
  ev.message = s.getMessage();
  cluster_.task_event(ev, unix_now());
  if (ev.kind == TaskEventKind::started) return;
  // Acknowledged even when stale or repeated, so the agent stops resending.
  reply(peer, encode_task_ack(ev.job, ev.rank, ev.attempt, ev.step));
  schedule_wanted_ = true;
}

Result<JobId> MasterService::submit_one(JobSpec spec) {
  if (current_peer_) {
    // The key (or the kernel, on the local socket) says who this is; the
    // request's own claim does not count.
    if (!current_peer_->has_account) return make_error(no_account_message());
    spec.user = current_peer_->name;
    spec.uid = current_peer_->uid;
    spec.gid = current_peer_->gid;
  }
  const int64_t now_ms = steady_now_ms();
  if (auto wait_ms = rate_limiter_.take(spec.user, now_ms)) {
    ++counters_.rate_limited;
    // A flood is logged once per user per 10 s, not once per message.
    int64_t& last = rate_logged_ms_[spec.user];
    if (now_ms - last >= 10000) {
      last = now_ms;
      CADRE_LOG(warning) << "user " << spec.user << " is submitting faster than limits.submit_rate ("
                         << options_.limits.submit_rate << "/s, burst " << options_.limits.submit_burst << "); "
                         << counters_.rate_limited << " submissions refused so far";
    }
    char rate[32];
    std::snprintf(rate, sizeof rate, "%g", options_.limits.submit_rate);
    return make_error("too many submissions: user " + spec.user + " may submit " + rate + " jobs per second (" +
                      std::to_string(options_.limits.submit_burst) + " at once); try again in " +
                      std::to_string(*wait_ms) + " ms");
  }
  auto id = cluster_.submit(std::move(spec), unix_now());
  if (!id) {
    ++counters_.refused_submissions;
    CADRE_LOG(debug) << "refused a submission: " << id.error();
  }
  return id;
}

void MasterService::handle_submit(const std::string& peer, uint64_t rid, Submit::Reader s) {
  if (store_error_) return reply_error(peer, rid, store_failure_message());
  auto id = submit_one(from_proto(s.getRequest()));
  if (!id) return reply_error(peer, rid, id.error());
  capnp::MallocMessageBuilder m;
  start_envelope(m, rid).initSubmitReply().setId(*id);
  reply(peer, encode(m));
  schedule_wanted_ = true;
}

void MasterService::handle_submit_many(const std::string& peer, uint64_t rid, SubmitMany::Reader s) {
  if (store_error_) return reply_error(peer, rid, store_failure_message());
  auto requests = s.getRequests();
  capnp::MallocMessageBuilder m;
  auto out = start_envelope(m, rid).initSubmitManyReply();
  auto ids = out.initIds(requests.size());
  auto errors = out.initErrors(requests.size());
  for (unsigned i = 0; i < requests.size(); ++i) {
    auto id = submit_one(from_proto(requests[i]));
    ids.set(i, id ? *id : 0);
    errors.set(i, id ? "" : id.error());
  }
  reply(peer, encode(m));
  schedule_wanted_ = true;
}

void MasterService::handle_list_jobs(const std::string& peer, uint64_t rid, ListJobs::Reader request) {
  const bool all = request.getAll();
  const JobId after = request.getAfterId();
  const size_t limit = request.getLimit() == 0 ? kJobsPerPage : std::min<size_t>(request.getLimit(), kJobsPerPage);
  std::vector<const Job*> shown;
  std::vector<Job> ended;
  if (all) {
    auto loaded = store_->load_ended_jobs(kMaxEndedJobsListed);
    if (!loaded) return reply_error(peer, rid, "cannot read ended jobs: " + loaded.error());
    ended = std::move(*loaded);
    for (const Job& j : ended)
      if (j.id > after && !cluster_.find_job(j.id)) shown.push_back(&j);
  }
  // Jobs are kept in id order: a page reads from `after` on, and never more
  // than one job past what it can show.
  size_t live = 0;
  for (auto it = cluster_.jobs().upper_bound(after); it != cluster_.jobs().end() && live <= limit; ++it)
    if (all || !is_final(it->second.state)) {
      shown.push_back(&it->second);
      ++live;
    }
  std::sort(shown.begin(), shown.end(), [](const Job* a, const Job* b) { return a->id < b->id; });
  const bool more = shown.size() > limit;
  if (more) shown.resize(limit);

  capnp::MallocMessageBuilder m;
  auto jobs_reply = start_envelope(m, rid).initJobsReply();
  jobs_reply.setMore(more);
  auto list = jobs_reply.initJobs(static_cast<unsigned>(shown.size()));
  for (unsigned i = 0; i < shown.size(); ++i) to_proto(*shown[i], list[i], options_.policy.weights);
  reply(peer, encode(m));
}

void MasterService::handle_run_step(const std::string& peer, uint64_t rid, RunStep::Reader r) {
  if (store_error_) return reply_error(peer, rid, store_failure_message());
  StepRequest req;
  req.job = r.getJobId();
  for (auto a : r.getArgv()) req.argv.emplace_back(a);
  req.workdir = r.getWorkdir();
  req.ntasks = r.getNtasks();
  req.nnodes = r.getNnodes();
  for (auto h : r.getHosts()) req.hosts.emplace_back(h);
  req.whole_node = r.getWholeNode();
  req.uid = r.getUid();
  if (current_peer_) {
    if (!current_peer_->has_account) return reply_error(peer, rid, no_account_message());
    req.uid = current_peer_->uid;
  }
  auto step = cluster_.run_step(req);
  if (!step) return reply_error(peer, rid, step.error());
  handle_show_step_id(peer, rid, req.job, *step);
}

void MasterService::handle_show_step(const std::string& peer, uint64_t rid, ShowStep::Reader s) {
  handle_show_step_id(peer, rid, s.getJobId(), s.getStep());
}

void MasterService::handle_show_step_id(const std::string& peer, uint64_t rid, JobId job, uint32_t step_id) {
  const Step* step = cluster_.find_step(job, step_id);
  if (!step) {
    const Job* j = cluster_.find_job(job);
    if (!j) return reply_error(peer, rid, "job " + std::to_string(job) + " has ended; its steps are gone");
    return reply_error(peer, rid, "job " + std::to_string(job) + " has no step " + std::to_string(step_id) +
                                      " (steps are forgotten when the master restarts or the job is requeued)");
  }
  capnp::MallocMessageBuilder m;
  auto out = start_envelope(m, rid).initStepReply();
  out.setJobId(job);
  out.setStep(step_id);
  out.setDone(step->done());
  out.setExitCode(step->exit_code());
  auto ranks = out.initRanks(static_cast<unsigned>(step->ranks.size()));
  for (unsigned i = 0; i < step->ranks.size(); ++i) {
    const StepRank& sr = step->ranks[i];
    ranks[i].setRank(sr.rank);
    ranks[i].setNode(sr.node);
    ranks[i].setState(std::string(to_string(sr.state)));
    ranks[i].setExitCode(sr.exit_code);
    ranks[i].setMessage(sr.message);
  }
  reply(peer, encode(m));
}

bool MasterService::is_admin() const {
  // Without a verified identity (tcp without CURVE) nobody is checked.
  if (!current_peer_) return true;
  if (current_peer_->kind != PeerKind::user) return false;
  if (current_peer_->name == "root") return true;
  const std::string& admins = options_.security.admin_group;
  if (admins.empty()) return false;
  const struct group* g = getgrnam(admins.c_str());
  if (!g) return false;
  for (char** m = g->gr_mem; m && *m; ++m)
    if (current_peer_->name == *m) return true;
  return current_peer_->has_account && current_peer_->gid == g->gr_gid;
}

std::string MasterService::no_account_message() const {
  return "user " + current_peer_->name + " has no account on the master host";
}

void MasterService::handle_set_node_state(const std::string& peer, uint64_t rid, SetNodeState::Reader r) {
  if (store_error_) return reply_error(peer, rid, store_failure_message());
  if (!is_admin())
    return reply_error(peer, rid, "only admins (root" +
                                      (options_.security.admin_group.empty()
                                           ? std::string()
                                           : " and group " + options_.security.admin_group) +
                                      ") may drain or resume nodes");
  const std::string state = r.getState();
  if (state != "DRAIN" && state != "UP") return reply_error(peer, rid, "a node can be set DRAIN or UP, not '" + state + "'");
  std::vector<std::string> names;
  for (auto n : r.getNames()) names.emplace_back(n);
  if (names.empty()) return reply_error(peer, rid, "name at least one node");
  // All or nothing: check every name first.
  for (const std::string& name : names)
    if (!cluster_.find_node(name)) return reply_error(peer, rid, "no node " + name);
  for (const std::string& name : names) {
    Status s = state == "DRAIN" ? cluster_.drain_node(name, r.getReason()) : cluster_.resume_node(name);
    if (!s) return reply_error(peer, rid, s.error());
  }
  capnp::MallocMessageBuilder m;
  auto out = start_envelope(m, rid).initNodesReply().initNodes(static_cast<unsigned>(names.size()));
  for (unsigned i = 0; i < names.size(); ++i) to_proto(*cluster_.find_node(names[i]), out[i]);
  reply(peer, encode(m));
  schedule_wanted_ = true;
}

void MasterService::handle_show_job(const std::string& peer, uint64_t rid, JobId id) {
  std::optional<Job> loaded;
  const Job* job = cluster_.find_job(id);
  if (!job) {
    auto from_store = store_->load_job(id);
    if (!from_store) return reply_error(peer, rid, "cannot read job " + std::to_string(id) + ": " + from_store.error());
    loaded = std::move(*from_store);
    if (!loaded) return reply_error(peer, rid, "no job " + std::to_string(id));
    job = &*loaded;
  }
  capnp::MallocMessageBuilder m;
  to_proto(*job, start_envelope(m, rid).initJobsReply().initJobs(1)[0], options_.policy.weights);
  reply(peer, encode(m));
}

void MasterService::handle_cancel(const std::string& peer, uint64_t rid, Cancel::Reader c) {
  if (store_error_) return reply_error(peer, rid, store_failure_message());
  std::vector<CancelOutcome> outcomes;
  for (JobId id : c.getIds()) {
    // With verified identities, users cancel only their own jobs; root any.
    if (const Job* j = cluster_.find_job(id); j && current_peer_ && j->spec.user != current_peer_->name && !is_admin()) {
      outcomes.push_back({id, false, "job " + std::to_string(id) + " belongs to " + j->spec.user});
      continue;
    }
    CancelOutcome o = cluster_.cancel(id, unix_now());
    if (!o.ok && !cluster_.find_job(id)) {
      auto stored = store_->load_job(id);
      if (stored && *stored) o.message = "job " + std::to_string(id) + " already ended " + std::string(to_string((*stored)->state));
      else if (stored) o.message = "no job " + std::to_string(id);
    }
    outcomes.push_back(std::move(o));
  }
  capnp::MallocMessageBuilder m;
  auto results = start_envelope(m, rid).initCancelReply().initResults(static_cast<unsigned>(outcomes.size()));
  for (unsigned i = 0; i < outcomes.size(); ++i) {
    results[i].setId(outcomes[i].id);
    results[i].setOk(outcomes[i].ok);
    results[i].setMessage(text(outcomes[i].message));
  }
  reply(peer, encode(m));
  schedule_wanted_ = true;
}

void MasterService::handle_list_nodes(const std::string& peer, uint64_t rid) {
  capnp::MallocMessageBuilder m;
  auto list = start_envelope(m, rid).initNodesReply().initNodes(static_cast<unsigned>(cluster_.nodes().size()));
  unsigned i = 0;
  for (auto& [name, n] : cluster_.nodes()) to_proto(n, list[i++]);
  reply(peer, encode(m));
}

void MasterService::handle_list_partitions(const std::string& peer, uint64_t rid) {
  auto summaries = cluster_.partition_summaries();
  capnp::MallocMessageBuilder m;
  auto list = start_envelope(m, rid).initPartitionsReply().initPartitions(static_cast<unsigned>(summaries.size()));
  for (unsigned i = 0; i < summaries.size(); ++i) to_proto(summaries[i], list[i]);
  reply(peer, encode(m));
}

void MasterService::handle_get_stats(const std::string& peer, uint64_t rid) {
  reply(peer, encode_stats_reply(rid, make_stats_report(stats_, cluster_, counters_.malformed_messages,
                                                        steady_now_ms())));
}

void MasterService::reply(const std::string& peer, std::string bytes) {
  replies_.push_back(Frames{peer, std::move(bytes)});
}

void MasterService::reply_error(const std::string& peer, uint64_t rid, const std::string& text) {
  reply(peer, encode_error(rid, text));
}

std::string MasterService::store_failure_message() const {
  return "the master cannot write its database (" + store_error_.value_or("unknown error") +
         "); it accepts no new work until it can. Nothing was changed; try again later";
}

void MasterService::recover_from_store_failure(const std::string& error) {
  store_->rollback();
  if (!store_error_)
    CADRE_LOG(error) << "cannot persist state: " << error << "; refusing new work until the database takes writes";
  store_error_ = error;
  // Nothing of this turn may be observed: no replies, no commands. Clients
  // get an error; agents resend what was not acknowledged.
  replies_.clear();
  (void)cluster_.take_commands();
  for (auto& [peer, rid] : turn_requests_)
    if (!channel_.send(Frames{peer, encode_error(rid, store_failure_message())})) ++counters_.undeliverable;
  turn_requests_.clear();

  // The store holds the last committed state: start over from it, as after
  // a restart (agents register again and their ranks are reconciled).
  Cluster fresh(options_.node_timeout_ms, options_.max_retries);
  if (Status s = load_cluster(fresh); !s) {
    CADRE_LOG(error) << "cannot reload state from the database either (" << s.error() << "); stopping";
    failed_ = true;
    channel_.close();
    io_.stop();
    return;
  }
  cluster_ = std::move(fresh);
}

void MasterService::end_turn() {
  if (failed_) return;
  // Nothing new starts while the database cannot record it.
  if (schedule_wanted_ && !store_error_) {
    const int64_t now_ms = steady_now_ms();
    const int64_t wait_ms = last_pass_ms_ + options_.debounce_ms - now_ms;
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
    } else {
      schedule_wanted_ = false;
      last_pass_ms_ = now_ms;
      PassTiming timing;
      if (cluster_.schedule(options_.policy, unix_now(), &timing)) stats_.record_pass(timing);
    }
  }
  auto dirty_jobs = cluster_.take_dirty_jobs();
  auto dirty_nodes = cluster_.take_dirty_nodes();
  // Fair-share usage is worth keeping across restarts, not worth a write
  // per turn: saved with the turn's commit at most every 30 s.
  const bool save_usage = steady_now_ms() - last_usage_save_ms_ >= 30000 && cluster_.take_usage_dirty();
  if (!dirty_jobs.empty() || !dirty_nodes.empty() || save_usage) {
    Status s = store_->begin();
    if (s && save_usage) {
      s = store_->save_usage(cluster_.usage_record());
      last_usage_save_ms_ = steady_now_ms();
    }
    for (JobId id : dirty_jobs) {
      if (!s) break;
      if (const Job* j = cluster_.find_job(id)) s = store_->save_job(*j);
    }
    for (const std::string& name : dirty_nodes) {
      if (!s) break;
      if (const Node* n = cluster_.find_node(name)) s = store_->save_node(*n);
    }
    if (s) {
      const auto commit_started = std::chrono::steady_clock::now();
      s = store_->commit();
      stats_.last_commit_us = micros_since(commit_started);
      if (s) stats_.commits += 1;
    }
    if (!s) return recover_from_store_failure(s.error());
  }
  turn_requests_.clear();
  for (AgentCommand& c : cluster_.take_commands()) {
    const Node* n = cluster_.find_node(c.node);
    if (!n || n->routing_id.empty() || !channel_.send(Frames{n->routing_id, std::move(c.bytes)})) {
      ++counters_.undeliverable;
      CADRE_LOG(warning) << "could not deliver a command to node " << c.node;
    }
  }
  for (Frames& f : replies_) {
    ZmqChannel* out = &channel_;
    if (local_ && f[0].starts_with(kLocalPeerPrefix)) {
      f[0].erase(0, kLocalPeerPrefix.size());
      out = local_.get();
    }
    if (!out->send(f)) ++counters_.undeliverable;
  }
  replies_.clear();
  // Every job that can have ended this turn is among the turn's changes:
  // looking at those alone keeps a turn's cost off the queue's length.
  cluster_.evict_ended(dirty_jobs);
}

}  // namespace cadre
