// Cluster: the scheduling side. Builds the scheduler's snapshot from the
// master's state, applies decide()'s placements and preemptions, records
// why the rest waits, and keeps partitions and fair-share usage.
#include <algorithm>
#include <chrono>
#include <map>
#include <string_view>
#include <unordered_map>

#include "common/log.hpp"
#include "master/cluster.hpp"
#include "master/scheduler/decide.hpp"

namespace cadre {

void Cluster::configure(SchedulerConfig config) {
  partitions_ = std::move(config.partitions);
  if (partitions_.empty()) {
    PartitionConfig all;
    all.name = "default";
    all.is_default = true;
    partitions_.push_back(std::move(all));
  }
  fairshare_ = sched::FairShare(config.fairshare_half_life_s, config.gpu_billing);
  for (auto& [name, n] : nodes_) n.partitions = partition_mask(name);
  never_fits_cache_.clear();
}

std::string Cluster::never_fits(const sched::GangShape& shape, int32_t part, uint32_t max_switches) {
  // A node registering clears the cache; restore() only ever fills a fresh
  // Cluster, and a changed node count is caught here regardless.
  if (never_fits_nodes_ != nodes_.size()) never_fits_cache_.clear();
  never_fits_nodes_ = nodes_.size();
  const NeverFitsKey key{shape.per_task.millicores, shape.per_task.memory_mb, shape.per_task.gpus, shape.nodes,
                         shape.tasks_per_node, shape.ntasks, part, max_switches};
  if (auto it = never_fits_cache_.find(key); it != never_fits_cache_.end()) return it->second;
  std::string why;
  std::vector<sched::NodeView> views = node_views(nullptr);
  if (std::any_of(views.begin(), views.end(), [&](const sched::NodeView& v) { return (v.partitions >> part) & 1u; })) {
    sched::PlaceConstraints c;
    c.partition = part;
    c.max_switches = max_switches;
    why = sched::never_fits_reason(shape, views, c);
  }
  // Shapes are the users' to choose: a bound keeps the memory small.
  if (never_fits_cache_.size() >= 4096) never_fits_cache_.clear();
  never_fits_cache_.emplace(key, why);
  return why;
}

std::string Cluster::default_partition_name() const {
  for (const PartitionConfig& p : partitions_)
    if (p.is_default) return p.name;
  return partitions_.front().name;
}

int32_t Cluster::partition_index(const std::string& name) const {
  for (size_t i = 0; i < partitions_.size(); ++i)
    if (partitions_[i].name == name) return static_cast<int32_t>(i);
  return -1;
}

uint64_t Cluster::partition_mask(const std::string& node) const {
  uint64_t mask = 0;
  for (size_t i = 0; i < partitions_.size() && i < sched::kMaxPartitions; ++i) {
    const auto& patterns = partitions_[i].nodes;
    if (patterns.empty() ||
        std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) { return node_matches(p, node); }))
      mask |= uint64_t{1} << i;
  }
  return mask;
}

std::vector<sched::NodeView> Cluster::node_views(std::vector<std::string>* names,
                                                 std::vector<std::string>* gpu_models) const {
  // GPU models become dense ids too; [0] = "" stands for unknown or mixed.
  std::vector<std::string> local_models;
  if (!gpu_models) gpu_models = &local_models;
  gpu_models->assign(1, "");
  // Topology labels become dense ids; nodes without one share id 0.
  std::map<std::string, uint32_t> switches{{"", 0}}, racks{{"", 0}};
  auto id_of = [](std::map<std::string, uint32_t>& ids, const std::map<std::string, std::string>& labels,
                  const char* key) {
    auto it = labels.find(key);
    if (it == labels.end()) return uint32_t{0};
    return ids.try_emplace(it->second, static_cast<uint32_t>(ids.size())).first->second;
  };
  std::vector<sched::NodeView> views;
  views.reserve(nodes_.size());
  for (const auto& [name, n] : nodes_) {
    sched::NodeView v;
    v.name = name;
    v.schedulable = n.state == NodeState::up && n.registered;
    v.total = n.total;
    v.free = n.free();
    v.free_gpus = n.free_gpus();
    v.switch_id = id_of(switches, n.labels, "switch");
    v.rack_id = id_of(racks, n.labels, "rack");
    v.partitions = n.partitions;
    if (std::string model = n.gpu_model(); !model.empty()) {
      auto it = std::find(gpu_models->begin(), gpu_models->end(), model);
      v.gpu_model = static_cast<uint32_t>(it - gpu_models->begin());
      if (it == gpu_models->end()) gpu_models->push_back(model);
    }
    views.push_back(std::move(v));
    if (names) names->push_back(name);
  }
  return views;
}

sched::Snapshot Cluster::snapshot(const sched::Policy& policy, std::vector<std::string>* names,
                                  std::vector<JobId>* running_ids, std::vector<Job*>* pending_jobs,
                                  int64_t charge_to) {
  sched::Snapshot snap;
  std::vector<std::string> local_names;
  if (!names) names = &local_names;
  snap.nodes = node_views(names, &snap.gpu_models);
  for (const PartitionConfig& p : partitions_) {
    sched::PartitionView v;
    v.name = p.name;
    v.tier = p.tier;
    v.preemptible = p.preemptible;
    v.max_running_jobs_per_user = p.max_running_jobs_per_user;
    v.max_gpus_per_user = p.max_gpus_per_user;
    snap.partitions.push_back(std::move(v));
  }
  // Hashed views of strings that outlive the snapshot (node names, job
  // specs): one lookup per job and no copies, for queues of 100,000 jobs.
  std::unordered_map<std::string_view, uint32_t> node_index;
  node_index.reserve(names->size());
  for (uint32_t i = 0; i < names->size(); ++i) node_index.emplace((*names)[i], i);
  std::unordered_map<std::string_view, uint32_t> users, accounts, partition_ids;
  // Fair-share factors are read after the walk, once usage is charged.
  auto user_id = [&](const std::string& u) {
    return users.try_emplace(u, static_cast<uint32_t>(users.size())).first->second;
  };
  auto account_id = [&](const std::string& a) {
    return accounts.try_emplace(a, static_cast<uint32_t>(accounts.size())).first->second;
  };
  // Pending jobs per user, counted in the same walk (see count_pending()).
  std::unordered_map<std::string_view, uint32_t> pending_count;
  std::vector<const Job*> running_jobs;
  // Most jobs in a big queue are pending: room for all up front, instead of
  // copying 100,000 entries each time the vector grows.
  snap.pending.reserve(jobs_.size());
  if (pending_jobs) pending_jobs->reserve(jobs_.size());
  auto partition_id = [&](const std::string& p) {
    auto [it, fresh] = partition_ids.try_emplace(p, 0);
    if (fresh) {
      int32_t i = partition_index(p);
      // A partition removed from the config since the job was queued.
      it->second = i < 0 ? static_cast<uint32_t>(partitions_.size()) : static_cast<uint32_t>(i);
    }
    return it->second;
  };

  for (auto& [id, j] : jobs_) {
    if (j.state == JobState::pending) ++pending_count[j.spec.user];
    if (j.state == JobState::running) running_jobs.push_back(&j);
    if (j.holds_resources()) {
      sched::RunningJob r;
      r.id = id;
      r.partition = partition_id(j.spec.partition);
      r.user = user_id(j.spec.user);
      r.start_time = j.start_time;
      const int64_t limit = j.spec.time_limit_s > 0 ? j.spec.time_limit_s : policy.unlimited_as_s;
      r.expected_end = j.start_time + limit;
      r.ending = j.state != JobState::running;
      r.per_task = j.spec.per_task;
      for (const Task& t : j.tasks) {
        if (!holds_resources(t.state)) continue;
        if (t.state == TaskState::killing) r.ending = true;
        auto it = node_index.find(t.node);
        if (it == node_index.end()) continue;
        r.ranks.push_back(sched::RankUse{it->second, t.gpus});
      }
      snap.running.push_back(std::move(r));
      if (running_ids) running_ids->push_back(id);
    } else if (j.state == JobState::pending) {
      // A requeued gang waits until every rank of its last attempt is gone.
      sched::PendingJob p;
      p.id = id;
      p.partition = partition_id(j.spec.partition);
      p.user = user_id(j.spec.user);
      p.account = account_id(j.spec.account.empty() ? j.spec.user : j.spec.account);
      p.priority = j.spec.priority;
      p.submit_time = j.submit_time;
      p.time_limit_s = j.spec.time_limit_s;
      p.shape = shape_of(j.spec);
      p.max_switches = j.spec.max_switches;
      p.switches_wait_s = j.spec.switches_wait_s;
      if (!j.spec.gpu_type.empty()) {
        for (uint32_t m = 1; m < snap.gpu_models.size(); ++m)
          if (gpu_model_matches(j.spec.gpu_type, snap.gpu_models[m])) p.gpu_models.push_back(m);
        // No model matches: an id no node has keeps the job off every node.
        if (p.gpu_models.empty()) p.gpu_models.push_back(UINT32_MAX);
      }
      snap.pending.push_back(std::move(p));
      if (pending_jobs) pending_jobs->push_back(&j);
    }
  }
  pending_by_user_.clear();
  for (const auto& [user, count] : pending_count) pending_by_user_.emplace(user, count);
  if (charge_to != 0) charge_usage(charge_to, running_jobs);
  snap.user_fairshare.resize(users.size());
  for (const auto& [user, i] : users) snap.user_fairshare[i] = fairshare_.user_factor(std::string(user));
  snap.account_fairshare.resize(accounts.size());
  for (const auto& [account, i] : accounts) snap.account_fairshare[i] = fairshare_.account_factor(std::string(account));
  return snap;
}

void Cluster::charge_usage(int64_t now_unix, const std::vector<const Job*>& running) {
  fairshare_.advance(now_unix);
  if (charged_until_ == 0 || now_unix < charged_until_) charged_until_ = now_unix;
  const int64_t dt = now_unix - charged_until_;
  if (dt <= 0) return;
  for (const Job* job : running) {
    const Job& j = *job;
    const int64_t ran = std::min(dt, now_unix - j.start_time);
    if (ran <= 0) continue;
    fairshare_.charge(j.spec.user, j.spec.account.empty() ? j.spec.user : j.spec.account,
                      fairshare_.billing(j.spec.per_task.times(j.spec.ntasks)) * static_cast<double>(ran));
    usage_dirty_ = true;
  }
  charged_until_ = now_unix;
}

void Cluster::restore_usage(const UsageRecord& usage) {
  fairshare_.restore(usage.users, usage.accounts, usage.as_of);
}

UsageRecord Cluster::usage_record() const {
  return UsageRecord{fairshare_.users(), fairshare_.accounts(), fairshare_.as_of()};
}

namespace {

// The history part of a pending job's reason ("Requeued: ...",
// "Preempted by job 7"), kept behind the current wait reason.
std::string_view history_of(std::string_view reason) {
  if (reason.starts_with("Requeued") || reason.starts_with("Preempted")) return reason;
  auto at = reason.find("; ");
  return at == std::string_view::npos ? std::string_view() : reason.substr(at + 2);
}

// Whether `reason` already reads "<why>" or "<why>; <history>".
bool reason_is(std::string_view reason, std::string_view why, std::string_view history) {
  if (!reason.starts_with(why)) return false;
  reason.remove_prefix(why.size());
  if (history.empty()) return reason.empty();
  return reason.starts_with("; ") && reason.substr(2) == history;
}

}  // namespace

bool Cluster::schedule(const sched::Policy& policy, int64_t now_unix, PassTiming* timing) {
  PassTiming local;
  if (!timing) timing = &local;
  auto started = std::chrono::steady_clock::now();
  const int64_t cpu_started = thread_cpu_us();
  std::vector<std::string> names;
  std::vector<JobId> running_ids;
  std::vector<Job*> pending_jobs;
  // One walk over the jobs: usage charged, pending counted, snapshot built.
  sched::Snapshot snap = snapshot(policy, &names, &running_ids, &pending_jobs, now_unix);
  timing->snapshot_us = micros_since(started);
  if (snap.pending.empty()) return false;

  started = std::chrono::steady_clock::now();
  const sched::Decisions d = sched::decide(snap, policy, now_unix);
  timing->decide_us = micros_since(started);
  started = std::chrono::steady_clock::now();
  for (const sched::Preemption& p : d.preemptions)
    for (JobId victim : p.victims)
      if (Job* v = job(victim); v && v->state == JobState::running) preempt(*v, p.preemptor);
  for (const sched::Placement& p : d.placements) {
    Job& j = jobs_.at(p.job);
    launch(j, p.gang, names, now_unix);
    if (auto it = pending_by_user_.find(j.spec.user); it != pending_by_user_.end() && it->second > 0) --it->second;
  }
  // Preempted jobs wait again (the snapshot's count is of before the pass).
  for (const sched::Preemption& p : d.preemptions)
    for (JobId victim : p.victims)
      if (const Job* v = find_job(victim); v && v->state == JobState::pending) ++pending_by_user_[v->spec.user];

  // What is left waits: record why, and the priority that ranks it.
  for (const sched::Waiting& w : d.waiting) {
    Job* j = w.pending < pending_jobs.size() ? pending_jobs[w.pending] : nullptr;
    if (!j || j->id != w.job) continue;
    j->priority = w.priority;
    j->expected_start = w.expected_start;
    const std::string_view why = sched::to_string(w.reason);
    const std::string_view history = history_of(j->reason);
    // Most passes give most jobs the reason they had: no string is built then.
    if (reason_is(j->reason, why, history)) continue;
    std::string reason(why);
    if (!history.empty()) reason.append("; ").append(history);
    // Not marked dirty: every pass recomputes the wait reason, so writing it
    // would rewrite a row per waiting job whenever the queue's reasons shift
    // (a node going down, a master restart over a million jobs). The row is
    // saved with the job's next real change; its history part ("Requeued",
    // "Preempted") was saved when it was set.
    j->reason = std::move(reason);
  }
  timing->apply_us = micros_since(started);
  timing->cpu_us = thread_cpu_us() - cpu_started;
  return true;
}

void Cluster::preempt(Job& j, JobId by) {
  CADRE_LOG(info) << "job " << j.id << " preempted by job " << by << " after attempt " << j.attempt;
  j.state = JobState::pending;
  j.reason = "Preempted by job " + std::to_string(by);
  j.start_time = 0;
  j.preemptions += 1;
  dirty_jobs_.insert(j.id);
  kill_live_ranks(j);
}

std::vector<PartitionSummary> Cluster::partition_summaries() const {
  std::vector<PartitionSummary> out;
  for (size_t i = 0; i < partitions_.size(); ++i) {
    PartitionSummary s;
    s.config = partitions_[i];
    for (const auto& [name, n] : nodes_) {
      if (((n.partitions >> i) & 1u) == 0) continue;
      s.nodes.push_back(name);
      if (n.state != NodeState::up || !n.registered) continue;
      s.total += n.total;
      s.free += n.free();
    }
    for (const auto& [id, j] : jobs_) {
      if (j.spec.partition != s.config.name) continue;
      if (j.state == JobState::pending) s.pending += 1;
      else if (j.state == JobState::running) s.running += 1;
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace cadre
