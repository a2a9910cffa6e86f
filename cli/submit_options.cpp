#include "cli/submit_options.hpp"

#include <filesystem>

#include "common/flags.hpp"

namespace cadre::cli {
namespace {

constexpr int64_t kMaxCount = 100000;

Result<uint32_t> count_flag(const Flags& f, const std::string& name, bool allow_zero = false) {
  auto text = f.get(name);
  auto n = parse_count(*text, kMaxCount);
  if (!n) return make_error(name + ": " + n.error());
  if (*n == 0 && !allow_zero) return make_error(name + ": must be at least 1");
  return static_cast<uint32_t>(*n);
}

}  // namespace

Result<SubmitOptions> parse_submit(const std::vector<std::string>& args, const std::string& cwd) {
  Flags f;
  f.value("--name", {"-J", "--job-name"}).value("--nodes", {"-N"}).value("--tasks-per-node", {"--ntasks-per-node"});
  f.value("--ntasks", {"-n"}).value("--cpus-per-task", {"-c"}).value("--mem-per-task").value("--gpus-per-task");
  f.value("--gpus-per-node").value("--time", {"-t"}).value("--priority").value("--output", {"-o"});
  f.value("--partition", {"-p"}).value("--account", {"-A"}).value("--switches").value("--switches-wait");
  f.value("--chdir", {"-D"}).toggle("--parsable").toggle("--wait", {"-W"}).toggle("--no-requeue");
  if (Status s = f.parse(args, true); !s) return make_error(s.error());
  if (!f.positionals().empty())
    return make_error("unexpected '" + f.positionals().front() +
                      "': put the command after '--', e.g. cadre submit --nodes 2 -- hostname");
  if (f.rest().empty()) return make_error("no command given: put it after '--', e.g. cadre submit -- hostname");

  SubmitOptions o;
  o.argv = f.rest();
  o.parsable = f.has("--parsable");
  o.wait = f.has("--wait");
  o.requeue = !f.has("--no-requeue");
  o.name = f.get_or("--name", "");
  o.output_pattern = f.get_or("--output", "cadre-%j-%t.out");
  if (o.output_pattern.empty()) return make_error("--output: the pattern must not be empty");

  std::filesystem::path dir = f.get_or("--chdir", cwd);
  if (dir.is_relative()) dir = std::filesystem::path(cwd) / dir;
  o.workdir = dir.lexically_normal().string();
  if (o.workdir.size() > 1 && o.workdir.back() == '/') o.workdir.pop_back();

  if (f.has("--cpus-per-task")) {
    auto c = count_flag(f, "--cpus-per-task");
    if (!c) return make_error(c.error());
    o.per_task.millicores = int64_t{*c} * 1000;
  }
  if (auto m = f.get("--mem-per-task")) {
    auto mb = parse_size_mb(*m);
    if (!mb) return make_error("--mem-per-task: " + mb.error());
    o.per_task.memory_mb = *mb;
  }
  if (f.has("--gpus-per-task")) {
    auto g = count_flag(f, "--gpus-per-task", true);
    if (!g) return make_error(g.error());
    o.per_task.gpus = *g;
  }
  if (auto t = f.get("--time")) {
    auto s = parse_duration_s(*t);
    if (!s) return make_error("--time: " + s.error());
    o.time_limit_s = *s;
    o.time_limit_given = true;
  }
  if (auto p = f.get("--priority")) {
    try {
      size_t used = 0;
      long v = std::stol(*p, &used);
      if (used != p->size() || v < -1000000 || v > 1000000) throw std::out_of_range("range");
      o.priority = static_cast<int32_t>(v);
    } catch (const std::exception&) {
      return make_error("--priority: expected a whole number from -1000000 to 1000000, got '" + *p + "'");
    }
  }

  o.partition = f.get_or("--partition", "");
  if (f.has("--partition") && o.partition.empty()) return make_error("--partition: give a partition name");
  o.account = f.get_or("--account", "");
  if (f.has("--account") && o.account.empty()) return make_error("--account: give an account name");
  if (auto sw = f.get("--switches")) {
    // Slurm's form: --switches=N@TIME, the wait before the limit relaxes.
    std::string count = *sw, wait;
    if (auto at = sw->find('@'); at != std::string::npos) {
      count = sw->substr(0, at);
      wait = sw->substr(at + 1);
    }
    auto n = parse_count(count, 100000);
    if (!n || *n == 0) return make_error("--switches: expected N or N@TIME with N >= 1, got '" + *sw + "'");
    o.max_switches = static_cast<uint32_t>(*n);
    if (!wait.empty()) {
      auto w = parse_duration_s(wait);
      if (!w) return make_error("--switches: " + w.error());
      o.switches_wait_s = *w;
    }
  }
  if (auto w = f.get("--switches-wait")) {
    if (!f.has("--switches")) return make_error("--switches-wait needs --switches");
    auto s = parse_duration_s(*w);
    if (!s) return make_error("--switches-wait: " + s.error());
    o.switches_wait_s = *s;
  }

  // The gang's shape.
  std::optional<uint32_t> nodes, tpn, ntasks;
  for (auto [flag, slot] : {std::pair{"--nodes", &nodes}, {"--tasks-per-node", &tpn}, {"--ntasks", &ntasks}}) {
    if (!f.has(flag)) continue;
    auto n = count_flag(f, flag);
    if (!n) return make_error(n.error());
    *slot = *n;
  }
  if (tpn && !nodes) nodes = 1;
  if (nodes) {
    if (!tpn) {
      if (ntasks && *ntasks % *nodes != 0)
        return make_error("--ntasks " + std::to_string(*ntasks) + " does not divide evenly over --nodes " +
                          std::to_string(*nodes) + "; give --tasks-per-node");
      tpn = ntasks ? *ntasks / *nodes : 1;
    }
    uint64_t total = uint64_t{*nodes} * *tpn;
    if (ntasks && *ntasks != total)
      return make_error("--ntasks " + std::to_string(*ntasks) + " contradicts --nodes " + std::to_string(*nodes) +
                        " x --tasks-per-node " + std::to_string(*tpn));
    if (total > kMaxCount) return make_error("a job may have at most " + std::to_string(kMaxCount) + " tasks");
    o.nodes = *nodes;
    o.tasks_per_node = *tpn;
    o.ntasks = static_cast<uint32_t>(total);
  } else {
    o.ntasks = ntasks.value_or(1);
  }
  if (f.has("--gpus-per-node")) {
    if (f.has("--gpus-per-task")) return make_error("give --gpus-per-node or --gpus-per-task, not both");
    if (!o.nodes) return make_error("--gpus-per-node needs --nodes");
    auto g = count_flag(f, "--gpus-per-node", true);
    if (!g) return make_error(g.error());
    if (*g % o.tasks_per_node != 0)
      return make_error("--gpus-per-node " + std::to_string(*g) + " does not divide evenly over " +
                        std::to_string(o.tasks_per_node) + " tasks per node");
    o.per_task.gpus = *g / o.tasks_per_node;
  }
  if (o.name.empty()) o.name = std::filesystem::path(o.argv[0]).filename().string();
  return o;
}

}  // namespace cadre::cli
