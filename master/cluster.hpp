// Cluster: the master's state machine for jobs, ranks and nodes.
//
// Every change of state goes through here. Cluster does no I/O: it records
// which jobs and nodes changed (for the store to persist) and queues the
// commands agents must receive (launch, kill). The service persists the
// changes and only then sends the commands, so nothing outside the master
// sees a state the store does not hold.
//
// Not thread-safe: owned by the master's event-loop thread.
#pragma once

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/result.hpp"
#include "master/config.hpp"
#include "master/limits.hpp"
#include "master/model.hpp"
#include "master/stats.hpp"
#include "master/scheduler/fairshare.hpp"
#include "master/store/store.hpp"
#include "master/scheduler/decide.hpp"

namespace cadre {

struct AgentCommand {
  std::string node;
  std::string bytes;  // one encoded Envelope
};

// A rank an agent reports at registration: still running, or ended with
// an exit the master has not acknowledged yet.
struct RunningTaskRef {
  JobId job = 0;
  uint32_t step = 0;
  uint32_t rank = 0;
  Attempt attempt = 0;
  bool exited = false;
  bool launch_failed = false;
  bool lost = false;
  int32_t exit_code = 0;
  int32_t signal = 0;
  std::string message;
  bool oom_killed = false;
};

struct NodeRegistration {
  std::string name;
  std::string address;
  Resources total;
  std::map<std::string, std::string> labels;
  std::vector<RunningTaskRef> running;
  std::vector<NodeGpu> gpus;
  std::string isolation;
};

// lost: the agent no longer knows how the rank ended (its supervisor
// vanished, e.g. the node rebooted); treated as a node failure.
enum class TaskEventKind { started, exited, launch_failed, lost };

struct TaskEvent {
  std::string node;
  JobId job = 0;
  uint32_t step = 0;  // 0: a rank of the job (or its batch script); n: a rank of step n
  uint32_t rank = 0;
  Attempt attempt = 0;
  TaskEventKind kind = TaskEventKind::started;
  int32_t exit_code = 0;
  int32_t signal = 0;
  std::string message;
  bool oom_killed = false;  // the kernel killed it for exceeding its memory limit
};

// A step to start in a running job's allocation (`cadre run`, `cadre rsh`).
struct StepRequest {
  JobId job = 0;
  std::vector<std::string> argv;
  std::string workdir;
  uint32_t ntasks = 0;             // 0: every task slot of the chosen nodes
  uint32_t nnodes = 0;             // 0: every node of the allocation
  std::vector<std::string> hosts;  // exact nodes, one rank each (MPI launcher); overrides the above
  bool whole_node = false;         // each rank may use its node's whole share of the allocation
  uint32_t uid = 0;                // who asks: only the job's owner (or root) may
};

struct CancelOutcome {
  JobId id = 0;
  bool ok = false;
  std::string message;
};

// What the scheduler is configured with (from the master's config file).
struct SchedulerConfig {
  std::vector<PartitionConfig> partitions;  // empty: one partition "default" of every node
  int64_t fairshare_half_life_s = 7 * 86400;
  double gpu_billing = 8.0;
};

struct PartitionSummary {
  PartitionConfig config;
  std::vector<std::string> nodes;  // members known to the master
  Resources total;                 // over members that are UP
  Resources free;
  uint32_t pending = 0;
  uint32_t running = 0;
};

class Cluster {
 public:
  // A gang hit by a node failure is requeued while it has run at most
  // `max_retries` + 1 attempts (and its spec allows it); then NODE_FAIL.
  explicit Cluster(int64_t node_timeout_ms, uint32_t max_retries = 3)
      : node_timeout_ms_(node_timeout_ms), max_retries_(max_retries) {
    configure({});
  }

  // Partitions and fair share. Call before restore() and submit().
  void configure(SchedulerConfig config);
  // Per-user limits checked at submit (the rate is the service's).
  void set_limits(const Limits& limits) { limits_ = limits; }
  const std::vector<PartitionConfig>& partitions() const { return partitions_; }
  std::vector<PartitionSummary> partition_summaries() const;
  // Fair-share usage: restored at start, saved by the service now and then.
  void restore_usage(const UsageRecord& usage);
  UsageRecord usage_record() const;
  // True when usage changed since the last call.
  bool take_usage_dirty() { return std::exchange(usage_dirty_, false); }

  // Recovery: state loaded from the store. Nodes are not yet registered
  // with this process and get one node timeout to come back.
  void restore(std::vector<Node> nodes, std::vector<Job> active_jobs, JobId max_job_id, int64_t now_ms);

  // Validates and queues a job; returns its id or why it was refused.
  Result<JobId> submit(JobSpec spec, int64_t now_unix);
  CancelOutcome cancel(JobId id, int64_t now_unix);
  // Starts a step in a running job; returns its id.
  Result<uint32_t> run_step(const StepRequest& req);
  const Step* find_step(JobId job, uint32_t step) const;

  void register_node(const NodeRegistration& reg, const std::string& routing_id, int64_t now_ms, int64_t now_unix);
  // False when the node is not registered with this master: it must register.
  bool heartbeat(const std::string& name, const std::string& routing_id, int64_t now_ms, int64_t now_unix);
  void task_event(const TaskEvent& ev, int64_t now_unix);
  // The node's agent key was revoked: it is DOWN at once (its ranks count
  // as lost), and stays so until it registers with an enrolled key.
  void node_revoked(const std::string& name, int64_t now_unix);
  // An admin drains a node (running jobs go on, nothing new is placed) or
  // brings a drained one back UP.
  Status drain_node(const std::string& name, const std::string& reason);
  Status resume_node(const std::string& name);

  // Marks silent nodes DOWN and ends jobs past their time limit.
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

  // Effects for the service to persist, then send.
  std::vector<AgentCommand> take_commands() { return std::exchange(commands_, {}); }
  std::set<JobId> take_dirty_jobs() { return std::exchange(dirty_jobs_, {}); }
  std::set<std::string> take_dirty_nodes() { return std::exchange(dirty_nodes_, {}); }
  bool has_changes() const { return !dirty_jobs_.empty() || !dirty_nodes_.empty(); }
  // Drops ended jobs that hold nothing (they live on in the store). Call
  // only after their last change has been persisted.
  void evict_ended();
  // The same, looking only at `changed` (the jobs of a turn's commit): a
  // job becomes evictable only by a change, so the others need no look.
  void evict_ended(const std::set<JobId>& changed);

  const Job* find_job(JobId id) const;
  const std::map<JobId, Job>& jobs() const { return jobs_; }
  const std::map<std::string, Node>& nodes() const { return nodes_; }
  const Node* find_node(const std::string& name) const;
  JobId last_job_id() const { return next_job_id_ - 1; }

 private:
  Job* job(JobId id);
  // Ends a job in `state`; kills its live ranks.
  void end_job(Job& j, JobState state, int32_t exit_code, std::string reason, int64_t now_unix);
  void kill_live_ranks(Job& j);
  // Gives a rank's resources back to its node.
  void release(Job& j, Task& t);
  void mark_node_down(Node& n, const std::string& why, int64_t now_unix);
  void launch(Job& j, const sched::GangPlacement& gang, const std::vector<std::string>& node_names, int64_t now_unix);
  void finish_if_all_done(Job& j, int64_t now_unix);
  void step_event(Job& j, const TaskEvent& ev);
  void kill_steps(Job& j);
  // A MASTER_PORT no other running job uses on `node`.
  uint16_t pick_master_port(const Job& j, const std::string& node) const;

  // Node failure: requeue the gang or end it NODE_FAIL.
  void fail_on_node(Job& j, const std::string& why, int64_t now_unix);
  // Stops a whole gang for a higher-tier job and puts it back in the queue.
  void preempt(Job& j, JobId by);
  // Charges running jobs' usage up to now.
  void charge_usage(int64_t now_unix, const std::vector<const Job*>& running);
  uint64_t partition_mask(const std::string& node) const;
  std::string default_partition_name() const;
  // Every node as the scheduler sees it, in name order.
  std::vector<sched::NodeView> node_views(std::vector<std::string>* names,
                                         std::vector<std::string>* gpu_models = nullptr) const;
  int32_t partition_index(const std::string& name) const;
  // Why a gang of `shape` can never run in partition `part` on the nodes
  // known, even all idle ("" when it can, or no node is a member yet).
  // Remembered per shape until a node registers or the partitions change
  // (what it depends on: totals, labels, GPUs, memberships), so a submit
  // does not cost a placement over every node.
  std::string never_fits(const sched::GangShape& shape, int32_t part, uint32_t max_switches);
  using NeverFitsKey = std::tuple<int64_t, int64_t, int64_t, uint32_t, uint32_t, uint32_t, int32_t, uint32_t>;
  std::map<NeverFitsKey, std::string> never_fits_cache_;
  size_t never_fits_nodes_ = 0;  // nodes_.size() the cache was filled with

  int64_t node_timeout_ms_;
  uint32_t max_retries_;
  JobId next_job_id_ = 1;
  std::map<JobId, Job> jobs_;            // PENDING, RUNNING, and ended ones still holding resources
  std::map<std::string, Node> nodes_;
  std::vector<AgentCommand> commands_;
  std::set<JobId> dirty_jobs_;
  std::set<std::string> dirty_nodes_;
  std::vector<PartitionConfig> partitions_;
  sched::FairShare fairshare_;
  Limits limits_;
  // Pending jobs per user: recounted at restore and around every scheduling
  // pass, counted up on submit. Between passes it can only overestimate (a
  // job cancelled since is still counted), never let a user past the limit.
  std::map<std::string, uint32_t> pending_by_user_;
  void count_pending();
  int64_t charged_until_ = 0;
  // No running job reaches its time limit before this (unix seconds); 0:
  // not known yet, look. Lowered by every launch, recomputed by each look.
  int64_t next_time_limit_ = 0;
  bool usage_dirty_ = false;
};

}  // namespace cadre
