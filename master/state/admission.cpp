#include "master/state/admission.hpp"

#include <algorithm>
#include <optional>
#include <set>

#include "common/constraint.hpp"
#include "common/hostlist.hpp"
#include "common/job_validation.hpp"
#include "common/limits.hpp"
#include "master/state/dependencies.hpp"
#include "master/state/jobs.hpp"
#include "master/state/partitions.hpp"
#include "master/state/schedule.hpp"

namespace cadre {
namespace {

// A job without a name is called after its command, cut to the bound of a
// name at a character boundary (argv[0] may be longer than a name may).
std::string default_name(const std::string& argv0) {
  std::string name = argv0.substr(argv0.find_last_of('/') + 1);
  if (name.size() <= limits::kMaxJobNameBytes) return name;
  size_t cut = limits::kMaxJobNameBytes;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
  return name.substr(0, cut);
}

// The partition's limits; a job without a time limit gets its default.
Status apply_partition(JobSpec& spec, const PartitionConfig& pc) {
  if (spec.time_limit_s == 0 && !spec.time_limit_given) spec.time_limit_s = pc.default_time_s;
  if (pc.max_time_s > 0 && (spec.time_limit_s == 0 || spec.time_limit_s > pc.max_time_s))
    return make_error("partition " + pc.name + " allows at most " + format_duration_s(pc.max_time_s) +
                      (spec.time_limit_s == 0 ? "; the job asks for no limit (give a --time)"
                                              : "; the job asks for " + format_duration_s(spec.time_limit_s)));
  if (pc.max_gpus_per_user > 0 && spec.per_task.times(spec.ntasks).gpus > pc.max_gpus_per_user)
    return make_error("partition " + pc.name + " allows at most " + std::to_string(pc.max_gpus_per_user) +
                      " GPUs per user; the job asks for " + std::to_string(spec.per_task.times(spec.ntasks).gpus));
  return {};
}

// --deadline: the job must be able to end by it, so it needs a time limit
// (its own or the partition's; Slurm says the same), and one that fits
// between its earliest start and the deadline.
Status check_deadline(const JobSpec& spec, int64_t now_unix) {
  if (spec.deadline == 0) return {};
  if (spec.time_limit_s == 0)
    return make_error("--deadline needs a time limit: give --time (the partition sets no default)");
  const int64_t earliest = std::max(now_unix, spec.begin_time);
  if (earliest + spec.time_limit_s > spec.deadline)
    return make_error("the job cannot end by its --deadline: a " + format_duration_s(spec.time_limit_s) +
                      " limit from " + (spec.begin_time > now_unix ? "its --begin" : std::string("now")) +
                      " ends " + format_duration_s(earliest + spec.time_limit_s - spec.deadline) +
                      " after it (give a later --deadline or a shorter --time)");
  return {};
}

// --reservation: it must exist, and the job must be able to end inside it
// (one with no time limit gets what is left of the window).
Status check_reservation(const ClusterState& s, JobSpec& spec, int64_t now_unix) {
  if (spec.reservation.empty()) return {};
  auto it = s.reservations.find(spec.reservation);
  if (it == s.reservations.end()) {
    std::string names;
    for (const auto& [name, r] : s.reservations) names += (names.empty() ? "" : ", ") + name;
    return make_error("--reservation: no reservation '" + spec.reservation + "' (reservations: " +
                      (names.empty() ? "none" : names) + "; cadre reservation list)");
  }
  const Reservation& r = it->second;
  const int64_t window = r.end - std::max(now_unix, r.start);
  // Ended but not yet dropped (that happens on the next pass).
  if (window <= 0) return make_error("--reservation " + r.name + " has ended");
  if (spec.time_limit_s == 0) spec.time_limit_s = window;
  if (spec.time_limit_s > window)
    return make_error("--reservation " + r.name + " has " + format_duration_s(window) + " left from its start; the job asks for " +
                      format_duration_s(spec.time_limit_s) + " (give a shorter --time)");
  return {};
}

// A GPU type no node has is refused once every node has told us its GPUs
// (after a master restart nodes are not registered yet: the job waits).
Status check_gpu_type(const ClusterState& s, const JobSpec& spec, int32_t part) {
  if (spec.gpu_type.empty()) return {};
  bool any = false, all_known = true, matched = false;
  std::set<std::string> models;
  for (const auto& [name, n] : s.nodes) {
    if (!((n.partitions >> part) & 1u)) continue;
    any = true;
    all_known = all_known && n.registered;
    for (const NodeGpu& g : n.gpus) models.insert(g.model);
    // As the scheduler sees it: a node of mixed models matches no type.
    const std::string model = n.gpu_model();
    matched = matched || (!model.empty() && gpu_model_matches(spec.gpu_type, model));
  }
  if (any && all_known && !matched) {
    std::string known;
    for (const std::string& m : models) known += (known.empty() ? "" : ", ") + m;
    return make_error("no node" + (s.partitions.size() > 1 ? " in partition " + spec.partition : "") +
                      " has GPUs of type '" + spec.gpu_type + "' (models: " + (known.empty() ? "none" : known) +
                      "; a node of mixed models matches no type)");
  }
  return {};
}

}  // namespace

Result<JobId> Admission::submit(ClusterState& s, JobSpec spec, int64_t now_unix) {
  // The same check the CLI ran before sending: one place for both.
  if (Status ok = validate_job_request(spec, RequestBounds{limits_.max_command_bytes, limits_.max_script_bytes}); !ok)
    return make_error(ok.error());
  if (limits_.max_pending_jobs_per_user > 0 &&
      s.pending_by_user[spec.user] >= limits_.max_pending_jobs_per_user)
    return make_error("user " + spec.user + " already has " + std::to_string(s.pending_by_user[spec.user]) +
                      " pending jobs, the most allowed (limits.max_pending_jobs_per_user); wait for some to start");
  // One file per job, every rank appending, as Slurm's slurm-%j.out.
  if (spec.output_pattern.empty()) spec.output_pattern = spec.array.empty() ? "cadre-%j.out" : "cadre-%A_%a.out";
  if (spec.name.empty()) spec.name = default_name(spec.argv[0]);
  if (spec.account.empty()) spec.account = spec.user;
  // sbatch: --mail-user defaults to the submitting user.
  if (spec.mail_type != 0 && spec.mail_user.empty()) spec.mail_user = spec.user;
  if (spec.switches_wait_s < 0) return make_error("--switches-wait must not be negative");

  // -C: a feature no node has is a mistake, refused as Slurm's "Invalid
  // feature specification" (judged once nodes are known).
  if (!spec.constraint.empty() && !s.nodes.empty()) {
    auto c = parse_constraint(spec.constraint);
    if (!c) return make_error(c.error());
    std::set<std::string, std::less<>> known;
    for (const auto& [name, node] : s.nodes) known.insert(node.features.begin(), node.features.end());
    for (const std::string& f : c->names())
      if (!known.count(f)) {
        std::string all;
        for (const std::string& k : known) all += (all.empty() ? "" : ", ") + k;
        return make_error("-C/--constraint: no node has the feature '" + f + "' (" +
                          (all.empty() ? std::string("no node reports features; agents list theirs with --features")
                                       : "features: " + all) +
                          ")");
      }
  }

  // -w: the job runs on exactly the listed nodes, so they give its node
  // count (Slurm may add nodes to reach -N; cadre asks for a list of N).
  if (!spec.nodelist.empty()) {
    auto names = expand_hostlist(spec.nodelist);
    if (!names) return make_error("-w/--nodelist: " + names.error());
    std::set<std::string> listed(names->begin(), names->end());
    for (const std::string& n : listed)
      if (!s.nodes.count(n)) return make_error("-w/--nodelist: no node " + n + " (cadre nodes lists them)");
    const uint32_t count = static_cast<uint32_t>(listed.size());
    if (spec.nodes == 0) {
      // One task per listed node by default, as sbatch does with -w alone.
      if (spec.ntasks == 1) spec.ntasks = count;
      if (spec.ntasks % count != 0)
        return make_error("-w lists " + std::to_string(count) + " nodes and the job has " + std::to_string(spec.ntasks) +
                          " tasks; give a task count they divide, or --ntasks-per-node");
      spec.nodes = count;
      spec.tasks_per_node = spec.ntasks / count;
    } else if (spec.nodes != count) {
      return make_error("-w lists " + std::to_string(count) + " nodes and the job asks for " + std::to_string(spec.nodes) +
                        " (-N); cadre runs a -w job on exactly the listed nodes: list " + std::to_string(spec.nodes) +
                        " nodes, or leave -N out");
    }
  }

  // The partition (or the partitions of a list): their limits apply from here on.
  if (Status ok = choose_partitions(s, spec); !ok) return make_error(ok.error());
  if (Status ok = apply_qos(s.qos, spec); !ok) return make_error(ok.error());
  if (Status ok = check_deadline(spec, now_unix); !ok) return make_error(ok.error());
  if (Status ok = check_reservation(s, spec, now_unix); !ok) return make_error(ok.error());

  Job j;
  j.id = s.next_job_id++;
  j.spec = std::move(spec);
  j.state = JobState::pending;
  j.reason = "Priority";
  if (j.spec.hold) {
    j.hold = Job::Hold::user;
    j.reason = std::string(kHeldByUser);
  }
  // An array is one pending record until its tasks start (schedule.cpp
  // splits them off), so a 100,000-task array costs one row.
  j.spec.array_job_id = 0;
  j.spec.array_task_id = -1;
  if (!j.spec.array.empty()) {
    auto array = parse_array_spec(j.spec.array);
    if (!array) return make_error(array.error());
    j.spec.array_job_id = j.id;
    j.array_left = std::move(array->indices);
  }
  j.submit_time = now_unix;
  s.dirty_jobs.insert(j.id);
  JobId id = j.id;
  ++s.pending_by_user[j.spec.user];
  s.jobs[id] = std::move(j);
  state::note_dependent(s, s.jobs.at(id));
  return id;
}

// Whether the job may run in partition `name`: its limits (a job without
// a time limit gets its default), a shape that fits its nodes, GPU types.
Status Admission::admit_in(const ClusterState& s, JobSpec& spec, const std::string& name) {
  const int32_t part = state::partition_index(s, name);
  if (part < 0) {
    std::string names;
    for (const PartitionConfig& p : s.partitions) names += (names.empty() ? "" : ", ") + p.name;
    return make_error("no partition '" + name + "' (partitions: " + names + ")");
  }
  const PartitionConfig& pc = s.partitions[static_cast<size_t>(part)];
  spec.partition = name;
  if (Status ok = apply_partition(spec, pc); !ok) return ok;
  // Judged only once the partition has nodes: before they first register
  // the job waits (PartitionDown) rather than being refused.
  if (std::string why = never_fits(s, shape_of(spec), part, spec.switches_wait_s == 0 ? spec.max_switches : 0);
      !why.empty())
    return make_error("job can never run" + (s.partitions.size() > 1 ? " in partition " + pc.name : "") + ": " + why);
  return check_gpu_type(s, spec, part);
}

// -p a,b: as sbatch, the job may run in any of them; those that can never
// take it are dropped (refused only when none can). The time limit comes
// from the first that takes it (higher tiers first, then as listed), and
// the others must allow it. spec.partition is where it would go first,
// spec.partition_list the whole list (the scheduler picks per pass).
Status Admission::choose_partitions(const ClusterState& s, JobSpec& spec) {
  if (spec.partition.empty()) spec.partition = state::default_partition_name(s);
  if (spec.partition.find(',') == std::string::npos) return admit_in(s, spec, spec.partition);
  std::vector<std::string> names;
  for (size_t at = 0; at <= spec.partition.size();) {
    size_t comma = std::min(spec.partition.find(',', at), spec.partition.size());
    std::string name = spec.partition.substr(at, comma - at);
    if (name.empty()) return make_error("-p/--partition '" + spec.partition + "': an empty name in the list");
    if (state::partition_index(s, name) < 0) return admit_in(s, spec, name);  // says which and lists them
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
    at = comma + 1;
  }
  std::stable_sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    return s.partitions[static_cast<size_t>(state::partition_index(s, a))].tier >
           s.partitions[static_cast<size_t>(state::partition_index(s, b))].tier;
  });
  std::optional<JobSpec> chosen;
  std::vector<std::string> kept;
  Status first_refusal;
  for (const std::string& name : names) {
    JobSpec candidate = chosen ? *chosen : spec;
    if (chosen) candidate.time_limit_given = true;  // the limit is fixed now: the others must allow it
    if (Status ok = admit_in(s, candidate, name); !ok) {
      if (first_refusal) first_refusal = ok;  // the first refusal is the one reported
      continue;
    }
    if (!chosen) chosen = candidate;
    kept.push_back(name);
  }
  if (!chosen) return first_refusal;
  spec = std::move(*chosen);
  spec.partition = kept.front();
  spec.partition_list.clear();
  if (kept.size() > 1)
    for (const std::string& name : kept) spec.partition_list += (spec.partition_list.empty() ? "" : ",") + name;
  return {};
}

std::string Admission::never_fits(const ClusterState& s, const sched::GangShape& shape, int32_t part,
                                  uint32_t max_switches) {
  // A node registering clears the cache; restore() only ever fills a fresh
  // Cluster, and a changed node count is caught here regardless.
  if (never_fits_nodes_ != s.nodes.size()) never_fits_cache_.clear();
  never_fits_nodes_ = s.nodes.size();
  const NeverFitsKey key{shape.per_task.millicores, shape.per_task.memory_mb, shape.per_task.gpus, shape.nodes,
                         shape.tasks_per_node, shape.ntasks, part, max_switches};
  if (auto it = never_fits_cache_.find(key); it != never_fits_cache_.end()) return it->second;
  std::string why;
  std::vector<sched::NodeView> views = state::node_views(s, nullptr);
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

}  // namespace cadre
