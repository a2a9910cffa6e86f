#include "common/job_validation.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>

#include "common/escape.hpp"
#include "common/hostlist.hpp"
#include "common/dependency.hpp"
#include "common/job_array.hpp"
#include "common/constraint.hpp"
#include "common/job_mail.hpp"
#include "common/job_signal.hpp"

namespace cadre {
namespace {

using std::to_string;

Error too_long(std::string_view what, size_t bytes, size_t max) {
  return make_error("the " + std::string(what) + " is " + to_string(bytes) + " bytes; at most " + to_string(max) +
                    " are allowed");
}

// Length first, so a huge field costs nothing to refuse; then NUL (the
// agent passes text to exec and open, which would cut it short); then UTF-8.
Status check_text(std::string_view what, const std::string& value, size_t max) {
  if (max > 0 && value.size() > max) return too_long(what, value.size(), max);
  if (value.find('\0') != std::string::npos)
    return make_error("the " + std::string(what) + " holds a NUL byte; remove it");
  if (!valid_utf8(value)) return make_error("the " + std::string(what) + " holds text that is not UTF-8");
  return {};
}

Status check_command(const JobSpec& s, const RequestBounds& b) {
  if (s.argv.empty() || s.argv[0].empty()) return make_error("no command given: put it after '--'");
  if (s.argv.size() > limits::kMaxArgvWords)
    return make_error("the command has " + to_string(s.argv.size()) + " words; at most " +
                      to_string(limits::kMaxArgvWords) + " are allowed (put long inputs in a file)");
  size_t command_bytes = 0;
  for (const std::string& arg : s.argv) command_bytes += arg.size() + 1;
  if (b.max_command_bytes > 0 && command_bytes > b.max_command_bytes)
    return make_error("the command is " + to_string(command_bytes) + " bytes; at most " +
                      to_string(b.max_command_bytes) + " are allowed (put long inputs in a file)");
  for (size_t i = 0; i < s.argv.size(); ++i) {
    if (s.argv[i].find('\0') != std::string::npos)
      return make_error("argument " + to_string(i) + " of the command holds a NUL byte; remove it");
    if (!valid_utf8(s.argv[i]))
      return make_error("the command holds an argument that is not UTF-8 (argument " + to_string(i) + ")");
  }
  return {};
}

Status check_texts(const JobSpec& s) {
  struct Field {
    std::string_view what;
    const std::string& value;
    size_t max;
  };
  const Field fields[] = {
      {"job name", s.name, limits::kMaxJobNameBytes},
      {"user name", s.user, limits::kMaxUserNameBytes},
      {"account name", s.account, limits::kMaxUserNameBytes},
      {"partition name", s.partition,
       s.partition.find(',') == std::string::npos ? limits::kMaxPartitionNameBytes : limits::kMaxPartitionListBytes},
      {"partition list", s.partition_list, limits::kMaxPartitionListBytes},
      {"GPU type", s.gpu_type, limits::kMaxGpuTypeBytes},
      {"working directory", s.workdir, limits::kMaxPathBytes},
      {"output pattern", s.output_pattern, limits::kMaxPathBytes},
      {"error pattern", s.error_pattern, limits::kMaxPathBytes},
  };
  for (const Field& f : fields)
    if (Status st = check_text(f.what, f.value, f.max); !st) return st;
  if (s.workdir.empty() || s.workdir[0] != '/')
    return make_error("working directory must be an absolute path, got '" + s.workdir + "'");
  return {};
}

Status check_shape(const JobSpec& s) {
  if (s.ntasks == 0) return make_error("a job needs at least one task");
  if (s.ntasks > limits::kMaxTasksPerJob)
    return make_error("a job may have at most " + to_string(limits::kMaxTasksPerJob) + " tasks; this one asks for " +
                      to_string(s.ntasks));
  if (s.nodes > 0 && (s.tasks_per_node == 0 || uint64_t{s.nodes} * s.tasks_per_node != s.ntasks))
    return make_error("--nodes " + to_string(s.nodes) + " with " + to_string(s.tasks_per_node) +
                      " tasks per node does not make " + to_string(s.ntasks) + " tasks");
  return {};
}

// The per-task bounds keep every product of ranks and quantities far from
// int64 overflow (see common/limits.hpp).
Status check_per_task(const Resources& r) {
  if (!r.non_negative()) return make_error("resource requests must not be negative");
  if (r.millicores > limits::kMaxMillicoresPerTask)
    return make_error("a task may ask for at most " + format_cpus(limits::kMaxMillicoresPerTask) +
                      " cpus; this one asks for " + format_cpus(r.millicores) + " (--cpus-per-task)");
  if (r.memory_mb > limits::kMaxMemoryMbPerTask)
    return make_error("a task may ask for at most " + format_size_mb(limits::kMaxMemoryMbPerTask) +
                      " of memory; this one asks for " + format_size_mb(r.memory_mb) + " (--mem-per-task)");
  if (r.gpus > limits::kMaxGpusPerTask)
    return make_error("a task may ask for at most " + to_string(limits::kMaxGpusPerTask) +
                      " GPUs; this one asks for " + to_string(r.gpus) + " (--gpus-per-task)");
  if (r.millicores <= 0) return make_error("each task needs some cpu (--cpus-per-task)");
  return {};
}

Status check_duration(std::string_view what, int64_t seconds) {
  if (seconds < 0) return make_error(std::string(what) + " must not be negative");
  if (seconds > limits::kMaxTimeLimitS)
    return make_error(std::string(what) + " is " + format_duration_s(seconds) + "; at most " +
                      format_duration_s(limits::kMaxTimeLimitS) + " is allowed");
  return {};
}

std::string octal(int32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode));
  return buf;
}

Status check_numbers(const JobSpec& s) {
  if (Status st = check_duration("time limit", s.time_limit_s); !st) return st;
  if (Status st = check_duration("--switches-wait", s.switches_wait_s); !st) return st;
  if (s.priority < limits::kMinPriority || s.priority > limits::kMaxPriority)
    return make_error("priority " + to_string(s.priority) + " is out of range; give one from " +
                      to_string(limits::kMinPriority) + " to " + to_string(limits::kMaxPriority));
  // Up to the end of year 9999, as --begin reads dates.
  if (s.begin_time < 0 || s.begin_time > 253'402'300'799)
    return make_error("begin time " + to_string(s.begin_time) + " is not a unix time from 0 to 253402300799");
  if (s.deadline < 0 || s.deadline > 253'402'300'799)
    return make_error("deadline " + to_string(s.deadline) + " is not a unix time from 0 to 253402300799");
  if (s.umask != -1 && (s.umask < 0 || s.umask > 0777))
    return make_error("umask " + (s.umask < 0 ? to_string(s.umask) : octal(s.umask)) +
                      " is not a file mode mask; give one from 0000 to 0777 (or -1 for the node's)");
  return {};
}

Status check_script(const JobSpec& s, const RequestBounds& b) {
  if (s.batch && s.script.empty()) return make_error("a batch job needs a script");
  if (!s.batch && !s.script.empty()) return make_error("a script was given for a job that is not a batch job");
  return check_text("batch script", s.script, b.max_script_bytes);
}

// The exported environment: bounded in count and bytes (it is stored with
// the job and sent with every launch), each entry NAME=value with a name.
// Names are not held to the shell's rule: bash exports functions as
// BASH_FUNC_name%%, which `module` relies on.
Status check_environment(const JobSpec& s, const RequestBounds&) {
  if (Status st = check_environment_entries(s.environment); !st) return st;
  if (Status st = check_text("submit host", s.submit_host, limits::kMaxHostNameBytes); !st) return st;
  if (s.hints.size() > limits::kMaxHints)
    return make_error("the job has " + to_string(s.hints.size()) + " advisory options; at most " +
                      to_string(limits::kMaxHints) + " are allowed");
  for (const std::string& h : s.hints)
    if (Status st = check_text("advisory option", h, limits::kMaxHintBytes); !st) return st;
  return check_text("--export value", s.export_mode, limits::kMaxPathBytes);
}

// --array: sbatch's grammar, indices 0..kMaxArrayIndex. A task's index
// (set by the master) is an index of its array.
Status check_array(const JobSpec& s) {
  if (s.array.empty()) {
    if (s.array_job_id != 0 || s.array_task_id != -1) return make_error("an array task without --array");
    return {};
  }
  if (Status st = check_text("--array", s.array, 1024); !st) return st;
  auto spec = parse_array_spec(s.array);
  if (!spec) return make_error(spec.error());
  if (s.array_task_id < -1 || (s.array_task_id >= 0 && !spec->indices.contains(static_cast<uint32_t>(s.array_task_id))))
    return make_error("array task " + std::to_string(s.array_task_id) + " is not in --array=" + s.array);
  return {};
}

}  // namespace

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : c & (0x7Fu >> len);
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b >> 6) != 0x2) return false;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    constexpr uint32_t kMinOfLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinOfLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

Status validate_job_request(const JobSpec& spec, const RequestBounds& bounds) {
  for (auto check : {check_command, check_script, check_environment})
    if (Status st = check(spec, bounds); !st) return st;
  if (Status st = check_texts(spec); !st) return st;
  if (Status st = check_shape(spec); !st) return st;
  if (Status st = check_per_task(spec.per_task); !st) return st;
  if (Status st = check_array(spec); !st) return st;
  for (const auto& [what, list] : {std::pair<const char*, const std::string*>{"-w/--nodelist", &spec.nodelist},
                                   {"-x/--exclude", &spec.exclude}}) {
    if (list->empty()) continue;
    if (Status st = check_text(what, *list, limits::kMaxHostlistBytes); !st) return st;
    auto names = expand_hostlist(*list);
    if (!names) return make_error(std::string(what) + ": " + names.error());
    if (names->size() > limits::kMaxNodesPerRequest)
      return make_error(std::string(what) + " names " + std::to_string(names->size()) + " nodes; at most " +
                        std::to_string(limits::kMaxNodesPerRequest));
  }
  if (!spec.signal.empty()) {
    if (Status st = check_text("--signal", spec.signal, 64); !st) return st;
    if (auto sig = parse_job_signal(spec.signal); !sig) return make_error(sig.error());
  }
  if (spec.mail_type & ~kMailKnown) return make_error("mail type bits " + to_string(spec.mail_type) + " are not all known");
  if (!spec.mail_user.empty())
    if (Status st = check_mail_user(spec.mail_user); !st) return st;
  if (!spec.qos.empty())
    if (Status st = check_account_name(spec.qos, "QOS"); !st) return make_error("--qos: " + st.error());
  if (!spec.reservation.empty())
    if (Status st = check_account_name(spec.reservation, "reservation"); !st)
      return make_error("--reservation: " + st.error());
  if (!spec.constraint.empty()) {
    if (Status st = check_text("-C/--constraint", spec.constraint, 1024); !st) return st;
    if (auto c = parse_constraint(spec.constraint); !c) return make_error(c.error());
  }
  if (!spec.dependency.empty()) {
    if (Status st = check_text("--dependency", spec.dependency, kMaxDependencyBytes); !st) return st;
    if (auto d = parse_dependency(spec.dependency); !d) return make_error(d.error());
  }
  return check_numbers(spec);
}

Status check_environment_entries(const std::vector<std::string>& environment) {
  if (environment.size() > limits::kMaxEnvVars)
    return make_error("the environment has " + to_string(environment.size()) + " variables; at most " +
                      to_string(limits::kMaxEnvVars) + " are allowed (export fewer: --export=NAME,...)");
  size_t bytes = 0;
  for (const std::string& e : environment) {
    bytes += e.size() + 1;
    const size_t eq = e.find('=');
    if (eq == 0 || eq == std::string::npos)
      return make_error("the environment holds " + quoted(e, 40) + ", which is not NAME=value");
    // The label is built only for a refusal: this runs for every variable
    // of every job in a batch of thousands.
    if (e.find('\0') != std::string::npos || !valid_utf8(e))
      return check_text("environment variable " + quoted(e.substr(0, eq), 64), e, 0);
  }
  if (bytes > limits::kMaxEnvBytes)
    return make_error("the environment is " + to_string(bytes) + " bytes; at most " + to_string(limits::kMaxEnvBytes) +
                      " are allowed (export fewer: --export=NAME,...)");
  return {};
}

Status check_account_name(const std::string& name, const std::string& what) {
  auto allowed = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'; };
  if (name.empty() || name.size() > limits::kMaxUserNameBytes || name[0] == '-' || name[0] == '.' ||
      !std::all_of(name.begin(), name.end(), allowed))
    return make_error("'" + name + "' is not a usable " + what + " name (1 to " +
                      std::to_string(limits::kMaxUserNameBytes) +
                      " letters, digits, '_', '.' or '-', not starting with '-' or '.')");
  return {};
}

}  // namespace cadre
