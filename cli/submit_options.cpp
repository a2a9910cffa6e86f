#include "cli/submit_options.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include "cli/batch_script.hpp"
#include "cli/job_environment.hpp"
#include "cli/submit_resources.hpp"
#include "common/bounded_file.hpp"
#include "common/flags.hpp"
#include "common/hostlist.hpp"
#include "common/dependency.hpp"
#include "common/job_array.hpp"
#include "common/begin_time.hpp"
#include "common/constraint.hpp"
#include "common/job_mail.hpp"
#include "common/job_signal.hpp"
#include "common/escape.hpp"
#include "common/ids.hpp"
#include "common/limits.hpp"

namespace cadre::cli {
namespace {

constexpr size_t kNoScript = static_cast<size_t>(-1);

// A host list as -w and -x take it: "n[1-4],gpu7", or, as sbatch reads a
// value holding '/', a file of names (one or more per line).
Result<std::string> read_host_list(const std::string& flag, const std::string& value, const std::string& cwd) {
  std::string list = value;
  if (value.find('/') != std::string::npos) {
    std::filesystem::path path = value;
    if (path.is_relative()) path = std::filesystem::path(cwd) / path;
    auto text = read_bounded_file(path.string(), limits::kMaxHostlistBytes, flag + " file");
    if (!text) return make_error(flag + ": " + text.error());
    list.clear();
    for (char c : *text) {
      const bool sep = c == '\n' || c == ' ' || c == '\t' || c == '\r';
      if (sep && !list.empty() && list.back() != ',') list += ',';
      else if (!sep) list += c;
    }
    if (!list.empty() && list.back() == ',') list.pop_back();
  }
  auto names = expand_hostlist(list);
  if (!names) return make_error(flag + ": " + names.error() + " (give node names as n[1-4],gpu7)");
  return list;
}

// Parses flags, then "--" and the command. Batch jobs come here too, with
// the script's directives before the command line's flags.
// A flag whose value is one of two words.
Status expect_one_of(const std::string& flag, const std::string& value, const char* a, const char* b) {
  if (value == a || value == b) return {};
  return make_error(flag + ": expected " + a + " or " + b + ", got " + cadre::quoted(value));
}

Result<SubmitOptions> parse_flags(const std::vector<std::string>& given, const std::string& cwd, bool batch) {
  // sbatch's --get-user-env[=TIMEOUT] and --propagate[=RLIMITS] take an
  // optional value: read as the bare flag (both only advise here).
  std::vector<std::string> args = given;
  for (std::string& a : args) {
    if (a == "--") break;
    if (a.starts_with("--get-user-env=") || a.starts_with("--propagate=")) a = a.substr(0, a.find('='));
  }
  Flags f;
  for (const auto& flag : submit_flags()) {
    if (flag.takes_value) f.value(flag.name, flag.aliases);
    else f.toggle(flag.name, flag.aliases);
  }
  // An sbatch option cadre lacks gets what to do instead, as in a script.
  for (const std::string& a : args) {
    if (a == "--") break;
    if (a.starts_with("--exclusive="))
      return make_error(a + ": cadre shares no node with an --exclusive job, of any user; give --exclusive alone "
                        "(=user, =mcs and =topo are not supported)");
    const std::string key = a.starts_with("--") ? a.substr(0, a.find('=')) : a.substr(0, 2);
    if (a.size() < 2 || a[0] != '-' || find_submit_flag(key)) continue;
    if (std::string instead = sbatch_instead(key); !instead.empty()) return make_error(key + ": " + instead);
  }
  if (Status s = f.parse(args, true); !s) return make_error(s.error());
  std::string wrapped;
  if (auto w = f.get("--wrap")) {
    // sbatch --wrap: the command line becomes a batch script of its own.
    if (batch || !f.rest().empty())
      return make_error("--wrap takes the whole command; give it, a batch script or a command after '--', not two");
    if (w->find_first_not_of(" \t") == std::string::npos) return make_error("--wrap: give a command line to run");
    wrapped = "#!/bin/sh\n# This script was written by cadre submit --wrap.\n" + *w + "\n";
    batch = true;
  } else if (f.rest().empty()) {
    return make_error("no command given: put it after '--', e.g. cadre submit -- hostname");
  }

  SubmitOptions o;
  o.argv = wrapped.empty() ? f.rest() : std::vector<std::string>{"wrap"};
  o.script = wrapped;
  o.batch = batch;
  o.parsable = f.has("--parsable");
  o.wait = f.has("--wait");
  o.requeue = f.has("--requeue") || !f.has("--no-requeue");
  o.hold = f.has("--hold");
  if (auto a = f.get("--array")) {
    auto spec = parse_array_spec(*a);
    if (!spec) return make_error(spec.error());
    if (o.wait)
      return make_error("--wait with --array is not supported: cadre submit returns the array's id; watch its "
                        "tasks with cadre queue -j ID");
    o.array = *a;
  }
  if (auto d = f.get("--dependency")) {
    // sbatch takes an empty --dependency= as none.
    if (!d->empty()) {
      auto spec = parse_dependency(*d);
      if (!spec) return make_error(spec.error());
      o.dependency = *d;
    }
  }
  for (const auto& [flag, into] : {std::pair<const char*, std::string*>{"--nodelist", &o.nodelist},
                                    {"--exclude", &o.exclude}}) {
    auto v = f.get(flag);
    if (!v) continue;
    auto list = read_host_list(into == &o.nodelist ? "-w/--nodelist" : "-x/--exclude", *v, cwd);
    if (!list) return make_error(list.error());
    *into = std::move(*list);
  }
  o.exclusive = o.exclusive || f.has("--exclusive");  // --mem=0 asks for whole nodes too
  if (auto c = f.get("--constraint")) {
    // sbatch takes an empty --constraint= as none.
    if (!c->empty()) {
      if (auto parsed = parse_constraint(*c); !parsed) return make_error(parsed.error());
      o.constraint = *c;
    }
  }
  if (auto b = f.get("--begin")) {
    // Read here, in the submitter's time zone, as sbatch does; the master
    // gets the unix time.
    auto at = parse_begin_time(*b, unix_now());
    if (!at) return make_error(at.error());
    o.begin_time = *at;
  }
  if (auto d = f.get("--deadline")) {
    // The same forms as --begin, in the submitter's time zone.
    auto at = parse_begin_time(*d, unix_now());
    if (!at) return make_error("--deadline" + at.error().substr(at.error().find(' ')));
    o.deadline = *at;
  }
  if (auto sig = f.get("--signal")) {
    if (auto parsed = parse_job_signal(*sig); !parsed) return make_error(parsed.error());
    o.signal = *sig;
  }
  if (auto k = f.get("--kill-on-invalid-dep")) {
    if (Status s = expect_one_of("--kill-on-invalid-dep", *k, "yes", "no"); !s) return make_error(s.error());
    o.kill_on_invalid_dep = *k == "yes";
  }
  if (auto m = f.get("--mail-type")) {
    auto bits = parse_mail_type(*m);
    if (!bits) return make_error(bits.error());
    o.mail_type = *bits;
  }
  if (auto u = f.get("--mail-user")) {
    if (Status st = check_mail_user(*u); !st) return make_error(st.error());
    o.mail_user = *u;
  }
  if (auto mode = f.get("--open-mode")) {
    if (Status s = expect_one_of("--open-mode", *mode, "append", "truncate"); !s) return make_error(s.error());
    o.open_truncate = *mode == "truncate";
  }
  for (const auto& flag : submit_flags()) {
    if (!flag.advisory || !f.has(flag.name)) continue;
    const std::string value = flag.takes_value ? *f.get(flag.name) : "";
    o.hints.push_back(flag.takes_value ? flag.name + "=" + value : flag.name);
  }
  o.name = f.get_or("--name", "");
  // A batch script runs once, so its job has one output file.
  // One file per job that all its ranks append to, as sbatch's
  // slurm-%j.out; a pattern with %t asks for one per rank.
  // An array's tasks each get their own, as sbatch's slurm-%A_%a.out.
  o.output_pattern = f.get_or("--output", o.array.empty() ? "cadre-%j.out" : "cadre-%A_%a.out");
  if (o.output_pattern.empty()) return make_error("--output: the pattern must not be empty");
  o.error_pattern = f.get_or("--error", "");
  if (f.has("--error") && o.error_pattern.empty()) return make_error("--error: the pattern must not be empty");

  std::filesystem::path dir = f.get_or("--chdir", cwd);
  if (dir.is_relative()) dir = std::filesystem::path(cwd) / dir;
  o.workdir = dir.lexically_normal().string();
  if (o.workdir.size() > 1 && o.workdir.back() == '/') o.workdir.pop_back();

  if (auto e = f.get("--export")) {
    if (auto spec = parse_export(*e); !spec) return make_error(spec.error());
    o.export_text = *e;
    o.export_given = true;
  }
  o.export_file = f.get_or("--export-file", "");
  if (f.has("--export-file") && o.export_file.empty())
    return make_error("--export-file: give a file of NUL-separated NAME=value definitions (or a descriptor number)");

  if (Status s = apply_resource_flags(f, o); !s) return make_error(s.error());
  if (o.name.empty()) o.name = std::filesystem::path(o.argv[0]).filename().string();
  return o;
}

// Where the batch script's path is in `args`: the first word that is neither
// a flag nor a flag's value, before any "--"; kNoScript when there is none.
size_t script_index(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") return kNoScript;
    if (a.size() < 2 || a[0] != '-') return i;
    const SubmitFlag* flag = find_submit_flag(a.starts_with("--") ? a.substr(0, a.find('=')) : a);
    // Whether an unknown flag takes a value is unknowable: let parse_flags
    // name it rather than guess where the script is.
    if (!flag) return kNoScript;
    if (flag->takes_value && a.find('=') == std::string::npos) ++i;
  }
  return kNoScript;
}

// The canonical name of the flag word `w` ("-N", "--mem=4G"), or "".
std::string flag_name(const std::string& w) {
  std::string key = w.starts_with("--") ? w.substr(0, w.find('=')) : w;
  const SubmitFlag* flag = find_submit_flag(key);
  return flag ? flag->name : "";
}

// Calls visit(name, first, end) for each flag in `words` (directive
// arguments or the command line's flags, all known flags).
template <typename Visit>
void for_each_flag(const std::vector<std::string>& words, Visit visit) {
  for (size_t i = 0; i < words.size(); ++i) {
    size_t first = i;
    std::string name = flag_name(words[i]);
    const SubmitFlag* flag = find_submit_flag(name);
    if (flag && flag->takes_value && words[i].find('=') == std::string::npos) ++i;
    visit(name, first, std::min(i + 1, words.size()));
  }
}

// Later flags override earlier ones one by one, but some flags are
// alternatives to each other: --mem-per-cpu on the command line must replace
// the script's --mem, not contradict it. A family the command line names
// is dropped from the directives.
std::vector<std::string> without_overridden(const std::vector<std::string>& directive,
                                            const std::vector<std::string>& command_line) {
  const std::vector<std::set<std::string>> families = {
      {"--mem", "--mem-per-cpu", "--mem-per-task", "--mem-per-gpu"},
      {"--gres", "--gpus-per-node", "--gpus-per-task", "--gpus"},
      {"--cpus-per-task", "--cpus-per-gpu"},
      {"--requeue", "--no-requeue"},
  };
  std::set<std::string> dropped;
  for_each_flag(command_line, [&](const std::string& name, size_t, size_t) {
    for (const auto& family : families)
      if (family.count(name)) dropped.insert(family.begin(), family.end());
  });
  std::vector<std::string> kept;
  for_each_flag(directive, [&](const std::string& name, size_t first, size_t end) {
    if (!dropped.count(name)) kept.insert(kept.end(), directive.begin() + static_cast<long>(first), directive.begin() + static_cast<long>(end));
  });
  return kept;
}

Result<SubmitOptions> parse_batch(const std::vector<std::string>& args, size_t script_at, const std::string& cwd) {
  const std::string& word = args[script_at];
  if (word.empty())
    return make_error("no batch script given: the script path is empty (''); to run a command instead, put it "
                      "after '--', e.g. cadre submit -- hostname");
  std::filesystem::path path = word;
  if (path.is_relative()) path = std::filesystem::path(cwd) / path;
  path = path.lexically_normal();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return make_error("no batch script '" + word + "' (" + path.string() +
                      " does not exist); to run a command instead, put it after '--', e.g. cadre submit -- " + word);
  auto text = load_batch_script(path.string());
  if (!text) return make_error(text.error());
  std::string name = path.filename().string();
  auto lines = read_directives(*text, name);
  if (!lines) return make_error(lines.error());

  const std::vector<std::string> command_line(args.begin(), args.begin() + static_cast<long>(script_at));
  std::vector<std::string> directive;
  for (const auto& l : *lines) directive.insert(directive.end(), l.args.begin(), l.args.end());
  std::vector<std::string> all = without_overridden(directive, command_line);
  all.insert(all.end(), command_line.begin(), command_line.end());
  all.push_back("--");
  all.push_back(path.string());
  all.insert(all.end(), args.begin() + static_cast<long>(script_at) + 1, args.end());

  auto o = parse_flags(all, cwd, true);
  if (!o) {
    // Name the directive line that is wrong on its own, when one is.
    for (const auto& l : *lines) {
      std::vector<std::string> alone = l.args;
      alone.insert(alone.end(), {"--", "x"});
      auto r = parse_flags(alone, cwd, true);
      if (!r && r.error() == o.error()) return make_error(name + " line " + std::to_string(l.line) + ": " + o.error());
    }
    return o;
  }
  o->script = std::move(*text);
  return o;
}

}  // namespace

const std::vector<SubmitFlag>& submit_flags() {
  static const std::vector<SubmitFlag> kFlags = {
      {"--name", {"-J", "--job-name"}, true},
      {"--nodes", {"-N"}, true},
      {"--tasks-per-node", {"--ntasks-per-node"}, true},
      {"--ntasks", {"-n"}, true},
      {"--cpus-per-task", {"-c"}, true},
      {"--mem", {}, true},
      {"--mem-per-cpu", {}, true},
      {"--mem-per-task", {}, true},
      {"--gpus-per-task", {}, true},
      {"--gpus-per-node", {}, true},
      {"--gpus", {"-G"}, true},
      {"--cpus-per-gpu", {}, true},
      {"--mem-per-gpu", {}, true},
      {"--ntasks-per-gpu", {}, true},
      {"--gres", {}, true},
      {"--gpu-type", {}, true},
      {"--time", {"-t"}, true},
      {"--priority", {}, true},
      {"--output", {"-o"}, true},
      {"--error", {"-e"}, true},
      {"--partition", {"-p"}, true},
      {"--account", {"-A"}, true},
      {"--qos", {"-q"}, true},
      {"--reservation", {}, true},
      {"--switches", {}, true},
      {"--switches-wait", {}, true},
      {"--chdir", {"-D"}, true},
      {"--parsable", {}, false},
      {"--wait", {"-W"}, false},
      {"--no-requeue", {}, false},
      {"--requeue", {}, false},
      {"--hold", {"-H"}, false},
      {"--export", {}, true},
      {"--export-file", {}, true},
      {"--wrap", {}, true},
      {"--array", {"-a"}, true},
      {"--dependency", {"-d"}, true},
      {"--kill-on-invalid-dep", {}, true},
      {"--nodelist", {"-w"}, true},
      {"--exclude", {"-x"}, true},
      {"--exclusive", {}, false},
      {"--signal", {}, true},
      {"--begin", {"-b"}, true},
      {"--deadline", {}, true},
      {"--constraint", {"-C"}, true},
      {"--mail-type", {}, true},
      {"--mail-user", {}, true},
      // sbatch's advisory options: recorded, shown, not acted on.
      {"--hint", {}, true, true},
      {"--gpu-bind", {}, true, true},
      {"--cpu-bind", {}, true, true},
      {"--distribution", {"-m"}, true, true},
      {"--comment", {}, true, true},
      {"--acctg-freq", {}, true, true},
      {"--profile", {}, true, true},
      {"--cpu-freq", {}, true, true},
      {"--open-mode", {}, true},
      {"--spread-job", {}, false, true},
      // More of sbatch's options that only advise: cpu topology and binding
      // (cadre places by cpus, memory and GPUs), accounting labels, and
      // sbatch's own chatter.
      {"--wckey", {}, true, true},
      {"--mem-bind", {}, true, true},
      {"--gpu-freq", {}, true, true},
      {"--tres-bind", {}, true, true},
      {"--threads-per-core", {}, true, true},
      {"--ntasks-per-core", {}, true, true},
      {"--ntasks-per-socket", {}, true, true},
      {"--cores-per-socket", {}, true, true},
      {"--sockets-per-node", {}, true, true},
      {"--extra-node-info", {"-B"}, true, true},
      {"--prefer", {}, true, true},
      {"--gres-flags", {}, true, true},
      {"--wait-all-nodes", {}, true, true},
      {"--quiet", {"-Q"}, false, true},
      {"--verbose", {"-v"}, false, true},
      {"--get-user-env", {}, false, true},
      {"--propagate", {}, false, true},
      {"--use-min-nodes", {}, false, true},
      {"--contiguous", {}, false, true},
  };
  return kFlags;
}

const SubmitFlag* find_submit_flag(const std::string& spelling) {
  for (const auto& flag : submit_flags()) {
    if (flag.name == spelling) return &flag;
    for (const auto& a : flag.aliases)
      if (a == spelling) return &flag;
  }
  return nullptr;
}

Result<SubmitOptions> parse_submit(const std::vector<std::string>& args, const std::string& cwd) {
  size_t script_at = script_index(args);
  if (script_at == kNoScript) return parse_flags(args, cwd, false);
  return parse_batch(args, script_at, cwd);
}

JobSpec to_job_spec(const SubmitOptions& o) {
  JobSpec s;
  s.name = o.name;
  s.argv = o.argv;
  s.workdir = o.workdir;
  s.output_pattern = o.output_pattern;
  s.error_pattern = o.error_pattern;
  s.per_task = o.per_task;
  s.nodes = o.nodes;
  s.tasks_per_node = o.tasks_per_node;
  s.ntasks = o.ntasks;
  s.gpu_type = o.gpu_type;
  s.time_limit_s = o.time_limit_s;
  s.time_limit_given = o.time_limit_given;
  s.priority = o.priority;
  s.requeue = o.requeue;
  s.partition = o.partition;
  s.account = o.account;
  s.qos = o.qos;
  s.reservation = o.reservation;
  s.max_switches = o.max_switches;
  s.switches_wait_s = o.switches_wait_s;
  s.batch = o.batch;
  s.script = o.script;
  s.hints = o.hints;
  s.hold = o.hold;
  s.array = o.array;
  s.dependency = o.dependency;
  s.kill_on_invalid_dep = o.kill_on_invalid_dep;
  s.nodelist = o.nodelist;
  s.exclude = o.exclude;
  s.exclusive = o.exclusive;
  s.signal = o.signal;
  s.begin_time = o.begin_time;
  s.deadline = o.deadline;
  s.constraint = o.constraint;
  s.open_truncate = o.open_truncate;
  s.mail_type = o.mail_type;
  s.mail_user = o.mail_user;
  return s;
}

}  // namespace cadre::cli
