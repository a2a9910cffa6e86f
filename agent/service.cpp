#include "agent/service.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <capnp/message.h>

#include <filesystem>
#include <fstream>

#include "agent/spawn.hpp"
#include "agent/supervisor.hpp"
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
  s.step = l.getStep();
  s.error_pattern = l.getErrorPattern();
  auto res = [](::Resources::Reader r) { return Resources{r.getMillicores(), r.getMemoryMb(), r.getGpus()}; };
  s.per_task = res(l.getPerTask());
  s.limits = res(l.getLimits());
  s.batch = l.getBatch();
  s.script = l.getScript();
  s.ntasks = l.getNtasks() ? l.getNtasks() : s.world_size;
  s.cpus_per_task = l.getCpusPerTask() ? l.getCpusPerTask() : 1;
  for (auto n : l.getJobNodelist()) s.job_nodelist.emplace_back(n);
  for (auto t : l.getJobTasksPerNode()) s.job_tasks_per_node.push_back(t);
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

// Writes a batch job's script into its job folder, readable and runnable
// by the job's user only. Returns the file's path.
Result<std::string> write_batch_script(const std::string& job_dir, const LaunchSpec& spec) {
  const std::string path = job_dir + "/script";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
  if (fd < 0) return make_error("cannot write the batch script to " + path + ": " + strerror(errno));
  const char* p = spec.script.data();
  size_t left = spec.script.size();
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return make_error("cannot write the batch script to " + path + ": " + strerror(err));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (geteuid() == 0 && spec.uid != 0 && fchown(fd, spec.uid, spec.gid) != 0) {
    int err = errno;
    close(fd);
    return make_error("cannot hand the batch script to uid " + std::to_string(spec.uid) + ": " + strerror(err));
  }
  close(fd);
  return path;
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

AgentService::~AgentService() { channel_.close(); }

void AgentService::setup_isolation() {
  if (!options_.cgroups) {
    isolation_ = "process groups (cgroups turned off with --no-cgroups)";
  } else {
    CgroupPaths paths;
    paths.base = options_.cgroup_base;
    CgroupSupport support = nest_cgroups(setup_cgroups(paths), "node_" + options_.name);
    isolation_ = support.description;
    if (support.enabled && support.cpuset) {
      std::ifstream in(support.base + "/cpuset.cpus.effective");
      std::string list;
      std::getline(in, list);
      if (auto usable = parse_cpu_list(list); usable && !usable->empty()) cpusets_.emplace(*usable);
    }
    cgroups_ = CgroupManager(support);
    // Jobs that were running when an earlier agent stopped keep their cpus.
    for (const JobCgroup& j : cgroups_.list_jobs()) {
      job_cpus_[{j.job, j.attempt}] = j.cpus;
      if (cpusets_ && !j.cpus.empty()) cpusets_->hold(j.path, j.cpus);
    }
  }
  if (cgroups_.support().enabled)
    CADRE_LOG(info) << "ranks run in " << isolation_ << " under " << cgroups_.support().base;
  else
    CADRE_LOG(warning) << "ranks run in " << isolation_ << ": no cpu or memory limits are enforced on this node";
}

Result<std::string> AgentService::rank_cgroup(const LaunchSpec& spec, const RankId& id) {
  // This node's share of the job: its tasks here times the per-task request.
  const std::vector<std::string>& nodes = spec.job_nodelist.empty() ? spec.nodelist : spec.job_nodelist;
  const std::vector<uint32_t>& tpn = spec.job_nodelist.empty() ? spec.tasks_per_node : spec.job_tasks_per_node;
  int64_t here = 1;
  for (size_t i = 0; i < nodes.size() && i < tpn.size(); ++i)
    if (nodes[i] == options_.name) here = tpn[i];
  const Resources share = spec.per_task.times(here);

  const std::pair<JobId, Attempt> key{id.job, id.attempt};
  auto known = job_cpus_.find(key);
  if (known == job_cpus_.end()) {
    std::vector<int> cpus;
    // Pinning needs whole cpus; a job asking for half a cpu shares them all.
    if (int n = whole_cpus(share.millicores); cpusets_ && n > 0) {
      auto got = cpusets_->allocate(cgroups_.job_path(id.job, id.attempt), n);
      if (got) cpus = *got;
      else CADRE_LOG(warning) << "job " << id.job << ": no cpus to pin (" << got.error() << "); not pinned";
    }
    known = job_cpus_.emplace(key, cpus).first;
  }
  const std::vector<int>& job_cpus = known->second;
  auto job = cgroups_.create_job(id.job, id.attempt, share, job_cpus);
  if (!job) return make_error(job.error());
  // A rank of the job gets its own slice of the job's cpus; a batch script
  // or a step's rank may use all of them.
  std::vector<int> cpus = job_cpus;
  if (int per = whole_cpus(spec.per_task.millicores); id.step == 0 && !spec.batch && per > 0 && !job_cpus.empty())
    cpus = rank_cpus(job_cpus, static_cast<int>(spec.local_rank), per);
  return cgroups_.create_process(*job, "rank_" + std::to_string(id.step) + "_" + std::to_string(id.rank),
                                 spec.limits.is_zero() ? spec.per_task : spec.limits, cpus);
}

void AgentService::start() {
  std::filesystem::create_directories(options_.work_dir + "/ranks");
  setup_isolation();
  arm_sigchld();
  recover_ranks();
  // Job cgroups (and cpus) of jobs whose ranks all ended while no agent ran.
  std::vector<std::pair<JobId, Attempt>> jobs;
  for (const auto& [key, cpus] : job_cpus_) jobs.push_back(key);
  for (const auto& [job, attempt] : jobs) remove_job_dir_if_done(job, attempt);
  // A fixed routing id lets the master reach this agent right after a
  // reconnect, before its next heartbeat.
  channel_.socket().set(zmq::sockopt::routing_id, "agent:" + options_.name);
  channel_.socket().set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxMessageBytes));
  channel_.socket().set(zmq::sockopt::reconnect_ivl, 200);
  channel_.socket().set(zmq::sockopt::reconnect_ivl_max, 5000);
  channel_.socket().connect(options_.master);
  channel_.start([this](Frames&& f) { on_message(std::move(f)); });
  stop_signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    // Ranks keep running under their supervisors; a restarted agent
    // finds them again.
    CADRE_LOG(info) << "signal " << sig << ": stopping; " << live_.size() << " ranks keep running";
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

bool AgentService::watch(const RankId& id, pid_t supervisor) {
  // Via syscall(): glibc 2.36's <sys/pidfd.h> lacks C linkage for C++.
  int fd = static_cast<int>(syscall(SYS_pidfd_open, supervisor, 0));
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
  for (unsigned g = 0; g < options_.gpus.size(); ++g) {
    const GpuInfo& info = options_.gpus[g];
    gpus[g].setIndex(info.index);
    gpus[g].setUuid(text(info.uuid));
    gpus[g].setModel(text(info.model));
    gpus[g].setMemoryMb(info.memory_mb);
    auto peers = gpus[g].initNvlinkPeers(static_cast<unsigned>(info.nvlink_peers.size()));
    for (unsigned p = 0; p < info.nvlink_peers.size(); ++p) peers.set(p, info.nvlink_peers[p]);
  }
  r.setIsolation(text(isolation_));
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

std::string AgentService::job_dir(JobId job, Attempt attempt) const {
  return options_.work_dir + "/jobs/" + std::to_string(job) + "." + std::to_string(attempt);
}

void AgentService::handle_launch(Launch::Reader l) {
  LaunchSpec spec = spec_from(l);
  const RankId id{spec.job, spec.rank, spec.attempt, spec.step};
  const std::string dir = rank_dir_path(options_.work_dir, id);
  // Fencing: an attempt launches at most once here, and never after a newer one.
  if (live_.count(id) || unacked_.count(id) || std::filesystem::exists(dir)) return;
  auto same_rank = [&id](const RankId& o) { return o.job == id.job && o.rank == id.rank && o.step == id.step; };
  for (auto& [other, exit] : unacked_)
    if (same_rank(other) && other.attempt > id.attempt) return;
  for (auto& [other, live] : live_) {
    if (!same_rank(other)) continue;
    if (other.attempt > id.attempt) return;
    CADRE_LOG(warning) << "job " << id.job << " rank " << id.rank << " attempt " << id.attempt
                       << " replaces attempt " << other.attempt;
    if (!live.killing) ::kill(live.supervisor, SIGTERM);
    live.killing = true;
  }

  const std::string jdir = job_dir(id.job, id.attempt);
  std::string hostfile = jdir + "/hostfile";
  std::error_code ec;
  std::filesystem::create_directories(jdir, ec);
  if (!ec) std::ofstream(hostfile) << hostfile_text(spec);
  // A private TMPDIR per job and node, removed with the job's folder: jobs
  // leave no litter in /tmp, and two nodes' ranks on one host (MPI session
  // folders) never meet.
  const std::string tmpdir = jdir + "/tmp";
  if (mkdir(tmpdir.c_str(), 0700) == 0 && geteuid() == 0 && spec.uid != 0 &&
      chown(tmpdir.c_str(), spec.uid, spec.gid) != 0)
    CADRE_LOG(warning) << "cannot give " << tmpdir << " to uid " << spec.uid << ": " << strerror(errno);

  SpawnRequest req;
  req.argv = spec.argv;
  if (spec.batch) {
    // The script runs from the agent's copy, as sbatch's does from its
    // spool: the submitted file may be gone or changed by now.
    Result<std::string> script = write_batch_script(jdir, spec);
    if (!script) {
      RankExit failed{true, false, 127, 0, script.error()};
      std::filesystem::create_directories(dir, ec);
      (void)write_exit(dir, failed);
      unacked_[id] = failed;
      send_exit(id, failed);
      return;
    }
    if (req.argv.empty()) req.argv.push_back(*script);
    else req.argv[0] = *script;
  }
  req.env = rank_environment(spec, AgentContext{options_.name, options_.master, options_.cli}, hostfile,
                             base_environment(spec));
  req.env.push_back("TMPDIR=" + tmpdir);
  req.workdir = spec.workdir;
  req.output_path = output_path(spec, options_.name);
  if (!spec.error_pattern.empty()) req.error_path = expand_pattern(spec, spec.error_pattern, options_.name);
  req.uid = spec.uid;
  req.gid = spec.gid;
  req.user = spec.user;
  req.allow_root = options_.allow_root_jobs;
  if (cgroups_.support().enabled) {
    Result<std::string> cg = rank_cgroup(spec, id);
    if (!cg) {
      RankExit failed{true, false, 127, 0, "cannot confine the rank: " + cg.error()};
      std::filesystem::create_directories(dir, ec);
      (void)write_exit(dir, failed);
      unacked_[id] = failed;
      send_exit(id, failed);
      return;
    }
    req.cgroup = *cg;
  }

  std::filesystem::create_directories(dir, ec);
  Status written = ec ? Status(make_error("cannot create " + dir + ": " + ec.message())) : write_request(dir, req);
  Result<pid_t> pid = written ? start_supervisor(dir, options_.kill_grace_ms) : Result<pid_t>(make_error(written.error()));
  if (!pid) {
    RankExit failed{true, false, 127, 0, pid.error()};
    (void)write_exit(dir, failed);
    unacked_[id] = failed;
    send_exit(id, failed);
    return;
  }
  (void)write_pid(dir + "/supervisor", *pid);
  if (!watch(id, *pid)) {
    ::kill(*pid, SIGKILL);
    RankExit failed{true, false, 127, 0, std::string("cannot watch the rank's supervisor: ") + strerror(errno)};
    (void)write_exit(dir, failed);
    unacked_[id] = failed;
    send_exit(id, failed);
    return;
  }
  CADRE_LOG(info) << "job " << id.job << (id.step ? " step " + std::to_string(id.step) : "") << " rank " << id.rank
                  << " attempt " << id.attempt << " started under supervisor " << *pid;
  send_started(id);
}

void AgentService::handle_kill(Kill::Reader k) {
  auto it = live_.find(RankId{k.getJobId(), k.getRank(), k.getAttempt(), k.getStep()});
  if (it == live_.end()) {
    CADRE_LOG(debug) << "kill for job " << k.getJobId() << " step " << k.getStep() << " rank " << k.getRank()
                     << ": not running here";
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

void AgentService::remove_job_dir_if_done(JobId job, Attempt attempt) {
  auto of_job = [&](const auto& kv) { return kv.first.job == job && kv.first.attempt == attempt; };
  if (std::any_of(live_.begin(), live_.end(), of_job) || std::any_of(unacked_.begin(), unacked_.end(), of_job)) return;
  std::error_code ec;
  std::filesystem::remove_all(job_dir(job, attempt), ec);
  if (cgroups_.support().enabled) {
    const std::string path = cgroups_.job_path(job, attempt);
    if (std::filesystem::exists(path)) {
      (void)cgroups_.kill(path);
      if (Status st = cgroups_.remove(path); !st) CADRE_LOG(warning) << st.error();
    }
    if (cpusets_) cpusets_->release(path);
    job_cpus_.erase({job, attempt});
  }
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
