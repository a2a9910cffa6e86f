#include "master/state/dependencies.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string_view>
#include <utility>

#include "common/log.hpp"
#include "master/state/job_arrays.hpp"
#include "master/state/jobs.hpp"

namespace cadre::state {
namespace {

// What a dependency asks of the job (or array, or array task) it names.
struct Facts {
  bool exists = false;
  bool started = false;     // began running (or ended without running: cancelled)
  int64_t start_time = 0;   // the earliest start; 0 when none
  bool ended = false;       // every part of it ended
  bool ok = false;          // every part ended COMPLETED
  bool failed = false;      // some part ended otherwise
};

void add_job(Facts& f, const Job& j) {
  f.exists = true;
  const bool final = is_final(j.state);
  // An array's record that ended with indices left (cancelled) never ran them.
  const bool ok = j.state == JobState::completed && j.array_left.empty();
  if (j.start_time > 0 && (f.start_time == 0 || j.start_time < f.start_time)) f.start_time = j.start_time;
  f.started = f.started || j.start_time > 0 || final;
  f.ended = f.ended && final;
  f.ok = f.ok && ok;
  f.failed = f.failed || (final && !ok);
}

Facts facts_of(const ClusterState& s, const DepTarget& t) {
  Facts f;
  f.ended = true;
  f.ok = true;
  const Job* named = s.find_job(t.job);
  const bool array = named ? named->spec.array_job_id == t.job : !array_members(s, t.job).empty();
  if (!array) {
    if (!named || t.task >= 0) return Facts{};
    add_job(f, *named);
    return f;
  }
  for (JobId id : array_members(s, t.job)) {
    const Job& m = s.jobs.at(id);
    if (t.task < 0) {
      add_job(f, m);
      continue;
    }
    if (m.spec.array_task_id == t.task && !is_array_record(m)) return add_job(f, m), f;
    if (is_array_record(m) && m.array_left.contains(static_cast<uint32_t>(t.task))) {
      // Not started: it waits, or, its record ended, never will run.
      if (is_final(m.state)) return add_job(f, m), f;
      return Facts{true, false, 0, false, false, false};
    }
  }
  return t.task < 0 ? f : Facts{};
}

DepOutcome outcome_of(const Facts& f, DepKind kind, int64_t delay_min, int64_t now_unix) {
  if (!f.exists) return DepOutcome::never;
  switch (kind) {
    case DepKind::after:
      if (f.start_time > 0) return now_unix >= f.start_time + delay_min * 60 ? DepOutcome::satisfied : DepOutcome::waiting;
      return f.started ? DepOutcome::satisfied : DepOutcome::waiting;
    case DepKind::afterany:
      return f.ended ? DepOutcome::satisfied : DepOutcome::waiting;
    case DepKind::afterok:
      if (f.failed) return DepOutcome::never;
      return f.ended && f.ok ? DepOutcome::satisfied : DepOutcome::waiting;
    case DepKind::afternotok:
      if (!f.ended) return DepOutcome::waiting;
      return f.failed ? DepOutcome::satisfied : DepOutcome::never;
    case DepKind::singleton:
      break;
  }
  return DepOutcome::waiting;
}

// (user, name) -> the smallest id of a job of theirs with that name that
// has not ended: singleton waits while an earlier one exists.
using Singletons = std::map<std::pair<std::string_view, std::string_view>, JobId>;

Singletons singletons(const ClusterState& s) {
  Singletons out;
  for (const auto& [id, j] : s.jobs)
    if (!is_final(j.state)) out.try_emplace({j.spec.user, j.spec.name}, id);
  return out;
}

DepOutcome evaluate(const ClusterState& s, const Job& j, const DependencySpec& spec, int64_t now_unix,
                    const Singletons* earliest) {
  bool all = true, any = false, none_possible = true;
  Singletons local;
  for (const DepItem& item : spec.items) {
    DepOutcome o = DepOutcome::satisfied;
    if (item.kind == DepKind::singleton) {
      if (!earliest) earliest = &(local = singletons(s));
      auto it = earliest->find({j.spec.user, j.spec.name});
      // An array's tasks do not wait on each other or on their record.
      const bool earlier = it != earliest->end() && it->second < j.id &&
                           (j.spec.array_job_id == 0 || s.find_job(it->second)->spec.array_job_id != j.spec.array_job_id);
      o = earlier ? DepOutcome::waiting : DepOutcome::satisfied;
    } else {
      for (const DepTarget& t : item.targets) {
        DepOutcome one = outcome_of(facts_of(s, t), item.kind, t.delay_min, now_unix);
        if (one == DepOutcome::never) o = DepOutcome::never;
        else if (one == DepOutcome::waiting && o != DepOutcome::never) o = DepOutcome::waiting;
      }
    }
    all = all && o == DepOutcome::satisfied;
    any = any || o == DepOutcome::satisfied;
    if (o != DepOutcome::never) none_possible = false;
    if (!spec.any && o == DepOutcome::never) return DepOutcome::never;
  }
  if (spec.any) return any ? DepOutcome::satisfied : none_possible ? DepOutcome::never : DepOutcome::waiting;
  return all ? DepOutcome::satisfied : DepOutcome::waiting;
}

void set_wait_reason(Job& j, std::string_view why) {
  if (j.hold != Job::Hold::none || j.reason == why) return;
  j.reason = std::string(why);
}

}  // namespace

DepOutcome evaluate_dependency(const ClusterState& s, const Job& j, const DependencySpec& spec, int64_t now_unix) {
  return evaluate(s, j, spec, now_unix, nullptr);
}

void note_dependent(ClusterState& s, const Job& j) {
  if (j.state != JobState::pending || j.spec.dependency.empty()) return;
  s.dependents.insert(j.id);
  if (auto spec = parse_dependency(j.spec.dependency))
    for (const DepItem& item : spec->items)
      for (const DepTarget& t : item.targets) s.dependency_targets.insert(t.job);
}

void resolve_dependencies(ClusterState& s, int64_t now_unix) {
  if (s.dependents.empty() && s.dependency_targets.empty()) return;
  std::set<JobId> targets;
  std::optional<Singletons> earliest;
  std::vector<JobId> ids(s.dependents.begin(), s.dependents.end());
  s.dependents.clear();
  for (JobId id : ids) {
    Job* j = s.job(id);
    if (!j || j->state != JobState::pending || j->spec.dependency.empty()) continue;
    auto spec = parse_dependency(j->spec.dependency);
    if (!spec) {
      // Validated at submit: only a row from a newer or broken master gets here.
      CADRE_LOG(warning) << "job " << id << ": ignoring its dependency '" << j->spec.dependency << "': " << spec.error();
      j->spec.dependency.clear();
      s.dirty_jobs.insert(id);
      continue;
    }
    const bool needs_singletons = std::any_of(spec->items.begin(), spec->items.end(),
                                              [](const DepItem& d) { return d.kind == DepKind::singleton; });
    if (needs_singletons && !earliest) earliest = singletons(s);
    switch (evaluate(s, *j, *spec, now_unix, earliest ? &*earliest : nullptr)) {
      case DepOutcome::satisfied:
        // As Slurm: a dependency that held is gone; the job competes now.
        CADRE_LOG(info) << "job " << display_id(*j) << ": dependency " << j->spec.dependency << " satisfied";
        j->spec.dependency.clear();
        if (j->reason == "Dependency") j->reason = "Priority";
        s.dirty_jobs.insert(id);
        continue;
      case DepOutcome::never:
        if (j->spec.kill_on_invalid_dep) {
          end_job(s, *j, JobState::cancelled, 0,
                  "dependency " + j->spec.dependency + " can never be satisfied (--kill-on-invalid-dep)", now_unix);
          continue;
        }
        set_wait_reason(*j, "DependencyNeverSatisfied");
        break;
      case DepOutcome::waiting:
        set_wait_reason(*j, "Dependency");
        break;
    }
    s.dependents.insert(id);
    for (const DepItem& item : spec->items)
      for (const DepTarget& t : item.targets) targets.insert(t.job);
  }
  // Jobs no dependent names any more may leave memory once ended: marked
  // changed, the end of the turn evicts them.
  for (JobId old : s.dependency_targets)
    if (!targets.count(old)) {
      if (s.find_job(old)) s.dirty_jobs.insert(old);
      for (JobId member : array_members(s, old)) s.dirty_jobs.insert(member);
    }
  s.dependency_targets = std::move(targets);
}

std::vector<JobId> missing_targets(const ClusterState& s, const DependencySpec& spec) {
  std::vector<JobId> out;
  for (const DepItem& item : spec.items)
    for (const DepTarget& t : item.targets)
      if (!s.find_job(t.job) && std::find(out.begin(), out.end(), t.job) == out.end()) out.push_back(t.job);
  return out;
}

void adopt_ended(ClusterState& s, std::vector<Job> jobs) {
  for (Job& j : jobs) {
    if (!is_final(j.state) || s.jobs.count(j.id)) continue;
    const JobId id = j.id;
    s.jobs.emplace(id, std::move(j));
  }
}

}  // namespace cadre::state
