// Output file patterns (`--output`, `--error`): what the agent names a
// rank's file and where `cadre run` finds it again. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace cadre {

struct PatternFields {
  uint64_t job = 0;
  uint32_t rank = 0;
  uint32_t attempt = 0;
  std::string node;
  std::string job_name;
  std::string user;
};

// The pattern with %j (job id), %t (rank), %n and %N (node name), %x (job
// name), %u (user), %a (attempt) and %% replaced; other escapes are kept as
// they are. Relative results are taken relative to `workdir`.
std::string expand_output_pattern(const std::string& pattern, const PatternFields& f, const std::string& workdir);

}  // namespace cadre
