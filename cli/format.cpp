#include "cli/format.hpp"

#include <algorithm>
#include <ctime>

#include "common/begin_time.hpp"
#include "common/escape.hpp"
#include "common/job_array.hpp"
#include "common/job_mail.hpp"
#include "common/job_request.hpp"
#include "common/resources.hpp"

namespace cadre::cli {

std::string iso_time(int64_t unix_seconds) {
  if (unix_seconds <= 0) return "";
  return format_local_time(unix_seconds);
}

namespace {

std::string join(capnp::List<capnp::Text>::Reader list, const char* sep) {
  std::string out;
  for (auto s : list) out.append(out.empty() ? "" : sep).append(s.cStr());
  return out;
}

int64_t elapsed(JobInfo::Reader j, int64_t now) {
  if (j.getStartTime() <= 0) return 0;
  return (j.getEndTime() > 0 ? j.getEndTime() : now) - j.getStartTime();
}

}  // namespace

std::string display_id(JobInfo::Reader j) {
  auto r = j.getRequest();
  if (r.getArrayJobId() == 0) return std::to_string(j.getId());
  std::string out = std::to_string(r.getArrayJobId()) + "_";
  if (j.getArrayLeft().size() == 0) return out + std::to_string(r.getArrayTaskId());
  // squeue's form for the tasks not started: 12_[5-99%10].
  out += "[" + std::string(j.getArrayLeft().cStr());
  if (uint32_t t = array_throttle(r.getArray().cStr()); t > 0) out += "%" + std::to_string(t);
  return out + "]";
}

nlohmann::json job_json(JobInfo::Reader j) {
  auto r = j.getRequest();
  nlohmann::json tasks = nlohmann::json::array();
  for (auto t : j.getTasks()) {
    std::vector<uint32_t> gpus;
    for (uint32_t g : t.getGpus()) gpus.push_back(g);
    tasks.push_back({{"rank", t.getRank()},
                     {"node", t.getNode().cStr()},
                     {"gpus", gpus},
                     {"state", t.getState().cStr()},
                     {"exit_code", t.getExitCode()}});
  }
  std::vector<std::string> nodes, argv, hints;
  for (auto h : r.getHints()) hints.emplace_back(h.cStr());
  for (auto n : j.getNodes()) nodes.emplace_back(n.cStr());
  for (auto a : r.getArgv()) argv.emplace_back(a.cStr());
  auto per = r.getPerTask();
  nlohmann::json out = {{"id", j.getId()},
          {"name", r.getName().cStr()},
          {"user", r.getUser().cStr()},
          {"state", j.getState().cStr()},
          {"reason", j.getReason().cStr()},
          {"exit_code", j.getExitCode()},
          {"attempt", j.getAttempt()},
          {"requeue", !r.getNoRequeue()},
          {"priority", r.getPriority()},
          {"partition", r.getPartition().cStr()},
          {"account", r.getAccount().cStr()},
          {"switches", r.getMaxSwitches()},
          {"switches_wait", r.getSwitchesWaitSec()},
          {"scheduling_priority", j.getPriority()},
          {"priority_explained", j.getPriorityExplained().cStr()},
          {"expected_start", j.getExpectedStart()},
          {"preemptions", j.getPreemptions()},
          {"submit_time", j.getSubmitTime()},
          {"start_time", j.getStartTime()},
          {"end_time", j.getEndTime()},
          {"time_limit", r.getTimeLimitSec()},
          {"ntasks", r.getNtasks()},
          {"nodes_requested", r.getNodes()},
          {"tasks_per_node", r.getTasksPerNode()},
          {"cpus_per_task", static_cast<double>(per.getMillicores()) / 1000.0},
          {"mem_per_task_mb", per.getMemoryMb()},
          {"gpus_per_task", per.getGpus()},
          {"command", argv},
          {"workdir", r.getWorkdir().cStr()},
          {"output", r.getOutputPattern().cStr()},
          {"error", r.getErrorPattern().cStr()},
          {"gpu_type", r.getGpuType().cStr()},
          {"batch", r.getBatch()},
          {"hints", hints},
          {"export", r.getExportMode().cStr()},
          {"submit_host", r.getSubmitHost().cStr()},
          {"nodes", nodes},
          {"tasks", tasks}};
  out["dependency"] = r.getDependency().cStr();
  out["nodelist_requested"] = r.getNodelist().cStr();
  out["exclude"] = r.getExclude().cStr();
  out["exclusive"] = r.getExclusive();
  out["signal"] = r.getSignal().cStr();
  out["begin_time"] = r.getBeginTime();  // --begin (unix seconds); 0 none
  out["deadline"] = r.getDeadline();     // --deadline (unix seconds); 0 none
  out["constraint"] = r.getConstraint().cStr();
  out["open_mode"] = r.getOpenTruncate() ? "truncate" : "append";
  out["mail_type"] = format_mail_type(r.getMailType());
  out["mail_user"] = r.getMailUser().cStr();
  out["qos"] = r.getQos().size() > 0 ? r.getQos().cStr() : "normal";
  out["reservation"] = r.getReservation().cStr();
  if (r.getArrayJobId() != 0) {
    out["array"] = r.getArray().cStr();
    out["array_job_id"] = r.getArrayJobId();
    // The record of the tasks not started has no index of its own.
    out["array_task_id"] = j.getArrayLeft().size() > 0 ? nlohmann::json(nullptr) : nlohmann::json(r.getArrayTaskId());
    out["array_pending"] = j.getArrayLeft().cStr();
    out["display_id"] = display_id(j);
  }
  return out;
}

nlohmann::json node_json(NodeInfo::Reader n) {
  nlohmann::json labels = nlohmann::json::object();
  for (auto l : n.getLabels()) labels[l.getKey().cStr()] = l.getValue().cStr();
  std::vector<std::string> features;
  for (auto f : n.getFeatures()) features.emplace_back(f.cStr());
  auto total = n.getTotal(), free = n.getFree();
  nlohmann::json gpus = nlohmann::json::array();
  for (auto g : n.getGpus()) {
    std::vector<uint32_t> peers;
    for (uint32_t p : g.getNvlinkPeers()) peers.push_back(p);
    gpus.push_back({{"index", g.getIndex()},
                    {"uuid", g.getUuid().cStr()},
                    {"model", g.getModel().cStr()},
                    {"memory_mb", g.getMemoryMb()},
                    {"nvlink_peers", peers}});
  }
  return {{"name", n.getName().cStr()},
          {"state", n.getState().cStr()},
          {"address", n.getAddress().cStr()},
          {"cpus", static_cast<double>(total.getMillicores()) / 1000.0},
          {"cpus_free", static_cast<double>(free.getMillicores()) / 1000.0},
          {"memory_mb", total.getMemoryMb()},
          {"memory_free_mb", free.getMemoryMb()},
          {"gpus", total.getGpus()},
          {"gpus_free", free.getGpus()},
          {"labels", labels},
          {"features", features},
          {"last_seen", n.getLastSeen()},
          {"gpu_devices", gpus},
          {"isolation", n.getIsolation().cStr()},
          {"reason", n.getReason().cStr()}};
}

std::string render_table(const std::vector<std::vector<std::string>>& raw_rows) {
  // Every cell may hold a user's text (a job name, a label): escaped here,
  // once, so no table can carry a terminal control sequence or a fake line.
  std::vector<std::vector<std::string>> rows;
  rows.reserve(raw_rows.size());
  for (auto& raw : raw_rows) {
    auto& row = rows.emplace_back();
    row.reserve(raw.size());
    for (auto& cell : raw) row.push_back(escape_control(cell));
  }
  std::vector<size_t> width;
  for (auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  std::string out;
  for (auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string jobs_table(const std::vector<JobInfo::Reader>& jobs, int64_t now) {
  std::vector<std::vector<std::string>> rows{{"JOBID", "NAME", "USER", "STATE", "TIME", "NODES", "NODELIST(REASON)"}};
  for (auto j : jobs) {
    std::string where = join(j.getNodes(), ",");
    std::string state = j.getState().cStr();
    if (state == "PENDING") where = std::string("(").append(j.getReason().cStr()).append(")");
    auto r = j.getRequest();
    uint32_t nodes = j.getNodes().size() > 0 ? j.getNodes().size() : r.getNodes();
    rows.push_back({display_id(j), r.getName().cStr(), r.getUser().cStr(), state,
                    format_duration_s(elapsed(j, now)), nodes > 0 ? std::to_string(nodes) : "-", where});
  }
  return render_table(rows);
}

std::string job_details(JobInfo::Reader j, int64_t now, bool master_mails) {
  auto r = j.getRequest();
  auto per = r.getPerTask();
  std::string argv = join(r.getArgv(), " ");
  std::string out;
  // Values are the user's text: escaped so each stays on its own line.
  auto line = [&out](const std::string& k, const std::string& v) { out += k + "=" + escape_control(v) + "\n"; };
  line("JobId", std::to_string(j.getId()));
  if (r.getArrayJobId() != 0) {
    line("ArrayJobId", std::to_string(r.getArrayJobId()));
    line("ArrayTaskId", j.getArrayLeft().size() > 0 ? std::string(j.getArrayLeft().cStr()) : std::to_string(r.getArrayTaskId()));
    if (uint32_t t = array_throttle(r.getArray().cStr()); t > 0) line("ArrayTaskThrottle", std::to_string(t));
  }
  line("Name", r.getName().cStr());
  line("User", std::string(r.getUser().cStr()) + "(" + std::to_string(r.getUid()) + ")");
  line("State", j.getState().cStr());
  if (j.getReason().size() > 0) line("Reason", j.getReason().cStr());
  line("ExitCode", std::to_string(j.getExitCode()));
  line("Attempt", std::to_string(j.getAttempt()));
  if (r.getDependency().size() > 0)
    line("Dependency", std::string(r.getDependency().cStr()) + (r.getKillOnInvalidDep() ? " (kill on invalid)" : ""));
  if (r.getNodelist().size() > 0) line("ReqNodeList", r.getNodelist().cStr());
  if (r.getExclude().size() > 0) line("ExcNodeList", r.getExclude().cStr());
  if (r.getExclusive()) line("OverSubscribe", "NO (--exclusive)");
  if (r.getSignal().size() > 0) line("Signal", r.getSignal().cStr());
  if (r.getConstraint().size() > 0) line("Features", r.getConstraint().cStr());  // scontrol's name for -C
  if (r.getOpenTruncate()) line("OpenMode", "truncate");
  if (r.getMailType() != 0)
    line("MailUser", std::string(r.getMailUser().cStr()) + " MailType=" + format_mail_type(r.getMailType()) +
                         (master_mails ? "" : " (the master has no mail program: no mail will be sent)"));
  line("Partition", r.getPartition().cStr());
  line("Account", r.getAccount().cStr());
  // Jobs stored before QOS existed ran under no QOS: Slurm's name for that.
  line("QOS", r.getQos().size() > 0 ? r.getQos().cStr() : "normal");
  if (r.getReservation().size() > 0) line("Reservation", r.getReservation().cStr());
  line("JobPriority", std::to_string(r.getPriority()));
  if (j.getPriorityExplained().size() > 0) line("Priority", j.getPriorityExplained().cStr());
  if (j.getExpectedStart() > 0) line("ExpectedStart", iso_time(j.getExpectedStart()));
  if (r.getMaxSwitches() > 0)
    line("Switches", std::to_string(r.getMaxSwitches()) +
                         (r.getSwitchesWaitSec() ? "@" + format_duration_s(static_cast<int64_t>(r.getSwitchesWaitSec()))
                                                 : ""));
  if (j.getPreemptions() > 0) line("Preemptions", std::to_string(j.getPreemptions()));
  line("SubmitTime", iso_time(j.getSubmitTime()));
  // Slurm's name for --begin's time: the job is not eligible before it.
  if (r.getBeginTime() > 0) line("EligibleTime", iso_time(r.getBeginTime()));
  if (r.getDeadline() > 0) line("Deadline", iso_time(r.getDeadline()));
  line("StartTime", iso_time(j.getStartTime()));
  line("EndTime", iso_time(j.getEndTime()));
  line("RunTime", format_duration_s(elapsed(j, now)));
  line("TimeLimit", r.getTimeLimitSec() ? format_duration_s(static_cast<int64_t>(r.getTimeLimitSec())) : "UNLIMITED");
  line("NumTasks", std::to_string(r.getNtasks()));
  line("NumNodes", r.getNodes() ? std::to_string(r.getNodes()) : "any");
  line("PerTask", from_proto(per).to_string());
  if (r.getGpuType().size() > 0) line("GpuType", r.getGpuType().cStr());
  line("NodeList", join(j.getNodes(), ","));
  line(r.getBatch() ? "BatchScript" : "Command", argv);
  line("WorkDir", r.getWorkdir().cStr());
  line("Output", r.getOutputPattern().cStr());
  if (r.getErrorPattern().size() > 0) line("Error", r.getErrorPattern().cStr());
  if (r.getExportMode().size() > 0) line("Export", r.getExportMode().cStr());
  if (r.getSubmitHost().size() > 0) line("SubmitHost", r.getSubmitHost().cStr());
  if (r.getHints().size() > 0) {
    std::string hints;
    for (auto h : r.getHints()) hints.append(hints.empty() ? "" : " ").append(h.cStr());
    // Recorded, not acted on: say so where someone looks for them.
    line("Hints", hints + " (recorded only)");
  }
  for (auto t : j.getTasks()) {
    std::string gpus;
    for (auto g : t.getGpus()) gpus.append(gpus.empty() ? "" : ",").append(std::to_string(g));
    out += "  Rank=" + std::to_string(t.getRank()) + " Node=" + escape_control(t.getNode().cStr()) +
           " Gpus=" + (gpus.empty() ? "-" : gpus) + " State=" + escape_control(t.getState().cStr()) +
           " ExitCode=" + std::to_string(t.getExitCode()) + "\n";
  }
  return out;
}

std::string nodes_table(capnp::List<NodeInfo>::Reader nodes) {
  std::vector<std::vector<std::string>> rows{{"NAME", "STATE", "CPUS(free/total)", "MEMORY(free/total)",
                                              "GPUS(free/total)", "GPU_MODEL", "ISOLATION", "ADDRESS", "FEATURES", "LABELS"}};
  for (auto n : nodes) {
    auto t = n.getTotal(), f = n.getFree();
    std::string labels, features;
    for (auto feature : n.getFeatures()) features.append(features.empty() ? "" : ",").append(feature.cStr());
    for (auto l : n.getLabels())
      labels.append(labels.empty() ? "" : ",").append(l.getKey().cStr()).append("=").append(l.getValue().cStr());
    // "8x NVIDIA H100 80GB HBM3", or each model's count on a mixed node.
    std::vector<std::pair<std::string, int>> models;
    for (auto g : n.getGpus()) {
      auto it = std::find_if(models.begin(), models.end(), [&](const auto& m) { return m.first == g.getModel().cStr(); });
      if (it == models.end()) models.emplace_back(g.getModel().cStr(), 1);
      else ++it->second;
    }
    std::string model;
    for (const auto& [name, count] : models)
      model.append(model.empty() ? "" : ",").append(std::to_string(count) + "x " + name);
    // The table shows the mechanism; --json has the full sentence with why.
    std::string isolation = n.getIsolation().cStr();
    isolation = isolation.substr(0, isolation.find(" ("));
    rows.push_back({n.getName().cStr(), n.getState().cStr(),
                    format_cpus(f.getMillicores()) + "/" + format_cpus(t.getMillicores()),
                    format_size_mb(f.getMemoryMb()) + "/" + format_size_mb(t.getMemoryMb()),
                    std::to_string(f.getGpus()) + "/" + std::to_string(t.getGpus()), model.empty() ? "-" : model,
                    isolation.empty() ? "-" : isolation, n.getAddress().cStr(), features.empty() ? "-" : features,
                    labels.empty() ? "-" : labels});
  }
  return render_table(rows);
}

nlohmann::json partition_json(PartitionInfo::Reader p) {
  std::vector<std::string> nodes, patterns;
  for (auto n : p.getNodes()) nodes.emplace_back(n.cStr());
  for (auto n : p.getPatterns()) patterns.emplace_back(n.cStr());
  auto res = [](::Resources::Reader r) {
    return nlohmann::json{{"cpus", static_cast<double>(r.getMillicores()) / 1000.0},
                          {"memory_mb", r.getMemoryMb()},
                          {"gpus", r.getGpus()}};
  };
  return {{"name", p.getName().cStr()},
          {"default", p.getIsDefault()},
          {"nodes", nodes},
          {"patterns", patterns},
          {"default_time", p.getDefaultTimeSec()},
          {"max_time", p.getMaxTimeSec()},
          {"tier", p.getTier()},
          {"preemptible", p.getPreemptible()},
          {"max_running_jobs_per_user", p.getMaxRunningJobsPerUser()},
          {"max_gpus_per_user", p.getMaxGpusPerUser()},
          {"total", res(p.getTotal())},
          {"free", res(p.getFree())},
          {"pending_jobs", p.getPendingJobs()},
          {"running_jobs", p.getRunningJobs()}};
}

std::string partitions_table(capnp::List<PartitionInfo>::Reader parts) {
  std::vector<std::vector<std::string>> rows{{"PARTITION", "NODES", "GPUS(free/total)", "CPUS(free/total)",
                                              "DEFAULTTIME", "MAXTIME", "TIER", "PREEMPTIBLE", "USERLIMITS",
                                              "PENDING", "RUNNING"}};
  auto limit = [](uint64_t s) { return s ? format_duration_s(static_cast<int64_t>(s)) : std::string("UNLIMITED"); };
  for (auto p : parts) {
    auto t = p.getTotal(), f = p.getFree();
    std::string limits;
    if (p.getMaxRunningJobsPerUser()) limits += "jobs=" + std::to_string(p.getMaxRunningJobsPerUser());
    if (p.getMaxGpusPerUser())
      limits += std::string(limits.empty() ? "" : ",") + "gpus=" + std::to_string(p.getMaxGpusPerUser());
    rows.push_back({std::string(p.getName().cStr()) + (p.getIsDefault() ? "*" : ""), std::to_string(p.getNodes().size()),
                    std::to_string(f.getGpus()) + "/" + std::to_string(t.getGpus()),
                    format_cpus(f.getMillicores()) + "/" + format_cpus(t.getMillicores()), limit(p.getDefaultTimeSec()),
                    limit(p.getMaxTimeSec()), std::to_string(p.getTier()), p.getPreemptible() ? "yes" : "no",
                    limits.empty() ? "-" : limits, std::to_string(p.getPendingJobs()),
                    std::to_string(p.getRunningJobs())});
  }
  return render_table(rows);
}

}  // namespace cadre::cli
