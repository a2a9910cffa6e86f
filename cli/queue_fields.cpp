#include "cli/queue_fields.hpp"

#include <grp.h>

#include <capnp/message.h>

#include <array>
#include <cmath>
#include <cstdio>

#include "cli/format.hpp"
#include "cli/job_filters.hpp"
#include "common/hostlist.hpp"
#include "common/resources.hpp"

namespace cadre::cli {
namespace {

using Job = JobInfo::Reader;

std::string text(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }
// squeue prints an unset string as C's printf prints a null pointer.
std::string or_null(capnp::Text::Reader t) { return t.size() ? text(t) : "(null)"; }
std::string when(int64_t unix_s) { return unix_s > 0 ? iso_time(unix_s) : "N/A"; }
// squeue's elapsed form; it calls a negative or over-a-year span INVALID.
std::string span(int64_t s) { return s < 0 || s > 365LL * 86400 ? "INVALID" : format_duration_s(s); }

bool pending(Job j) { return text(j.getState()) == "PENDING"; }
int64_t used(Job j, int64_t now) {
  if (j.getStartTime() <= 0 || pending(j)) return 0;
  return (j.getEndTime() > 0 ? j.getEndTime() : now) - j.getStartTime();
}
std::string limit(Job j) {
  auto s = j.getRequest().getTimeLimitSec();
  return s ? span(static_cast<int64_t>(s)) : "UNLIMITED";
}
// Per node when the job asks for whole nodes' shapes, else per task.
uint32_t tasks_per_node(Job j) {
  auto r = j.getRequest();
  return r.getNodes() > 0 ? std::max<uint32_t>(r.getTasksPerNode(), 1) : 1;
}
std::string gpu_tres(int64_t gpus) { return gpus > 0 ? "gres/gpu:" + std::to_string(gpus) : "N/A"; }
std::string start(Job j) {
  if (j.getStartTime() > 0) return when(j.getStartTime());
  if (j.getExpectedStart() > 0) return when(j.getExpectedStart());
  return when(j.getRequest().getBeginTime());
}
std::string end(Job j) {
  const int64_t lim = static_cast<int64_t>(j.getRequest().getTimeLimitSec());
  if (j.getEndTime() > 0) return when(j.getEndTime());
  if (j.getStartTime() > 0) return lim ? when(j.getStartTime() + lim) : "NONE";
  return j.getExpectedStart() > 0 && lim ? when(j.getExpectedStart() + lim) : "N/A";
}
std::string reason(Job j) { return j.getReason().size() ? text(j.getReason()) : "None"; }
// %R: why a job waits or failed, in parentheses; where it runs otherwise.
std::string reason_list(Job j) {
  const std::string state = text(j.getState());
  // An ended job without a reason of its own gets squeue's for its state.
  if (state == "FAILED" && !j.getReason().size()) return "(NonZeroExitCode)";
  if (state == "TIMEOUT" && !j.getReason().size()) return "(TimeLimit)";
  if (state == "PENDING" || state == "FAILED" || state == "TIMEOUT") return "(" + reason(j) + ")";
  return job_nodelist(j);
}
std::string priority_fraction(Job j) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%16.14f", j.getPriority() / 4294967295.0);
  return buf;
}
std::string array_task(Job j) {
  auto r = j.getRequest();
  if (r.getArrayJobId() == 0) return "N/A";
  return j.getArrayLeft().size() ? text(j.getArrayLeft()) : std::to_string(r.getArrayTaskId());
}
std::string array_job(Job j) {
  auto r = j.getRequest();
  return std::to_string(r.getArrayJobId() ? r.getArrayJobId() : j.getId());
}
std::string command(Job j) {
  std::string out;
  for (auto a : j.getRequest().getArgv()) out.append(out.empty() ? "" : " ").append(a.cStr());
  return out;
}
std::string stdout_of(Job j) { return or_null(j.getRequest().getOutputPattern()); }

struct JobField {
  char letter;        // '\0': a name only -O knows
  const char* names;  // -O names, lower case, space-separated
  const char* header;
  std::string (*value)(Job, int64_t now);
  bool cut = true;
};

// One row per field squeue defines.
const JobField kFields[] = {
    {'a', "account", "ACCOUNT", [](Job j, int64_t) { return j.getRequest().getAccount().size() ? text(j.getRequest().getAccount()) : text(j.getRequest().getUser()); }},
    {'A', "", "JOBID", [](Job j, int64_t) { return std::to_string(j.getId()); }},
    {'b', "tres-per-node", "TRES_PER_NODE", [](Job j, int64_t) { return gpu_tres(static_cast<int64_t>(j.getRequest().getPerTask().getGpus()) * tasks_per_node(j)); }},
    {'B', "batchhost", "EXEC_HOST", [](Job j, int64_t) { return j.getNodes().size() ? text(j.getNodes()[0]) : std::string("n/a"); }},
    {'c', "mincpus", "MIN_CPUS", [](Job j, int64_t) { return std::to_string((static_cast<int64_t>(j.getRequest().getPerTask().getMillicores()) * tasks_per_node(j) + 999) / 1000); }},
    {'C', "numcpus", "CPUS", [](Job j, int64_t) { return std::to_string(job_cpus(j)); }},
    {'d', "mintmpdisk", "MIN_TMP_DISK", [](Job, int64_t) { return std::string("0"); }},
    {'D', "numnodes", "NODES", [](Job j, int64_t) { return std::to_string(job_node_count(j)); }},
    {'e', "endtime", "END_TIME", [](Job j, int64_t) { return end(j); }},
    {'E', "dependency", "DEPENDENCY", [](Job j, int64_t) { return or_null(j.getRequest().getDependency()); }},
    {'f', "feature", "FEATURES", [](Job j, int64_t) { return or_null(j.getRequest().getConstraint()); }},
    {'F', "arrayjobid jobarrayid", "ARRAY_JOB_ID", [](Job j, int64_t) { return array_job(j); }},
    {'g', "groupname", "GROUP", [](Job j, int64_t) { return job_group_name(j); }},
    {'G', "groupid", "GROUP", [](Job j, int64_t) { return std::to_string(j.getRequest().getGid()); }},
    {'h', "oversubscribe", "OVER_SUBSCRIBE", [](Job j, int64_t) { return std::string(j.getRequest().getExclusive() ? "NO" : "OK"); }},
    {'H', "sockets", "SOCKETS_PER_NODE", [](Job, int64_t) { return std::string("*"); }},
    {'i', "jobid", "JOBID", [](Job j, int64_t) { return display_id(j); }},
    {'I', "cores", "CORES_PER_SOCKET", [](Job, int64_t) { return std::string("*"); }},
    {'j', "name", "NAME", [](Job j, int64_t) { return text(j.getRequest().getName()); }},
    {'J', "threads", "THREADS_PER_CORE", [](Job, int64_t) { return std::string("*"); }},
    {'k', "comment", "COMMENT", [](Job, int64_t) { return std::string("(null)"); }},
    {'K', "arraytaskid", "ARRAY_TASK_ID", [](Job j, int64_t) { return array_task(j); }},
    {'l', "timelimit", "TIME_LIMIT", [](Job j, int64_t) { return limit(j); }},
    {'L', "timeleft", "TIME_LEFT", [](Job j, int64_t now) { auto s = j.getRequest().getTimeLimitSec(); return s ? span(static_cast<int64_t>(s) - used(j, now)) : std::string("UNLIMITED"); }},
    {'m', "minmemory", "MIN_MEMORY", [](Job j, int64_t) { return format_size_mb(static_cast<int64_t>(j.getRequest().getPerTask().getMemoryMb()) * tasks_per_node(j)); }},
    {'M', "timeused", "TIME", [](Job j, int64_t now) { return span(used(j, now)); }},
    {'n', "reqnodes", "REQ_NODES", [](Job j, int64_t) { return text(j.getRequest().getNodelist()); }},
    {'N', "nodelist nodes", "NODELIST", [](Job j, int64_t) { return job_nodelist(j); }, false},
    {'o', "command", "COMMAND", [](Job j, int64_t) { return command(j); }},
    {'O', "contiguous", "CONTIGUOUS", [](Job, int64_t) { return std::string("0"); }},
    {'p', "priority", "PRIORITY", [](Job j, int64_t) { return priority_fraction(j); }},
    {'P', "partition", "PARTITION", [](Job j, int64_t) { return text(j.getRequest().getPartition()); }},
    {'Q', "prioritylong", "PRIORITY", [](Job j, int64_t) { return std::to_string(std::llround(std::max(j.getPriority(), 0.0))); }},
    {'q', "qos", "QOS", [](Job j, int64_t) { return j.getRequest().getQos().size() ? text(j.getRequest().getQos()) : std::string("normal"); }},
    {'r', "reason", "REASON", [](Job j, int64_t) { return reason(j); }},
    {'R', "reasonlist", "NODELIST(REASON)", [](Job j, int64_t) { return reason_list(j); }, false},
    {'s', "selectjobinfo", "SELECT_JOBINFO", [](Job, int64_t) { return std::string("N/A"); }},
    {'S', "starttime", "START_TIME", [](Job j, int64_t) { return start(j); }},
    {'t', "statecompact", "ST", [](Job j, int64_t) { return job_state_code(text(j.getState())); }},
    {'T', "state", "STATE", [](Job j, int64_t) { return text(j.getState()); }},
    {'u', "username", "USER", [](Job j, int64_t) { return text(j.getRequest().getUser()); }},
    {'U', "userid", "UID", [](Job j, int64_t) { return std::to_string(j.getRequest().getUid()); }},
    {'v', "reservation", "RESERVATION", [](Job j, int64_t) { return or_null(j.getRequest().getReservation()); }},
    {'V', "submittime", "SUBMIT_TIME", [](Job j, int64_t) { return when(j.getSubmitTime()); }},
    {'w', "wckey", "WCKEY", [](Job, int64_t) { return std::string("(null)"); }},
    {'W', "licenses", "LICENSES", [](Job, int64_t) { return std::string("(null)"); }},
    {'x', "excnodes", "EXC_NODES", [](Job j, int64_t) { return text(j.getRequest().getExclude()); }},
    {'X', "corespec", "CORE_SPEC", [](Job, int64_t) { return std::string("N/A"); }},
    {'y', "nice", "NICE", [](Job, int64_t) { return std::string("0"); }},
    {'Y', "schednodes", "SCHEDNODES", [](Job, int64_t) { return std::string("(null)"); }, false},
    {'z', "sct", "S:C:T", [](Job, int64_t) { return std::string("*:*:*"); }},
    {'Z', "workdir", "WORK_DIR", [](Job j, int64_t) { return text(j.getRequest().getWorkdir()); }},
    // Names -O alone knows.
    {0, "accruetime", "ACCRUE_TIME", [](Job j, int64_t) { return when(j.getSubmitTime()); }},
    {0, "allocnodes", "ALLOC_NODES", [](Job j, int64_t) { return or_null(j.getRequest().getSubmitHost()); }},
    {0, "batchflag", "BATCH_FLAG", [](Job j, int64_t) { return std::string(j.getRequest().getBatch() ? "1" : "0"); }},
    {0, "cpus-per-task", "CPUS_PER_TASK", [](Job j, int64_t) { return std::to_string((j.getRequest().getPerTask().getMillicores() + 999) / 1000); }},
    {0, "eligibletime", "ELIGIBLE_TIME", [](Job j, int64_t) { return when(std::max(j.getRequest().getBeginTime(), j.getSubmitTime())); }},
    {0, "exit_code", "EXIT_CODE", [](Job j, int64_t) { return std::to_string(j.getExitCode()) + ":0"; }},
    {0, "derivedec", "DERIVED_EC", [](Job j, int64_t) { return std::to_string(j.getExitCode()) + ":0"; }},
    {0, "numtasks", "TASKS", [](Job j, int64_t) { return std::to_string(j.getRequest().getNtasks()); }},
    {0, "ntpernode", "TASKS_PER_NODE", [](Job j, int64_t) { return std::to_string(tasks_per_node(j)); }},
    {0, "pendingtime", "PENDING_TIME", [](Job j, int64_t now) { return std::to_string(std::max<int64_t>((j.getStartTime() > 0 ? j.getStartTime() : now) - j.getSubmitTime(), 0)); }},
    {0, "reqswitch", "REQ_SWITCH", [](Job j, int64_t) { return std::to_string(j.getRequest().getMaxSwitches()); }},
    {0, "wait4switch", "WAIT4SWITCH", [](Job j, int64_t) { return span(static_cast<int64_t>(j.getRequest().getSwitchesWaitSec())); }},
    {0, "requeue", "REQUEUE", [](Job j, int64_t) { return std::string(j.getRequest().getNoRequeue() ? "0" : "1"); }},
    {0, "restartcnt", "RESTARTCNT", [](Job j, int64_t) { return std::to_string(j.getAttempt() > 0 ? j.getAttempt() - 1 : 0); }},
    {0, "stdout", "STDOUT", [](Job j, int64_t) { return stdout_of(j); }},
    {0, "stderr", "STDERR", [](Job j, int64_t) { return j.getRequest().getErrorPattern().size() ? text(j.getRequest().getErrorPattern()) : stdout_of(j); }},
    {0, "stdin", "STDIN", [](Job, int64_t) { return std::string("/dev/null"); }},
    {0, "tres-alloc", "TRES_ALLOC", [](Job j, int64_t) { return job_tres_alloc(j); }},
    {0, "tres-per-task", "TRES_PER_TASK", [](Job j, int64_t) { return gpu_tres(j.getRequest().getPerTask().getGpus()); }},
    {0, "tres-per-job", "TRES_PER_JOB", [](Job, int64_t) { return std::string("N/A"); }},
    {0, "maxcpus", "MAX_CPUS", [](Job, int64_t) { return std::string("0"); }},
    {0, "maxnodes", "MAX_NODES", [](Job, int64_t) { return std::string("0"); }},
    {0, "mintime", "MIN_TIME", [](Job, int64_t) { return std::string("0"); }},
    {0, "preempttime", "PREEMPT_TIME", [](Job, int64_t) { return std::string("N/A"); }},
    {0, "lastschedeval", "LAST_SCHED_EVAL", [](Job, int64_t) { return std::string("N/A"); }},
    {0, "resizetime", "RESIZE_TIME", [](Job, int64_t) { return std::string("N/A"); }},
    {0, "deadline", "DEADLINE", [](Job, int64_t) { return std::string("N/A"); }},
    {0, "reboot", "REBOOT", [](Job, int64_t) { return std::string("0"); }},
    {0, "associd", "ASSOC_ID", [](Job, int64_t) { return std::string("0"); }},
    {0, "allocsid", "ALLOC_SID", [](Job, int64_t) { return std::string("0"); }},
    {0, "stepid", "STEPID", [](Job j, int64_t) { return display_id(j); }},
    {0, "stepname", "STEPNAME", [](Job j, int64_t) { return text(j.getRequest().getName()); }},
    {0, "stepstate", "STEPSTATE", [](Job j, int64_t) { return text(j.getState()); }},
    // Defined by squeue, no data in cadre: the unset value squeue prints.
    {0, "admin_comment", "ADMIN_COMMENT", [](Job, int64_t) { return std::string("(null)"); }},
    {0, "system_comment", "SYSTEM_COMMENT", [](Job, int64_t) { return std::string("(null)"); }},
    {0, "boardspernode", "BOARDS_PER_NODE", [](Job, int64_t) { return std::string("N/A"); }},
    {0, "burstbuffer", "BURST_BUFFER", [](Job, int64_t) { return std::string("(null)"); }},
    {0, "burstbufferstate", "BURST_BUFFER_STATE", [](Job, int64_t) { return std::string("(null)"); }},
    {0, "cluster", "CLUSTER", [](Job, int64_t) { return std::string("N/A"); }},
    {0, "clusterfeature", "CLUSTER_FEATURE", [](Job, int64_t) { return std::string("(null)"); }},
    {0, "cpufreq", "CPU_FREQ", [](Job, int64_t) { return std::string("N/A"); }},
    {0, "cpus-per-tres", "CPUS_PER_TRES", [](Job, int64_t) { return std::string("N/A"); }},
    {0, "mem-per-tres", "MEM_PER_TRES", [](Job, int64_t) { return std::string("N/A"); }},
    {0, "delayboot", "DELAY_BOOT", [](Job, int64_t) { return std::string("N/A"); }},
    {0, "hetjobid hetjobidset hetjoboffset", "HET_JOB", [](Job, int64_t) { return std::string("N/A"); }},
    {0, "mcslabel", "MCSLABEL", [](Job, int64_t) { return std::string("N/A"); }},
    {0, "network", "NETWORK", [](Job, int64_t) { return std::string("(null)"); }},
    {0, "ntperboard ntpercore ntpersocket sperboard", "TASKS_PER", [](Job, int64_t) { return std::string("N/A"); }},
    {0, "origin originraw", "ORIGIN", [](Job, int64_t) { return std::string("N/A"); }},
    {0, "profile", "PROFILE", [](Job, int64_t) { return std::string("N/A"); }},
    {0, "resvport", "RESV_PORT", [](Job, int64_t) { return std::string("N/A"); }},
    {0, "siblingsactive siblingsactiveraw siblingsviable siblingsviableraw", "SIBLINGS", [](Job, int64_t) { return std::string("(null)"); }},
    {0, "tres-bind tres-freq tres-per-socket tres-per-step", "TRES", [](Job, int64_t) { return std::string("N/A"); }},
};

std::optional<FieldRef> find_letter(std::string_view key) { return find_field_letter(kFields, key); }
std::optional<FieldRef> find_name(std::string_view key) { return find_field_name(kFields, key); }

}  // namespace

Result<Format> parse_queue_format(std::string_view text, bool named, std::string_view option) {
  if (named) return parse_named_format(text, find_name, option);
  if (text.starts_with("%all")) {
    // Every letter, each followed by '|', as squeue prints it.
    Format all;
    for (size_t i = 0; i < std::size(kFields); ++i)
      if (kFields[i].letter) all.items.push_back(FormatItem{FieldRef{static_cast<int>(i), kFields[i].cut}, 0, false, false, "|"});
    return all;
  }
  return parse_letter_format(text, find_letter, option);
}

std::string job_nodelist(Job j) {
  std::vector<std::string> names;
  for (auto n : j.getNodes()) names.push_back(text(n));
  return compress_hostlist(names);
}

// Allocated nodes, else the count asked for; squeue's least is one.
uint32_t job_node_count(Job j) {
  if (j.getNodes().size() > 0) return j.getNodes().size();
  return std::max<uint32_t>(j.getRequest().getNodes(), 1);
}

int64_t job_cpus(Job j) {
  auto r = j.getRequest();
  return (static_cast<int64_t>(r.getNtasks()) * r.getPerTask().getMillicores() + 999) / 1000;
}

std::string job_group_name(Job j) {
  const gid_t gid = j.getRequest().getGid();
  const group* g = getgrgid(gid);
  return g && g->gr_name[0] ? std::string(g->gr_name) : std::to_string(gid);
}

std::string job_tres_alloc(Job j) {
  auto r = j.getRequest();
  const int64_t tasks = r.getNtasks();
  std::string out = "cpu=" + std::to_string(job_cpus(j)) + ",mem=" +
                    format_size_mb(static_cast<int64_t>(r.getPerTask().getMemoryMb()) * tasks) +
                    ",node=" + std::to_string(job_node_count(j)) + ",billing=" + std::to_string(job_cpus(j));
  if (int64_t g = static_cast<int64_t>(r.getPerTask().getGpus()) * tasks; g > 0) out += ",gres/gpu=" + std::to_string(g);
  return out;
}

std::string queue_listing(const Format& format, const std::vector<JobInfo::Reader>& jobs, int64_t now, bool header) {
  std::vector<std::vector<std::string>> rows;
  if (header) {
    auto& row = rows.emplace_back();
    for (const FormatItem& item : format.items) row.push_back(kFields[item.field.index].header);
  }
  for (Job received : jobs) {
    // A decoded reply may be read only a few times over (common/codec.cpp),
    // and fields read the request again and again: each job is read from a
    // copy of its own, which has no such limit, after one pass to make it.
    capnp::MallocMessageBuilder copy;
    copy.setRoot(received);
    const Job j = copy.getRoot<JobInfo>().asReader();
    auto& row = rows.emplace_back();
    for (const FormatItem& item : format.items) row.push_back(kFields[item.field.index].value(j, now));
  }
  return render_format(format, rows);
}

}  // namespace cadre::cli
