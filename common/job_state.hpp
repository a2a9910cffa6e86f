// Job and task states, named as Slurm names them so users and scripts
// coming from Slurm read them unchanged. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string_view>

namespace cadre {

// deadline: removed pending because it could no longer end by its --deadline.
enum class JobState { pending, running, completed, failed, cancelled, timeout, node_fail, out_of_memory, deadline };

std::string_view to_string(JobState s);
std::optional<JobState> parse_job_state(std::string_view s);
// True for the states a job never leaves.
bool is_final(JobState s);

// A rank's life as the master sees it. `launching` and `running` hold the
// node's resources; so does `killing` until the agent reports the exit.
// `allocated`: a batch job's slot that holds resources with no process of
// its own (the script and its steps use it).
enum class TaskState { pending, launching, running, killing, completed, failed, cancelled, lost, allocated };

std::string_view to_string(TaskState s);
std::optional<TaskState> parse_task_state(std::string_view s);
// True while the rank may still have a live process holding resources.
bool holds_resources(TaskState s);

}  // namespace cadre
