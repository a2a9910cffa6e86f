#include "cli/job_listing.hpp"

#include <pwd.h>
#include <unistd.h>

#include <string_view>

namespace cadre::cli {
namespace {

std::string_view view(capnp::Text::Reader text) { return {text.cStr(), text.size()}; }

}  // namespace

Status list_jobs(Client& client, bool all, JobListing& out) {
  uint64_t after = 0;
  while (true) {
    auto reply = client.call([all, after](Envelope::Builder e) {
      auto l = e.initListJobs();
      l.setAll(all);
      l.setAfterId(after);
    });
    if (!reply) return make_error(reply.error());
    auto page = (*reply)->envelope().getJobsReply();
    for (auto j : page.getJobs()) out.jobs.push_back(j);
    out.pages.push_back(std::move(*reply));
    if (!page.getMore() || out.jobs.empty() || out.jobs.back().getId() <= after) return {};
    after = out.jobs.back().getId();
  }
}

JobFacts facts_of(JobInfo::Reader j) {
  auto r = j.getRequest();
  return JobFacts{j.getId(),         view(r.getUser()),      r.getUid(),          view(j.getState()),
                  view(r.getName()), view(r.getPartition()), view(r.getAccount()), r.getArrayJobId()};
}

std::string caller_user() {
  const uid_t uid = getuid();
  const passwd* pw = getpwuid(uid);
  return pw ? std::string(pw->pw_name) : std::to_string(uid);
}

}  // namespace cadre::cli
