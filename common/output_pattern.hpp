// Output file patterns (`--output`, `--error`): what the agent names a
// rank's file and where `cadre run` finds it again, with sbatch's
// replacement symbols and their meanings. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace cadre {

// Slurm's "no array task" index: what %a gives for a job that is not part
// of an array (as sbatch writes it, 4294967294).
inline constexpr uint32_t kNoArrayTask = 4294967294u;

struct PatternFields {
  uint64_t job = 0;
  uint32_t rank = 0;        // %t: the rank (in a step: the step's rank)
  uint32_t attempt = 0;     // 1 for the first run; %r is attempt - 1 (Slurm's restart count)
  std::string node;         // %N: the node's name
  uint32_t node_index = 0;  // %n: the node's place in the job's node list
  std::string job_name;
  std::string user;
  uint32_t step = 0;        // %s: 0 for the job's own ranks, N for step N
  bool batch = false;       // the batch script: %s is "batch", %J the bare job id
  uint64_t array_job = 0;   // %A: the array's job id; 0: not an array (%A is the job id)
  uint32_t array_task = kNoArrayTask;  // %a, %b
};

// The pattern with sbatch's symbols replaced: %j job id, %J job.step (job
// alone for a batch script), %s step, %t rank, %n node index, %N node name,
// %x job name, %u user, %A array job id, %a array index, %b index modulo
// 10, %r restart count, %% a percent sign. A number between % and the
// letter zero-pads a number to that width (at most 10). A pattern holding a
// backslash is taken literally, backslashes removed. Other % sequences are
// kept as written. Relative results are taken relative to `workdir`.
std::string expand_output_pattern(const std::string& pattern, const PatternFields& f, const std::string& workdir);

}  // namespace cadre
