// QOS: Slurm's quality of service, defined in cadre.toml as [[qos]]
// tables. A job names one with --qos (else it gets the default) and the
// QOS adds to its priority, may set its preemption tier, and bounds what
// one user runs under it (jobs and GPUs at once) and how long a job may
// ask to run. With no [[qos]] configured any name is recorded and nothing
// is enforced, as Slurm does without accounting (AccountingStorageEnforce
// unset); the job shows QOS "normal" when it named none.
// Pure functions over plain values; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/job_spec.hpp"
#include "common/result.hpp"

namespace cadre {

struct QosConfig {
  std::string name;
  bool is_default = false;
  int32_t priority = 0;                     // >= 0; the QOS priority factor is this over the highest
  std::optional<int32_t> tier;              // the job's preemption tier instead of its partition's
  bool preemptible = true;                  // its jobs may be preempted (and the partition's must allow it too)
  int64_t max_time_s = 0;                   // Slurm's MaxWall; 0 none
  uint32_t max_running_jobs_per_user = 0;   // MaxJobsPerUser; 0 none
  int64_t max_gpus_per_user = 0;            // MaxTRESPerUser=gres/gpu, running; 0 none
  std::vector<std::string> users;           // who may use it; with `accounts` both empty: everyone
  std::vector<std::string> accounts;        // jobs charged to these accounts may use it
};

// The name a job gets when it gives none, and the one old jobs show.
inline constexpr const char* kNormalQos = "normal";

// The default QOS: the one marked default, else one named "normal", else
// the first; "normal" when none is configured.
std::string default_qos_name(const std::vector<QosConfig>& table);

// The QOS called `name` (case-insensitive, as Slurm's names are), or null.
const QosConfig* find_qos(const std::vector<QosConfig>& table, const std::string& name);

// Sets spec.qos to the QOS the job runs under (the default when empty,
// the configured spelling otherwise) and applies its time bound: a job
// with no --time gets MaxWall when that is shorter than what it had, as
// Slurm does; one that asks for longer is refused. Refusals name the QOS
// and what is defined.
Status apply_qos(const std::vector<QosConfig>& table, JobSpec& spec);

// Whether `user`, charging `account`, may use `qos` (admins always may).
Status may_use_qos(const std::vector<QosConfig>& table, const std::string& qos, const std::string& user,
                   const std::string& account, bool admin);

}  // namespace cadre
