#include "cli/batch_script.hpp"

#include <filesystem>
#include <optional>
#include <sstream>

#include "cli/submit_options.hpp"
#include "common/bounded_file.hpp"
#include "common/limits.hpp"

namespace cadre::cli {
namespace {

// An sbatch option cadre honours, and the cadre submit flag it becomes.
struct SbatchOption {
  const char* long_name;
  char short_name;  // 0: none
  const char* cadre_flag;
  bool takes_value = true;
};

constexpr SbatchOption kSupportedSbatch[] = {
    {"--nodes", 'N', "--nodes"},
    {"--ntasks", 'n', "--ntasks"},
    {"--ntasks-per-node", 0, "--tasks-per-node"},
    {"--tasks-per-node", 0, "--tasks-per-node"},
    {"--cpus-per-task", 'c', "--cpus-per-task"},
    {"--mem", 0, "--mem"},
    {"--mem-per-cpu", 0, "--mem-per-cpu"},
    {"--gres", 0, "--gres"},
    {"--gpus-per-node", 0, "--gpus-per-node"},
    {"--gpus", 'G', "--gpus"},
    {"--cpus-per-gpu", 0, "--cpus-per-gpu"},
    {"--mem-per-gpu", 0, "--mem-per-gpu"},
    {"--ntasks-per-gpu", 0, "--ntasks-per-gpu"},
    {"--gpus-per-task", 0, "--gpus-per-task"},
    {"--time", 't', "--time"},
    {"--job-name", 'J', "--name"},
    {"--output", 'o', "--output"},
    {"--error", 'e', "--error"},
    {"--partition", 'p', "--partition"},
    {"--account", 'A', "--account"},
    {"--qos", 'q', "--qos"},
    {"--reservation", 0, "--reservation"},
    {"--chdir", 'D', "--chdir"},
    {"--export", 0, "--export"},
    {"--export-file", 0, "--export-file"},
    {"--requeue", 0, "--requeue", false},
    {"--no-requeue", 0, "--no-requeue", false},
    {"--hold", 'H', "--hold", false},
    {"--array", 'a', "--array"},
    {"--dependency", 'd', "--dependency"},
    {"--kill-on-invalid-dep", 0, "--kill-on-invalid-dep"},
    {"--nodelist", 'w', "--nodelist"},
    {"--exclude", 'x', "--exclude"},
    {"--exclusive", 0, "--exclusive", false},
    {"--signal", 0, "--signal"},
    {"--begin", 'b', "--begin"},
    {"--deadline", 0, "--deadline"},
    {"--constraint", 'C', "--constraint"},
    {"--open-mode", 0, "--open-mode"},
    {"--mail-type", 0, "--mail-type"},
    {"--mail-user", 0, "--mail-user"},
    {"--switches", 0, "--switches"},
    // Advisory: recorded with the job and shown by cadre show.
    {"--hint", 0, "--hint"},
    {"--gpu-bind", 0, "--gpu-bind"},
    {"--cpu-bind", 0, "--cpu-bind"},
    {"--distribution", 'm', "--distribution"},
    {"--comment", 0, "--comment"},
    {"--acctg-freq", 0, "--acctg-freq"},
    {"--profile", 0, "--profile"},
    {"--cpu-freq", 0, "--cpu-freq"},
    {"--spread-job", 0, "--spread-job", false},
    {"--wckey", 0, "--wckey"},
    {"--mem-bind", 0, "--mem-bind"},
    {"--gpu-freq", 0, "--gpu-freq"},
    {"--tres-bind", 0, "--tres-bind"},
    {"--threads-per-core", 0, "--threads-per-core"},
    {"--ntasks-per-core", 0, "--ntasks-per-core"},
    {"--ntasks-per-socket", 0, "--ntasks-per-socket"},
    {"--cores-per-socket", 0, "--cores-per-socket"},
    {"--sockets-per-node", 0, "--sockets-per-node"},
    {"--extra-node-info", 'B', "--extra-node-info"},
    {"--prefer", 0, "--prefer"},
    {"--gres-flags", 0, "--gres-flags"},
    {"--wait-all-nodes", 0, "--wait-all-nodes"},
    {"--quiet", 'Q', "--quiet", false},
    {"--verbose", 'v', "--verbose", false},
    {"--get-user-env", 0, "--get-user-env", false},
    {"--propagate", 0, "--propagate", false},
    {"--use-min-nodes", 0, "--use-min-nodes", false},
    {"--contiguous", 0, "--contiguous", false},
};

constexpr const char* kSupportedList =
    "-N/--nodes, -n/--ntasks, --ntasks-per-node, -c/--cpus-per-task, --mem, --mem-per-cpu, "
    "--gres=gpu[:TYPE]:N, -G/--gpus, --gpus-per-node, --gpus-per-task, --cpus-per-gpu, --mem-per-gpu, --ntasks-per-gpu, -t/--time, -J/--job-name, -o/--output, "
    "-e/--error, -p/--partition, -A/--account, -q/--qos, --reservation, -D/--chdir, --export, --export-file, --requeue, --no-requeue, "
    "-H/--hold, -a/--array, -d/--dependency, --kill-on-invalid-dep, -w/--nodelist, -x/--exclude, --exclusive, --signal, -b/--begin, --deadline, -C/--constraint, --open-mode, --mail-type, --mail-user, --switches; recorded as hints: --hint, --gpu-bind, "
    "--cpu-bind, -m/--distribution, --comment, --acctg-freq, --profile, --cpu-freq, --spread-job, --wckey, --mem-bind, "
    "--gpu-freq, --tres-bind, --threads-per-core, --ntasks-per-core, --ntasks-per-socket, --cores-per-socket, "
    "--sockets-per-node, -B/--extra-node-info, --prefer, --gres-flags, --wait-all-nodes, -Q/--quiet, -v/--verbose, "
    "--get-user-env, --propagate, --use-min-nodes, --contiguous";

// sbatch options cadre does not honour yet, and what to do instead: the
// rule is that a script is refused with a way forward, never run with a
// meaning it did not ask for.
struct RefusedSbatch {
  const char* long_name;
  char short_name;
  const char* instead;
};

constexpr RefusedSbatch kRefusedSbatch[] = {
    {"--nice", 0, "not supported; lower the job's priority with #CADRE --priority -N"},
    {"--priority", 0, "not an sbatch option cadre maps: use #CADRE --priority N (admins may raise it above 0)"},
    {"--wait", 'W', "goes on the command line (cadre submit --wait), not in the script"},
    {"--parsable", 0, "goes on the command line (cadre submit --parsable), not in the script"},
    {"--licenses", 'L', "licenses are not supported; leave the option out"},
    {"--clusters", 'M', "cadre manages one cluster; leave the option out"},
    {"--uid", 0, "jobs run as their submitter; submit as that user"},
    {"--gid", 0, "jobs run with their submitter's group; submit as that user"},
    {"--input", 'i', "a job's standard input is /dev/null; read the file from the script"},
    {"--overcommit", 'O', "not supported; ask for the cpus the tasks use"},
    {"--container", 0, "containers are not supported yet; run the container runtime in the script"},
    {"--wrap", 0, "goes on the command line (cadre submit --wrap CMD), not in a script"},
};

const RefusedSbatch* find_refused(std::string_view long_name, char short_name) {
  for (const auto& r : kRefusedSbatch)
    if ((!long_name.empty() && long_name == r.long_name) || (short_name != 0 && short_name == r.short_name))
      return &r;
  return nullptr;
}

const SbatchOption* find_sbatch(std::string_view long_name, char short_name) {
  for (const auto& o : kSupportedSbatch)
    if ((!long_name.empty() && long_name == o.long_name) || (short_name != 0 && short_name == o.short_name))
      return &o;
  return nullptr;
}

// "#SBATCH" / "#CADRE" when `line` is such a directive, else empty.
std::string_view directive_tag(std::string_view line) {
  for (std::string_view tag : {"#SBATCH", "#CADRE"}) {
    if (!line.starts_with(tag)) continue;
    if (line.size() == tag.size() || line[tag.size()] == ' ' || line[tag.size()] == '\t') return tag;
  }
  return {};
}

bool blank_or_comment(std::string_view line) {
  size_t first = line.find_first_not_of(" \t");
  return first == std::string_view::npos || line[first] == '#';
}

// Errors from these carry no line; read_directives adds it.
Result<std::vector<std::string>> translate_sbatch(const std::vector<std::string>& words) {
  std::vector<std::string> out;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.size() < 2 || w[0] != '-' || w == "--")
      return make_error("#SBATCH: unexpected '" + w + "' (directives take options only)");
    std::string key;
    std::optional<std::string> value;
    const SbatchOption* opt = nullptr;
    if (w.starts_with("--")) {
      auto eq = w.find('=');
      key = w.substr(0, eq);
      if (eq != std::string::npos) value = w.substr(eq + 1);
      opt = find_sbatch(key, 0);
    } else {
      key = w.substr(0, 2);
      if (w.size() > 2) value = w.substr(2);  // "-N2"
      opt = find_sbatch({}, w[1]);
    }
    if (!opt) {
      if (const RefusedSbatch* r = key.starts_with("--") ? find_refused(key, 0) : find_refused({}, key[1]))
        return make_error("#SBATCH " + key + ": " + r->instead);
      return make_error("#SBATCH " + key + " is not supported by cadre (supported: " + kSupportedList + ")");
    }
    if (!opt->takes_value) {
      // --get-user-env[=...] and --propagate[=...]: a value that only advises.
      const bool optional_value = key == "--get-user-env" || key == "--propagate";
      if (value && !optional_value) return make_error("#SBATCH " + key + " takes no value");
      out.push_back(opt->cadre_flag);
      continue;
    }
    if (!value) {
      if (i + 1 >= words.size()) return make_error("#SBATCH " + key + " needs a value");
      value = words[++i];
    }
    out.push_back(opt->cadre_flag);
    out.push_back(*value);
  }
  return out;
}

Result<std::vector<std::string>> check_cadre(const std::vector<std::string>& words) {
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.size() < 2 || w[0] != '-' || w == "--")
      return make_error("#CADRE: unexpected '" + w + "' (directives take options only)");
    std::string key = w;
    bool inline_value = false;
    if (auto eq = w.find('='); eq != std::string::npos && w.starts_with("--")) {
      key = w.substr(0, eq);
      inline_value = true;
    }
    const SubmitFlag* flag = find_submit_flag(key);
    if (!flag) return make_error("#CADRE: unknown option '" + key + "' (see cadre submit --help)");
    // These choose how the submitting command behaves, not what the job is;
    // a script that made `cadre submit` block would surprise whoever submits it.
    if (flag->name == "--wait" || flag->name == "--parsable")
      return make_error("#CADRE " + key + " belongs on the command line, not in the script");
    if (!flag->takes_value && inline_value) return make_error("#CADRE " + key + " takes no value");
    if (flag->takes_value && !inline_value && ++i >= words.size())
      return make_error("#CADRE " + key + " needs a value");
  }
  return words;
}

}  // namespace

std::string sbatch_instead(std::string_view option) {
  const RefusedSbatch* r = nullptr;
  if (option.starts_with("--")) r = find_refused(option, 0);
  else if (option.size() == 2 && option[0] == '-') r = find_refused({}, option[1]);
  return r ? r->instead : "";
}

Result<std::vector<std::string>> split_directive(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else if (c == '#' && !in_word) {
      break;
    } else if (c == '\'') {
      size_t end = text.find('\'', i + 1);
      if (end == std::string_view::npos) return make_error("unterminated ' quote");
      word.append(text.substr(i + 1, end - i - 1));
      i = end;
      in_word = true;
    } else if (c == '"') {
      size_t j = i + 1;
      for (; j < text.size() && text[j] != '"'; ++j) {
        // In double quotes a backslash escapes only what the shell lets it.
        if (text[j] == '\\' && j + 1 < text.size() && std::string_view("\"\\$`").find(text[j + 1]) != std::string_view::npos)
          ++j;
        word += text[j];
      }
      if (j >= text.size()) return make_error("unterminated \" quote");
      i = j;
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 >= text.size()) return make_error("a directive cannot end with a backslash");
      word += text[++i];
      in_word = true;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

Result<std::vector<DirectiveLine>> read_directives(std::string_view script_text, std::string_view script_name) {
  std::vector<DirectiveLine> lines;
  int number = 0;
  size_t pos = 0;
  while (pos < script_text.size()) {
    size_t end = script_text.find('\n', pos);
    if (end == std::string_view::npos) end = script_text.size();
    std::string_view line = script_text.substr(pos, end - pos);
    pos = end + 1;
    ++number;
    if (line.ends_with('\r')) line.remove_suffix(1);
    std::string_view tag = directive_tag(line);
    if (tag.empty()) {
      if (blank_or_comment(line)) continue;
      break;  // the first command: sbatch reads no directives after it
    }
    auto where = [&] { return std::string(script_name) + " line " + std::to_string(number) + ": "; };
    auto words = split_directive(line.substr(tag.size()));
    if (!words) return make_error(where() + std::string(tag) + ": " + words.error());
    auto args = tag == "#SBATCH" ? translate_sbatch(*words) : check_cadre(*words);
    if (!args) return make_error(where() + args.error());
    if (!args->empty()) lines.push_back(DirectiveLine{number, std::move(*args)});
  }
  return lines;
}

Result<std::vector<std::string>> directive_args(std::string_view script_text, std::string_view script_name) {
  auto lines = read_directives(script_text, script_name);
  if (!lines) return make_error(lines.error());
  std::vector<std::string> args;
  for (auto& l : *lines) args.insert(args.end(), l.args.begin(), l.args.end());
  return args;
}

Status check_batch_script(std::string_view text, std::string_view script_name) {
  const std::string name(script_name);
  if (text.empty()) return make_error(name + " is empty");
  if (text.find('\0') != std::string_view::npos)
    return make_error(name + " is a binary file, not a batch script; to run a program, put it after '--', "
                      "e.g. cadre submit -- ./" + std::string(std::filesystem::path(name).filename()));
  if (text.find("\r\n") != std::string_view::npos)
    return make_error(name + " has DOS line breaks (\\r\\n), which the interpreter would choke on; convert it "
                      "with dos2unix");
  if (!text.starts_with("#!"))
    return make_error(name + ": batch scripts must start with #! (e.g. #!/bin/bash)");
  return {};
}

Result<std::string> load_batch_script(const std::string& path) {
  // Never opened with a plain read: a FIFO would hang `cadre submit`, a
  // device would be read without end.
  auto text = read_bounded_file(path, limits::kMaxScriptBytes, "batch script");
  if (!text) return make_error(text.error());
  if (Status s = check_batch_script(*text, path); !s) return make_error(s.error());
  return text;
}

}  // namespace cadre::cli
