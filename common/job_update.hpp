// `cadre update JOB KEY=VALUE...` (scontrol update job): the fields a user
// may change on a queued job, with Slurm's names, read and applied to a
// copy of the job's spec. The master applies them (and judges who may
// change what); the CLI reads them first for an early, clear error. Pure;
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/job_spec.hpp"
#include "common/result.hpp"

namespace cadre {

enum class UpdateField { time_limit, name, num_nodes, num_tasks, partition, dependency, priority, requeue,
                         array_throttle, account, begin_time, qos };

struct JobUpdate {
  UpdateField field = UpdateField::name;
  int op = 0;            // 0: set; +1: TimeLimit+=; -1: TimeLimit-=
  std::string value;     // as given
  int64_t number = 0;    // the value read as a number (seconds for TimeLimit, a unix time for StartTime)
};

// "TimeLimit=2:00:00", "TimeLimit+=30", "JobName=x", "NumNodes=2",
// "NumTasks=8", "Partition=gpu", "Dependency=afterok:4" ("Dependency="
// removes it), "Priority=100", "Requeue=0", "ArrayTaskThrottle=4",
// "Account=physics", "StartTime=now+1hour" (--begin's forms, read at
// `now_unix` in this process's time zone; "StartTime=now" lifts it).
// Keys are case-insensitive. Errors name the word.
Result<JobUpdate> parse_job_update(std::string_view word, int64_t now_unix);
// The word that says the same to another process whatever its clock or
// time zone: "StartTime=uts1800000000" for a begin time, else `word`.
std::string portable_update_word(const JobUpdate& u, std::string_view word);
Result<std::vector<JobUpdate>> parse_job_updates(const std::vector<std::string>& words, int64_t now_unix);
std::string_view field_name(UpdateField f);

// Applies `updates` to `spec`. A running job takes only TimeLimit,
// JobName and Requeue; the rest need a pending job ("... can only change
// while the job is pending"). The caller validates the result.
Status apply_job_updates(JobSpec& spec, const std::vector<JobUpdate>& updates, bool running);

}  // namespace cadre
