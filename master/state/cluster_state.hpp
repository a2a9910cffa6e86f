// ClusterState: the data the pieces of master/state/ share (jobs, nodes,
// partitions, fair share) and the effects of the current turn (commands
// for agents, jobs and nodes to persist). Plain data with lookups; the
// pieces (admission, node_table, jobs, steps, schedule) change it, and the
// Cluster facade owns it.
//
// Not thread-safe: owned by the master's event-loop thread.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "master/config.hpp"
#include "master/model.hpp"
#include "master/qos.hpp"
#include "master/reservations.hpp"
#include "master/port_range.hpp"
#include "master/scheduler/fairshare.hpp"
#include "master/state/commands.hpp"

namespace cadre {

struct ClusterState {
  ClusterState(int64_t node_timeout, uint32_t retries) : node_timeout_ms(node_timeout), max_retries(retries) {}

  // A node silent this long is DOWN.
  int64_t node_timeout_ms;
  // A gang hit by a node failure is requeued while it has run at most
  // `max_retries` + 1 attempts (and its spec allows it); then NODE_FAIL.
  uint32_t max_retries;

  JobId next_job_id = 1;
  std::map<JobId, Job> jobs;  // PENDING, RUNNING, and ended ones still holding resources
  std::map<std::string, Node> nodes;
  std::vector<PartitionConfig> partitions;  // never empty once configured
  std::vector<QosConfig> qos;               // [[qos]]; empty: none defined (master/qos.hpp)
  Reservations reservations;                // admins' (state/reservation_table.hpp)
  PortRange master_ports;                    // MASTER_PORTs handed out

  sched::FairShare fairshare;
  int64_t charged_until = 0;
  bool usage_dirty = false;
  // Pending jobs per user: recounted at restore and around every scheduling
  // pass, counted up on submit. Between passes it can only overestimate (a
  // job cancelled since is still counted), never let a user past the limit.
  std::map<std::string, uint32_t> pending_by_user;
  // No running job reaches its time limit before this, on the monotonic
  // clock (ms); 0: not known yet, look. Reset by every launch, recomputed
  // by each look.
  int64_t next_time_limit_ms = 0;
  // The next save of running jobs' run times (monotonic ms; 0: at once).
  int64_t next_run_save_ms = 0;

  // Pending jobs with a --dependency not yet satisfied, and the jobs
  // (or arrays) they name: those stay in memory after they end, so a
  // dependency is judged without reading the store (dependencies.hpp).
  std::set<JobId> dependents;
  std::set<JobId> dependency_targets;

  // Effects of this turn, for the service to persist, then send.
  std::vector<AgentCommand> commands;
  std::set<JobId> dirty_jobs;
  std::set<std::string> dirty_nodes;
  std::set<std::string> dirty_reservations;  // saved when they exist, deleted when not

  Job* job(JobId id);
  const Job* find_job(JobId id) const;
  const Node* find_node(const std::string& name) const;
  void send_kill(const std::string& node, JobId id, Attempt attempt, uint32_t rank, uint32_t step = 0);
  void send_launch(const std::string& node, LaunchCommand launch);
  void count_pending();
};

}  // namespace cadre
