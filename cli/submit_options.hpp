// Parsing of `cadre submit` flags into a job request. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/resources.hpp"
#include "common/result.hpp"

namespace cadre::cli {

struct SubmitOptions {
  std::string name;
  std::vector<std::string> argv;
  std::string workdir;          // absolute
  std::string output_pattern;
  Resources per_task{1000, 1024, 0};
  uint32_t nodes = 0;           // 0: anywhere
  uint32_t tasks_per_node = 0;
  uint32_t ntasks = 1;
  int64_t time_limit_s = 0;
  bool time_limit_given = false;  // --time given (0 then means UNLIMITED)
  int32_t priority = 0;
  bool requeue = true;          // --no-requeue: a node failure ends the job
  std::string partition;        // empty: the master's default partition
  std::string account;          // empty: the user's name
  uint32_t max_switches = 0;    // --switches N[@TIME]
  int64_t switches_wait_s = 0;
  bool parsable = false;
  bool wait = false;
};

// Reads the arguments after "submit". `cwd` is where the command ran (the
// default working directory). Errors name the flag and what it expects.
Result<SubmitOptions> parse_submit(const std::vector<std::string>& args, const std::string& cwd);

}  // namespace cadre::cli
