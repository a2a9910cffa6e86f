#include "master/state/job_control.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "master/state/dependencies.hpp"
#include "master/state/job_arrays.hpp"
#include "master/state/partitions.hpp"

namespace cadre::state {

CancelOutcome update_job(ClusterState& s, JobId id, JobSpec spec) {
  Job* j = s.job(id);
  if (!j) return {id, false, "no active job " + std::to_string(id)};
  const std::string name = "job " + display_id(*j);
  if (is_final(j->state)) return {id, false, name + " already ended " + std::string(to_string(j->state))};
  if (spec.partition.find(',') != std::string::npos) {
    // Partition=a,b: any of them, as at submit; the first until a pass picks.
    const std::string list = spec.partition;
    spec.partition_list.clear();
    for (size_t at = 0; at <= list.size();) {
      const size_t comma = std::min(list.find(',', at), list.size());
      const std::string one = list.substr(at, comma - at);
      at = comma + 1;
      if (partition_index(s, one) < 0) return {id, false, name + ": no partition '" + one + "'"};
      spec.partition_list += (spec.partition_list.empty() ? "" : ",") + one;
    }
    spec.partition = spec.partition_list.substr(0, spec.partition_list.find(','));
  }
  const int32_t part = partition_index(s, spec.partition);
  if (part < 0) return {id, false, name + ": no partition '" + spec.partition + "'"};
  const PartitionConfig& pc = s.partitions[static_cast<size_t>(part)];
  if (pc.max_time_s > 0 && (spec.time_limit_s == 0 || spec.time_limit_s > pc.max_time_s))
    return {id, false, name + ": partition " + pc.name + " allows at most " + format_duration_s(pc.max_time_s)};
  // The QOS's own bound and spelling (a changed QOS may not fit the limit the job has).
  if (Status ok = apply_qos(s.qos, spec); !ok) return {id, false, name + ": " + ok.error()};
  const bool limit_changed = spec.time_limit_s != j->spec.time_limit_s;
  j->spec = std::move(spec);
  if (j->state == JobState::pending) {
    note_dependent(s, *j);
    if (j->hold == Job::Hold::none && j->reason == "Dependency" && j->spec.dependency.empty()) j->reason = "Priority";
  }
  // The next look at time limits sees the new one at once.
  if (limit_changed) s.next_time_limit_ms = 0;
  s.dirty_jobs.insert(id);
  CADRE_LOG(info) << name << " updated";
  return {id, true, name + " updated"};
}

CancelOutcome requeue_job(ClusterState& s, JobId id, bool hold, bool by_admin, int64_t now_unix) {
  Job* j = s.job(id);
  if (!j) return {id, false, "no active job " + std::to_string(id)};
  const std::string name = "job " + display_id(*j);
  if (j->state == JobState::pending)
    return {id, false, name + " is PENDING: only a running or ended job can be requeued"};
  const bool running = j->state == JobState::running;
  j->state = JobState::pending;
  j->reason = hold ? std::string(by_admin ? kHeldByAdmin : kHeldByUser) : "Requeued by request";
  if (hold) j->hold = by_admin ? Job::Hold::admin : Job::Hold::user;
  j->start_time = 0;
  j->end_time = 0;
  j->exit_code = 0;
  j->submit_time = now_unix;
  j->run_s = 0;
  j->run_at = 0;
  // Not a failure: the node-failure retry count leaves it out.
  j->requeues += 1;
  s.dirty_jobs.insert(id);
  ++s.pending_by_user[j->spec.user];
  if (running) kill_live_ranks(s, *j);
  CADRE_LOG(info) << name << " requeued by request" << (hold ? " and held" : "") << " after attempt " << j->attempt;
  return {id, true, name + " requeued"};
}

void expire_deadlines(ClusterState& s, int64_t now_unix) {
  for (auto& [id, j] : s.jobs) {
    if (j.state != JobState::pending || j.spec.deadline == 0) continue;
    const int64_t earliest = std::max(now_unix, j.spec.begin_time);
    if (earliest + j.spec.time_limit_s <= j.spec.deadline) continue;
    end_job(s, j, JobState::deadline, 0,
            "DeadLine: its " + format_duration_s(j.spec.time_limit_s) +
                " time limit could no longer end by its --deadline",
            now_unix);
  }
}

}  // namespace cadre::state
