#include "agent/service.hpp"

#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capnp/message.h>

#include <filesystem>
#include <fstream>

#include "agent/spawn.hpp"
#include "common/log.hpp"

namespace cadre::agent {
namespace {

constexpr int kRegisterRetryMs = 1000;

kj::StringPtr text(const std::string& s) { return kj::StringPtr(s.c_str(), s.size()); }

LaunchSpec spec_from(Launch::Reader l) {
  LaunchSpec s;
  s.job = l.getJobId();
  s.attempt = l.getAttempt();
  s.job_name = l.getJobName();
  s.rank = l.getRank();
  s.world_size = l.getWorldSize();
  s.local_rank = l.getLocalRank();
  s.local_world_size = l.getLocalWorldSize();
  s.node_rank = l.getNodeRank();
  for (auto n : l.getNodelist()) s.nodelist.emplace_back(n);
  for (auto t : l.getTasksPerNode()) s.tasks_per_node.push_back(t);
  for (auto g : l.getGpus()) s.gpus.push_back(g);
  for (auto a : l.getArgv()) s.argv.emplace_back(a);
  s.workdir = l.getWorkdir();
  s.output_pattern = l.getOutputPattern();
  s.master_addr = l.getMasterAddr();
  s.master_port = l.getMasterPort();
  s.user = l.getUser();
  s.uid = l.getUid();
  s.gid = l.getGid();
  return s;
}

// The small base environment every rank starts from: the agent's PATH and
// locale, and the identity of the user it runs as.
std::vector<std::string> base_environment(const LaunchSpec& spec) {
  std::vector<std::string> env;
  for (const char* name : {"PATH", "LANG", "LC_ALL", "TZ"})
    if (const char* v = getenv(name)) env.push_back(std::string(name) + "=" + v);
  if (!getenv("PATH")) env.push_back("PATH=/usr/local/bin:/usr/bin:/bin");
  uid_t uid = geteuid() == 0 ? spec.uid : geteuid();
  if (passwd* pw = getpwuid(uid)) {
    env.push_back(std::string("HOME=") + pw->pw_dir);
    env.push_back(std::string("USER=") + pw->pw_name);
    env.push_back(std::string("LOGNAME=") + pw->pw_name);
    env.push_back(std::string("SHELL=") + (pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh"));
  }
  return env;
}

}  // namespace

AgentService::AgentService(AgentOptions options)
    : options_(std::move(options)),
      zmq_(1),
      channel_(io_, zmq_, zmq::socket_type::dealer),
      register_timer_(io_),
      heartbeat_timer_(io_),
      sigchld_(io_, SIGCHLD),
      stop_signals_(io_, SIGTERM, SIGINT) {}

AgentService::~AgentService() { shutdown(); }

void AgentService::start() {
  std::filesystem::create_directories(options_.work_dir);
  // A fixed routing id lets the master reach this agent right after a
  // reconnect, before its next heartbeat.
  channel_.socket().set(zmq::sockopt::routing_id, "agent:" + options_.name);
  channel_.socket().set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxMessageBytes));
  channel_.socket().set(zmq::sockopt::reconnect_ivl, 200);
  channel_.socket().set(zmq::sockopt::reconnect_ivl_max, 5000);
  channel_.socket().connect(options_.master);
  channel_.start([this](Frames&& f) { on_message(std::move(f)); });
  arm_sigchld();
  stop_signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    CADRE_LOG(info) << "signal " << sig << ": stopping; killing " << ranks_.size() << " ranks";
    shutdown();
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

void AgentService::shutdown() {
  // Ranks die with their agent (PDEATHSIG) anyway; kill their whole groups
  // so no grandchild is left behind.
  for (auto& [key, p] : ranks_)
    if (p.pid > 0) ::kill(-p.pid, SIGKILL);
  ranks_.clear();
  channel_.close();
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
  auto running = r.initRunning(static_cast<unsigned>(ranks_.size()));
  unsigned i = 0;
  for (auto& [key, p] : ranks_) {
    running[i].setJobId(p.spec.job);
    running[i].setRank(p.spec.rank);
    running[i].setAttempt(p.spec.attempt);
    ++i;
  }
  send(encode(m));
}

void AgentService::arm_register_retry() {
  register_timer_.expires_after(std::chrono::milliseconds(kRegisterRetryMs));
  register_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || registered_) return;
    send_register();
    arm_register_retry();
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
        register_timer_.cancel();
        heartbeat_timer_.cancel();
        arm_heartbeat();
        return;
      }
      case Envelope::PLEASE_REGISTER:
        CADRE_LOG(info) << "the master asks this node to register again";
        registered_ = false;
        send_register();
        arm_register_retry();
        return;
      case Envelope::LAUNCH: return handle_launch(env.getLaunch());
      case Envelope::KILL: return handle_kill(env.getKill());
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

std::string AgentService::job_dir(const LaunchSpec& spec) const {
  return options_.work_dir + "/jobs/" + std::to_string(spec.job) + "." + std::to_string(spec.attempt);
}

void AgentService::handle_launch(Launch::Reader l) {
  LaunchSpec spec = spec_from(l);
  RankKey key{spec.job, spec.rank, spec.attempt};
  if (ranks_.count(key)) return;  // a repeated launch: already running
  for (auto& [other, p] : ranks_) {
    if (std::get<0>(other) != spec.job || std::get<1>(other) != spec.rank) continue;
    CADRE_LOG(warning) << "job " << spec.job << " rank " << spec.rank << " attempt " << spec.attempt
                       << " replaces attempt " << std::get<2>(other);
    kill_rank(p);
  }
  std::string dir = job_dir(spec);
  std::string hostfile = dir + "/hostfile";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (!ec) {
    std::ofstream(hostfile) << hostfile_text(spec);
  }

  SpawnRequest req;
  req.argv = spec.argv;
  req.env = rank_environment(spec, options_.name, hostfile, base_environment(spec));
  req.workdir = spec.workdir;
  req.output_path = output_path(spec, options_.name);
  req.uid = spec.uid;
  req.gid = spec.gid;
  req.user = spec.user;
  req.allow_root = options_.allow_root_jobs;
  auto pid = spawn_rank(req);
  if (!pid) {
    CADRE_LOG(warning) << "job " << spec.job << " rank " << spec.rank << " failed to start: " << pid.error();
    send_task_status(spec, ::TaskEvent::LAUNCH_FAILED, 127, 0, pid.error());
    return;
  }
  CADRE_LOG(info) << "job " << spec.job << " rank " << spec.rank << " started as pid " << *pid;
  send_task_status(spec, ::TaskEvent::STARTED, 0, 0, "");
  RankProcess& p = ranks_[key];
  p.spec = std::move(spec);
  p.pid = *pid;
}

void AgentService::handle_kill(Kill::Reader k) {
  auto it = ranks_.find({k.getJobId(), k.getRank(), k.getAttempt()});
  if (it == ranks_.end()) {
    CADRE_LOG(debug) << "kill for job " << k.getJobId() << " rank " << k.getRank() << ": not running here";
    return;
  }
  kill_rank(it->second);
}

void AgentService::kill_rank(RankProcess& p) {
  if (p.killing) return;
  p.killing = true;
  ::kill(-p.pid, SIGTERM);
  p.kill_timer = std::make_unique<boost::asio::steady_timer>(io_);
  p.kill_timer->expires_after(std::chrono::milliseconds(options_.kill_grace_ms));
  pid_t pid = p.pid;
  p.kill_timer->async_wait([pid](const boost::system::error_code& ec) {
    if (!ec) ::kill(-pid, SIGKILL);
  });
}

void AgentService::arm_sigchld() {
  sigchld_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    reap();
    arm_sigchld();
  });
}

void AgentService::reap() {
  int status = 0;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    auto it = std::find_if(ranks_.begin(), ranks_.end(), [pid](auto& kv) { return kv.second.pid == pid; });
    if (it == ranks_.end()) continue;
    RankProcess& p = it->second;
    // The rank's leader is gone; whatever it left in its group goes too.
    ::kill(-pid, SIGKILL);
    int32_t code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    int32_t sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    CADRE_LOG(info) << "job " << p.spec.job << " rank " << p.spec.rank << " "
                    << (sig ? "killed by signal " + std::to_string(sig) : "exited with code " + std::to_string(code));
    send_task_status(p.spec, ::TaskEvent::EXITED, code, sig, "");
    LaunchSpec spec = p.spec;
    if (p.kill_timer) p.kill_timer->cancel();
    ranks_.erase(it);
    bool job_left = std::any_of(ranks_.begin(), ranks_.end(),
                                [&spec](auto& kv) { return std::get<0>(kv.first) == spec.job; });
    if (!job_left) {
      std::error_code ec;
      std::filesystem::remove_all(job_dir(spec), ec);
    }
  }
}

void AgentService::send_task_status(const LaunchSpec& spec, ::TaskEvent event, int32_t exit_code, int32_t signal,
                                    const std::string& message) {
  capnp::MallocMessageBuilder m;
  auto s = start_envelope(m, 0).initTaskStatus();
  s.setNode(text(options_.name));
  s.setJobId(spec.job);
  s.setRank(spec.rank);
  s.setAttempt(spec.attempt);
  s.setEvent(event);
  s.setExitCode(exit_code);
  s.setSignal(signal);
  s.setMessage(text(message));
  send(encode(m));
}

}  // namespace cadre::agent
