#include "master/state/schedule.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/constraint.hpp"
#include "common/hostlist.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "master/state/dependencies.hpp"
#include "master/state/job_arrays.hpp"
#include "master/state/job_control.hpp"
#include "master/state/jobs.hpp"
#include "master/state/partitions.hpp"
#include "master/state/reservation_table.hpp"
#include "master/state/snapshot_ids.hpp"

namespace cadre::state {
namespace {

// -p a,b: each pass sends the job to the first of its partitions (they
// are kept higher tier first, then as listed) where its gang fits in what
// is free as the pass starts, else to the first: sbatch's "the one offering
// earliest initiation", judged once per pass. Remembered per list, shape
// and node restriction for the pass, so a queue of such jobs costs one
// placement attempt per kind. -C is not weighed here (the scheduler still
// honours it wherever the job goes).
void pick_partition(Job& j, SnapshotIds& ids, const std::vector<sched::NodeView>& views,
                    std::map<std::string, std::string>& picked) {
  const JobSpec& spec = j.spec;
  if (spec.partition_list.empty()) return;
  const sched::GangShape shape = shape_of(spec);
  std::string key = spec.partition_list + "\n" + spec.nodelist + "\n" + spec.exclude + "\n" +
                    std::to_string(shape.per_task.millicores) + "/" + std::to_string(shape.per_task.memory_mb) + "/" +
                    std::to_string(shape.per_task.gpus) + "/" + std::to_string(shape.nodes) + "/" +
                    std::to_string(shape.tasks_per_node) + "/" + std::to_string(shape.ntasks) +
                    (spec.exclusive ? "/x" : "");
  auto [it, fresh] = picked.try_emplace(std::move(key));
  if (fresh) {
    sched::PlaceConstraints c;
    if (!spec.nodelist.empty() || !spec.exclude.empty()) c.nodes = &ids.allowed_nodes(spec);
    c.whole_nodes = spec.exclusive;
    for (size_t at = 0; at <= spec.partition_list.size();) {
      const size_t comma = std::min(spec.partition_list.find(',', at), spec.partition_list.size());
      const std::string name = spec.partition_list.substr(at, comma - at);
      at = comma + 1;
      const int32_t part = partition_index(ids.s, name);
      if (part < 0) continue;  // removed from the config since
      if (it->second.empty()) it->second = name;
      c.partition = part;
      if (sched::place_gang(shape, views, c)) {
        it->second = name;
        break;
      }
    }
  }
  if (!it->second.empty() && it->second != j.spec.partition) j.spec.partition = it->second;
}

sched::RunningJob running_view(JobId id, const Job& j, SnapshotIds& ids, const sched::Policy& policy) {
  sched::RunningJob r;
  r.id = id;
  r.partition = ids.partition(j.spec.partition);
  r.qos = ids.qos(j.spec.qos);
  r.user = ids.user(j.spec.user);
  r.start_time = j.start_time;
  const int64_t limit = j.spec.time_limit_s > 0 ? j.spec.time_limit_s : policy.unlimited_as_s;
  r.expected_end = j.start_time + limit;
  r.ending = j.state != JobState::running;
  r.per_task = j.spec.per_task;
  r.exclusive = j.spec.exclusive;
  for (const Task& t : j.tasks) {
    if (!holds_resources(t.state)) continue;
    if (t.state == TaskState::killing) r.ending = true;
    auto it = ids.node_index.find(t.node);
    if (it == ids.node_index.end()) continue;
    r.ranks.push_back(sched::RankUse{it->second, t.gpus});
  }
  return r;
}

// Reservations: a job run inside one (--reservation) may use its nodes
// only; any other job stays off the nodes of every reservation its window
// (now to now plus its limit) meets, so it ends before one opens.
void keep_to_reservations(sched::PendingJob& p, const Job& j, SnapshotIds& ids) {
  std::vector<uint32_t> inside;
  const std::vector<uint32_t>* only = nullptr;   // allowed: these
  const std::vector<uint32_t>* never = nullptr;  // allowed: all but these
  if (!j.spec.reservation.empty()) {
    auto it = ids.s.reservations.find(j.spec.reservation);
    only = it == ids.s.reservations.end() ? &inside : &ids.nodes_of(it->second);
  } else {
    const int64_t limit = j.spec.time_limit_s > 0 ? j.spec.time_limit_s : ids.unlimited_as;
    std::vector<std::string> meets;
    for (const auto& [name, r] : ids.s.reservations)
      if (overlaps(r, ids.now, ids.now + limit)) meets.push_back(name);
    if (meets.empty()) return;
    auto [it, fresh] = ids.blocked.try_emplace(meets);
    if (fresh) {
      for (const std::string& name : meets) {
        const auto& nodes = ids.nodes_of(ids.s.reservations.at(name));
        it->second.insert(it->second.end(), nodes.begin(), nodes.end());
      }
      std::sort(it->second.begin(), it->second.end());
      it->second.erase(std::unique(it->second.begin(), it->second.end()), it->second.end());
    }
    never = &it->second;
  }
  auto allowed = [&](uint32_t n) {
    return only ? std::binary_search(only->begin(), only->end(), n) : !std::binary_search(never->begin(), never->end(), n);
  };
  if (!p.nodes_restricted) {
    p.nodes_restricted = true;
    p.nodes_allowed.clear();
    for (uint32_t n = 0; n < ids.node_at.size(); ++n)
      if (allowed(n)) p.nodes_allowed.push_back(n);
  } else {
    std::erase_if(p.nodes_allowed, [&](uint32_t n) { return !allowed(n); });
  }
  for (auto& set : p.node_sets) std::erase_if(set, [&](uint32_t n) { return !allowed(n); });
}

// Whether a job run inside a reservation may start now; if not, its reason:
// the reservation is gone, not open yet, or closes before the job could end.
bool reservation_open(ClusterState& s, Job& j, int64_t now) {
  auto it = s.reservations.find(j.spec.reservation);
  const char* why = nullptr;
  if (it == s.reservations.end()) why = "ReservationDeleted";
  else if (now < it->second.start || now + j.spec.time_limit_s > it->second.end) why = "Reservation";
  if (!why) return true;
  j.reason = why;
  return false;
}

sched::PendingJob pending_view(JobId id, const Job& j, SnapshotIds& ids, const std::vector<std::string>& gpu_models) {
  sched::PendingJob p;
  p.id = id;
  p.partition = ids.partition(j.spec.partition);
  p.qos = ids.qos(j.spec.qos);
  p.user = ids.user(j.spec.user);
  p.account = ids.account(j.spec.account.empty() ? j.spec.user : j.spec.account);
  p.priority = j.spec.priority;
  p.submit_time = j.submit_time;
  p.time_limit_s = j.spec.time_limit_s;
  p.shape = shape_of(j.spec);
  p.max_switches = j.spec.max_switches;
  p.switches_wait_s = j.spec.switches_wait_s;
  p.exclusive = j.spec.exclusive;
  if (!j.spec.constraint.empty()) {
    const auto& sets = ids.feature_sets(j.spec);
    p.nodes_restricted = true;
    if (sets.size() == 1) {
      p.nodes_allowed = sets[0];
    } else {
      // A matching OR: placed within one choice; allowed is their union.
      p.node_sets = sets;
      for (const auto& set : sets) p.nodes_allowed.insert(p.nodes_allowed.end(), set.begin(), set.end());
      std::sort(p.nodes_allowed.begin(), p.nodes_allowed.end());
      p.nodes_allowed.erase(std::unique(p.nodes_allowed.begin(), p.nodes_allowed.end()), p.nodes_allowed.end());
    }
  } else if (!j.spec.nodelist.empty() || !j.spec.exclude.empty()) {
    p.nodes_restricted = true;
    p.nodes_allowed = ids.allowed_nodes(j.spec);
  }
  if (!ids.s.reservations.empty()) keep_to_reservations(p, j, ids);
  if (!j.spec.gpu_type.empty()) {
    for (uint32_t m = 1; m < gpu_models.size(); ++m)
      if (gpu_model_matches(j.spec.gpu_type, gpu_models[m])) p.gpu_models.push_back(m);
    // No model matches: an id no node has keeps the job off every node.
    if (p.gpu_models.empty()) p.gpu_models.push_back(UINT32_MAX);
  }
  return p;
}

// Charges running jobs' usage up to now.
void charge_usage(ClusterState& s, int64_t now_unix, const std::vector<const Job*>& running) {
  s.fairshare.advance(now_unix);
  if (s.charged_until == 0 || now_unix < s.charged_until) s.charged_until = now_unix;
  const int64_t dt = now_unix - s.charged_until;
  if (dt <= 0) return;
  for (const Job* job : running) {
    const Job& j = *job;
    const int64_t ran = std::min(dt, now_unix - j.start_time);
    if (ran <= 0) continue;
    s.fairshare.charge(j.spec.user, j.spec.account.empty() ? j.spec.user : j.spec.account,
                       s.fairshare.billing(j.spec.per_task.times(j.spec.ntasks)) * static_cast<double>(ran));
    s.usage_dirty = true;
  }
  s.charged_until = now_unix;
}

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

// What is left waits: record why, and the priority that ranks it.
void record_waiting(const sched::Decisions& d, const std::vector<Job*>& pending_jobs) {
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
}

// How many gangs of `shape` the free capacity could hold at most, summed
// over schedulable nodes: an array record offers no more tasks than that
// (plus one, to wait with a reason and a reservation) to a pass.
uint64_t fit_estimate(const Resources& free, const sched::GangShape& shape) {
  const Resources need = shape.total();
  uint64_t n = UINT64_MAX;
  auto bound = [&](int64_t have, int64_t want) {
    if (want > 0) n = std::min<uint64_t>(n, have <= 0 ? 0 : static_cast<uint64_t>(have / want));
  };
  bound(free.millicores, need.millicores);
  bound(free.memory_mb, need.memory_mb);
  bound(free.gpus, need.gpus);
  return n;
}

// At most this many tasks of one array are offered to one pass.
constexpr uint64_t kMaxArrayTasksPerPass = 10000;

// Array records and array tasks, after the walk that counted what each
// array runs: a throttled array offers only what its throttle leaves, a
// record as many copies of itself as could start (each placement then
// splits one task off; see job_arrays.hpp).
void add_array_jobs(ClusterState& s, sched::Snapshot& snap, SnapshotIds& ids, const std::vector<Job*>& arrays,
                    std::map<JobId, uint32_t>& running, std::vector<Job*>* pending_jobs) {
  Resources free;
  for (const sched::NodeView& v : snap.nodes)
    if (v.schedulable) free += v.free;
  for (Job* job : arrays) {
    Job& j = *job;
    const uint32_t throttle = array_throttle(j.spec.array);
    uint32_t& used = running[j.spec.array_job_id];
    uint64_t room = throttle == 0 ? UINT64_MAX : throttle > used ? throttle - used : 0;
    const bool record = is_array_record(j);
    uint64_t copies = std::min<uint64_t>(room, record ? j.array_left.count() : 1);
    if (record) copies = std::min({copies, fit_estimate(free, shape_of(j.spec)) + 1, kMaxArrayTasksPerPass});
    if (copies == 0) {
      // Slurm's reason for a throttled array's waiting tasks.
      if (!j.reason.starts_with("JobArrayTaskLimit")) {
        const std::string_view history = history_of(j.reason);
        j.reason = "JobArrayTaskLimit";
        if (!history.empty()) j.reason.append("; ").append(history);
      }
      continue;
    }
    used += static_cast<uint32_t>(std::min<uint64_t>(copies, UINT32_MAX - used));
    const sched::PendingJob view = pending_view(j.id, j, ids, snap.gpu_models);
    for (uint64_t c = 0; c < copies; ++c) {
      snap.pending.push_back(view);
      if (pending_jobs) pending_jobs->push_back(&j);
    }
  }
  (void)s;
}

}  // namespace

std::vector<sched::NodeView> node_views(const ClusterState& s, std::vector<std::string>* names,
                                        std::vector<std::string>* gpu_models) {
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
  views.reserve(s.nodes.size());
  for (const auto& [name, n] : s.nodes) {
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

sched::Snapshot snapshot(ClusterState& s, const sched::Policy& policy, std::vector<std::string>* names,
                         std::vector<JobId>* running_ids, std::vector<Job*>* pending_jobs, int64_t charge_to) {
  sched::Snapshot snap;
  const int64_t now = charge_to != 0 ? charge_to : unix_now();  // for --begin
  std::vector<std::string> local_names;
  if (!names) names = &local_names;
  snap.nodes = node_views(s, names, &snap.gpu_models);
  for (const PartitionConfig& p : s.partitions) {
    sched::PartitionView v;
    v.name = p.name;
    v.tier = p.tier;
    v.preemptible = p.preemptible;
    v.max_running_jobs_per_user = p.max_running_jobs_per_user;
    v.max_gpus_per_user = p.max_gpus_per_user;
    snap.partitions.push_back(std::move(v));
  }
  if (!s.qos.empty()) {
    // Slurm's QOS factor: a QOS's priority over the highest one.
    int32_t highest = 0;
    for (const QosConfig& q : s.qos) highest = std::max(highest, q.priority);
    snap.qos.emplace_back();  // [0]: none
    for (const QosConfig& q : s.qos) {
      sched::QosView v;
      v.name = q.name;
      v.priority = highest > 0 ? static_cast<double>(q.priority) / highest : 0;
      v.has_tier = q.tier.has_value();
      v.tier = q.tier.value_or(0);
      v.preemptible = q.preemptible;
      v.max_running_jobs_per_user = q.max_running_jobs_per_user;
      v.max_gpus_per_user = q.max_gpus_per_user;
      snap.qos.push_back(std::move(v));
    }
  }
  SnapshotIds ids{s, {}, {}, {}, {}, {}, {}, {}, {}, now, policy.unlimited_as_s, {}, {}};
  ids.node_index.reserve(names->size());
  for (uint32_t i = 0; i < names->size(); ++i) ids.node_index.emplace((*names)[i], i);
  ids.node_at.reserve(names->size());
  for (const std::string& name : *names) {
    auto it = s.nodes.find(name);
    ids.node_at.push_back(it == s.nodes.end() ? nullptr : &it->second);
  }
  // Fair-share factors are read after the walk, once usage is charged.
  // Pending jobs per user, counted in the same walk (see count_pending()).
  std::unordered_map<std::string_view, uint32_t> pending_count;
  std::vector<const Job*> running_jobs;
  // Most jobs in a big queue are pending: room for all up front, instead of
  // copying 100,000 entries each time the vector grows.
  snap.pending.reserve(s.jobs.size());
  if (pending_jobs) pending_jobs->reserve(s.jobs.size());

  // Arrays' jobs wait for the walk to count what each array runs.
  std::vector<Job*> arrays;
  std::map<JobId, uint32_t> array_running;
  std::map<std::string, std::string> picked;  // pick_partition's, for this pass
  for (auto& [id, j] : s.jobs) {
    if (j.state == JobState::pending) ++pending_count[j.spec.user];
    if (j.state == JobState::running) running_jobs.push_back(&j);
    if (j.holds_resources()) {
      snap.running.push_back(running_view(id, j, ids, policy));
      if (running_ids) running_ids->push_back(id);
      if (j.spec.array_job_id != 0) ++array_running[j.spec.array_job_id];
    } else if (j.state != JobState::pending || j.hold != Job::Hold::none || !j.spec.dependency.empty()) {
      // Held, or waiting on a dependency (resolve_dependencies gave the reason).
      continue;
    } else if (j.spec.begin_time > now) {
      // --begin: not a candidate yet; a pass after that time takes it
      // (passes run every interval), as Slurm's next poll does.
      if (!j.reason.starts_with("BeginTime")) {
        const std::string history(history_of(j.reason));
        j.reason = "BeginTime";
        if (!history.empty()) j.reason.append("; ").append(history);
      }
      continue;
    } else if (!j.spec.reservation.empty() && !reservation_open(s, j, now)) {
      continue;
    } else if (j.spec.array_job_id != 0) {
      pick_partition(j, ids, snap.nodes, picked);
      arrays.push_back(&j);
    } else {
      pick_partition(j, ids, snap.nodes, picked);
      // A requeued gang waits until every rank of its last attempt is gone;
      // a held job waits for its release, with its hold as its reason.
      snap.pending.push_back(pending_view(id, j, ids, snap.gpu_models));
      if (pending_jobs) pending_jobs->push_back(&j);
    }
  }
  add_array_jobs(s, snap, ids, arrays, array_running, pending_jobs);
  // A node an --exclusive job runs on takes nothing else while it does.
  for (const sched::RunningJob& r : snap.running) {
    if (!r.exclusive) continue;
    for (const sched::RankUse& use : r.ranks) {
      snap.nodes[use.node].free = Resources{};
      snap.nodes[use.node].free_gpus.clear();
    }
  }
  s.pending_by_user.clear();
  for (const auto& [user, count] : pending_count) s.pending_by_user.emplace(user, count);
  if (charge_to != 0) charge_usage(s, charge_to, running_jobs);
  snap.user_fairshare.resize(ids.users.size());
  for (const auto& [user, i] : ids.users) snap.user_fairshare[i] = s.fairshare.user_factor(std::string(user));
  snap.account_fairshare.resize(ids.accounts.size());
  for (const auto& [account, i] : ids.accounts)
    snap.account_fairshare[i] = s.fairshare.account_factor(std::string(account));
  return snap;
}

bool schedule(ClusterState& s, const sched::Policy& policy, int64_t now_unix, PassTiming* timing) {
  PassTiming local;
  if (!timing) timing = &local;
  auto started = std::chrono::steady_clock::now();
  const int64_t cpu_started = thread_cpu_us();
  resolve_dependencies(s, now_unix);
  expire_deadlines(s, now_unix);
  expire_reservations(s, now_unix);
  std::vector<std::string> names;
  std::vector<JobId> running_ids;
  std::vector<Job*> pending_jobs;
  // One walk over the jobs: usage charged, pending counted, snapshot built.
  sched::Snapshot snap = snapshot(s, policy, &names, &running_ids, &pending_jobs, now_unix);
  timing->snapshot_us = micros_since(started);
  if (snap.pending.empty()) return false;

  started = std::chrono::steady_clock::now();
  const sched::Decisions d = sched::decide(snap, policy, now_unix);
  timing->decide_us = micros_since(started);
  started = std::chrono::steady_clock::now();
  for (const sched::Preemption& p : d.preemptions)
    for (JobId victim : p.victims)
      if (Job* v = s.job(victim); v && v->state == JobState::running) {
        preempt(s, *v, p.preemptor);
        timing->preempted += 1;
      }
  for (const sched::Placement& p : d.placements) {
    Job& j = s.jobs.at(p.job);
    // An array record starts its lowest index as a job of its own (and
    // stays pending while indices are left).
    Job& run = is_array_record(j) ? take_array_task(s, j) : j;
    launch(s, run, p.gang, names, now_unix);
    if (is_array_record(j)) continue;
    if (auto it = s.pending_by_user.find(j.spec.user); it != s.pending_by_user.end() && it->second > 0) --it->second;
  }
  // Preempted jobs wait again (the snapshot's count is of before the pass).
  for (const sched::Preemption& p : d.preemptions)
    for (JobId victim : p.victims)
      if (const Job* v = s.find_job(victim); v && v->state == JobState::pending) ++s.pending_by_user[v->spec.user];
  record_waiting(d, pending_jobs);
  timing->apply_us = micros_since(started);
  timing->cpu_us = thread_cpu_us() - cpu_started;
  return true;
}

}  // namespace cadre::state
