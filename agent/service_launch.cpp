// AgentService, starting ranks: from a Launch message to a rank running
// under its supervisor, in its cgroup, with its environment; and the
// per-job folder (hostfile, batch script, TMPDIR) and cgroup that a job's
// ranks on this node share until the last of them is acknowledged.
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "agent/service.hpp"

#include "common/job_array.hpp"
#include "agent/spawn.hpp"
#include "agent/supervisor.hpp"
#include "common/job_request.hpp"
#include "common/log.hpp"

namespace cadre::agent {
namespace {

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
  s.truncate_output = l.getTruncateOutput();
  s.per_task = from_proto(l.getPerTask());
  s.limits = from_proto(l.getLimits());
  s.batch = l.getBatch();
  s.script = l.getScript();
  s.ntasks = l.getNtasks() ? l.getNtasks() : s.world_size;
  s.cpus_per_task = l.getCpusPerTask() ? l.getCpusPerTask() : 1;
  for (auto n : l.getJobNodelist()) s.job_nodelist.emplace_back(n);
  for (auto t : l.getJobTasksPerNode()) s.job_tasks_per_node.push_back(t);
  // Anything but a umask (a newer or broken master) leaves the agent's own.
  if (int32_t u = l.getUmask(); u >= 0 && u <= 0777) s.umask = u;
  for (auto e : l.getEnvironment()) s.environment.emplace_back(e.cStr(), e.size());
  s.partition = l.getPartition();
  s.account = l.getAccount();
  s.qos = l.getQos();
  s.submit_host = l.getSubmitHost();
  s.export_mode = l.getExportMode();
  // An array task: a bad index or spec (a newer or broken master) leaves it a plain job.
  if (auto array = parse_array_spec(l.getArray().cStr()); array && l.getArrayJobId() != 0 && l.getArrayTaskId() >= 0 &&
                                                          array->indices.contains(static_cast<uint32_t>(l.getArrayTaskId()))) {
    s.array_job = l.getArrayJobId();
    s.array_task = static_cast<uint32_t>(l.getArrayTaskId());
    s.array = array_facts(*array);
  }
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
  if (Status st = write_atomically(path, spec.script, 0700); !st)
    return make_error("cannot write the batch script: " + st.error());
  if (geteuid() == 0 && spec.uid != 0 && chown(path.c_str(), spec.uid, spec.gid) != 0)
    return make_error("cannot hand the batch script to uid " + std::to_string(spec.uid) + ": " + strerror(errno));
  return path;
}

}  // namespace

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

  // The job's cgroup is made by its first rank here (or found at start,
  // left by an earlier agent): job_cpus_ holds exactly the ones that exist.
  const std::pair<JobId, Attempt> key{id.job, id.attempt};
  const std::string job = cgroups_.job_path(id.job, id.attempt);
  auto known = job_cpus_.find(key);
  if (known == job_cpus_.end()) {
    std::vector<int> cpus;
    // Pinning needs whole cpus; a job asking for half a cpu shares them all.
    if (int n = whole_cpus(share.millicores); cpusets_ && n > 0) {
      auto got = cpusets_->allocate(job, n);
      if (got) cpus = *got;
      else CADRE_LOG(warning) << "job " << id.job << ": no cpus to pin (" << got.error() << "); not pinned";
    }
    if (auto made = cgroups_.create_job(id.job, id.attempt, share, cpus); !made) {
      if (cpusets_) cpusets_->release(job);
      return make_error(made.error());
    }
    known = job_cpus_.emplace(key, cpus).first;
  }
  const std::vector<int>& job_cpus = known->second;
  // A rank of the job gets its own slice of the job's cpus; a batch script
  // or a step's rank may use all of them.
  std::vector<int> cpus = job_cpus;
  if (int per = whole_cpus(spec.per_task.millicores); id.step == 0 && !spec.batch && per > 0 && !job_cpus.empty())
    cpus = rank_cpus(job_cpus, static_cast<int>(spec.local_rank), per);
  return cgroups_.create_process(job, "rank_" + std::to_string(id.step) + "_" + std::to_string(id.rank),
                                 spec.limits.is_zero() ? spec.per_task : spec.limits, cpus);
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
  req.env = rank_environment(spec, AgentContext{options_.name, options_.master, options_.cli, options_.slurm_bin}, hostfile,
                             base_environment(spec));
  // The rank's own TMPDIR (removed with it) and the master's key are the
  // agent's to set, over what the submitter exported.
  auto put = [&req](const std::string& name, const std::string& value) {
    auto it = std::find_if(req.env.begin(), req.env.end(),
                           [&name](const std::string& e) { return e.starts_with(name + "="); });
    if (it == req.env.end()) req.env.push_back(name + "=" + value);
    else *it = name + "=" + value;
  };
  put("TMPDIR", tmpdir);
  if (!options_.master_public.empty()) {
    // `cadre run` inside the job speaks CURVE to the master: the master's
    // public key comes with the job; the user's own key is theirs
    // (~/.cadre/key or CADRE_KEY).
    const std::string master_pub = jdir + "/master.pub";
    if (!std::filesystem::exists(master_pub))
      std::ofstream(master_pub) << "public-key = \"" << options_.master_public << "\"\n";
    put("CADRE_MASTER_KEY", master_pub);
  }
  req.workdir = spec.workdir;
  req.output_path = output_path(spec, options_.name);
  req.truncate = spec.truncate_output;
  if (!spec.error_pattern.empty()) req.error_path = expand_pattern(spec, spec.error_pattern, options_.name);
  req.uid = spec.uid;
  req.gid = spec.gid;
  req.user = spec.user;
  req.allow_root = options_.allow_root_jobs;
  req.umask = spec.umask;
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
  Result<StartedSupervisor> started = written ? launcher_.start(dir, options_.kill_grace_ms)
                                              : Result<StartedSupervisor>(make_error(written.error()));
  if (!started) {
    RankExit failed{true, false, 127, 0, started.error()};
    (void)write_exit(dir, failed);
    unacked_[id] = failed;
    send_exit(id, failed);
    return;
  }
  const pid_t supervisor = started->pid;
  (void)write_supervisor_pid(dir, supervisor);
  watch(id, supervisor, started->pidfd);
  CADRE_LOG(info) << "job " << id.job << (id.step ? " step " + std::to_string(id.step) : "") << " rank " << id.rank
                  << " attempt " << id.attempt << " started under supervisor " << supervisor;
  send_started(id);
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

}  // namespace cadre::agent
