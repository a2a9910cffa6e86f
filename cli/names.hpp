// What the CLI accepts as a job id and as a node name, checked before
// anything is sent, so a bad word is refused at once with what was wrong
// instead of waiting on the master. Stateless (job_from_environment reads
// the environment); thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/result.hpp"

namespace cadre::cli {

// A job id as typed: a decimal whole number from 1 to INT64_MAX, nothing
// around it. Errors quote the word, escaped.
Result<uint64_t> parse_job_id(std::string_view text);

// The job this process runs inside: CADRE_JOB_ID, or nullopt when it is
// unset or empty. A value that is not a job id is an error naming
// CADRE_JOB_ID, never "not in a job" (which would submit a new one).
Result<std::optional<uint64_t>> job_from_environment();

// A node name as drain, resume and rsh take it: 1 to
// limits::kMaxNodeNameBytes bytes, no '/' and no control characters.
// Errors name "node name" and quote it, escaped and cut short.
Status check_node_name(std::string_view name);

}  // namespace cadre::cli
