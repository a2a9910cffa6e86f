// What the CLI accepts as a job id and as a node name, checked before
// anything is sent, so a bad word is refused at once with what was wrong
// instead of waiting on the master. Stateless (job_from_environment reads
// the environment); thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <capnp/list.h>

#include "common/result.hpp"

namespace cadre::cli {

// A job id as typed: a decimal whole number from 1 to INT64_MAX, nothing
// around it. Errors quote the word, escaped.
Result<uint64_t> parse_job_id(std::string_view text);

// The jobs cancel, hold and release take: "12" (a job, or a whole array),
// "12_7" (one task of array 12) and "12_[1-3,7]" (several), in the order
// given, repeats dropped; at most limits::kMaxIdsPerRequest tasks.
struct JobTargets {
  std::vector<uint64_t> ids;
  std::vector<std::string> tasks;  // "12_7", one per task
};
Result<JobTargets> parse_job_targets(const std::vector<std::string>& words);
// Fills a request's list of array tasks.
void set_task_refs(capnp::List<capnp::Text>::Builder out, const std::vector<std::string>& tasks);

// The job this process runs inside: CADRE_JOB_ID, or nullopt when it is
// unset or empty. A value that is not a job id is an error naming
// CADRE_JOB_ID, never "not in a job" (which would submit a new one).
Result<std::optional<uint64_t>> job_from_environment();

// A node name as drain, resume and rsh take it: 1 to
// limits::kMaxNodeNameBytes bytes, no '/' and no control characters.
// Errors name "node name" and quote it, escaped and cut short.
Status check_node_name(std::string_view name);

}  // namespace cadre::cli
