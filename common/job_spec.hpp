// JobSpec: what a user asked for when submitting a job, fixed at submit.
// The CLI builds one from its options, the master decodes one from a
// JobRequest (common/job_request.hpp) and validates it
// (common/job_validation.hpp). Plain value; not synchronised.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/resources.hpp"

namespace cadre {

struct JobSpec {
  std::string name;
  std::vector<std::string> argv;
  std::string workdir;
  std::string output_pattern;
  Resources per_task;
  uint32_t nodes = 0;           // 0: ranks go wherever they fit (ntasks mode)
  uint32_t tasks_per_node = 0;  // with nodes > 0
  uint32_t ntasks = 1;          // total ranks
  int64_t time_limit_s = 0;     // 0: no limit
  bool time_limit_given = false;  // at submit: --time was given (0 = UNLIMITED, not the partition's default)
  int32_t priority = 0;
  std::string user;
  uint32_t uid = 0;
  uint32_t gid = 0;
  bool requeue = true;          // a node failure requeues the gang (up to the master's limit)
  std::string partition;        // resolved at submit (the default partition when none given)
  // -p a,b: every partition the job may run in, "," separated, as the
  // master kept them (empty: only `partition`); `partition` is the one
  // the scheduler picked last, where it runs once started.
  std::string partition_list;
  std::string account;          // fair-share account; the user's name when none given
  uint32_t max_switches = 0;    // 0: no limit
  int64_t switches_wait_s = 0;  // relax max_switches after this long pending; 0: never
  std::string gpu_type;         // only nodes whose GPU model contains this (case-insensitive); empty: any
  bool batch = false;           // `script` runs once on the first node; the rest of the allocation waits for steps
  std::string script;           // a batch job's script (argv[0] is the path it was submitted from)
  std::string error_pattern;    // stderr to its own file; empty: into the output file
  int32_t umask = -1;           // the submitter's umask for the ranks; -1: the agent's
  // "NAME=value" entries --export chose from the submitter's environment
  // (all of it by default, as sbatch does); the ranks start from these.
  std::vector<std::string> environment;
  std::string submit_host;      // SLURM_SUBMIT_HOST
  std::string export_mode;      // --export as given; "" when not given
  // Advisory sbatch options cadre records and shows but does not act on
  // ("--hint=nomultithread", "--mail-type=END"), in the order given.
  std::vector<std::string> hints;
  bool hold = false;            // --hold: queued held until released (only at submit)
  // Job arrays: --array as given ("0-99%10"; "" not an array); the master
  // sets the array's id (its first job id) and, on each task it starts,
  // the task's index (-1 on the array's pending record).
  std::string array;
  uint64_t array_job_id = 0;
  int64_t array_task_id = -1;
  // --dependency as given (common/dependency.hpp); the master empties it
  // once it holds. --kill-on-invalid-dep=yes cancels the job when it never can.
  std::string dependency;
  bool kill_on_invalid_dep = false;
  // Placement: -w (host list: exactly these nodes), -x (never these),
  // --exclusive (nodes no other job shares while this one runs).
  std::string nodelist;
  std::string exclude;
  bool exclusive = false;
  std::string signal;           // --signal as given (common/job_signal.hpp); "" none
  int64_t begin_time = 0;       // --begin: the job starts no earlier (unix seconds); 0 none
  std::string reservation;      // --reservation: run inside this admin reservation; "" none
  int64_t deadline = 0;         // --deadline: removed (DEADLINE) once it cannot end by then; 0 none
  std::string constraint;       // -C: node features (common/constraint.hpp); "" any node
  bool open_truncate = false;   // --open-mode=truncate (cadre's default is append)
  uint32_t mail_type = 0;       // --mail-type bits (common/job_mail.hpp); 0 none
  std::string mail_user;        // --mail-user; the submitter when empty
  std::string qos;              // --qos; the master resolves "" to its default QOS

  bool operator==(const JobSpec&) const = default;
};

}  // namespace cadre
