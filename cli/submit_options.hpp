// Parsing of `cadre submit` flags, and of batch scripts with #CADRE and
// #SBATCH directives, into a job request. Pure apart from reading the batch
// script's file; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/job_spec.hpp"
#include "common/resources.hpp"
#include "common/result.hpp"

namespace cadre::cli {

struct SubmitOptions {
  std::string name;
  std::vector<std::string> argv;  // batch jobs: {absolute script path, script args...}
  std::string workdir;          // absolute
  std::string output_pattern;
  std::string error_pattern;    // empty: stderr goes to the output file
  Resources per_task{1000, 1024, 0};
  uint32_t nodes = 0;           // 0: anywhere
  uint32_t tasks_per_node = 0;
  uint32_t ntasks = 1;
  std::string gpu_type;         // empty: any; else only nodes whose GPU model contains it (any case)
  int64_t time_limit_s = 0;
  bool time_limit_given = false;  // --time given (0 then means UNLIMITED)
  int32_t priority = 0;
  bool requeue = true;          // --no-requeue: a node failure ends the job (--requeue: the default)
  std::string partition;        // empty: the master's default partition
  std::string account;          // empty: the user's name
  std::string qos;              // --qos; empty: the master's default QOS
  std::string reservation;      // --reservation; empty: none
  uint32_t max_switches = 0;    // --switches N[@TIME]
  int64_t switches_wait_s = 0;
  bool parsable = false;
  bool wait = false;
  bool batch = false;           // submitted as a batch script
  std::string script;           // the batch script's contents; empty unless batch
  std::string export_text;      // --export's value, checked (cli/job_environment.hpp)
  bool export_given = false;
  bool hold = false;            // --hold: queued held until `cadre release`
  std::string array;            // --array as given ("0-99%10"), checked; empty: not an array
  std::string dependency;       // --dependency as given, checked; empty: none
  bool kill_on_invalid_dep = false;  // --kill-on-invalid-dep=yes
  std::string nodelist;         // -w: a host list (read from a file when it names one)
  std::string exclude;          // -x: a host list
  bool exclusive = false;       // --exclusive
  std::string signal;           // --signal as given, checked
  int64_t begin_time = 0;       // --begin, as a unix time; 0 none
  int64_t deadline = 0;         // --deadline, as a unix time; 0 none
  std::string constraint;       // -C, checked
  bool open_truncate = false;   // --open-mode=truncate
  uint32_t mail_type = 0;       // --mail-type bits
  std::string mail_user;        // --mail-user
  std::vector<std::string> hints;  // advisory options, "--name=value", in flag-table order
  std::string export_file;      // --export-file: a file, or a descriptor number >= 3
};

// One flag `cadre submit` accepts: its canonical name, its other spellings
// and whether it takes a value. The parser, the batch-script splitter and
// the #CADRE directive checker all read this one table.
struct SubmitFlag {
  std::string name;
  std::vector<std::string> aliases;
  bool takes_value;
  // An sbatch option that only advises (--hint, --comment, --mail-type):
  // recorded with the job as "--name=value" and shown by cadre show.
  bool advisory = false;
};
const std::vector<SubmitFlag>& submit_flags();

// The flag `spelling` ("-N", "--nodes"; no "=value") names, or nullptr.
const SubmitFlag* find_submit_flag(const std::string& spelling);

// Reads the arguments after "submit". `cwd` is where the command ran (the
// default working directory, and where a relative script path is found).
//   cadre submit [FLAGS] -- COMMAND [ARGS]   runs COMMAND as every task;
//   cadre submit [FLAGS] SCRIPT [ARGS]       a batch job: SCRIPT's #CADRE and
//     #SBATCH directives are read first, so FLAGS given here override them.
// Errors name the flag (and the script line) and what it expects.
Result<SubmitOptions> parse_submit(const std::vector<std::string>& args, const std::string& cwd);

// The job the options describe. Who submits it (user, uid, gid) and with
// what umask are the caller's to fill in (job_spec_for_caller in
// cli/job_wait.hpp); they stay at JobSpec's defaults here.
JobSpec to_job_spec(const SubmitOptions& o);

}  // namespace cadre::cli
