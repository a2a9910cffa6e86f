// The master's model of the cluster: jobs, their ranks (tasks) and nodes.
// Plain values. Owned by the master's event-loop thread; not synchronised.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/gpu.hpp"
#include "common/ids.hpp"
#include "common/job_array.hpp"
#include "common/job_spec.hpp"
#include "common/job_state.hpp"
#include "common/resources.hpp"
#include "master/scheduler/priority.hpp"

namespace cadre {

// True when a GPU `model` ("NVIDIA H100 80GB HBM3") is what `requested`
// ("H100", "h100") names: a case-insensitive substring match.
bool gpu_model_matches(std::string_view requested, std::string_view model);

inline sched::GangShape shape_of(const JobSpec& s) {
  return sched::GangShape{s.per_task, s.nodes, s.tasks_per_node, s.ntasks};
}

struct Task {
  uint32_t rank = 0;
  std::string node;
  std::vector<uint32_t> gpus;
  TaskState state = TaskState::pending;
  int32_t exit_code = 0;
};

// A step: processes started inside a running job's allocation by
// `cadre run` or the MPI launcher. Volatile: a master restart forgets
// steps (their ranks are killed when their nodes re-register).
struct StepRank {
  uint32_t rank = 0;
  std::string node;
  TaskState state = TaskState::launching;
  int32_t exit_code = 0;
  std::string message;
};

struct Step {
  uint32_t id = 0;
  std::vector<StepRank> ranks;
  std::vector<std::string> environment;  // what its ranks start from (the caller's)
  bool done() const;
  // The worst exit code of its ranks (0 when all succeeded).
  int32_t exit_code() const;
};

struct Job {
  JobId id = 0;
  JobSpec spec;
  JobState state = JobState::pending;
  std::string reason;       // why it waits, or why it ended
  int32_t exit_code = 0;
  Attempt attempt = 0;      // 0 until first launched
  int64_t submit_time = 0;  // unix seconds
  int64_t start_time = 0;
  int64_t end_time = 0;
  std::vector<Task> tasks;  // one per rank once placed; empty while pending
  uint32_t preemptions = 0; // times stopped and requeued for a higher tier
  uint32_t requeues = 0;    // times requeued by request (cadre requeue); not failures
  // A pending job nothing starts until it is released: by its user (or
  // --hold at submit), or by an admin, whom alone may release it then.
  enum class Hold : uint8_t { none = 0, user = 1, admin = 2 };
  Hold hold = Hold::none;
  // An array's pending record: the indices no task has started for yet.
  // Each start takes the lowest into a job of its own (a new id); the last
  // one this record runs itself, so the array's id is one of its tasks, as
  // in Slurm. Empty for every other job.
  IndexSet array_left;
  uint16_t master_port = 0; // MASTER_PORT of this attempt (free among the jobs on rank 0's node)
  // Volatile: the master's monotonic clock (ms) at which this attempt's run
  // time was zero, so a time limit is run time on a clock that no NTP step
  // or resumed VM moves. Set at the first time-limit look after the launch
  // (or after a restart, from the wall clock: all a restart can know);
  // kNoLimitAnchor until then.
  int64_t limit_anchor_ms = kNoLimitAnchor;
  static constexpr int64_t kNoLimitAnchor = INT64_MIN;
  // Saved now and then for a job with a time limit: its run time on the
  // monotonic clock (s) and the wall time of that save, so a restarted
  // master counts run time as run_s + the wall time since run_at, not from
  // a start time a wall-clock step has moved. run_at 0: never saved.
  int64_t run_s = 0;
  int64_t run_at = 0;
  // Volatile: the attempt whose --signal was sent (a restart may send it again).
  Attempt signalled = 0;

  // Volatile: this attempt's steps.
  std::map<uint32_t, Step> steps;
  uint32_t next_step = 1;

  // Volatile, from the last scheduling pass (pending jobs only).
  sched::PriorityFactors priority;
  int64_t expected_start = 0;  // unix seconds of its reservation; 0: none

  // Node names in node-rank order (the order ranks were laid out).
  std::vector<std::string> node_list() const;
  // True while any rank may still hold resources on a node.
  bool holds_resources() const;
};

enum class NodeState { up, drain, down };
std::string_view to_string(NodeState s);
std::optional<NodeState> parse_node_state(std::string_view s);

struct Node {
  std::string name;
  std::string address;
  NodeState state = NodeState::down;
  Resources total;
  Resources used;                      // derived from tasks holding resources
  std::vector<bool> gpu_busy;          // index -> allocated
  std::map<std::string, std::string> labels;
  std::set<std::string, std::less<>> features;  // -C/--constraint matches these (common/constraint.hpp)
  int64_t last_seen_unix = 0;
  std::vector<NodeGpu> gpus;           // as the agent discovered them (reported at registration)
  std::string isolation;               // how ranks are confined there, as the agent reports it
  std::string reason;                  // why it is DRAIN or DOWN (this run only)

  // Volatile, this run only: when the agent last spoke. (Where to reach it
  // is the service's to know.)
  int64_t last_seen_ms = 0;
  bool registered = false;             // registered with this master process
  uint64_t partitions = 0;             // bit p: member of partition p (from the config's patterns)

  Resources free() const { return total - used; }
  std::vector<uint32_t> free_gpus() const;
  // The model all its GPUs share; "" when unknown or mixed.
  std::string gpu_model() const;
};

}  // namespace cadre
