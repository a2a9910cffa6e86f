#include "cli/submit_resources.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/limits.hpp"
#include "common/resources.hpp"

namespace cadre::cli {
namespace {

constexpr int64_t kMaxCount = limits::kMaxTasksPerJob;

Result<uint32_t> parse_count_named(const std::string& name, const std::string& text, bool allow_zero) {
  auto n = parse_count(text, kMaxCount);
  if (!n) return make_error(name + ": " + n.error());
  if (*n == 0 && !allow_zero) return make_error(name + ": must be at least 1");
  return static_cast<uint32_t>(*n);
}

Result<uint32_t> count_flag(const Flags& f, const std::string& name, bool allow_zero = false) {
  return parse_count_named(name, *f.get(name), allow_zero);
}

// Slurm's -N takes MIN-MAX; cadre gangs have one size, so only "N" and "N-N".
Result<uint32_t> node_count(const Flags& f) {
  std::string text = *f.get("--nodes");
  auto dash = text.find('-');
  if (dash == std::string::npos || dash == 0) return count_flag(f, "--nodes");
  auto lo = parse_count_named("--nodes", text.substr(0, dash), false);
  auto hi = parse_count_named("--nodes", text.substr(dash + 1), false);
  if (!lo) return lo;
  if (!hi) return hi;
  if (*lo != *hi)
    return make_error("--nodes: cadre runs a job on an exact number of nodes, not a range ('" + text +
                      "'); give one count, e.g. --nodes " + std::to_string(*lo));
  return *lo;
}

// A GPU count with an optional model: "4" or "a100:4" (Slurm's --gpus-per-node form).
struct GpuCount {
  std::string type;
  uint32_t count = 0;
};

Result<GpuCount> typed_gpu_count(const std::string& name, const std::string& text) {
  GpuCount g;
  std::string count = text;
  if (auto colon = text.rfind(':'); colon != std::string::npos) {
    g.type = text.substr(0, colon);
    count = text.substr(colon + 1);
    if (g.type.empty()) return make_error(name + ": expected N or TYPE:N (e.g. a100:4), got '" + text + "'");
  }
  auto n = parse_count_named(name, count, true);
  if (!n) return make_error(n.error());
  g.count = *n;
  return g;
}

// Slurm's generic resources, of which cadre schedules GPUs: gpu[:TYPE][:N].
Result<GpuCount> parse_gres(const std::string& text) {
  auto bad = [&] {
    return make_error("--gres: expected gpu[:TYPE]:N (e.g. gpu:2 or gpu:a100:4), got '" + text + "'");
  };
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  std::string name = parts[0];
  if (auto comma = text.find(','); comma != std::string::npos)
    return make_error("--gres: cadre schedules only GPUs; give a single gpu[:TYPE]:N, not '" + text + "'");
  if (name != "gpu") {
    if (name.empty() || parts.size() > 3) return bad();
    return make_error("--gres: cadre schedules only GPUs (gpu[:TYPE]:N), not '" + name + "'");
  }
  if (parts.size() > 3) return bad();
  GpuCount g{"", 1};
  if (parts.size() == 1) return g;
  // "gpu:2" is a count, "gpu:a100" a model (one GPU), "gpu:a100:2" both. A
  // signed word ("gpu:-1") is meant as a count, and refused as one.
  const std::string& last = parts.back();
  bool numeric = !last.empty() && (last[0] == '-' || last[0] == '+' ||
                                   std::all_of(last.begin(), last.end(), [](char c) {
                                     return std::isdigit(static_cast<unsigned char>(c));
                                   }));
  if (parts.size() == 3 || numeric) {
    auto n = parse_count_named("--gres", last, true);
    if (!n) return make_error(n.error());
    g.count = *n;
    if (parts.size() == 3) g.type = parts[1];
  } else {
    g.type = last;
  }
  if ((parts.size() == 3 || !numeric) && g.type.empty()) return bad();
  return g;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Status apply_shape(const Flags& f, SubmitOptions& o) {
  std::optional<uint32_t> nodes, tpn, ntasks;
  if (f.has("--nodes")) {
    auto n = node_count(f);
    if (!n) return make_error(n.error());
    nodes = *n;
  }
  for (auto [flag, slot] : {std::pair{"--tasks-per-node", &tpn}, {"--ntasks", &ntasks}}) {
    if (!f.has(flag)) continue;
    auto n = count_flag(f, flag);
    if (!n) return make_error(n.error());
    *slot = *n;
  }
  // Slurm: with --ntasks, --ntasks-per-node is a maximum per node. Without
  // --nodes the node count follows (-n 8 --ntasks-per-node 4: two nodes);
  // with it, the tasks spread evenly when that stays under the maximum.
  // cadre's gangs have the same count on every node, so an uneven split
  // is refused with what to give instead.
  if (tpn && ntasks) {
    const std::string asked = "--ntasks " + std::to_string(*ntasks) + " with at most " + std::to_string(*tpn) +
                              " tasks per node";
    if (!nodes) {
      if (*ntasks % *tpn != 0)
        return make_error(asked + " leaves a node with fewer; cadre places the same number on every node: give "
                          "--ntasks a multiple of --tasks-per-node, or leave --tasks-per-node out");
      nodes = *ntasks / *tpn;
    } else if (uint64_t{*nodes} * *tpn < *ntasks) {
      return make_error("--ntasks " + std::to_string(*ntasks) + " contradicts --nodes " + std::to_string(*nodes) +
                        " x --tasks-per-node " + std::to_string(*tpn));
    } else if (*ntasks % *nodes == 0) {
      tpn = *ntasks / *nodes;
    } else {
      return make_error("--ntasks " + std::to_string(*ntasks) + " does not divide evenly over --nodes " +
                        std::to_string(*nodes) + "; cadre places the same number of tasks on every node");
    }
  }
  if (tpn && !nodes) nodes = 1;
  if (!nodes) {
    o.ntasks = ntasks.value_or(1);
    return {};
  }
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
  return {};
}

// After apply_shape and --cpus-per-task: --mem and --mem-per-cpu depend on both.
Status apply_memory(const Flags& f, SubmitOptions& o) {
  int given = f.has("--mem") + f.has("--mem-per-cpu") + f.has("--mem-per-task") + f.has("--mem-per-gpu");
  if (given > 1) return make_error("give only one of --mem, --mem-per-cpu, --mem-per-gpu and --mem-per-task");
  for (const char* flag : {"--mem", "--mem-per-cpu", "--mem-per-task", "--mem-per-gpu"}) {
    auto text = f.get(flag);
    if (!text) continue;
    auto mb = parse_size_mb(*text);
    if (!mb) return make_error(std::string(flag) + ": " + mb.error());
    if (std::string(flag) == "--mem-per-task") {
      o.per_task.memory_mb = *mb;
    } else if (std::string(flag) == "--mem" && *mb == 0) {
      // Slurm: all of each node's memory. Memory is a node's to give whole
      // only when no other job holds part of it, so the job gets whole
      // nodes (as --exclusive) and its ranks no memory limit of their own.
      o.exclusive = true;
      o.per_task.memory_mb = 0;
    } else if (*mb == 0) {
      return make_error(std::string(flag) + ": give a size, e.g. " + flag + " 4G (only --mem=0 means all of a node's memory)");
    } else if (std::string(flag) == "--mem-per-gpu") {
      // Slurm: memory per allocated GPU; each task holds its GPUs' share.
      if (o.per_task.gpus == 0)
        return make_error("--mem-per-gpu needs GPUs: give -G/--gpus, --gpus-per-node, --gpus-per-task or --gres too");
      if (*mb > std::numeric_limits<int64_t>::max() / o.per_task.gpus)
        return make_error("--mem-per-gpu: '" + *text + "' is too large");
      o.per_task.memory_mb = *mb * o.per_task.gpus;
    } else if (std::string(flag) == "--mem-per-cpu") {
      int64_t cpus = o.per_task.millicores / 1000;
      if (*mb > std::numeric_limits<int64_t>::max() / cpus) return make_error("--mem-per-cpu: '" + *text + "' is too large");
      o.per_task.memory_mb = *mb * cpus;
    } else {
      // --mem is per node, as in Slurm. With --nodes each node holds
      // tasks_per_node tasks, so each task gets its share. Without it, the
      // tasks may land anywhere: Slurm would pack them onto as few nodes as
      // it can (usually one, which then holds SIZE for all of them), so
      // splitting SIZE over all the tasks reserves what Slurm's common case
      // reserves, never SIZE per task (ntasks times too much to fit).
      int64_t share = o.nodes ? o.tasks_per_node : o.ntasks;
      o.per_task.memory_mb = *mb / share + (*mb % share != 0 ? 1 : 0);
    }
  }
  return {};
}

// --ntasks-per-gpu=1 (Slurm's tasks per GPU): a task for each GPU, the
// task count following the GPUs asked for or the GPUs following --ntasks.
// cadre gives each task whole GPUs of its own, so tasks cannot share one.
Status apply_tasks_per_gpu(const Flags& f, SubmitOptions& o, std::optional<uint32_t> total_gpus) {
  auto k = count_flag(f, "--ntasks-per-gpu");
  if (!k) return make_error(k.error());
  if (*k != 1)
    return make_error("--ntasks-per-gpu " + std::to_string(*k) + ": cadre gives each task whole GPUs of its own, so " +
                      std::to_string(*k) + " tasks cannot share one; give --ntasks-per-gpu=1, or start " +
                      std::to_string(*k) + " processes from each task");
  for (const char* flag : {"--gpus-per-task", "--tasks-per-node"})
    if (f.has(flag))
      return make_error(std::string("--ntasks-per-gpu does not go with ") +
                        (std::string(flag) == "--tasks-per-node" ? "--ntasks-per-node" : flag) + " (as in Slurm)");
  if (f.has("--ntasks")) {
    if (total_gpus && *total_gpus != o.ntasks)
      return make_error("--ntasks-per-gpu=1 with --ntasks " + std::to_string(o.ntasks) + " asks for " +
                        std::to_string(o.ntasks) + " GPUs, not the " + std::to_string(*total_gpus) + " given");
  } else {
    if (!total_gpus)
      return make_error("--ntasks-per-gpu needs --ntasks or the GPUs (-G/--gpus, or --gpus-per-node/--gres with --nodes)");
    if (*total_gpus == 0) return make_error("--ntasks-per-gpu: the job asks for no GPUs");
    if (o.nodes && *total_gpus % o.nodes != 0)
      return make_error("--ntasks-per-gpu=1 gives " + std::to_string(*total_gpus) + " tasks, which do not divide "
                        "evenly over --nodes " + std::to_string(o.nodes) + "; cadre places the same number on every node");
    o.ntasks = *total_gpus;
    if (o.nodes) o.tasks_per_node = o.ntasks / o.nodes;
  }
  if (o.ntasks > kMaxCount) return make_error("a job may have at most " + std::to_string(kMaxCount) + " tasks");
  o.per_task.gpus = 1;
  return {};
}

// -G/--gpus: the job's total, spread evenly over its nodes (or tasks, when
// they may go anywhere), since cadre's gangs hold the same on every node.
Result<uint32_t> gpus_per_task_of_total(const std::string& text, uint32_t total, const SubmitOptions& o) {
  const std::string asked = "-G/--gpus " + text;
  if (o.nodes) {
    if (total % o.nodes != 0)
      return make_error(asked + " does not divide evenly over --nodes " + std::to_string(o.nodes) +
                        "; cadre gives every node of a job the same GPUs: give --gpus-per-node");
    const uint32_t per_node = total / o.nodes;
    if (per_node > limits::kMaxGpusPerNode)
      return make_error(asked + " puts " + std::to_string(per_node) + " GPUs on a node; a node has at most " +
                        std::to_string(limits::kMaxGpusPerNode));
    if (per_node % o.tasks_per_node != 0)
      return make_error(asked + " gives each node " + std::to_string(per_node) + " GPUs, which do not divide evenly "
                        "over " + std::to_string(o.tasks_per_node) + " tasks per node");
    return per_node / o.tasks_per_node;
  }
  if (total % o.ntasks != 0)
    return make_error(asked + " does not divide evenly over --ntasks " + std::to_string(o.ntasks) +
                      "; cadre gives every task the same GPUs: give --gpus-per-task");
  return total / o.ntasks;
}

// After apply_shape: per-node GPU counts split over a node's tasks.
Status apply_gpus(const Flags& f, SubmitOptions& o) {
  const int given = f.has("--gpus") + f.has("--gres") + f.has("--gpus-per-node") + f.has("--gpus-per-task");
  if (given > 1) return make_error("give only one of -G/--gpus, --gres, --gpus-per-node and --gpus-per-task");
  std::string type, type_flag;
  std::optional<uint32_t> total_gpus;  // for --ntasks-per-gpu
  if (auto text = f.get("--gpus")) {
    auto g = typed_gpu_count("-G/--gpus", *text);
    if (!g) return make_error(g.error());
    type = g->type;
    type_flag = "-G/--gpus";
    total_gpus = g->count;
    if (!f.has("--ntasks-per-gpu")) {
      auto per_task = gpus_per_task_of_total(*text, g->count, o);
      if (!per_task) return make_error(per_task.error());
      o.per_task.gpus = *per_task;
    }
  }
  if (auto text = f.get("--gpus-per-task")) {
    auto g = typed_gpu_count("--gpus-per-task", *text);
    if (!g) return make_error(g.error());
    o.per_task.gpus = g->count;
    type = g->type;
    type_flag = "--gpus-per-task";
  }
  for (const char* flag : {"--gpus-per-node", "--gres"}) {
    auto text = f.get(flag);
    if (!text) continue;
    auto g = std::string(flag) == "--gres" ? parse_gres(*text) : typed_gpu_count(flag, *text);
    if (!g) return make_error(g.error());
    if (g->count > limits::kMaxGpusPerNode)
      return make_error(std::string(flag) + ": " + std::to_string(g->count) + " GPUs on a node; a node has at most " +
                        std::to_string(limits::kMaxGpusPerNode));
    type = g->type;
    type_flag = flag;
    if (f.has("--ntasks-per-gpu")) {
      if (!o.nodes) {
        if (f.has("--ntasks")) continue;
        return make_error(std::string(flag) + " with --ntasks-per-gpu needs --nodes (or give -G/--gpus, the total)");
      }
      total_gpus = g->count * o.nodes;
      continue;
    }
    if (!o.nodes) {
      // Slurm gives a job without -N one node; one task then holds them all.
      if (std::string(flag) == "--gres" && o.ntasks == 1) {
        o.per_task.gpus = g->count;
        continue;
      }
      return make_error(std::string(flag) + (std::string(flag) == "--gres" ? " counts GPUs per node and needs --nodes when there are several tasks" : " needs --nodes"));
    }
    if (g->count % o.tasks_per_node != 0)
      return make_error(std::string(flag) + " " + std::to_string(g->count) + " does not divide evenly over " +
                        std::to_string(o.tasks_per_node) + " tasks per node");
    o.per_task.gpus = g->count / o.tasks_per_node;
  }
  if (f.has("--ntasks-per-gpu"))
    if (Status st = apply_tasks_per_gpu(f, o, total_gpus); !st) return st;
  o.gpu_type = type;
  if (auto t = f.get("--gpu-type")) {
    if (t->empty()) return make_error("--gpu-type: give a GPU model, e.g. --gpu-type H100");
    if (!type.empty() && lower(type) != lower(*t))
      return make_error("--gpu-type " + *t + " contradicts the GPU type '" + type + "' in " + type_flag);
    o.gpu_type = *t;
  }
  return {};
}

Status apply_limits(const Flags& f, SubmitOptions& o) {
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
      if (used != p->size() || v < limits::kMinPriority || v > limits::kMaxPriority) throw std::out_of_range("range");
      o.priority = static_cast<int32_t>(v);
    } catch (const std::exception&) {
      return make_error("--priority: expected a whole number from " + std::to_string(limits::kMinPriority) + " to " +
                        std::to_string(limits::kMaxPriority) + ", got '" + *p + "'");
    }
  }
  o.partition = f.get_or("--partition", "");
  if (f.has("--partition") && o.partition.empty()) return make_error("--partition: give a partition name");
  o.account = f.get_or("--account", "");
  if (f.has("--account") && o.account.empty()) return make_error("--account: give an account name");
  o.qos = f.get_or("--qos", "");
  if (f.has("--qos") && o.qos.empty()) return make_error("--qos: give a QOS name");
  o.reservation = f.get_or("--reservation", "");
  if (f.has("--reservation") && o.reservation.empty()) return make_error("--reservation: give a reservation name");
  if (auto sw = f.get("--switches")) {
    // Slurm's form: --switches=N@TIME, the wait before the limit relaxes.
    std::string count = *sw, wait;
    const size_t at = sw->find('@');
    if (at != std::string::npos) {
      count = sw->substr(0, at);
      wait = sw->substr(at + 1);
    }
    auto n = parse_count(count, limits::kMaxTasksPerJob);
    if (!n || *n == 0 || (at != std::string::npos && wait.empty()))  // "1@" promises a TIME
      return make_error("--switches: expected N or N@TIME with N >= 1, got '" + *sw + "'");
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
  return {};
}

// After apply_gpus: --cpus-per-task, or --cpus-per-gpu times the task's GPUs.
Status apply_cpus(const Flags& f, SubmitOptions& o) {
  if (f.has("--cpus-per-task") && f.has("--cpus-per-gpu"))
    return make_error("give --cpus-per-task or --cpus-per-gpu, not both (as in Slurm)");
  if (f.has("--cpus-per-task")) {
    auto c = count_flag(f, "--cpus-per-task");
    if (!c) return make_error(c.error());
    o.per_task.millicores = int64_t{*c} * 1000;
  }
  if (f.has("--cpus-per-gpu")) {
    auto c = count_flag(f, "--cpus-per-gpu");
    if (!c) return make_error(c.error());
    if (o.per_task.gpus == 0)
      return make_error("--cpus-per-gpu needs GPUs: give -G/--gpus, --gpus-per-node, --gpus-per-task or --gres too");
    const int64_t cpus = int64_t{*c} * o.per_task.gpus;
    if (cpus > kMaxCount) return make_error("--cpus-per-gpu " + std::to_string(*c) + " gives a task " + std::to_string(cpus) + " cpus, too many");
    o.per_task.millicores = cpus * 1000;
  }
  return {};
}

}  // namespace

Status apply_resource_flags(const Flags& f, SubmitOptions& o) {
  // GPUs depend on the shape, cpus on the GPUs (--cpus-per-gpu), memory on
  // the cpus and the GPUs (--mem-per-cpu, --mem-per-gpu).
  for (auto step : {apply_shape, apply_gpus, apply_cpus, apply_memory, apply_limits})
    if (Status s = step(f, o); !s) return s;
  return {};
}

}  // namespace cadre::cli
