#include "master/state/cluster.hpp"

#include <algorithm>

#include "master/state/node_table.hpp"
#include "master/state/schedule.hpp"

namespace cadre {

void Cluster::configure(SchedulerConfig config) {
  state::set_partitions(s_, std::move(config.partitions));
  s_.qos = std::move(config.qos);
  s_.fairshare = sched::FairShare(config.fairshare_half_life_s, config.gpu_billing);
  s_.master_ports = config.master_ports;
  admission_.forget_shapes();
}

std::vector<PartitionSummary> Cluster::partition_summaries() const { return state::partition_summaries(s_); }

void Cluster::restore_usage(const UsageRecord& usage) {
  s_.fairshare.restore(usage.users, usage.accounts, usage.as_of);
}

UsageRecord Cluster::usage_record() const {
  return UsageRecord{s_.fairshare.users(), s_.fairshare.accounts(), s_.fairshare.as_of()};
}

void Cluster::restore(std::vector<Node> nodes, std::vector<Job> active_jobs, JobId max_job_id, int64_t now_ms) {
  for (Node& n : nodes) {
    n.registered = false;
    n.last_seen_ms = now_ms;  // one node timeout of grace to re-register
    n.used = Resources{};
    n.gpu_busy.assign(static_cast<size_t>(std::max<int64_t>(n.total.gpus, 0)), false);
    n.partitions = state::partition_mask(s_, n.name);
    s_.nodes[n.name] = std::move(n);
  }
  for (Job& j : active_jobs) {
    // Jobs stored before partitions existed belong to the default one.
    if (j.spec.partition.empty()) j.spec.partition = state::default_partition_name(s_);
    // Another process's monotonic clock means nothing here: run time is
    // counted again from what the store saved (Job::run_s, run_at).
    j.limit_anchor_ms = Job::kNoLimitAnchor;
    for (Task& t : j.tasks) {
      if (!holds_resources(t.state)) continue;
      auto it = s_.nodes.find(t.node);
      if (it == s_.nodes.end()) continue;
      it->second.used += j.spec.per_task;
      for (uint32_t g : t.gpus)
        if (g < it->second.gpu_busy.size()) it->second.gpu_busy[g] = true;
    }
    // The store gives jobs in id order: each goes at the end of the map.
    const JobId id = j.id;
    auto it = s_.jobs.insert_or_assign(s_.jobs.end(), id, std::move(j));
    state::note_dependent(s_, it->second);
  }
  s_.next_job_id = max_job_id + 1;
  s_.count_pending();
}

Result<JobId> Cluster::submit(JobSpec spec, int64_t now_unix) { return admission_.submit(s_, std::move(spec), now_unix); }

void Cluster::withdraw(const std::vector<JobId>& ids) {
  for (JobId id : ids) {
    auto it = s_.jobs.find(id);
    if (it == s_.jobs.end() || it->second.state != JobState::pending) continue;
    uint32_t& pending = s_.pending_by_user[it->second.spec.user];
    if (pending > 0) --pending;
    s_.dirty_jobs.erase(id);
    s_.jobs.erase(it);
  }
  while (s_.next_job_id > 1 && std::find(ids.begin(), ids.end(), s_.next_job_id - 1) != ids.end()) --s_.next_job_id;
}

std::vector<JobId> Cluster::missing_dependency_targets(const std::string& dependency) const {
  std::vector<JobId> out;
  auto add = [&](const std::string& text) {
    auto spec = parse_dependency(text);
    if (!spec) return;
    for (JobId id : state::missing_targets(s_, *spec))
      if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  };
  if (!dependency.empty()) {
    add(dependency);
    return out;
  }
  for (JobId id : s_.dependents)
    if (const Job* j = s_.find_job(id)) add(j->spec.dependency);
  return out;
}

void Cluster::adopt_ended(std::vector<Job> jobs) {
  // Marked changed: unless a dependency names them, the turn's end evicts them again.
  for (const Job& j : jobs) s_.dirty_jobs.insert(j.id);
  state::adopt_ended(s_, std::move(jobs));
}

CancelOutcome Cluster::cancel(JobId id, int64_t now_unix) { return state::cancel(s_, id, now_unix); }

Result<uint32_t> Cluster::run_step(const StepRequest& req) { return state::run_step(s_, req); }

const Step* Cluster::find_step(JobId job, uint32_t step) const { return state::find_step(s_, job, step); }

void Cluster::register_node(const NodeRegistration& reg, int64_t now_ms, int64_t now_unix) {
  admission_.forget_shapes();  // its totals, labels or GPUs may differ now
  state::register_node(s_, reg, now_ms, now_unix);
}

bool Cluster::heartbeat(const std::string& name, int64_t now_ms, int64_t now_unix) {
  return state::heartbeat(s_, name, now_ms, now_unix);
}

void Cluster::task_event(const TaskEvent& ev, int64_t now_unix) { state::task_event(s_, ev, now_unix); }

void Cluster::node_revoked(const std::string& name, int64_t now_unix) { state::node_revoked(s_, name, now_unix); }

Status Cluster::drain_node(const std::string& name, const std::string& reason) {
  return state::drain_node(s_, name, reason);
}

Status Cluster::resume_node(const std::string& name) { return state::resume_node(s_, name); }

void Cluster::check_timeouts(int64_t now_ms, int64_t now_unix) {
  state::check_node_timeouts(s_, now_ms, now_unix);
  state::check_time_limits(s_, now_ms, now_unix);
  state::save_run_times(s_, now_ms, now_unix);
}

bool Cluster::schedule(const sched::Policy& policy, int64_t now_unix, PassTiming* timing) {
  return state::schedule(s_, policy, now_unix, timing);
}

sched::Snapshot Cluster::snapshot(const sched::Policy& policy, std::vector<std::string>* node_names,
                                  std::vector<JobId>* running_ids, std::vector<Job*>* pending_jobs,
                                  int64_t charge_to) {
  return state::snapshot(s_, policy, node_names, running_ids, pending_jobs, charge_to);
}

void Cluster::evict_ended() { state::evict_ended(s_); }

void Cluster::evict_ended(const std::set<JobId>& changed) { state::evict_ended(s_, changed); }

}  // namespace cadre
