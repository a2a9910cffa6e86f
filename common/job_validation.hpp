// The one place a job request is checked against the bounds of
// common/limits.hpp and for being well formed (a command, an absolute
// working directory, a shape that adds up, strict UTF-8 text without NUL
// bytes). The CLI calls it before sending, for friendly errors; the master
// calls it on every decoded request, authoritatively. It judges the request
// alone: who may ask for what (accounts, raised priority) and what the
// cluster can hold (partitions, nodes) are the master's to decide.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/job_spec.hpp"
#include "common/limits.hpp"
#include "common/result.hpp"

namespace cadre {

// The bounds an admin may change ([limits] in cadre.toml); 0: no limit.
struct RequestBounds {
  size_t max_command_bytes = limits::kMaxCommandBytes;  // all words of argv, each with its NUL
  size_t max_script_bytes = limits::kMaxScriptBytes;
};

// Success, or what is wrong with `spec` and what to do about it, e.g.
// "the job name is 1048576 bytes; at most 256 are allowed".
Status validate_job_request(const JobSpec& spec, const RequestBounds& bounds = {});

// An account or user name as [accounts] takes it: 1 to
// limits::kMaxUserNameBytes bytes of letters, digits, '_', '.', '-', not
// starting with '-' or '.'. `what` names it in the error ("account", "user").
// An environment a job or a step carries: at most limits::kMaxEnvVars
// entries and kMaxEnvBytes in all, each NAME=value, UTF-8, no NUL.
Status check_environment_entries(const std::vector<std::string>& environment);

Status check_account_name(const std::string& name, const std::string& what);

// Strict UTF-8 (RFC 3629), as the store's JSON encoder wants it: no
// overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s);

}  // namespace cadre
