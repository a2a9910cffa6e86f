// cadre hold / cadre release (scontrol hold / release): keep pending jobs
// from starting, and let them start again.
#include <algorithm>
#include <iostream>

#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/names.hpp"
#include "common/escape.hpp"
#include "common/flags.hpp"
#include "common/limits.hpp"

namespace cadre::cli {
namespace {

int hold_or_release(const Global& g, const Args& args, bool release) {
  const std::string verb = release ? "release" : "hold";
  Flags f;
  if (Status s = f.parse(args, true); !s) return fail(s.error(), 2);
  if (f.positionals().empty())
    return fail(verb + " takes one or more job ids, e.g. cadre " + verb + " 42 43", 2);
  auto targets = parse_job_targets(f.positionals());
  if (!targets) return fail(targets.error(), 2);
  const std::vector<uint64_t>& ids = targets->ids;
  const std::vector<std::string>& tasks = targets->tasks;
  Client client(g.master, g.timeout_ms);
  int status = 0;
  // Array tasks ("12_7") go with the first batch (parse_job_targets bounds them).
  for (size_t first = 0; first < std::max<size_t>(ids.size(), tasks.empty() ? 0 : 1);
       first += limits::kMaxIdsPerRequest) {
    const size_t count = std::min(limits::kMaxIdsPerRequest, ids.size() - std::min(first, ids.size()));
    auto reply = client.call([&](Envelope::Builder e) {
      auto h = e.initHoldJobs();
      h.setRelease(release);
      auto list = h.initIds(static_cast<unsigned>(count));
      for (unsigned i = 0; i < count; ++i) list.set(i, ids[first + i]);
      if (first == 0) set_task_refs(h.initTasks(static_cast<unsigned>(tasks.size())), tasks);
    });
    if (!reply) return fail(reply.error());
    for (auto r : (*reply)->envelope().getCancelReply().getResults()) {
      if (!r.getOk()) {
        std::cerr << "cadre: cannot " << verb << " job " << r.getId() << ": " << escape_control(r.getMessage().cStr())
                  << "\n";
        status = 1;
      }
    }
  }
  return status;
}

}  // namespace

int cmd_hold(const Global& g, const Args& args) { return hold_or_release(g, args, false); }
int cmd_release(const Global& g, const Args& args) { return hold_or_release(g, args, true); }

}  // namespace cadre::cli
