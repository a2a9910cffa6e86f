#include "cli/sacct_fields.hpp"

#include <capnp/message.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "cli/format.hpp"
#include "cli/queue_fields.hpp"
#include "cli/slurm_format.hpp"
#include "common/escape.hpp"
#include "common/resources.hpp"

namespace cadre::cli {
namespace {

using Job = JobInfo::Reader;

std::string text(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }
std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
// sacct's word for a time it does not have (not started, not ended).
std::string when(int64_t unix_s) { return unix_s > 0 ? iso_time(unix_s) : "Unknown"; }

bool started(Job j) { return j.getStartTime() > 0; }
// A held job has no eligible time: sacct shows it Unknown (and skips the
// job unless it is named with -j).
bool held(Job j) { return text(j.getState()) == "PENDING" && text(j.getReason()).starts_with("JobHeld"); }
int64_t eligible_time(Job j) { return std::max(j.getSubmitTime(), j.getRequest().getBeginTime()); }
int64_t elapsed_s(Job j, int64_t now) {
  if (!started(j)) return 0;
  return std::max<int64_t>((j.getEndTime() > 0 ? j.getEndTime() : now) - j.getStartTime(), 0);
}
int64_t alloc_cpus(Job j) { return started(j) ? job_cpus(j) : 0; }
// From eligible to started (or ended without starting, or now): the wait.
int64_t planned_s(Job j, int64_t now) {
  if (held(j)) return 0;
  const int64_t until = started(j) ? j.getStartTime() : j.getEndTime() > 0 ? j.getEndTime() : now;
  return std::max<int64_t>(until - eligible_time(j), 0);
}
std::string timelimit(Job j) {
  const auto s = j.getRequest().getTimeLimitSec();
  return s ? sacct_elapsed(static_cast<int64_t>(s)) : "UNLIMITED";
}
std::string timelimit_raw(Job j) {
  const auto s = j.getRequest().getTimeLimitSec();
  return s ? std::to_string((s + 59) / 60) : "UNLIMITED";  // minutes, as sacct counts them
}
std::string account(Job j) {
  auto r = j.getRequest();
  return r.getAccount().size() ? text(r.getAccount()) : text(r.getUser());
}
std::string qos(Job j) { return j.getRequest().getQos().size() ? text(j.getRequest().getQos()) : "normal"; }
std::string req_mem(Job j) {
  auto r = j.getRequest();
  return format_size_mb(static_cast<int64_t>(r.getPerTask().getMemoryMb()) * r.getNtasks());
}
std::string stdout_of(Job j) { return text(j.getRequest().getOutputPattern()); }
std::string array_task(Job j) {
  auto r = j.getRequest();
  if (r.getArrayJobId() == 0) return "";
  return j.getArrayLeft().size() ? text(j.getArrayLeft()) : std::to_string(r.getArrayTaskId());
}
std::string num(int64_t n) { return std::to_string(n); }

struct SacctField {
  const char* name;
  int width;  // sacct's default; negative: left-justified
  std::string (*value)(Job, int64_t now);  // nullptr: cadre does not record it (printed empty)
};

// Every field sacct defines, in its order, plus ArrayJobID and ArrayTaskID
// (cadre's: sacct shows them only inside JobID).
const SacctField kFields[] = {
    {"Account", 10, [](Job j, int64_t) { return account(j); }},
    {"AdminComment", 15, nullptr},
    {"AllocCPUS", 10, [](Job j, int64_t) { return num(alloc_cpus(j)); }},
    {"AllocNodes", 10, [](Job j, int64_t) { return num(started(j) ? job_node_count(j) : 0); }},
    {"AllocTRES", 10, [](Job j, int64_t) { return started(j) ? job_tres_alloc(j) : std::string(); }},
    {"ArrayJobID", 12, [](Job j, int64_t) { auto a = j.getRequest().getArrayJobId(); return a ? num(static_cast<int64_t>(a)) : std::string(); }},
    {"ArrayTaskID", 12, [](Job j, int64_t) { return array_task(j); }},
    {"AssocID", 7, nullptr},
    {"AveCPU", 10, nullptr},
    {"AveCPUFreq", 10, nullptr},
    {"AveDiskRead", 14, nullptr},
    {"AveDiskWrite", 14, nullptr},
    {"AvePages", 10, nullptr},
    {"AveRSS", 10, nullptr},
    {"AveVMSize", 10, nullptr},
    {"BlockID", 16, nullptr},
    {"Cluster", 10, nullptr},
    {"Comment", 14, nullptr},
    {"Constraints", 19, [](Job j, int64_t) { return text(j.getRequest().getConstraint()); }},
    {"ConsumedEnergy", 14, nullptr},
    {"ConsumedEnergyRaw", 17, nullptr},
    {"Container", 19, nullptr},
    {"CPUTime", 10, [](Job j, int64_t now) { return sacct_elapsed(elapsed_s(j, now) * alloc_cpus(j)); }},
    {"CPUTimeRAW", 10, [](Job j, int64_t now) { return num(elapsed_s(j, now) * alloc_cpus(j)); }},
    {"DBIndex", -21, nullptr},
    {"DerivedExitCode", 15, [](Job j, int64_t) { return sacct_exit_code(j); }},
    {"Elapsed", 10, [](Job j, int64_t now) { return sacct_elapsed(elapsed_s(j, now)); }},
    {"ElapsedRaw", 10, [](Job j, int64_t now) { return num(elapsed_s(j, now)); }},
    {"Eligible", 19, [](Job j, int64_t) { return held(j) ? std::string("Unknown") : when(eligible_time(j)); }},
    {"End", 19, [](Job j, int64_t) { return when(j.getEndTime()); }},
    {"ExitCode", 8, [](Job j, int64_t) { return sacct_exit_code(j); }},
    {"Extra", 14, nullptr},
    {"FailedNode", 8, nullptr},
    {"Flags", 19, nullptr},
    {"GID", 6, [](Job j, int64_t) { return num(j.getRequest().getGid()); }},
    {"Group", 9, [](Job j, int64_t) { return job_group_name(j); }},
    {"JobID", -12, [](Job j, int64_t) { return display_id(j); }},
    {"JobIDRaw", -12, [](Job j, int64_t) { return num(static_cast<int64_t>(j.getId())); }},
    {"JobName", 10, [](Job j, int64_t) { return text(j.getRequest().getName()); }},
    {"Layout", 9, nullptr},
    {"Licenses", 10, nullptr},
    {"MaxDiskRead", 12, nullptr},
    {"MaxDiskReadNode", 15, nullptr},
    {"MaxDiskReadTask", 15, nullptr},
    {"MaxDiskWrite", 12, nullptr},
    {"MaxDiskWriteNode", 16, nullptr},
    {"MaxDiskWriteTask", 16, nullptr},
    {"MaxPages", 8, nullptr},
    {"MaxPagesNode", 12, nullptr},
    {"MaxPagesTask", 14, nullptr},
    {"MaxRSS", 10, nullptr},
    {"MaxRSSNode", 10, nullptr},
    {"MaxRSSTask", 10, nullptr},
    {"MaxVMSize", 10, nullptr},
    {"MaxVMSizeNode", 14, nullptr},
    {"MaxVMSizeTask", 14, nullptr},
    {"McsLabel", 12, nullptr},
    {"MinCPU", 10, nullptr},
    {"MinCPUNode", 10, nullptr},
    {"MinCPUTask", 10, nullptr},
    {"NCPUS", 10, [](Job j, int64_t) { return num(alloc_cpus(j)); }},
    {"NNodes", 8, [](Job j, int64_t) { return num(job_node_count(j)); }},
    {"NodeList", 15, [](Job j, int64_t) { return started(j) ? job_nodelist(j) : std::string("None assigned"); }},
    {"NTasks", 8, [](Job j, int64_t) { return num(j.getRequest().getNtasks()); }},
    {"Partition", 10, [](Job j, int64_t) { return text(j.getRequest().getPartition()); }},
    {"Planned", 10, [](Job j, int64_t now) { return sacct_elapsed(planned_s(j, now)); }},
    {"PlannedCPU", 10, [](Job j, int64_t now) { return sacct_elapsed(planned_s(j, now) * job_cpus(j)); }},
    {"PlannedCPURAW", 13, [](Job j, int64_t now) { return num(planned_s(j, now) * job_cpus(j)); }},
    {"Priority", 10, [](Job j, int64_t) { return num(std::llround(std::max(j.getPriority(), 0.0))); }},
    {"QOS", 10, [](Job j, int64_t) { return qos(j); }},
    {"QOSRAW", 6, nullptr},
    {"QOSREQ", 10, [](Job j, int64_t) { return qos(j); }},
    {"Reason", 22, [](Job j, int64_t) { return j.getReason().size() ? text(j.getReason()) : std::string("None"); }},
    {"ReqCPUFreq", 10, nullptr},
    {"ReqCPUFreqGov", 13, nullptr},
    {"ReqCPUFreqMax", 13, nullptr},
    {"ReqCPUFreqMin", 13, nullptr},
    {"ReqCPUS", 8, [](Job j, int64_t) { return num(job_cpus(j)); }},
    {"ReqMem", 10, [](Job j, int64_t) { return req_mem(j); }},
    {"ReqNodes", 8, [](Job j, int64_t) { return num(std::max<uint32_t>(j.getRequest().getNodes(), 1)); }},
    {"ReqTRES", 10, [](Job j, int64_t) { return job_tres_alloc(j); }},
    {"ReqReservation", 10, [](Job j, int64_t) { return text(j.getRequest().getReservation()); }},
    {"Reservation", 20, [](Job j, int64_t) { return text(j.getRequest().getReservation()); }},
    {"ReservationId", 8, nullptr},
    {"Restarts", 8, [](Job j, int64_t) { return num(j.getAttempt() > 0 ? j.getAttempt() - 1 : 0); }},
    {"SegmentSize", 11, nullptr},
    {"SLUID", 14, nullptr},
    {"Start", 19, [](Job j, int64_t) { return when(j.getStartTime()); }},
    {"State", 10, [](Job j, int64_t) { return text(j.getState()); }},
    {"StdErr", 20, [](Job j, int64_t) { return j.getRequest().getErrorPattern().size() ? text(j.getRequest().getErrorPattern()) : stdout_of(j); }},
    {"StdIn", 20, [](Job, int64_t) { return std::string("/dev/null"); }},
    {"StdOut", 20, [](Job j, int64_t) { return stdout_of(j); }},
    {"Submit", 19, [](Job j, int64_t) { return when(j.getSubmitTime()); }},
    {"SubmitLine", 20, nullptr},
    {"Suspended", 10, [](Job, int64_t) { return sacct_elapsed(0); }},
    {"SystemComment", 15, nullptr},
    {"SystemCPU", 10, nullptr},
    {"Timelimit", 10, [](Job j, int64_t) { return timelimit(j); }},
    {"TimelimitRaw", 10, [](Job j, int64_t) { return timelimit_raw(j); }},
    {"TotalCPU", 10, nullptr},
    {"TRESUsageInAve", 14, nullptr},
    {"TRESUsageInMax", 14, nullptr},
    {"TRESUsageInMaxNode", 18, nullptr},
    {"TRESUsageInMaxTask", 18, nullptr},
    {"TRESUsageInMin", 14, nullptr},
    {"TRESUsageInMinNode", 18, nullptr},
    {"TRESUsageInMinTask", 18, nullptr},
    {"TRESUsageInTot", 14, nullptr},
    {"TRESUsageOutAve", 15, nullptr},
    {"TRESUsageOutMax", 15, nullptr},
    {"TRESUsageOutMaxNode", 19, nullptr},
    {"TRESUsageOutMaxTask", 19, nullptr},
    {"TRESUsageOutMin", 15, nullptr},
    {"TRESUsageOutMinNode", 19, nullptr},
    {"TRESUsageOutMinTask", 19, nullptr},
    {"TRESUsageOutTot", 15, nullptr},
    {"UID", 6, [](Job j, int64_t) { return num(j.getRequest().getUid()); }},
    {"User", 9, [](Job j, int64_t) { return text(j.getRequest().getUser()); }},
    {"UserCPU", 10, nullptr},
    {"WCKey", 10, nullptr},
    {"WCKeyID", 10, nullptr},
    {"WorkDir", 20, [](Job j, int64_t) { return text(j.getRequest().getWorkdir()); }},
};

// --long names some fields shorter than their names ("tresusageinmaxn").
constexpr std::pair<std::string_view, std::string_view> kAbbreviations[] = {
    {"tresusageinmaxn", "tresusageinmaxnode"},   {"tresusageinmaxt", "tresusageinmaxtask"},
    {"tresusageinminn", "tresusageinminnode"},   {"tresusageinmint", "tresusageinmintask"},
    {"tresusageoutmaxn", "tresusageoutmaxnode"}, {"tresusageoutmaxt", "tresusageoutmaxtask"},
    {"tresusageoutminn", "tresusageoutminnode"}, {"tresusageoutmint", "tresusageoutmintask"},
};

SacctColumn default_column(size_t i) {
  const int w = kFields[i].width;
  return SacctColumn{static_cast<int>(i), static_cast<size_t>(std::abs(w)), w > 0};
}

int find_field(std::string_view name) {
  std::string key = lower(name);
  for (const auto& [shortened, full] : kAbbreviations)
    if (key == shortened) key = full;
  for (size_t i = 0; i < std::size(kFields); ++i)
    if (lower(kFields[i].name) == key) return static_cast<int>(i);
  return -1;
}

// "%N" or "%-N" after a name; `spec` is what follows the '%'.
Status read_width(std::string_view spec, std::string_view token, std::string_view option, SacctColumn& column) {
  const bool left = spec.starts_with('-');
  if (left) spec.remove_prefix(1);
  size_t width = 0;
  const bool digits = !spec.empty() && std::all_of(spec.begin(), spec.end(), [](char c) { return c >= '0' && c <= '9'; });
  for (size_t i = 0; digits && i < spec.size() && width <= kMaxFieldWidth; ++i)
    width = width * 10 + static_cast<size_t>(spec[i] - '0');
  if (!digits || width == 0 || width > kMaxFieldWidth)
    return make_error(std::string(option) + ": " + quoted(token, 64) + ": a width is %N or %-N with N from 1 to " +
                      std::to_string(kMaxFieldWidth) + ", e.g. JobName%30");
  column.width = width;
  column.right = !left;
  return {};
}

// One cell of the columns layout, as sacct prints it: cut to the width with
// a '+' for what did not fit, padded on the left (right-justified) or right.
std::string fit_cell(const std::string& value, const SacctColumn& c, bool plus) {
  std::string cell = value;
  if (cell.size() > c.width) {
    cell.resize(c.width);
    if (plus) cell.back() = '+';
  }
  const std::string pad(c.width - cell.size(), ' ');
  return c.right ? pad + cell : cell + pad;
}

// One line of either layout from its cells.
std::string line(const std::vector<std::string>& cells, const std::vector<SacctColumn>& columns,
                 const SacctStyle& style, bool plus) {
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (style.layout == SacctLayout::columns) out += fit_cell(cells[i], columns[i], plus) + " ";
    else if (style.layout == SacctLayout::parsable || i + 1 < cells.size()) out += cells[i] + style.delimiter;
    else out += cells[i];
  }
  return out + "\n";
}

}  // namespace

Result<std::vector<SacctColumn>> parse_sacct_format(std::string_view text, std::string_view option) {
  std::vector<SacctColumn> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view token = text.substr(start, comma - start);
    start = comma + 1;
    if (token.empty())
      return make_error(std::string(option) + ": an empty field name in " + quoted(text, 64) +
                        "; give names separated by commas, e.g. JobID,State,ExitCode");
    const size_t percent = token.find('%');
    const std::string_view name = token.substr(0, percent);
    if (lower(name) == "all" && percent == std::string_view::npos) {
      for (size_t i = 0; i < std::size(kFields); ++i) out.push_back(default_column(i));
      continue;
    }
    const int field = find_field(name);
    if (field < 0)
      return make_error(std::string(option) + ": " + quoted(name, 64) +
                        " is not a field sacct defines (sacct --helpformat lists them)");
    SacctColumn column = default_column(static_cast<size_t>(field));
    if (percent != std::string_view::npos)
      if (Status s = read_width(token.substr(percent + 1), token, option, column); !s) return make_error(s.error());
    out.push_back(column);
  }
  return out;
}

std::string sacct_listing(const std::vector<SacctColumn>& columns, const std::vector<JobInfo::Reader>& jobs,
                          int64_t now, const SacctStyle& style) {
  std::string out;
  if (style.header) {
    std::vector<std::string> names, dashes;
    for (const SacctColumn& c : columns) {
      names.emplace_back(kFields[c.field].name);
      dashes.emplace_back(c.width, '-');
    }
    // sacct cuts a header to its column without the '+'.
    out += line(names, columns, style, false);
    if (style.layout == SacctLayout::columns) out += line(dashes, columns, style, false);
  }
  for (Job received : jobs) {
    // A decoded reply may be read only a few times over (common/codec.cpp):
    // each job is read from a copy of its own (as cli/queue_fields.cpp does).
    capnp::MallocMessageBuilder copy;
    copy.setRoot(received);
    const Job j = copy.getRoot<JobInfo>().asReader();
    std::vector<std::string> cells;
    for (const SacctColumn& c : columns) {
      const SacctField& f = kFields[c.field];
      // Users' text (names, reasons) goes to a terminal: escaped.
      cells.push_back(f.value ? escape_control(f.value(j, now)) : std::string());
    }
    out += line(cells, columns, style, true);
  }
  return out;
}

std::string sacct_field_names() {
  std::string out;
  for (size_t i = 0; i < std::size(kFields); ++i) {
    std::string name = kFields[i].name;
    const bool last_in_line = i % 4 == 3 || i + 1 == std::size(kFields);
    if (!last_in_line) name.resize(std::max<size_t>(name.size() + 1, 20), ' ');
    out += name + (last_in_line ? "\n" : "");
  }
  return out;
}

std::string sacct_exit_code(JobInfo::Reader j) {
  const int32_t code = j.getExitCode();
  // The master records a rank killed by signal N as 128+N and says so in
  // the reason; sacct shows it as 0:N.
  if (code > 128 && code < 128 + 65 && text(j.getReason()).find("killed by signal") != std::string::npos)
    return "0:" + std::to_string(code - 128);
  return std::to_string(code) + ":0";
}

std::string sacct_elapsed(int64_t seconds) {
  seconds = std::max<int64_t>(seconds, 0);
  const long d = static_cast<long>(seconds / 86400), h = static_cast<long>(seconds / 3600 % 24),
             m = static_cast<long>(seconds / 60 % 60), s = static_cast<long>(seconds % 60);
  char buf[64];
  if (d > 0) std::snprintf(buf, sizeof buf, "%ld-%02ld:%02ld:%02ld", d, h, m, s);
  else std::snprintf(buf, sizeof buf, "%02ld:%02ld:%02ld", h, m, s);
  return buf;
}

}  // namespace cadre::cli
