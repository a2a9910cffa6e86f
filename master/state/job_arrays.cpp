#include "master/state/job_arrays.hpp"

namespace cadre::state {

std::vector<JobId> array_members(const ClusterState& s, JobId array_id) {
  std::vector<JobId> out;
  // Tasks get ids after their array's: the walk starts there.
  for (auto it = s.jobs.lower_bound(array_id); it != s.jobs.end(); ++it)
    if (it->second.spec.array_job_id == array_id) out.push_back(it->first);
  return out;
}

Job& split_array_task(ClusterState& s, Job& record, uint32_t index) {
  s.dirty_jobs.insert(record.id);
  record.array_left.remove(index);
  if (record.array_left.empty()) {
    // The last index: the record runs it, so the array's id is a task's.
    record.spec.array_task_id = index;
    return record;
  }
  Job t;
  t.id = s.next_job_id++;
  t.spec = record.spec;
  t.spec.array_task_id = index;
  t.state = JobState::pending;
  t.reason = record.reason;
  t.hold = record.hold;
  t.submit_time = record.submit_time;
  s.dirty_jobs.insert(t.id);
  if (!t.spec.dependency.empty()) s.dependents.insert(t.id);
  const JobId id = t.id;
  return s.jobs.emplace(id, std::move(t)).first->second;
}

Job& take_array_task(ClusterState& s, Job& record) {
  return split_array_task(s, record, record.array_left.min());
}

Result<JobId> array_task_job(ClusterState& s, JobId array_id, uint32_t index) {
  const std::string name = std::to_string(array_id) + "_" + std::to_string(index);
  for (JobId id : array_members(s, array_id)) {
    const Job& j = s.jobs.at(id);
    if (j.spec.array_task_id == static_cast<int64_t>(index)) return id;
  }
  Job* record = s.job(array_id);
  if (record && is_array_record(*record) && record->array_left.contains(index)) {
    if (is_final(record->state))
      return make_error("job " + name + " already ended " + std::string(to_string(record->state)));
    return split_array_task(s, *record, index).id;
  }
  if (!record || record->spec.array_job_id != array_id) return make_error("no active array job " + std::to_string(array_id));
  return make_error("no active task " + name + " (array " + std::to_string(array_id) + " has --array=" +
                    record->spec.array + ")");
}

std::string display_id(const Job& j) {
  if (j.spec.array_job_id == 0) return std::to_string(j.id);
  std::string out = std::to_string(j.spec.array_job_id) + "_";
  if (j.spec.array_task_id >= 0 && !is_array_record(j)) return out + std::to_string(j.spec.array_task_id);
  out += "[" + j.array_left.format();
  if (auto spec = parse_array_spec(j.spec.array); spec && spec->throttle > 0) out += "%" + std::to_string(spec->throttle);
  return out + "]";
}

void count_running_tasks(const ClusterState& s, std::map<JobId, uint32_t>& out) {
  for (const auto& [id, j] : s.jobs)
    if (j.spec.array_job_id != 0 && j.holds_resources()) ++out[j.spec.array_job_id];
}

}  // namespace cadre::state
