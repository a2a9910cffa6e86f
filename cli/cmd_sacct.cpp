// cadre acct, and sacct (cli/slurm_front.cpp): the jobs the master still
// lists, ended ones included, in sacct's fields and layouts. Options and
// selection are cli/sacct_options.cpp's; fields cli/sacct_fields.cpp's.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <vector>

#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/job_listing.hpp"
#include "cli/sacct_fields.hpp"
#include "cli/sacct_options.hpp"
#include "common/ids.hpp"

namespace cadre::cli {

int cmd_acct(const Global& g, const Args& args) {
  SacctContext context;
  context.now_unix = unix_now();
  context.caller = caller_user();
  context.root = getuid() == 0;
  // SACCT_FORMAT is a Slurm user's setting: sacct reads it, cadre acct not.
  if (const char* v = std::getenv("SACCT_FORMAT"); g.slurm_words && v) context.env_format = v;
  auto options = parse_sacct_options(args, context);
  if (!options) return fail(options.error(), 2);
  if (options->help_format) {
    std::cout << sacct_field_names();
    return 0;
  }
  // A field sacct does not define: exit 1, as sacct's own refusal.
  auto columns = parse_sacct_format(options->format, options->format_option);
  if (!columns) return fail(columns.error(), 1);
  Client client(g.master, g.timeout_ms);
  JobListing listing;
  if (Status s = list_jobs(client, true, listing); !s) return fail(s.error());
  std::vector<JobInfo::Reader> jobs;
  for (auto j : listing.jobs)
    if (sacct_selects(*options, j)) jobs.push_back(j);
  std::cout << sacct_listing(*columns, jobs, context.now_unix, options->style);
  return 0;
}

}  // namespace cadre::cli
