// cadre queue, show and cancel.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <iostream>
#include <map>
#include <memory>
#include <vector>

#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/format.hpp"
#include "cli/job_filters.hpp"
#include "cli/job_listing.hpp"
#include "cli/names.hpp"
#include "cli/queue_fields.hpp"
#include "cli/slurm_format.hpp"
#include "common/escape.hpp"
#include "common/flags.hpp"
#include "common/ids.hpp"
#include "common/limits.hpp"

namespace cadre::cli {
namespace {

// --user, or --me (squeue and scancel: the same as --user with your name).
Status choose_users(const Flags& f, JobFilter& filter) {
  if (f.has("--me") && f.has("--user")) return make_error("--me and --user both choose whose jobs; give one of them");
  if (f.has("--me")) filter.users = {caller_user()};
  return {};
}

// The flags that name jobs by their text: flag, what its values are, and
// where they go.
struct TextFlag {
  const char* flag;
  FilterText kind;
  std::vector<std::string> JobFilter::*into;
};
constexpr TextFlag kTextFlags[] = {
    {"--user", FilterText::user, &JobFilter::users},
    {"--name", FilterText::job_name, &JobFilter::names},
    {"--partition", FilterText::partition, &JobFilter::partitions},
    {"--account", FilterText::account, &JobFilter::accounts},
};

// squeue's filters: comma-separated lists; names and accounts in any case.
Result<JobFilter> queue_filter(const Flags& f) {
  JobFilter filter;
  filter.fold_case = true;
  if (Status s = choose_users(f, filter); !s) return make_error(s.error());
  for (const TextFlag& t : kTextFlags) {
    auto value = f.get(t.flag);
    if (!value) continue;
    auto list = parse_filter_list(t.flag, t.kind, *value);
    if (!list) return make_error(list.error());
    filter.*t.into = std::move(*list);
  }
  if (auto value = f.get("--states"); value)
    if (Status s = parse_queue_states("--states", *value, filter); !s) return make_error(s.error());
  if (auto value = f.get("--jobs"); value) {
    auto ids = parse_job_id_list("--jobs", *value);
    if (!ids) return make_error(ids.error());
    filter.ids = std::move(*ids);
  }
  return filter;
}

// scancel's filters: one value each, compared exactly.
Result<JobFilter> cancel_filter(const Flags& f) {
  JobFilter filter;
  if (Status s = choose_users(f, filter); !s) return make_error(s.error());
  for (const TextFlag& t : kTextFlags) {
    auto value = f.get(t.flag);
    if (!value) continue;
    auto word = parse_filter_word(t.flag, t.kind, *value);
    if (!word) return make_error(word.error());
    (filter.*t.into) = {std::move(*word)};
  }
  if (auto value = f.get("--state"); value) {
    auto state = parse_cancel_state("--state", *value);
    if (!state) return make_error(state.error());
    filter.states = {std::move(*state)};
  }
  return filter;
}

// The jobs a cancel with filters acts on, as scancel chooses them: named
// jobs that are active and match, or with no ids every active job that
// matches. A named job the master does not list as active is asked for
// anyway, so the master says why it cannot be cancelled.
Result<std::vector<uint64_t>> jobs_to_cancel(Client& client, const JobFilter& filter,
                                             const std::vector<uint64_t>& ids) {
  JobListing listing;
  if (Status s = list_jobs(client, false, listing); !s) return make_error(s.error());
  std::vector<uint64_t> out;
  if (ids.empty()) {
    for (auto j : listing.jobs)
      if (matches(filter, facts_of(j))) out.push_back(j.getId());
    return out;
  }
  std::map<uint64_t, JobFacts> active;
  for (auto j : listing.jobs) active.emplace(j.getId(), facts_of(j));
  for (uint64_t id : ids) {
    auto it = active.find(id);
    if (it == active.end() || matches(filter, it->second)) out.push_back(id);
  }
  return out;
}

// Sends the cancels in batches of at most limits::kMaxIdsPerRequest and
// prints a line for each job that could not be cancelled. 0 when all were.
int send_cancels(Client& client, const std::vector<uint64_t>& ids, const std::vector<std::string>& tasks = {}) {
  int status = 0;
  // Array tasks ("12_7") go with the first batch (parse_job_targets bounds them).
  for (size_t first = 0; first < std::max<size_t>(ids.size(), tasks.empty() ? 0 : 1);
       first += limits::kMaxIdsPerRequest) {
    const size_t count = std::min(limits::kMaxIdsPerRequest, ids.size() - std::min(first, ids.size()));
    auto reply = client.call([&](Envelope::Builder e) {
      auto c = e.initCancel();
      auto list = c.initIds(static_cast<unsigned>(count));
      for (unsigned i = 0; i < count; ++i) list.set(i, ids[first + i]);
      if (first == 0) set_task_refs(c.initTasks(static_cast<unsigned>(tasks.size())), tasks);
    });
    if (!reply) return fail(reply.error());
    for (auto r : (*reply)->envelope().getCancelReply().getResults()) {
      if (!r.getOk()) {
        std::cerr << "cadre: cannot cancel job " << r.getId() << ": " << escape_control(r.getMessage().cStr()) << "\n";
        status = 1;
      }
    }
  }
  return status;
}

}  // namespace

namespace {

// The format a listing asked for: -O over -o; then, for squeue alone,
// SQUEUE_FORMAT2 over SQUEUE_FORMAT (as squeue documents; cadre queue's own
// table does not change with a Slurm user's environment); then --start's.
// nullopt: cadre's own table.
Result<std::optional<Format>> queue_format(const Global& g, const Flags& f) {
  auto parse = [](const std::string& text, bool named, const std::string& option) -> Result<std::optional<Format>> {
    auto format = parse_queue_format(text, named, option);
    if (!format) return make_error(format.error());
    return std::optional<Format>(std::move(*format));
  };
  if (auto v = f.get("--Format")) return parse(*v, true, "--Format");
  if (auto v = f.get("--format")) return parse(*v, false, "--format");
  if (g.slurm_words) {
    if (const char* v = std::getenv("SQUEUE_FORMAT2"); v && *v) return parse(v, true, "SQUEUE_FORMAT2");
    if (const char* v = std::getenv("SQUEUE_FORMAT"); v && *v) return parse(v, false, "SQUEUE_FORMAT");
  }
  if (f.has("--start")) return parse(std::string(kQueueStartFormat), false, "--start");
  return std::optional<Format>();
}

// squeue --start's order: the soonest expected start first, unknown ones last.
void sort_by_expected_start(std::vector<JobInfo::Reader>& jobs) {
  auto key = [](JobInfo::Reader j) { return j.getExpectedStart() > 0 ? j.getExpectedStart() : INT64_MAX; };
  std::stable_sort(jobs.begin(), jobs.end(), [&](auto a, auto b) { return key(a) < key(b); });
}

}  // namespace

int cmd_queue(const Global& g, const Args& raw_args) {
  Flags f;
  f.toggle("--all", {"-a"}).toggle("--json").toggle("--me").toggle("--start").toggle("--noheader", {"-h"});
  f.value("--user", {"-u"}).value("--states", {"-t"}).value("--partition", {"-p"});
  f.value("--jobs", {"-j"}).value("--name", {"-n"}).value("--account", {"-A"});
  f.value("--format", {"-o"}).value("--Format", {"-O"});
  const Args args = split_attached(raw_args, {"-u", "-t", "-p", "-j", "-n", "-A", "-o", "-O"});
  if (Status s = f.parse(args); !s) return fail(s.error(), 2);
  if (f.has("--json") && (f.has("--format") || f.has("--Format") || f.has("--start")))
    return fail("--json prints every field; it does not go with --format, --Format or --start", 2);
  auto filter = queue_filter(f);
  if (!filter) return fail(filter.error(), 2);
  // --start lists pending jobs unless -t chooses others, as squeue's does.
  if (f.has("--start") && !f.has("--states")) filter->states = {"PENDING"};
  auto format = queue_format(g, f);
  if (!format) return fail(format.error(), 2);
  Client client(g.master, g.timeout_ms);
  JobListing listing;
  if (Status s = list_jobs(client, f.has("--all") || filter->wants_ended(), listing); !s) return fail(s.error());
  std::vector<JobInfo::Reader> jobs;
  for (auto j : listing.jobs)
    if (matches(*filter, facts_of(j))) jobs.push_back(j);
  const bool header = !f.has("--noheader");
  if (f.has("--json")) {
    nlohmann::json out = {{"jobs", nlohmann::json::array()}};
    for (auto j : jobs) out["jobs"].push_back(job_json(j));
    std::cout << out.dump(2) << std::endl;
  } else if (*format) {
    if (f.has("--start")) sort_by_expected_start(jobs);
    std::cout << queue_listing(**format, jobs, unix_now(), header);
  } else {
    std::string table = jobs_table(jobs, unix_now());
    if (!header) table.erase(0, table.find('\n') + 1);
    std::cout << table;
  }
  return 0;
}

int cmd_show(const Global& g, const Args& args) {
  Flags f;
  f.toggle("--json");
  if (Status s = f.parse(args, true); !s) return fail(s.error(), 2);
  if (f.positionals().size() != 1) return fail("show takes one job id, e.g. cadre show 42", 2);
  auto id = parse_job_id(f.positionals()[0]);
  if (!id) return fail(id.error(), 2);
  Client client(g.master, g.timeout_ms);
  auto reply = client.call([&](Envelope::Builder e) { e.initShowJob().setId(*id); });
  if (!reply) return fail(reply.error());
  auto jobs_reply = (*reply)->envelope().getJobsReply();
  auto jobs = jobs_reply.getJobs();
  if (jobs.size() != 1) return fail("the master returned no job " + std::to_string(*id));
  if (f.has("--json")) std::cout << job_json(jobs[0]).dump(2) << std::endl;
  else std::cout << job_details(jobs[0], unix_now(), jobs_reply.getMails());
  return 0;
}

int cmd_cancel(const Global& g, const Args& args) {
  Flags f;
  f.toggle("--me").toggle("--interactive", {"-i"});
  f.value("--user", {"-u"}).value("--state", {"-t"}).value("--name", {"-n", "--jobname"});
  f.value("--partition", {"-p"}).value("--account", {"-A"}).value("--signal", {"-s"});
  if (Status s = f.parse(args, true); !s) return fail(s.error(), 2);
  if (f.has("--signal"))
    return fail("--signal: cadre cannot send a chosen signal to a job yet; cadre cancel without --signal sends "
                "SIGTERM, then SIGKILL after the agent's kill grace (trap SIGTERM in the job to act on it)",
                2);
  if (f.has("--interactive"))
    return fail("--interactive: cadre cancel does not ask for confirmation; list the jobs first "
                "(cadre queue with the same filters), then cancel them by id",
                2);
  auto targets = parse_job_targets(f.positionals());
  if (!targets) return fail(targets.error(), 2);
  const std::vector<uint64_t>& ids = targets->ids;
  auto filter = cancel_filter(f);
  if (!filter) return fail(filter.error(), 2);
  if (ids.empty() && targets->tasks.empty() && !filter->any())
    return fail("cancel takes job ids or filters, e.g. cadre cancel 42 43 or cadre cancel --me --state PENDING", 2);
  if (!targets->tasks.empty() && filter->any())
    return fail("array tasks (" + targets->tasks.front() + ") and filters do not go together: cancel the tasks by id, "
                "or the whole array with its id and the filters", 2);
  Client client(g.master, g.timeout_ms);
  if (!filter->any()) return send_cancels(client, ids, targets->tasks);
  auto chosen = jobs_to_cancel(client, *filter, ids);
  if (!chosen) return fail(chosen.error());
  return send_cancels(client, *chosen);
}

}  // namespace cadre::cli
