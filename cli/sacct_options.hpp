// sacct's options, as cadre acct and the sacct front end read them, and
// which jobs they choose: by id (-j, array tasks "12_7" too), user, state,
// name, partition, account, and the time window (-S/-E, with sacct's
// defaults: since midnight; since ever with -j; now with -s). Pure
// functions (the caller passes the clock and who runs it); thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cli/job_filters.hpp"
#include "cli/sacct_fields.hpp"
#include "common/protocol.capnp.h"
#include "common/result.hpp"

namespace cadre::cli {

// What parsing needs from outside: the clock, who runs the command, and
// SACCT_FORMAT (read only when run as sacct; "" otherwise).
struct SacctContext {
  int64_t now_unix = 0;
  std::string caller;  // user name (or uid) of whoever runs it
  bool root = false;   // root sees every user's jobs by default, as with sacct
  std::string env_format;
};

struct SacctOptions {
  JobFilter filter;  // users, states, names, partitions, accounts
  // -j: jobs by id (an array's id names all its tasks) and single tasks.
  std::vector<uint64_t> ids;
  std::vector<std::pair<uint64_t, int64_t>> tasks;  // (array id, task index)
  int64_t start = 0, end = 0;                       // the window, unix seconds
  // The --format list chosen (-o, SACCT_FORMAT, -b, -l or the default) and
  // where it came from, for errors. Parsed by parse_sacct_format apart:
  // sacct refuses an unknown field with exit 1, bad options with 2.
  std::string format;
  std::string format_option;
  SacctStyle style;
  bool help_format = false;  // -e: list the field names, nothing else
  bool named_jobs() const { return !ids.empty() || !tasks.empty(); }
};

// Parses sacct's options. Errors name the option and say what it takes.
Result<SacctOptions> parse_sacct_options(const std::vector<std::string>& args, const SacctContext& context);

// Whether the options choose `job`: it matches every filter and was
// eligible (or running) at some time in the window; a job never eligible
// (held) only when named with -j, as sacct.
bool sacct_selects(const SacctOptions& options, JobInfo::Reader job);

}  // namespace cadre::cli
