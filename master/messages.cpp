#include "master/messages.hpp"

#include <capnp/message.h>

#include <algorithm>

#include "common/codec.hpp"
#include "master/cluster.hpp"

namespace cadre {
namespace {
kj::StringPtr text(const std::string& s) { return kj::StringPtr(s.c_str(), s.size()); }
}  // namespace

uint16_t master_port_for(JobId id) { return static_cast<uint16_t>(kMasterPortBase + id % kMasterPortSpan); }

void to_proto(const Resources& r, ::Resources::Builder out) {
  out.setMillicores(r.millicores);
  out.setMemoryMb(r.memory_mb);
  out.setGpus(static_cast<int32_t>(r.gpus));
}

Resources from_proto(::Resources::Reader r) { return Resources{r.getMillicores(), r.getMemoryMb(), r.getGpus()}; }

void to_proto(const NodeGpu& gpu, ::GpuDevice::Builder out) {
  out.setIndex(gpu.index);
  out.setUuid(text(gpu.uuid));
  out.setModel(text(gpu.model));
  out.setMemoryMb(gpu.memory_mb);
  auto peers = out.initNvlinkPeers(static_cast<unsigned>(gpu.nvlink_peers.size()));
  for (unsigned i = 0; i < gpu.nvlink_peers.size(); ++i) peers.set(i, gpu.nvlink_peers[i]);
}

NodeGpu from_proto(::GpuDevice::Reader r) {
  NodeGpu g;
  g.index = r.getIndex();
  g.uuid = r.getUuid();
  g.model = r.getModel();
  g.memory_mb = r.getMemoryMb();
  for (auto p : r.getNvlinkPeers()) g.nvlink_peers.push_back(p);
  return g;
}

void to_proto(const JobSpec& s, JobRequest::Builder out, bool with_script) {
  out.setName(text(s.name));
  auto argv = out.initArgv(static_cast<unsigned>(s.argv.size()));
  for (unsigned i = 0; i < s.argv.size(); ++i) argv.set(i, text(s.argv[i]));
  out.setWorkdir(text(s.workdir));
  out.setOutputPattern(text(s.output_pattern));
  to_proto(s.per_task, out.initPerTask());
  out.setNodes(s.nodes);
  out.setTasksPerNode(s.tasks_per_node);
  out.setNtasks(s.ntasks);
  out.setTimeLimitSec(static_cast<uint64_t>(s.time_limit_s));
  out.setPriority(s.priority);
  out.setUser(text(s.user));
  out.setUid(s.uid);
  out.setGid(s.gid);
  out.setNoRequeue(!s.requeue);
  out.setPartition(text(s.partition));
  out.setAccount(text(s.account));
  out.setMaxSwitches(s.max_switches);
  out.setSwitchesWaitSec(static_cast<uint64_t>(s.switches_wait_s));
  out.setTimeLimitGiven(s.time_limit_given);
  out.setGpuType(text(s.gpu_type));
  out.setBatch(s.batch);
  if (with_script) out.setScript(text(s.script));
  out.setErrorPattern(text(s.error_pattern));
}

JobSpec from_proto(JobRequest::Reader r) {
  JobSpec s;
  s.name = r.getName();
  for (auto a : r.getArgv()) s.argv.emplace_back(a);
  s.workdir = r.getWorkdir();
  s.output_pattern = r.getOutputPattern();
  s.per_task = from_proto(r.getPerTask());
  s.nodes = r.getNodes();
  s.tasks_per_node = r.getTasksPerNode();
  s.ntasks = r.getNtasks();
  s.time_limit_s = static_cast<int64_t>(std::min<uint64_t>(r.getTimeLimitSec(), uint64_t{1} << 40));
  s.priority = r.getPriority();
  s.user = r.getUser();
  s.uid = r.getUid();
  s.gid = r.getGid();
  s.requeue = !r.getNoRequeue();
  s.partition = r.getPartition();
  s.account = r.getAccount();
  s.max_switches = r.getMaxSwitches();
  s.switches_wait_s = static_cast<int64_t>(std::min<uint64_t>(r.getSwitchesWaitSec(), uint64_t{1} << 40));
  s.time_limit_given = r.getTimeLimitGiven();
  s.gpu_type = r.getGpuType();
  s.batch = r.getBatch();
  s.script = r.getScript();
  s.error_pattern = r.getErrorPattern();
  return s;
}

void to_proto(const Job& job, JobInfo::Builder out, const sched::Weights& weights) {
  out.setId(job.id);
  out.setPreemptions(job.preemptions);
  if (job.state == JobState::pending) {
    out.setPriority(job.priority.total);
    out.setPriorityExplained(text(sched::explain(job.priority, weights)));
    out.setExpectedStart(job.expected_start);
  }
  // Scripts stay out of listings: `cadre queue` must not carry megabytes.
  to_proto(job.spec, out.initRequest(), false);
  out.setState(text(std::string(to_string(job.state))));
  out.setReason(text(job.reason));
  out.setExitCode(job.exit_code);
  out.setAttempt(job.attempt);
  out.setSubmitTime(job.submit_time);
  out.setStartTime(job.start_time);
  out.setEndTime(job.end_time);
  auto names = job.node_list();
  auto nodes = out.initNodes(static_cast<unsigned>(names.size()));
  for (unsigned i = 0; i < names.size(); ++i) nodes.set(i, text(names[i]));
  auto tasks = out.initTasks(static_cast<unsigned>(job.tasks.size()));
  for (unsigned i = 0; i < job.tasks.size(); ++i) {
    const Task& t = job.tasks[i];
    auto tb = tasks[i];
    tb.setRank(t.rank);
    tb.setNode(text(t.node));
    auto gpus = tb.initGpus(static_cast<unsigned>(t.gpus.size()));
    for (unsigned g = 0; g < t.gpus.size(); ++g) gpus.set(g, t.gpus[g]);
    tb.setState(text(std::string(to_string(t.state))));
    tb.setExitCode(t.exit_code);
  }
}

void to_proto(const Node& node, NodeInfo::Builder out) {
  out.setName(text(node.name));
  out.setAddress(text(node.address));
  // A node loaded from the store that has not spoken to this master yet is
  // UNKNOWN, not UP: nothing is placed on it until it registers.
  std::string state(to_string(node.state));
  if (node.state == NodeState::up && !node.registered) state = "UNKNOWN";
  out.setState(text(state));
  to_proto(node.total, out.initTotal());
  to_proto(node.free(), out.initFree());
  auto labels = out.initLabels(static_cast<unsigned>(node.labels.size()));
  unsigned i = 0;
  for (auto& [k, v] : node.labels) {
    labels[i].setKey(text(k));
    labels[i].setValue(text(v));
    ++i;
  }
  out.setLastSeen(node.last_seen_unix);
  auto gpus = out.initGpus(static_cast<unsigned>(node.gpus.size()));
  for (unsigned g = 0; g < node.gpus.size(); ++g) to_proto(node.gpus[g], gpus[g]);
  out.setIsolation(text(node.isolation));
  out.setReason(text(node.reason));
}

void to_proto(const PartitionSummary& p, PartitionInfo::Builder out) {
  out.setName(text(p.config.name));
  out.setIsDefault(p.config.is_default);
  auto nodes = out.initNodes(static_cast<unsigned>(p.nodes.size()));
  for (unsigned i = 0; i < p.nodes.size(); ++i) nodes.set(i, text(p.nodes[i]));
  auto patterns = out.initPatterns(static_cast<unsigned>(p.config.nodes.size()));
  for (unsigned i = 0; i < p.config.nodes.size(); ++i) patterns.set(i, text(p.config.nodes[i]));
  out.setDefaultTimeSec(static_cast<uint64_t>(p.config.default_time_s));
  out.setMaxTimeSec(static_cast<uint64_t>(p.config.max_time_s));
  out.setTier(p.config.tier);
  out.setPreemptible(p.config.preemptible);
  out.setMaxRunningJobsPerUser(p.config.max_running_jobs_per_user);
  out.setMaxGpusPerUser(p.config.max_gpus_per_user);
  to_proto(p.total, out.initTotal());
  to_proto(p.free, out.initFree());
  out.setPendingJobs(p.pending);
  out.setRunningJobs(p.running);
}

std::vector<uint32_t> tasks_per_node(const Job& job) {
  std::vector<std::string> nodes = job.node_list();
  std::vector<uint32_t> per_node(nodes.size(), 0);
  for (const Task& t : job.tasks)
    ++per_node[static_cast<size_t>(std::find(nodes.begin(), nodes.end(), t.node) - nodes.begin())];
  return per_node;
}

LaunchTarget job_rank_target(const Job& job, const Task& task) {
  LaunchTarget t;
  t.rank = task.rank;
  t.world_size = static_cast<uint32_t>(job.tasks.size());
  t.nodes = job.node_list();
  t.tasks_per_node.assign(t.nodes.size(), 0);
  for (const Task& other : job.tasks) {
    size_t n = static_cast<size_t>(std::find(t.nodes.begin(), t.nodes.end(), other.node) - t.nodes.begin());
    if (other.rank == task.rank) {
      t.local_rank = t.tasks_per_node[n];
      t.node_rank = static_cast<uint32_t>(n);
    }
    ++t.tasks_per_node[n];
  }
  t.local_world_size = t.tasks_per_node[t.node_rank];
  t.argv = job.spec.argv;
  t.gpus = task.gpus;
  t.limits = job.spec.per_task;
  if (job.spec.batch) {
    // The script stands for the whole allocation on its node, as Slurm's
    // batch step does.
    t.batch = true;
    t.limits = job.spec.per_task.times(t.local_world_size);
    t.gpus.clear();
    for (const Task& other : job.tasks)
      if (other.node == task.node) t.gpus.insert(t.gpus.end(), other.gpus.begin(), other.gpus.end());
    std::sort(t.gpus.begin(), t.gpus.end());
  }
  return t;
}

std::string encode_launch(const Job& job, const LaunchTarget& target, const std::string& master_addr) {
  capnp::MallocMessageBuilder message;
  auto l = start_envelope(message, 0).initLaunch();
  l.setJobId(job.id);
  l.setAttempt(job.attempt);
  l.setStep(target.step);
  l.setRank(target.rank);
  l.setWorldSize(target.world_size);
  l.setLocalRank(target.local_rank);
  l.setLocalWorldSize(target.local_world_size);
  l.setNodeRank(target.node_rank);
  auto nl = l.initNodelist(static_cast<unsigned>(target.nodes.size()));
  auto tpn = l.initTasksPerNode(static_cast<unsigned>(target.nodes.size()));
  for (unsigned i = 0; i < target.nodes.size(); ++i) {
    nl.set(i, text(target.nodes[i]));
    tpn.set(i, i < target.tasks_per_node.size() ? target.tasks_per_node[i] : 1);
  }
  const std::vector<std::string> job_nodes = job.node_list();
  const std::vector<uint32_t> job_tpn = tasks_per_node(job);
  auto jnl = l.initJobNodelist(static_cast<unsigned>(job_nodes.size()));
  auto jtpn = l.initJobTasksPerNode(static_cast<unsigned>(job_nodes.size()));
  for (unsigned i = 0; i < job_nodes.size(); ++i) {
    jnl.set(i, text(job_nodes[i]));
    jtpn.set(i, job_tpn[i]);
  }
  auto gpus = l.initGpus(static_cast<unsigned>(target.gpus.size()));
  for (unsigned i = 0; i < target.gpus.size(); ++i) gpus.set(i, target.gpus[i]);
  auto argv = l.initArgv(static_cast<unsigned>(target.argv.size()));
  for (unsigned i = 0; i < target.argv.size(); ++i) argv.set(i, text(target.argv[i]));
  l.setWorkdir(text(job.spec.workdir));
  l.setOutputPattern(text(job.spec.output_pattern));
  l.setErrorPattern(text(job.spec.error_pattern));
  l.setMasterAddr(text(master_addr));
  // Each step gets its own port next to the job's, so a `cadre run` of a
  // torch program inside a batch job does not collide with another step.
  const uint16_t base = job.master_port ? job.master_port : master_port_for(job.id);
  l.setMasterPort(static_cast<uint16_t>(kMasterPortBase + (base - kMasterPortBase + target.step) % kMasterPortSpan));
  l.setUser(text(job.spec.user));
  l.setUid(job.spec.uid);
  l.setGid(job.spec.gid);
  l.setJobName(text(job.spec.name));
  to_proto(job.spec.per_task, l.initPerTask());
  to_proto(target.limits, l.initLimits());
  l.setBatch(target.batch);
  if (target.batch) l.setScript(text(job.spec.script));
  l.setNtasks(job.spec.ntasks);
  l.setCpusPerTask(static_cast<uint32_t>(std::max<int64_t>(1, job.spec.per_task.millicores / 1000)));
  return encode(message);
}

std::string encode_kill(JobId id, Attempt attempt, uint32_t rank, uint32_t step) {
  capnp::MallocMessageBuilder message;
  auto k = start_envelope(message, 0).initKill();
  k.setJobId(id);
  k.setAttempt(attempt);
  k.setRank(rank);
  k.setStep(step);
  return encode(message);
}

std::string encode_task_ack(JobId id, uint32_t rank, Attempt attempt, uint32_t step) {
  capnp::MallocMessageBuilder message;
  auto a = start_envelope(message, 0).initTaskAck();
  a.setJobId(id);
  a.setRank(rank);
  a.setAttempt(attempt);
  a.setStep(step);
  return encode(message);
}

std::string encode_please_register() {
  capnp::MallocMessageBuilder message;
  start_envelope(message, 0).initPleaseRegister();
  return encode(message);
}

std::string encode_register_reply(uint32_t heartbeat_interval_ms) {
  capnp::MallocMessageBuilder message;
  start_envelope(message, 0).initRegisterReply().setHeartbeatIntervalMs(heartbeat_interval_ms);
  return encode(message);
}

StatsReport make_stats_report(const MasterStats& stats, const Cluster& cluster, uint64_t malformed_messages,
                              int64_t now_ms) {
  StatsReport r;
  r.stats = stats;
  r.uptime_s = (now_ms - stats.started_ms) / 1000;
  r.malformed_messages = malformed_messages;
  for (const auto& [id, j] : cluster.jobs()) {
    if (j.state == JobState::pending) r.jobs_pending += 1;
    else if (j.state == JobState::running) r.jobs_running += 1;
  }
  for (const auto& [name, n] : cluster.nodes()) {
    if (!n.registered) continue;
    r.nodes_registered += 1;
    if (n.state == NodeState::up) r.nodes_up += 1;
  }
  r.usage = sample_process_usage();
  return r;
}

std::string encode_stats_reply(uint64_t request_id, const StatsReport& report) {
  capnp::MallocMessageBuilder message;
  auto out = start_envelope(message, request_id).initStatsReply();
  const MasterStats& s = report.stats;
  out.setUptimeSec(report.uptime_s);
  out.setPasses(s.passes);
  out.setLastPassUs(s.last_pass.total_us());
  out.setMaxPassUs(s.max_pass_us);
  out.setTotalPassUs(s.total_pass_us);
  out.setLastSnapshotUs(s.last_pass.snapshot_us);
  out.setLastDecideUs(s.last_pass.decide_us);
  out.setLastApplyUs(s.last_pass.apply_us);
  out.setLastPassCpuUs(s.last_pass.cpu_us);
  out.setJobsPending(report.jobs_pending);
  out.setJobsRunning(report.jobs_running);
  out.setNodesRegistered(report.nodes_registered);
  out.setNodesUp(report.nodes_up);
  out.setMessagesHandled(s.messages);
  out.setMalformedMessages(report.malformed_messages);
  out.setHeartbeats(s.heartbeats);
  out.setLastCommitUs(s.last_commit_us);
  out.setCommits(s.commits);
  out.setRssBytes(report.usage.rss_bytes);
  out.setCpuUserUs(report.usage.cpu_user_us);
  out.setCpuSystemUs(report.usage.cpu_system_us);
  return encode(message);
}

}  // namespace cadre
