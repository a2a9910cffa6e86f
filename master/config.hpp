// MasterConfig: what cadre-master reads from its TOML file (cadre.toml),
// and the node patterns its partitions are made of. Parsing is pure and
// thread-safe; load_master_config only adds reading the file.
//
// Every key is optional; a key that is not set keeps the default below (for
// [master], the command-line flag or its default). Unknown keys and tables
// are errors, so a typo never silently falls back to a default. Durations
// are an integer (seconds) or a string: "500ms", "30s", "5m", "2h", "7d", or
// one of Slurm's formats ("1:00:00", "2-00:00:00"). packaging/cadre.toml.example
// shows every key.
//
//   [master]
//   listen = "tcp://*:7700"      ZeroMQ endpoint (as --listen)
//   state_dir = "/var/lib/cadre" folder for cadre.db (as --state-dir)
//   node_timeout = "30s"         a node silent this long is DOWN (> 0)
//   max_retries = 3              requeues after node failures (as --max-retries)
//   master_ports = "29500-32767" the MASTER_PORTs jobs get (as --master-ports)
//   mail_program = "/usr/sbin/sendmail"  --mail-type's mail ("" none; as --mail-program)
//   log_level = "info"           debug, info, warning or error
//
//   [scheduler]
//   policy = "easy"              fcfs, greedy, easy or conservative
//   preemption = true            higher tiers may preempt lower ones
//   reservation_depth = 1000     conservative: jobs that get a reservation
//   unlimited_as = "365d"        planning length of jobs with no limit (> 0)
//   interval = "10s"             periodic scheduling pass (> 0)
//   debounce = "0ms"             minimum gap between event-driven passes
//   fairshare_half_life = "7d"   usage decays by half this often (> 0)
//   gpu_billing = 8.0            one GPU counts as this many CPUs in usage
//
//   [scheduler.weights]          multifactor priority; numbers >= 0
//   age = 1000.0                 full weight once a job waited max_age
//   max_age = "7d"               (> 0)
//   size = 1000.0
//   fairshare = 10000.0
//   job = 1000.0                 per unit of the job's --priority
//   partition = 1000.0           the partition's tier
//   qos = 1000.0                 the job's QOS priority relative to the highest
//
//   [[partition]]                repeat for each partition (at most 64)
//   name = "gpu"                 required, unique, [A-Za-z0-9_.-]{1,64}
//   nodes = ["gpu[01-16]"]       node patterns (see node_matches); absent: every node
//   default = true               jobs with no --partition go here (at most one)
//   default_time = "1h"          time limit of jobs that give none (0: none)
//   max_time = "2-00:00:00"      longest time limit allowed (0: none; >= default_time)
//   tier = 1                     higher tiers rank first and may preempt lower
//   preemptible = true           its jobs may be preempted by higher tiers
//   max_running_jobs_per_user = 10  (0: no limit)
//   max_gpus_per_user = 32          (0: no limit)
//
//   [[qos]]                      repeat for each QOS (at most 64; master/qos.hpp)
//   name = "high"                required, unique (case-insensitive), as partition names
//   default = true               jobs with no --qos get it (at most one; else "normal", else the first)
//   priority = 100               >= 0; the priority factor is this over the highest QOS priority
//   tier = 2                     the job's preemption tier instead of its partition's (absent: the partition's)
//   preemptible = true           its jobs may be preempted (the partition must allow it too)
//   max_time = "1d"              MaxWall: the longest --time (jobs with none get it; 0: none)
//   max_running_jobs_per_user = 4   MaxJobsPerUser (0: no limit)
//   max_gpus_per_user = 16          GPUs one user's running jobs hold under it (0: no limit)
//   users = ["alice"]            who may use it; with accounts, both absent: everyone
//   accounts = ["physics"]       jobs charged to these accounts may use it
//
//   [limits]                     per user; each breach is refused to that client alone
//   max_pending_jobs_per_user = 100000   (0: no limit)
//   submit_rate = 0.0            jobs per second, sustained (0: no limit)
//   submit_burst = 1000          jobs at once before submit_rate applies (>= 1)
//   max_command_bytes = 262144   a job's command, all words (0: no limit)
//   max_script_bytes = 1048576   a batch script (0: no limit)
//
//   [security]                   see docs/security.md
//   key = "/etc/cadre/master.key"    the master's key pair: turns CURVE on for tcp
//   agent_keys = "/etc/cadre/agents" folder of enrolled agents' <name>.pub
//   user_keys = "/etc/cadre/users"   folder of enrolled users' <name>.pub
//   local_socket = "/run/cadre/cadre.sock"  ipc socket for users on the master's host
//                                (default <state_dir>/cadre.sock; "" for none)
//   admin_group = "hpcadmin"     members may cancel any job and drain/resume nodes (root always may)
//
//   [accounts]                   who may charge a job to which account (--account)
//   physics = ["alice", "bob"]   an account and its members (user names); every
//                                user also has an account of their own name,
//                                admins may charge any (master/state/accounts.hpp)
//
//   [agent]                      the agent's (agent/config.hpp): accepted, not read here
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "master/limits.hpp"
#include "master/node_pattern.hpp"
#include "master/port_range.hpp"
#include "master/qos.hpp"
#include "master/scheduler/decide.hpp"

namespace cadre {

struct PartitionConfig {
  std::string name;
  std::vector<std::string> nodes;  // node patterns; empty = every node
  bool is_default = false;
  int64_t default_time_s = 0;  // 0 none
  int64_t max_time_s = 0;      // 0 none
  int32_t tier = 0;
  bool preemptible = true;
  uint32_t max_running_jobs_per_user = 0;  // 0 none
  int64_t max_gpus_per_user = 0;           // 0 none
};

struct MasterConfig {
  // [master] — all optional: unset means "use the built-in default / the flag"
  std::optional<std::string> listen, state_dir, log_level;
  std::optional<int64_t> node_timeout_ms;
  std::optional<uint32_t> max_retries;
  std::optional<PortRange> master_ports;
  std::optional<std::string> mail_program;
  // [scheduler]
  sched::Policy policy;  // backfill, preemption, reservation_depth, unlimited_as_s, weights
  int64_t interval_ms = 10000;  // periodic pass
  int64_t debounce_ms = 0;      // minimum gap between event-driven passes
  int64_t fairshare_half_life_s = 7 * 86400;
  double gpu_billing = 8.0;
  std::vector<PartitionConfig> partitions;  // empty: one implicit partition "default" with every node
  std::vector<QosConfig> qos;               // [[qos]]; empty: --qos is recorded, nothing enforced
  Limits limits;
  // [security]: CURVE on the tcp endpoint when key is set
  std::optional<std::string> key_file, agent_keys_dir, user_keys_dir, local_socket, admin_group;
  // [accounts]: account name -> its members (user names), as AccountTable takes it
  std::map<std::string, std::vector<std::string>> accounts;
};

// Parses and validates a whole file. `source_name` prefixes every error,
// which names line, column and key: "cadre.toml:7:10: scheduler.policy: ...".
Result<MasterConfig> parse_master_config(std::string_view text, const std::string& source_name);

// Reads the file at `path` and its drop-ins `path`.d/*.toml (see
// common/toml_file.hpp), then checks the result; errors name the file the
// bad value came from. A file that cannot be read is an error that says why.
// [agent] is the agent's section: accepted and left to agent/config.hpp.
Result<MasterConfig> load_master_config(const std::string& path);

// The partition a job with no --partition goes to: the one marked default,
// else the first; "default" when none configured.
std::string default_partition(const MasterConfig& config);

}  // namespace cadre
