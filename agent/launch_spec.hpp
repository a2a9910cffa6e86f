// LaunchSpec: one rank to start, as the master described it, and the
// environment that rank sees. Plain values; thread-safe functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/ids.hpp"
#include "common/job_array.hpp"
#include "common/resources.hpp"

namespace cadre::agent {

struct LaunchSpec {
  JobId job = 0;
  Attempt attempt = 0;
  uint32_t step = 0;                       // 0: a rank of the job (or its batch script)
  std::string job_name;
  uint32_t rank = 0;
  uint32_t world_size = 1;
  uint32_t local_rank = 0;
  uint32_t local_world_size = 1;
  uint32_t node_rank = 0;
  std::vector<std::string> nodelist;       // node-rank order
  std::vector<uint32_t> tasks_per_node;    // parallel to nodelist
  std::vector<uint32_t> gpus;
  std::vector<std::string> argv;
  std::string workdir;
  std::string output_pattern;
  std::string master_addr;
  uint16_t master_port = 0;
  std::string user;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string error_pattern;               // empty: stderr into the output file
  Resources per_task;                      // the job's request per task
  Resources limits;                        // what this process may use
  bool batch = false;                      // run `script` (argv[0] is where it was submitted from)
  std::string script;
  uint32_t ntasks = 1;                     // the job's total tasks
  uint32_t cpus_per_task = 1;
  std::vector<std::string> job_nodelist;   // the allocation's nodes (a step may use fewer)
  std::vector<uint32_t> job_tasks_per_node;
  int32_t umask = -1;                      // the submitter's umask (0..0777) for the rank; -1: the agent's
  std::vector<std::string> environment;    // "NAME=value" the submitter exported (or a step's caller)
  std::string partition;
  std::string account;
  std::string qos;
  std::string submit_host;
  std::string export_mode;                 // --export as given, or ""
  uint64_t array_job = 0;                  // an array task: the array's id (0: not one)
  uint32_t array_task = 0;                 // and its index
  ArrayFacts array;                        // the array's count, min, max, step
  bool truncate_output = false;            // --open-mode=truncate, for the rank that opens its files first
};

// Where the agent and the programs it starts find each other.
struct AgentContext {
  std::string node_name;
  std::string master;         // the master's endpoint, for `cadre run` inside a job
  std::string cli;            // the cadre CLI binary, for Open MPI's launcher (`cadre rsh`)
  std::string slurm_bin;      // the folder of Slurm's front ends (srun, sbatch, ...); "" when none
};

// The output file of a rank: the pattern with %j (job id), %t (rank),
// %n and %N (node name), %x (job name), %u (user), %a (attempt) and %%
// replaced, relative to the workdir unless absolute.
std::string output_path(const LaunchSpec& spec, const std::string& node_name);
std::string expand_pattern(const LaunchSpec& spec, const std::string& pattern, const std::string& node_name);

// "NAME=value" entries a rank starts with: the cadre variables, the names
// PyTorch, Open MPI and Slurm scripts read (SLURM_UMASK when the job
// carries a umask), and a small base (PATH, HOME, USER, ...). `hostfile`
// is the path of the job's hostfile on this node.
std::vector<std::string> rank_environment(const LaunchSpec& spec, const AgentContext& agent,
                                          const std::string& hostfile, const std::vector<std::string>& base);

// The job's hostfile: one "node slots=N" line per node of the allocation.
std::string hostfile_text(const LaunchSpec& spec);

// A umask as Slurm's SLURM_UMASK spells it: four octal digits ("0027").
std::string umask_octal(int32_t umask);

// Slurm's SLURM_TASKS_PER_NODE form: "2(x3),1" for 2,2,2,1.
std::string slurm_tasks_per_node(const std::vector<uint32_t>& counts);

}  // namespace cadre::agent
