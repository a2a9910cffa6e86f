// Cluster: the master's state machine for jobs, ranks and nodes; a facade
// over its pieces (admission, node_table, jobs, steps, schedule,
// partitions) and the ClusterState they share.
//
// Every change of state goes through here. Cluster does no I/O and encodes
// nothing: it records which jobs and nodes changed (for the store to
// persist) and queues typed commands for agents (launch, kill). The
// service persists the changes and only then encodes and sends the
// commands, so nothing outside the master sees a state the store does not
// hold.
//
// Not thread-safe: owned by the master's event-loop thread.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "master/config.hpp"
#include "master/limits.hpp"
#include "master/model.hpp"
#include "master/scheduler/decide.hpp"
#include "master/stats.hpp"
#include "master/store/store.hpp"
#include "master/state/admission.hpp"
#include "master/state/agent_reports.hpp"
#include "master/state/cluster_state.hpp"
#include "master/state/commands.hpp"
#include "master/state/dependencies.hpp"
#include "master/state/job_arrays.hpp"
#include "master/state/job_control.hpp"
#include "master/state/jobs.hpp"
#include "master/state/partitions.hpp"
#include "master/state/reservation_table.hpp"
#include "master/state/steps.hpp"

namespace cadre {

// What the scheduler is configured with (from the master's config file).
struct SchedulerConfig {
  std::vector<PartitionConfig> partitions;  // empty: one partition "default" of every node
  std::vector<QosConfig> qos;               // empty: --qos recorded, nothing enforced
  int64_t fairshare_half_life_s = 7 * 86400;
  double gpu_billing = 8.0;
  PortRange master_ports;  // MASTER_PORTs handed to jobs
};

class Cluster {
 public:
  // A gang hit by a node failure is requeued while it has run at most
  // `max_retries` + 1 attempts (and its spec allows it); then NODE_FAIL.
  explicit Cluster(int64_t node_timeout_ms, uint32_t max_retries = 3) : s_(node_timeout_ms, max_retries) {
    configure({});
  }

  // Partitions and fair share. Call before restore() and submit().
  void configure(SchedulerConfig config);
  // Per-user limits checked at submit (the rate is the service's).
  void set_limits(const Limits& limits) { admission_.set_limits(limits); }
  const std::vector<PartitionConfig>& partitions() const { return s_.partitions; }
  std::vector<PartitionSummary> partition_summaries() const;
  // Fair-share usage: restored at start, saved by the service now and then.
  void restore_usage(const UsageRecord& usage);
  UsageRecord usage_record() const;
  // True when usage changed since the last call.
  bool take_usage_dirty() { return std::exchange(s_.usage_dirty, false); }

  // Reservations (state/reservation_table.hpp).
  const Reservations& reservations() const { return s_.reservations; }
  void restore_reservations(Reservations r) { s_.reservations = std::move(r); }
  Result<Reservation> create_reservation(Reservation r, uint32_t node_count, const std::string& partition,
                                         int64_t now_unix) {
    return state::create_reservation(s_, std::move(r), node_count, partition, now_unix);
  }
  Status delete_reservation(const std::string& name) { return state::delete_reservation(s_, name); }
  std::set<std::string> take_dirty_reservations() { return std::exchange(s_.dirty_reservations, {}); }

  // Recovery: state loaded from the store. Nodes are not yet registered
  // with this process and get one node timeout to come back.
  void restore(std::vector<Node> nodes, std::vector<Job> active_jobs, JobId max_job_id, int64_t now_ms);

  // Validates and queues a job; returns its id or why it was refused.
  Result<JobId> submit(JobSpec spec, int64_t now_unix);
  // Takes back jobs submitted in this turn (nothing outside has seen them
  // yet): a submitMany is all or nothing. Their ids are handed out again.
  void withdraw(const std::vector<JobId>& ids);
  CancelOutcome cancel(JobId id, int64_t now_unix);
  // Dependencies (state/dependencies.hpp): the ids `dependency` names (with
  // "", those every waiting dependent names) that are not in memory, for
  // the caller to load from the store and give to adopt_ended.
  std::vector<JobId> missing_dependency_targets(const std::string& dependency = "") const;
  void adopt_ended(std::vector<Job> jobs);
  // Arrays (state/job_arrays.hpp): the live jobs of array `id` (empty when
  // it is not an array's id), and the job of one task, split off its
  // array's pending record when it has not started.
  std::vector<JobId> array_members(JobId id) const { return state::array_members(s_, id); }
  Result<JobId> array_task_job(JobId array_id, uint32_t index) { return state::array_task_job(s_, array_id, index); }
  CancelOutcome hold(JobId id, bool by_admin) { return state::hold_job(s_, id, by_admin); }
  CancelOutcome release(JobId id, bool by_admin) { return state::release_job(s_, id, by_admin); }
  CancelOutcome update(JobId id, JobSpec spec) { return state::update_job(s_, id, std::move(spec)); }
  CancelOutcome requeue(JobId id, bool hold, bool by_admin, int64_t now_unix) {
    return state::requeue_job(s_, id, hold, by_admin, now_unix);
  }
  // Starts a step in a running job; returns its id.
  Result<uint32_t> run_step(const StepRequest& req);
  const Step* find_step(JobId job, uint32_t step) const;

  // Where to reach the node's agent is the service's to know, not the state's.
  void register_node(const NodeRegistration& reg, int64_t now_ms, int64_t now_unix);
  // False when the node is not registered with this master: it must register.
  bool heartbeat(const std::string& name, int64_t now_ms, int64_t now_unix);
  void task_event(const TaskEvent& ev, int64_t now_unix);
  // The node's agent key was revoked: it is DOWN at once (its ranks count
  // as lost), and stays so until it registers with an enrolled key.
  void node_revoked(const std::string& name, int64_t now_unix);
  // An admin drains a node (running jobs go on, nothing new is placed) or
  // brings a drained one back UP.
  Status drain_node(const std::string& name, const std::string& reason);
  Status resume_node(const std::string& name);

  // Marks silent nodes DOWN and ends jobs past their time limit, both
  // measured on the monotonic clock now_ms; now_unix (the wall clock) only
  // stamps end times and, once after a launch or a restart, says how long
  // a job has already run.
  void check_timeouts(int64_t now_ms, int64_t now_unix);
  // Runs the scheduler over the current state: launches what it places,
  // preempts what it must, and records why the rest waits. True when
  // decide() ran (there were pending jobs); `timing` gets what it cost.
  bool schedule(const sched::Policy& policy, int64_t now_unix, PassTiming* timing = nullptr);
  // Builds the scheduler's view of the cluster (also used by tests).
  // `pending_jobs`, when given, gets the Job of each Snapshot::pending
  // entry. With `charge_to` (unix seconds) running jobs' fair-share usage
  // is charged up to then before the factors are read (as a pass does).
  // Recounts the pending jobs per user.
  sched::Snapshot snapshot(const sched::Policy& policy, std::vector<std::string>* node_names,
                           std::vector<JobId>* running_ids, std::vector<Job*>* pending_jobs = nullptr,
                           int64_t charge_to = 0);

  // Effects for the service to persist, then encode and send.
  std::vector<AgentCommand> take_commands() { return std::exchange(s_.commands, {}); }
  std::set<JobId> take_dirty_jobs() { return std::exchange(s_.dirty_jobs, {}); }
  std::set<std::string> take_dirty_nodes() { return std::exchange(s_.dirty_nodes, {}); }
  bool has_changes() const {
    return !s_.dirty_jobs.empty() || !s_.dirty_nodes.empty() || !s_.dirty_reservations.empty();
  }
  // Drops ended jobs that hold nothing (they live on in the store). Call
  // only after their last change has been persisted.
  void evict_ended();
  // The same, looking only at `changed` (the jobs of a turn's commit): a
  // job becomes evictable only by a change, so the others need no look.
  void evict_ended(const std::set<JobId>& changed);

  const Job* find_job(JobId id) const { return s_.find_job(id); }
  const std::map<JobId, Job>& jobs() const { return s_.jobs; }
  const std::map<std::string, Node>& nodes() const { return s_.nodes; }
  const Node* find_node(const std::string& name) const { return s_.find_node(name); }
  JobId last_job_id() const { return s_.next_job_id - 1; }

 private:
  ClusterState s_;
  Admission admission_;
};

}  // namespace cadre
