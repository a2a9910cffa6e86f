// Which jobs `cadre queue` lists and `cadre cancel` acts on, chosen as
// squeue's and scancel's filters choose them: by user, state, name,
// partition, account and (queue) job id. Different kinds of filter must all
// match (AND); the values of one kind are alternatives (OR). Parsing checks
// each value and says which flag was wrong; matching reads one job's facts.
// Pure functions (the caller looks up who runs the CLI); thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace cadre::cli {

struct JobFilter {
  // Each list empty: that kind of filter is not given.
  std::vector<std::string> users;      // user names, or uid numbers
  std::vector<std::string> states;     // long names, upper case ("PENDING")
  std::vector<std::string> names;      // job names
  std::vector<std::string> partitions;
  std::vector<std::string> accounts;
  std::vector<uint64_t> ids;
  bool all_states = false;             // `--states all`
  // squeue compares job names and accounts ignoring case; scancel exactly.
  bool fold_case = false;

  // True when any filter is given (`--states all` counts: it widens queue).
  bool any() const;
  // True when the filters can match a job that ended, so the listing must
  // include ended jobs.
  bool wants_ended() const;
};

// What the filters look at in one job, as the master's listing gives it.
struct JobFacts {
  uint64_t id = 0;
  std::string_view user;
  uint32_t uid = 0;
  std::string_view state;
  std::string_view name;
  std::string_view partition;
  std::string_view account;  // empty: the user's name, as the master charges it
  uint64_t array_job = 0;    // an array's job: the array's id (squeue -j ARRAY lists them all)
};

bool matches(const JobFilter& filter, const JobFacts& job);

// One value of `flag`, checked for what it names: a user ("user name"), a
// job name, a partition or an account. Errors start with the flag.
enum class FilterText { user, job_name, partition, account };
Result<std::string> parse_filter_word(std::string_view flag, FilterText kind, std::string_view text);
// A comma-separated list of such values (squeue's form); no item may be
// empty.
Result<std::vector<std::string>> parse_filter_list(std::string_view flag, FilterText kind, std::string_view text);

// squeue's --states: a comma-separated list of job states, long or short
// (PENDING or PD), in any case, or `all`. Slurm's states that cadre never
// enters (SUSPENDED, COMPLETING, ...) are accepted and match no job. Sets
// filter.states or filter.all_states.
Status parse_queue_states(std::string_view flag, std::string_view text, JobFilter& filter);
// scancel's --state: one of PENDING (PD) or RUNNING (R), in any case.
Result<std::string> parse_cancel_state(std::string_view flag, std::string_view text);

// squeue's compact form of a job state ("PENDING" -> "PD"); the state
// itself when squeue has no code for it.
std::string job_state_code(std::string_view state);

// squeue's --jobs: a comma-separated list of job ids.
Result<std::vector<uint64_t>> parse_job_id_list(std::string_view flag, std::string_view text);

}  // namespace cadre::cli
