#include "master/wire/encode.hpp"

#include <capnp/message.h>

#include <algorithm>

#include "common/codec.hpp"
#include "common/job_request.hpp"
#include "common/proto_text.hpp"
#include "master/state/cluster.hpp"

namespace cadre::wire {

void to_proto(const Job& job, JobInfo::Builder out, const sched::Weights& weights) {
  out.setId(job.id);
  out.setPreemptions(job.preemptions);
  if (!job.array_left.empty()) out.setArrayLeft(job.array_left.format());
  if (job.state == JobState::pending) {
    out.setPriority(job.priority.total);
    out.setPriorityExplained(text(sched::explain(job.priority, weights)));
    out.setExpectedStart(job.expected_start);
  }
  // Scripts stay out of listings: `cadre queue` must not carry megabytes.
  to_proto(job.spec, out.initRequest(), false);
  // squeue shows a pending job's partition list, a started one's partition.
  if (job.state == JobState::pending && !job.spec.partition_list.empty())
    out.getRequest().setPartition(job.spec.partition_list);
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
  auto features = out.initFeatures(static_cast<unsigned>(node.features.size()));
  i = 0;
  for (const std::string& f : node.features) features.set(i++, text(f));
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

std::string encode_launch(const Job& job, const LaunchCommand& cmd) {
  const LaunchTarget& target = cmd.target;
  capnp::MallocMessageBuilder message;
  auto l = start_envelope(message, 0).initLaunch();
  l.setJobId(job.id);
  l.setAttempt(cmd.attempt);
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
  // --open-mode=truncate empties a file only where one process opens it
  // first and alone: the batch script (its steps come after it and
  // append), a one-task job, or a rank with a file of its own (%t). Ranks
  // sharing a file append, so none erases what another wrote.
  const bool own_file = job.spec.output_pattern.find("%t") != std::string::npos &&
                        (job.spec.error_pattern.empty() || job.spec.error_pattern.find("%t") != std::string::npos);
  l.setTruncateOutput(job.spec.open_truncate && target.step == 0 &&
                      (target.batch || job.spec.ntasks == 1 || own_file));
  l.setMasterAddr(text(cmd.master_addr));
  l.setMasterPort(cmd.master_port);
  l.setUser(text(job.spec.user));
  l.setUid(job.spec.uid);
  l.setGid(job.spec.gid);
  l.setJobName(text(job.spec.name));
  to_proto(job.spec.per_task, l.initPerTask());
  to_proto(target.limits, l.initLimits());
  l.setBatch(target.batch);
  if (target.batch) l.setScript(text(job.spec.script));
  l.setUmask(job.spec.umask);
  // A job's ranks start from the submitter's exported environment, a
  // step's from its caller's (the batch script's, after its `module load`).
  const std::vector<std::string>* env = &job.spec.environment;
  if (target.step != 0) {
    auto step = job.steps.find(target.step);
    env = step != job.steps.end() ? &step->second.environment : nullptr;
  }
  if (env) {
    auto out = l.initEnvironment(static_cast<unsigned>(env->size()));
    for (unsigned i = 0; i < env->size(); ++i) out.set(i, text((*env)[i]));
  }
  l.setPartition(text(job.spec.partition));
  l.setAccount(text(job.spec.account));
  l.setQos(text(job.spec.qos));
  l.setSubmitHost(text(job.spec.submit_host));
  l.setExportMode(text(job.spec.export_mode));
  if (job.spec.array_job_id != 0 && job.spec.array_task_id >= 0) {
    l.setArrayJobId(job.spec.array_job_id);
    l.setArrayTaskId(job.spec.array_task_id);
    l.setArray(text(job.spec.array));
  }
  l.setNtasks(job.spec.ntasks);
  l.setCpusPerTask(static_cast<uint32_t>(std::max<int64_t>(1, job.spec.per_task.millicores / 1000)));
  return encode(message);
}

std::string encode_kill(const KillCommand& command) {
  capnp::MallocMessageBuilder message;
  auto k = start_envelope(message, 0).initKill();
  k.setJobId(command.job);
  k.setAttempt(command.attempt);
  k.setRank(command.rank);
  k.setStep(command.step);
  k.setSignal(command.signal);
  k.setLeaderOnly(command.leader_only);
  return encode(message);
}

std::string encode_command(const AgentCommand& command, const Cluster& cluster) {
  if (const auto* kill = std::get_if<KillCommand>(&command.what)) return encode_kill(*kill);
  const auto& launch = std::get<LaunchCommand>(command.what);
  // Commands go out before ended jobs are evicted: the job is there unless
  // the state was reloaded, and then the command was dropped already.
  const Job* job = cluster.find_job(launch.job);
  return job ? encode_launch(*job, launch) : std::string();
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

StatsReport make_stats_report(const MasterStats& stats, const Cluster& cluster, int64_t now_ms) {
  StatsReport r;
  r.stats = stats;
  r.uptime_s = (now_ms - stats.started_ms) / 1000;
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
  out.setOverLimitRequests(report.over_limit_requests);
  out.setRefusedMessages(report.refused_messages);
  return encode(message);
}

}  // namespace cadre::wire
