// The jobs the master lists (ListJobs, page after page), for the commands
// that read them: cadre queue and cancel (cli/cmd_jobs.cpp) and cadre acct
// (cli/cmd_sacct.cpp). Not thread-safe (a Client is one caller's).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/client.hpp"
#include "cli/job_filters.hpp"
#include "common/protocol.capnp.h"
#include "common/result.hpp"

namespace cadre::cli {

// Jobs as the master lists them. It answers in pages (of at most 10,000
// jobs); each page's message is kept, since the readers point into it.
struct JobListing {
  std::vector<std::unique_ptr<Decoded>> pages;
  std::vector<JobInfo::Reader> jobs;
};

// Pending and running jobs; with `all`, ended ones too.
Status list_jobs(Client& client, bool all, JobListing& out);

// What the filters of cli/job_filters.hpp read in one job.
JobFacts facts_of(JobInfo::Reader job);

// Who runs this command, as --me means it: the login name, else the uid
// (which --user also takes).
std::string caller_user();

}  // namespace cadre::cli
