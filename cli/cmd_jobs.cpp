// cadre queue, show and cancel.
#include <algorithm>
#include <iostream>
#include <memory>
#include <vector>

#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/format.hpp"
#include "cli/names.hpp"
#include "common/escape.hpp"
#include "common/flags.hpp"
#include "common/ids.hpp"
#include "common/limits.hpp"

namespace cadre::cli {

int cmd_queue(const Global& g, const Args& args) {
  Flags f;
  f.toggle("--all", {"-a"}).toggle("--json");
  if (Status s = f.parse(args); !s) return fail(s.error(), 2);
  Client client(g.master, g.timeout_ms);
  const bool all = f.has("--all");
  // The master answers in pages (of at most 10,000 jobs); each page's
  // message is kept, since the readers point into it.
  std::vector<std::unique_ptr<Decoded>> pages;
  std::vector<JobInfo::Reader> jobs;
  uint64_t after = 0;
  while (true) {
    auto reply = client.call([all, after](Envelope::Builder e) {
      auto l = e.initListJobs();
      l.setAll(all);
      l.setAfterId(after);
    });
    if (!reply) return fail(reply.error());
    auto page = (*reply)->envelope().getJobsReply();
    for (auto j : page.getJobs()) jobs.push_back(j);
    pages.push_back(std::move(*reply));
    if (!page.getMore() || jobs.empty() || jobs.back().getId() <= after) break;
    after = jobs.back().getId();
  }
  if (f.has("--json")) {
    nlohmann::json out = {{"jobs", nlohmann::json::array()}};
    for (auto j : jobs) out["jobs"].push_back(job_json(j));
    std::cout << out.dump(2) << std::endl;
  } else {
    std::cout << jobs_table(jobs, unix_now());
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
  auto jobs = (*reply)->envelope().getJobsReply().getJobs();
  if (jobs.size() != 1) return fail("the master returned no job " + std::to_string(*id));
  if (f.has("--json")) std::cout << job_json(jobs[0]).dump(2) << std::endl;
  else std::cout << job_details(jobs[0], unix_now());
  return 0;
}

int cmd_cancel(const Global& g, const Args& args) {
  Flags f;
  if (Status s = f.parse(args, true); !s) return fail(s.error(), 2);
  if (f.positionals().empty()) return fail("cancel takes one or more job ids, e.g. cadre cancel 42 43", 2);
  std::vector<uint64_t> ids;
  for (const std::string& p : f.positionals()) {
    auto id = parse_job_id(p);
    if (!id) return fail(id.error(), 2);
    ids.push_back(*id);
  }
  Client client(g.master, g.timeout_ms);
  int status = 0;
  // The master takes at most limits::kMaxIdsPerRequest ids a request.
  for (size_t first = 0; first < ids.size(); first += limits::kMaxIdsPerRequest) {
    const size_t count = std::min(limits::kMaxIdsPerRequest, ids.size() - first);
    auto reply = client.call([&](Envelope::Builder e) {
      auto list = e.initCancel().initIds(static_cast<unsigned>(count));
      for (unsigned i = 0; i < count; ++i) list.set(i, ids[first + i]);
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

}  // namespace cadre::cli
