#include "cli/sacct_options.hpp"

#include <algorithm>

#include "cli/job_listing.hpp"
#include "cli/names.hpp"
#include "cli/slurm_format.hpp"
#include "common/begin_time.hpp"
#include "common/escape.hpp"
#include "common/flags.hpp"

namespace cadre::cli {
namespace {

void declare(Flags& f) {
  f.toggle("--allusers", {"-a"}).toggle("--me").toggle("--noheader", {"-n"});
  f.toggle("--parsable", {"-p"}).toggle("--parsable2", {"-P"}).toggle("--brief", {"-b"}).toggle("--long", {"-l"});
  f.toggle("--helpformat", {"-e"});
  // Nothing to change in cadre: only jobs are listed (-X), each array task
  // on its own line (--array), one cluster (-L, --local), one record per
  // job (-D), sizes as they are (--noconvert).
  f.toggle("--allocations", {"-X"}).toggle("--array").toggle("--allclusters", {"-L"}).toggle("--local");
  f.toggle("--duplicates", {"-D"}).toggle("--noconvert");
  f.value("--jobs", {"-j"}).value("--user", {"-u", "--uid"}).value("--state", {"-s"});
  f.value("--starttime", {"-S"}).value("--endtime", {"-E"}).value("--format", {"-o"});
  f.value("--partition", {"-r"}).value("--accounts", {"-A"}).value("--name").value("--delimiter");
}

// -j's list: commas split it, except inside an array's brackets (12_[1,3]).
std::vector<std::string> job_words(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  int depth = 0;
  for (char c : text) {
    if (c == '[') ++depth;
    if (c == ']') depth = std::max(depth - 1, 0);
    if (c == ',' && depth == 0) {
      out.push_back(std::move(word));
      word.clear();
      continue;
    }
    word += c;
  }
  out.push_back(std::move(word));
  return out;
}

Status parse_jobs(std::string_view text, SacctOptions& o) {
  const std::vector<std::string> words = job_words(text);
  for (const std::string& w : words) {
    if (w.empty())
      return make_error("--jobs: an empty job id in " + quoted(text, 64) + "; give ids separated by commas, e.g. 42,43");
    if (w.find('.') != std::string::npos)
      return make_error("--jobs: " + quoted(w, 64) + " names a step; cadre's sacct lists jobs only (no .batch or .0 "
                        "lines): give the job's id, e.g. " + w.substr(0, w.find('.')));
  }
  auto targets = parse_job_targets(words);
  if (!targets) return make_error("--jobs: " + targets.error());
  o.ids = targets->ids;
  for (const std::string& t : targets->tasks) {
    const size_t under = t.find('_');
    o.tasks.emplace_back(std::stoull(t.substr(0, under)), std::stoll(t.substr(under + 1)));
  }
  return {};
}

Status parse_filters(const Flags& f, const SacctContext& c, SacctOptions& o) {
  JobFilter& filter = o.filter;
  filter.fold_case = true;  // sacct's database keeps names in lower case
  if (f.has("--me") && f.has("--user")) return make_error("--me and --user both choose whose jobs; give one of them");
  struct TextFlag {
    const char* flag;
    FilterText kind;
    std::vector<std::string> JobFilter::*into;
  };
  constexpr TextFlag kTextFlags[] = {
      {"--user", FilterText::user, &JobFilter::users},
      {"--name", FilterText::job_name, &JobFilter::names},
      {"--partition", FilterText::partition, &JobFilter::partitions},
      {"--accounts", FilterText::account, &JobFilter::accounts},
  };
  for (const TextFlag& t : kTextFlags) {
    auto value = f.get(t.flag);
    if (!value) continue;
    auto list = parse_filter_list(t.flag, t.kind, *value);
    if (!list) return make_error(list.error());
    filter.*t.into = std::move(*list);
  }
  if (auto v = f.get("--state"))
    if (Status s = parse_queue_states("--state", *v, filter); !s) return make_error(s.error());
  if (auto v = f.get("--jobs"))
    if (Status s = parse_jobs(*v, o); !s) return s;
  // Whose jobs: -a everyone's; -u and --me the named; else, as sacct, the
  // caller's, unless jobs are named by id or root asks.
  if (f.has("--me")) filter.users = {c.caller};
  else if (!f.has("--allusers") && !f.has("--user") && !o.named_jobs() && !c.root) filter.users = {c.caller};
  if (f.has("--allusers") && !f.has("--user") && !f.has("--me")) filter.users.clear();
  return {};
}

// sacct's DEFAULT TIME WINDOW: from midnight, from the epoch with -j, from
// now with -s; until now, or with -s until the start given.
Status parse_window(const Flags& f, const SacctContext& c, SacctOptions& o) {
  const bool states = f.has("--state");
  if (auto v = f.get("--starttime")) {
    auto t = parse_past_time(*v, c.now_unix, "--starttime");
    if (!t) return make_error(t.error());
    o.start = *t;
  } else if (o.named_jobs()) {
    o.start = 0;
  } else if (states) {
    o.start = c.now_unix;
  } else {
    auto midnight = parse_past_time("midnight", c.now_unix, "--starttime");
    if (!midnight) return make_error(midnight.error());
    o.start = *midnight;
  }
  if (auto v = f.get("--endtime")) {
    auto t = parse_past_time(*v, c.now_unix, "--endtime");
    if (!t) return make_error(t.error());
    o.end = *t;
  } else {
    o.end = states && f.has("--starttime") ? o.start : c.now_unix;
  }
  if (o.end < o.start)
    return make_error("--starttime is after --endtime (" + format_local_time(o.start) + " > " +
                      format_local_time(o.end) + "): give an earlier start or a later end");
  return {};
}

Status parse_layout(const Flags& f, const SacctContext& c, SacctOptions& o) {
  std::string format(kSacctDefaultFormat), option = "sacct";
  if (auto v = f.get("--format")) {
    format = *v;
    option = "--format";
  } else if (!c.env_format.empty()) {
    format = c.env_format;
    option = "SACCT_FORMAT";
  } else if (f.has("--brief")) {
    format = kSacctBriefFormat;
  } else if (f.has("--long")) {
    format = kSacctLongFormat;
  }
  o.format = std::move(format);
  o.format_option = std::move(option);
  if (f.has("--parsable2")) o.style.layout = SacctLayout::parsable2;
  else if (f.has("--parsable")) o.style.layout = SacctLayout::parsable;
  if (auto v = f.get("--delimiter")) {
    if (v->empty() || v->size() > 16 || escape_control(*v) != *v)
      return make_error("--delimiter: give 1 to 16 printable characters, e.g. --delimiter=,");
    o.style.delimiter = *v;
  }
  o.style.header = !f.has("--noheader");
  return {};
}

bool named(const SacctOptions& o, JobInfo::Reader j) {
  const uint64_t array = j.getRequest().getArrayJobId();
  for (uint64_t id : o.ids)
    if (id == j.getId() || (array != 0 && id == array)) return true;
  for (const auto& [a, index] : o.tasks)
    if (array == a && j.getRequest().getArrayTaskId() == index) return true;
  return false;
}

}  // namespace

Result<SacctOptions> parse_sacct_options(const std::vector<std::string>& raw_args, const SacctContext& context) {
  Flags f;
  declare(f);
  const std::vector<std::string> args = split_attached(raw_args, {"-j", "-u", "-s", "-S", "-E", "-o", "-r", "-A"});
  if (Status s = f.parse(args); !s) return make_error(s.error());
  SacctOptions o;
  o.help_format = f.has("--helpformat");
  if (o.help_format) return o;
  if (Status s = parse_filters(f, context, o); !s) return make_error(s.error());
  if (Status s = parse_window(f, context, o); !s) return make_error(s.error());
  if (Status s = parse_layout(f, context, o); !s) return make_error(s.error());
  return o;
}

bool sacct_selects(const SacctOptions& o, JobInfo::Reader j) {
  if (!matches(o.filter, facts_of(j))) return false;
  if (o.named_jobs() && !named(o, j)) return false;
  const bool held = std::string_view(j.getState().cStr()) == "PENDING" &&
                    std::string_view(j.getReason().cStr()).starts_with("JobHeld");
  const int64_t eligible = std::max(j.getSubmitTime(), j.getRequest().getBeginTime());
  if (held || eligible <= 0) return o.named_jobs();
  return eligible <= o.end && (j.getEndTime() <= 0 || j.getEndTime() >= o.start);
}

}  // namespace cadre::cli
