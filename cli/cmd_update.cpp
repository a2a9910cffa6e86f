// cadre update (scontrol update job) and cadre requeue (scontrol requeue,
// requeuehold): change a queued job, or put a running or ended one back.
#include <iostream>

#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/names.hpp"
#include "common/escape.hpp"
#include "common/flags.hpp"
#include "common/ids.hpp"
#include "common/job_update.hpp"
#include "common/limits.hpp"

namespace cadre::cli {
namespace {

// Prints a line for each job the master could not change; 1 if any.
int report(const char* verb, capnp::List<CancelResult>::Reader results) {
  int status = 0;
  for (auto r : results)
    if (!r.getOk()) {
      std::cerr << "cadre: cannot " << verb << " job " << r.getId() << ": " << escape_control(r.getMessage().cStr())
                << "\n";
      status = 1;
    }
  return status;
}

}  // namespace

int cmd_update(const Global& g, const Args& args) {
  Flags f;
  if (Status s = f.parse(args, true); !s) return fail(s.error(), 2);
  // Words with '=' are changes, the rest jobs, in any order (as scontrol's JobId=42 ... form).
  std::vector<std::string> jobs, changes;
  for (const std::string& w : f.positionals()) {
    if (w.size() > 6 && (w.starts_with("JobId=") || w.starts_with("jobid="))) jobs.push_back(w.substr(6));
    else (w.find('=') == std::string::npos ? jobs : changes).push_back(w);
  }
  if (jobs.empty()) return fail("update takes job ids and KEY=VALUE changes, e.g. cadre update 42 TimeLimit=2:00:00", 2);
  auto targets = parse_job_targets(jobs);
  if (!targets) return fail(targets.error(), 2);
  auto updates = parse_job_updates(changes, unix_now());
  if (!updates) return fail(updates.error(), 2);
  // A StartTime read here, in this user's time zone, goes as a unix time.
  for (size_t i = 0; i < changes.size(); ++i) changes[i] = portable_update_word((*updates)[i], changes[i]);
  if (targets->ids.size() + targets->tasks.size() > limits::kMaxIdsPerRequest)
    return fail("at most " + std::to_string(limits::kMaxIdsPerRequest) + " jobs in one update", 2);
  Client client(g.master, g.timeout_ms);
  auto reply = client.call([&](Envelope::Builder e) {
    auto u = e.initUpdateJob();
    auto ids = u.initIds(static_cast<unsigned>(targets->ids.size()));
    for (unsigned i = 0; i < targets->ids.size(); ++i) ids.set(i, targets->ids[i]);
    set_task_refs(u.initTasks(static_cast<unsigned>(targets->tasks.size())), targets->tasks);
    auto fields = u.initFields(static_cast<unsigned>(changes.size()));
    for (unsigned i = 0; i < changes.size(); ++i) fields.set(i, changes[i]);
  });
  if (!reply) return fail(reply.error());
  return report("update", (*reply)->envelope().getCancelReply().getResults());
}

int cmd_requeue(const Global& g, const Args& args) {
  Flags f;
  f.toggle("--hold");
  if (Status s = f.parse(args, true); !s) return fail(s.error(), 2);
  if (f.positionals().empty()) return fail("requeue takes job ids, e.g. cadre requeue 42", 2);
  auto targets = parse_job_targets(f.positionals());
  if (!targets) return fail(targets.error(), 2);
  if (targets->ids.size() + targets->tasks.size() > limits::kMaxIdsPerRequest)
    return fail("at most " + std::to_string(limits::kMaxIdsPerRequest) + " jobs in one requeue", 2);
  Client client(g.master, g.timeout_ms);
  auto reply = client.call([&](Envelope::Builder e) {
    auto q = e.initRequeueJobs();
    q.setHold(f.has("--hold"));
    auto ids = q.initIds(static_cast<unsigned>(targets->ids.size()));
    for (unsigned i = 0; i < targets->ids.size(); ++i) ids.set(i, targets->ids[i]);
    set_task_refs(q.initTasks(static_cast<unsigned>(targets->tasks.size())), targets->tasks);
  });
  if (!reply) return fail(reply.error());
  return report("requeue", (*reply)->envelope().getCancelReply().getResults());
}

}  // namespace cadre::cli
