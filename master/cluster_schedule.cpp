// Cluster: the scheduling side. Builds the scheduler's snapshot from the
// master's state, applies decide()'s placements and preemptions, records
// why the rest waits, and keeps partitions and fair-share usage.
#include <algorithm>
#include <map>

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
    return ids.emplace(it->second, static_cast<uint32_t>(ids.size())).first->second;
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
                                  std::vector<JobId>* running_ids) {
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
  std::map<std::string, uint32_t> node_index;
  for (uint32_t i = 0; i < names->size(); ++i) node_index.emplace((*names)[i], i);
  std::map<std::string, uint32_t> users, accounts;
  auto user_id = [&](const std::string& u) {
    auto [it, fresh] = users.emplace(u, static_cast<uint32_t>(users.size()));
    if (fresh) snap.user_fairshare.push_back(fairshare_.user_factor(u));
    return it->second;
  };
  auto account_id = [&](const std::string& a) {
    auto [it, fresh] = accounts.emplace(a, static_cast<uint32_t>(accounts.size()));
    if (fresh) snap.account_fairshare.push_back(fairshare_.account_factor(a));
    return it->second;
  };
  auto partition_id = [&](const std::string& p) {
    int32_t i = partition_index(p);
    // A partition removed from the config since the job was queued.
    return i < 0 ? static_cast<uint32_t>(partitions_.size()) : static_cast<uint32_t>(i);
  };

  for (const auto& [id, j] : jobs_) {
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
    }
  }
  return snap;
}

void Cluster::charge_usage(int64_t now_unix) {
  fairshare_.advance(now_unix);
  if (charged_until_ == 0 || now_unix < charged_until_) charged_until_ = now_unix;
  const int64_t dt = now_unix - charged_until_;
  if (dt <= 0) return;
  for (const auto& [id, j] : jobs_) {
    if (j.state != JobState::running) continue;
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
std::string history_of(const std::string& reason) {
  if (reason.starts_with("Requeued") || reason.starts_with("Preempted")) return reason;
  auto at = reason.find("; ");
  return at == std::string::npos ? "" : reason.substr(at + 2);
}

}  // namespace

void Cluster::schedule(const sched::Policy& policy, int64_t now_unix) {
  charge_usage(now_unix);
  count_pending();
  std::vector<std::string> names;
  std::vector<JobId> running_ids;
  sched::Snapshot snap = snapshot(policy, &names, &running_ids);
  if (snap.pending.empty()) return;

  const sched::Decisions d = sched::decide(snap, policy, now_unix);
  for (const sched::Preemption& p : d.preemptions)
    for (JobId victim : p.victims)
      if (Job* v = job(victim); v && v->state == JobState::running) preempt(*v, p.preemptor);
  for (const sched::Placement& p : d.placements) launch(jobs_.at(p.job), p.gang, names, now_unix);
  // Started and preempted jobs changed who has how many waiting.
  if (!d.placements.empty() || !d.preemptions.empty()) count_pending();

  // What is left waits: record why, and the priority that ranks it.
  for (const sched::Waiting& w : d.waiting) {
    Job* j = job(w.job);
    if (!j) continue;
    j->priority = w.priority;
    j->expected_start = w.expected_start;
    std::string history = history_of(j->reason);
    std::string reason = std::string(sched::to_string(w.reason)) + (history.empty() ? "" : "; " + history);
    if (reason != j->reason) {
      j->reason = std::move(reason);
      dirty_jobs_.insert(j->id);
    }
  }
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
