#include "sim/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <queue>
#include <string>
#include <tuple>

#include "master/scheduler/fairshare.hpp"
#include "sim/usage_meter.hpp"

namespace cadre::sim {
namespace {

// When each run of a job ends. A preempted run's event stays in the heap;
// its stale attempt number says to ignore it.
struct Completion {
  int64_t time = 0;
  JobId job = 0;
  uint32_t attempt = 0;
  bool operator>(const Completion& o) const { return std::tie(time, job) > std::tie(o.time, o.job); }
};

struct JobState {
  bool pending = false;
  int32_t running_at = -1;  // index into Snapshot::running
  uint32_t attempt = 0;
  int64_t first_start = -1;
  int64_t start = -1;
};

[[noreturn]] void scheduler_bug(int64_t now, const std::string& what) {
  std::cerr << "cadre-sim: scheduler bug at t=" << now << ": " << what << "\n";
  std::abort();
}

// One replay. It keeps a single Snapshot and edits it in place as jobs
// arrive, start, end and are preempted, because rebuilding it for each of
// up to ~200,000 events would cost more than decide() itself.
class Engine {
 public:
  Engine(const Cluster& cluster, const Workload& workload, const sched::Policy& policy)
      : workload_(workload), policy_(policy), state_(workload.jobs.size()), meter_(workload) {
    snap_.nodes = cluster.nodes;
    snap_.partitions.push_back(sched::PartitionView{.name = "default"});
    for (sched::NodeView& n : snap_.nodes) n.partitions = 1;  // bit 0: "default"
    snap_.gpu_models = cluster.gpu_models;
    snap_.user_fairshare.assign(workload.users.size(), 1.0);
    snap_.account_fairshare.assign(workload.accounts.size(), 1.0);
    largest_ = largest_node(cluster);
    for (const sched::NodeView& n : cluster.nodes) {
      gpus_total_ += static_cast<double>(n.total.gpus);
      cpus_total_ += static_cast<double>(n.total.millicores) / 1000.0;
    }
  }

  Metrics run() {
    const auto began = std::chrono::steady_clock::now();
    size_t next = 0;
    const auto& jobs = workload_.jobs;
    while (true) {
      while (!ends_.empty() && ends_.top().attempt != state_[ends_.top().job - 1].attempt) ends_.pop();
      int64_t now = sched::kNever;
      if (next < jobs.size()) now = jobs[next].submit_s;
      if (!ends_.empty()) now = std::min(now, ends_.top().time);
      if (now == sched::kNever) break;
      meter_.accrue(now);
      finish_due(now);
      while (next < jobs.size() && jobs[next].submit_s == now) admit(jobs[next++]);
      if (!snap_.pending.empty()) schedule(now);
    }
    const bool gpus = gpus_total_ > 0;
    Metrics m = summarize(outcomes_, gpus ? busy_gpu_s_ : busy_cpu_s_, gpus ? gpus_total_ : cpus_total_);
    m.started = started_;
    m.preemptions = preemptions_;
    m.reservations = reservations_;
    m.unfinished = static_cast<int64_t>(jobs.size() - outcomes_.size());
    m.replay_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    return m;
  }

 private:
  void admit(const SimJob& j) {
    sched::PendingJob p;
    p.id = j.id;
    p.user = j.user;
    p.account = j.account;
    p.submit_time = j.submit_s;
    p.time_limit_s = j.limit_s;
    p.shape = j.shape;
    p.gpu_models = j.gpu_models;
    snap_.pending.push_back(std::move(p));
    state_[j.id - 1].pending = true;
    meter_.touch(j);
  }

  void finish_due(int64_t now) {
    while (!ends_.empty() && ends_.top().time == now) {
      Completion c = ends_.top();
      ends_.pop();
      JobState& s = state_[c.job - 1];
      if (c.attempt != s.attempt) continue;
      stop(c.job, now);
      const SimJob& j = workload_.jobs[c.job - 1];
      outcomes_.push_back(JobOutcome{j.submit_s, s.first_start, now, j.run_s, nodes_spanned(j.shape, largest_)});
    }
  }

  // decide() once; again at the same time only when it preempted, since
  // the preemptors can start as soon as their victims are gone.
  void schedule(int64_t now) {
    for (int round = 0; round < 8 && !snap_.pending.empty(); ++round) {
      meter_.refresh(snap_);
      sched::Decisions d = sched::decide(snap_, policy_, now);
      reservations_ += static_cast<int64_t>(d.reservations.size());
      for (const sched::Placement& p : d.placements) start(p, now);
      if (!d.placements.empty()) compact_pending();
      for (const sched::Preemption& p : d.preemptions)
        for (JobId victim : p.victims) requeue(victim, now);
      if (d.preemptions.empty()) break;
    }
  }

  void start(const sched::Placement& p, int64_t now) {
    if (p.job == 0 || p.job > state_.size() || !state_[p.job - 1].pending)
      scheduler_bug(now, "placed job " + std::to_string(p.job) + ", which is not pending");
    const SimJob& j = workload_.jobs[p.job - 1];
    check_layout(j, p.gang, now);
    sched::RunningJob r;
    r.id = j.id;
    r.user = j.user;
    r.start_time = now;
    r.expected_end = now + j.limit_s;
    r.per_task = j.shape.per_task;
    r.ranks.reserve(p.gang.ranks.size());
    for (const sched::RankSlot& slot : p.gang.ranks) {
      take(j, slot, now);
      r.ranks.push_back(sched::RankUse{slot.node, slot.gpus});
    }
    JobState& s = state_[j.id - 1];
    s.pending = false;
    s.running_at = static_cast<int32_t>(snap_.running.size());
    s.start = now;
    if (s.first_start < 0) s.first_start = now;
    snap_.running.push_back(std::move(r));
    meter_.started(j);
    ends_.push(Completion{now + j.run_s, j.id, s.attempt});
    ++started_;
  }

  // The gang has every rank, and a per-node gang its exact layout.
  void check_layout(const SimJob& j, const sched::GangPlacement& g, int64_t now) {
    const std::string job = "job " + std::to_string(j.id);
    if (g.ranks.size() != j.shape.ntasks)
      scheduler_bug(now, job + " got " + std::to_string(g.ranks.size()) + " ranks, asks " +
                             std::to_string(j.shape.ntasks));
    if (j.shape.nodes == 0) return;
    std::vector<uint32_t> nodes;
    for (const sched::RankSlot& slot : g.ranks) nodes.push_back(slot.node);
    std::sort(nodes.begin(), nodes.end());
    const auto distinct = std::unique(nodes.begin(), nodes.end()) - nodes.begin();
    if (distinct != static_cast<std::ptrdiff_t>(j.shape.nodes))
      scheduler_bug(now, job + " got " + std::to_string(distinct) + " nodes, asks " + std::to_string(j.shape.nodes));
  }

  void take(const SimJob& j, const sched::RankSlot& slot, int64_t now) {
    const std::string where = "job " + std::to_string(j.id) + " rank " + std::to_string(slot.rank);
    if (slot.node >= snap_.nodes.size()) scheduler_bug(now, where + " on node index " + std::to_string(slot.node));
    sched::NodeView& n = snap_.nodes[slot.node];
    n.free -= j.shape.per_task;
    if (!n.free.non_negative())
      scheduler_bug(now, where + " overcommits node " + n.name + ": free would be " + n.free.to_string());
    if (!j.gpu_models.empty() &&
        std::find(j.gpu_models.begin(), j.gpu_models.end(), n.gpu_model) == j.gpu_models.end())
      scheduler_bug(now, where + " on node " + n.name + ", whose GPU model the job does not allow");
    if (static_cast<int64_t>(slot.gpus.size()) != j.shape.per_task.gpus)
      scheduler_bug(now, where + " got " + std::to_string(slot.gpus.size()) + " GPUs, asks " +
                             std::to_string(j.shape.per_task.gpus));
    for (uint32_t g : slot.gpus) {
      auto it = std::lower_bound(n.free_gpus.begin(), n.free_gpus.end(), g);
      if (it == n.free_gpus.end() || *it != g)
        scheduler_bug(now, where + " got GPU " + std::to_string(g) + " of node " + n.name + ", which is not free");
      n.free_gpus.erase(it);
    }
  }

  // Frees what a running job holds and forgets it; its completion event, if
  // still queued, goes stale.
  void stop(JobId id, int64_t now) {
    JobState& s = state_[id - 1];
    const SimJob& j = workload_.jobs[id - 1];
    sched::RunningJob& r = snap_.running[static_cast<size_t>(s.running_at)];
    for (const sched::RankUse& use : r.ranks) {
      sched::NodeView& n = snap_.nodes[use.node];
      n.free += r.per_task;
      for (uint32_t g : use.gpus) n.free_gpus.insert(std::lower_bound(n.free_gpus.begin(), n.free_gpus.end(), g), g);
    }
    const Resources total = j.shape.total();
    const auto held = static_cast<double>(now - s.start);
    busy_gpu_s_ += static_cast<double>(total.gpus) * held;
    busy_cpu_s_ += static_cast<double>(total.millicores) / 1000.0 * held;
    meter_.stopped(j);
    // Swap-remove keeps this O(1); the order of `running` carries no meaning.
    const auto at = static_cast<size_t>(s.running_at);
    if (at + 1 != snap_.running.size()) {
      snap_.running[at] = std::move(snap_.running.back());
      state_[snap_.running[at].id - 1].running_at = static_cast<int32_t>(at);
    }
    snap_.running.pop_back();
    s.running_at = -1;
    ++s.attempt;
  }

  void requeue(JobId victim, int64_t now) {
    if (victim == 0 || victim > state_.size() || state_[victim - 1].running_at < 0)
      scheduler_bug(now, "preempted job " + std::to_string(victim) + ", which is not running");
    stop(victim, now);
    // Back in the queue with its original submit time; it will run its
    // whole run time again.
    admit(workload_.jobs[victim - 1]);
    ++preemptions_;
  }

  // Drops the jobs that started, keeping the queue's order, in one pass.
  void compact_pending() {
    std::erase_if(snap_.pending, [&](const sched::PendingJob& p) { return !state_[p.id - 1].pending; });
  }

  const Workload& workload_;
  const sched::Policy& policy_;
  sched::Snapshot snap_;
  std::vector<JobState> state_;
  std::priority_queue<Completion, std::vector<Completion>, std::greater<Completion>> ends_;
  UsageMeter meter_;
  std::vector<JobOutcome> outcomes_;
  Resources largest_;
  double gpus_total_ = 0, cpus_total_ = 0;
  double busy_gpu_s_ = 0, busy_cpu_s_ = 0;
  int64_t started_ = 0, preemptions_ = 0, reservations_ = 0;
};

}  // namespace

Metrics replay(const Cluster& cluster, const Workload& workload, const sched::Policy& policy) {
  return Engine(cluster, workload, policy).run();
}

}  // namespace cadre::sim
