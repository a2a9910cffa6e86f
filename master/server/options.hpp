// What the master's server is configured with, and what it counts.
// Plain values; owned by the event-loop thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "master/limits.hpp"
#include "master/scheduler/decide.hpp"
#include "master/state/cluster.hpp"

namespace cadre {

// CURVE on the tcp endpoint: on when key_file is set.
struct SecurityOptions {
  std::string key_file;        // the master's key pair (cadre keygen)
  std::string agent_keys_dir;  // <name>.pub of each enrolled agent
  std::string user_keys_dir;   // <name>.pub of each enrolled user
  std::string local_socket;    // path of the ipc socket for users on this host; "" = none
  std::string admin_group;     // besides root, members of this group are admins
};

struct MasterOptions {
  std::string listen = "tcp://*:7700";
  std::string state_dir;
  int64_t node_timeout_ms = 30000;
  uint32_t max_retries = 3;  // requeues of a gang after node failures
  // Off only to measure what group commit buys (bench/): one transaction,
  // and one fsync, per message instead of per loop turn.
  bool group_commit = true;
  sched::Policy policy;
  SchedulerConfig scheduler;       // partitions and fair share
  int64_t interval_ms = 10000;     // a pass at least this often (ages and fair share move)
  int64_t debounce_ms = 0;         // at most one event-driven pass per this long
  Limits limits;                   // per-user limits on submissions
  SecurityOptions security;
  // [accounts]: account name -> its members (a user's own name is always theirs).
  std::map<std::string, std::vector<std::string>> accounts;
  // [master] mail_program: what --mail-type's mail goes through (Slurm's
  // MailProg); "" sends none.
  std::string mail_program;
};

// What the master refused or dropped; logged, kept, and reported by
// getStats (cadre diag).
struct MasterCounters {
  uint64_t malformed_messages = 0;
  uint64_t undeliverable = 0;
  uint64_t rate_limited = 0;         // submissions refused by limits.submit_rate
  uint64_t refused_submissions = 0;  // refused by validation or the other limits
  uint64_t refused_connections = 0;  // handshakes with an unknown key (ZAP)
  uint64_t refused_messages = 0;     // from a revoked key, a wrong routing id, or a peer outside its role
  uint64_t over_limit = 0;           // requests over a bound of common/limits.hpp
};

}  // namespace cadre
