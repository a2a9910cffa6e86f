// LaunchSpec: one rank to start, as the master described it, and the
// environment that rank sees. Plain values; thread-safe functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/ids.hpp"

namespace cadre::agent {

struct LaunchSpec {
  JobId job = 0;
  Attempt attempt = 0;
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
};

// The output file of a rank: the pattern with %j (job id), %t (rank),
// %n (node name), %a (attempt) and %% replaced, relative to the workdir
// unless absolute.
std::string output_path(const LaunchSpec& spec, const std::string& node_name);

// "NAME=value" entries a rank starts with: the cadre variables, the names
// PyTorch and MPI launchers read, and a small base (PATH, HOME, USER, ...).
// `hostfile` is the path of the job's hostfile on this node.
std::vector<std::string> rank_environment(const LaunchSpec& spec, const std::string& node_name,
                                          const std::string& hostfile, const std::vector<std::string>& base);

// The job's hostfile: one "node slots=N" line per node.
std::string hostfile_text(const LaunchSpec& spec);

}  // namespace cadre::agent
