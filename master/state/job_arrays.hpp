// Job arrays in the master: an array is one pending record (its id is the
// array's id) holding the indices not started yet; each task that starts,
// or that a user names alone ("12_7" to hold or cancel), is split off into
// a job of its own with the next id. The last index is run by the record
// itself. Free functions over the shared ClusterState; not thread-safe
// (the event-loop thread's).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/job_array.hpp"
#include "common/result.hpp"
#include "master/state/cluster_state.hpp"

namespace cadre::state {

// True for an array's pending record (indices left to start).
inline bool is_array_record(const Job& j) { return !j.array_left.empty(); }

// Every live job of array `array_id` (its record and its tasks), in id
// order; empty when `array_id` is not an array's id.
std::vector<JobId> array_members(const ClusterState& s, JobId array_id);

// Splits index `index` off `record` into a pending job of its own (or
// turns `record` into it when it is the last index left) and returns it.
Job& split_array_task(ClusterState& s, Job& record, uint32_t index);
// The same for the lowest index: the task the scheduler starts next.
Job& take_array_task(ClusterState& s, Job& record);

// The job of task `index` of array `array_id`: a task already split off,
// or one split off the record now. An error says why there is none.
Result<JobId> array_task_job(ClusterState& s, JobId array_id, uint32_t index);

// "12_7" for an array task, "12_[5-99%10]" for a record, "12" otherwise.
std::string display_id(const Job& j);

// How many tasks of each array hold resources now (the throttle's count).
// The key is the array's id.
void count_running_tasks(const ClusterState& s, std::map<JobId, uint32_t>& out);

}  // namespace cadre::state
