// AgentConfig: the [agent] section of cadre.toml, which cadre-agent reads
// (--config FILE, plus FILE.d/*.toml drop-ins such as the one `cadre-agent
// join` writes). Each key mirrors a flag, and the flag wins. The master's
// sections are known here and left to master/config.hpp. Parsing is pure
// and thread-safe.
//
//   [agent]
//   master = "tcp://head:7700"   master to register with (as --master)
//   name = "node17"              node name (default: the host name)
//   cpus = 64                    cpus to offer (default: the affinity mask)
//   memory = "256G"              memory to offer (default: MemTotal)
//   gpus = 8                     GPUs to offer (default: all discovered)
//   labels = { rack = "r1" }     or "rack=r1,switch=s3"
//   features = ["a100", "ib"]    or "a100,ib"
//   work_dir = "/var/lib/cadre-agent"
//   address = "10.0.0.17"        address other nodes' ranks use for this one
//   kill_grace = "10s"           SIGTERM to SIGKILL (at most 1h)
//   allow_root_jobs = false      run jobs submitted by root
//   cgroup = "/sys/fs/cgroup/cadre.slice"  delegated cgroup v2 folder
//   cgroups = true               false: process groups only (as --no-cgroups)
//   key = "/etc/cadre/node.key"  this node's CURVE key pair; with master_key
//   master_key = "/etc/cadre/master.pub"
//   log_level = "info"
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/limits.hpp"
#include "common/result.hpp"

namespace cadre::agent {

using Labels = std::vector<std::pair<std::string, std::string>>;

struct AgentConfig {
  // Unset: the flag, else the built-in default.
  std::optional<std::string> master, name, work_dir, address, cgroup, key, master_key, log_level;
  std::optional<int64_t> cpus, memory_mb, gpus, kill_grace_s;
  std::optional<Labels> labels;
  std::optional<std::vector<std::string>> features;
  std::optional<bool> allow_root_jobs, cgroups;
};

// Parses and validates a whole file; errors are "SOURCE:LINE:COLUMN: agent.KEY: problem".
Result<AgentConfig> parse_agent_config(std::string_view text, const std::string& source_name);

// Reads `path` and its drop-ins `path`.d/*.toml (common/toml_file.hpp).
Result<AgentConfig> load_agent_config(const std::string& path);

// "rack=r1,switch=s3" as the --labels flag and the string form of labels
// take it; the result passes check_labels.
Result<Labels> parse_labels(std::string_view text);

// At most limits::kMaxLabels labels, each key and value at most
// limits::kMaxLabelBytes: the master refuses a registration with more.
Status check_labels(const Labels& labels);

// A node name: 1-200 letters, digits, '_', '.' or '-', not starting with
// '.'. It is also the name of the node's key file on the master
// (enroll-agent NAME), so it is a key name too.
Status check_node_name(std::string_view name);

// An address other nodes reach this one at: a host name or an IP literal,
// 1 to limits::kMaxAddressBytes printable ASCII characters, no blanks.
Status check_address(std::string_view address);

// The most cpus, GPUs and seconds of kill grace an agent may offer or use.
constexpr int64_t kMaxCpus = int64_t{1} << 20;
constexpr int64_t kMaxGpus = static_cast<int64_t>(limits::kMaxGpusPerNode);
constexpr int64_t kMaxKillGraceS = 3600;

}  // namespace cadre::agent
