// cadre-sim: replays a workload trace through the scheduler (sched::decide)
// on a simulated cluster and prints how each backfill policy fares.
#include <iostream>
#include <string>
#include <vector>

#include "common/bounded_file.hpp"
#include "common/flags.hpp"
#include "common/main_guard.hpp"
#include "common/resources.hpp"
#include "master/scheduler/decide.hpp"
#include "sim/engine.hpp"
#include "sim/report.hpp"
#include "sim/text.hpp"
#include "sim/trace_files.hpp"
#include "sim/workload.hpp"

namespace cadre::sim {
namespace {

constexpr const char* kUsage = R"(usage: cadre-sim --trace FILE [--format swf|openb|philly]
                 (--nodes N --cpus-per-node C [--gpus-per-node G] [--memory-per-node SIZE]
                  | --node-list FILE)
                 [--nodes-per-switch S] [--switches-per-rack R]
                 --policy fcfs,easy,conservative[,greedy] [--max-jobs N] [--json]

Replays a workload trace through cadre's scheduler on a simulated cluster,
once per policy, and prints utilization, waits, bounded slowdown, job
completion time and makespan for each.

  --trace FILE             the workload: a Standard Workload Format log (.swf),
                           Alibaba's openb pod list or the Philly job list (RFold's CSV)
  --format F               swf, openb or philly (default: from the file's name and header)
  --nodes N                a cluster of N identical nodes named n00001...
  --cpus-per-node C        cpus of each (required with --nodes)
  --gpus-per-node G        GPUs of each (default 0)
  --memory-per-node SIZE   memory of each, e.g. 256G (default 1T, so that traces
                           that ask memory fit)
  --node-list FILE         instead: openb_node_list_*.csv, or philly_machine_list.csv
                           (each Philly machine gets 4 cpus per GPU and no memory;
                           Philly jobs ask 1 cpu per GPU and no memory)
  --nodes-per-switch S     node i is on switch i/S (default: one switch for all)
  --switches-per-rack R    switch s is in rack s/R (default: one rack for all)
  --policy LIST            backfill policies to compare, comma-separated:
                           fcfs, easy, conservative, greedy
  --max-jobs N             replay only the first N jobs in submit order
  --json                   print {"jobs", "skipped", "policies": {...}} instead of a table

How traces are read:
  swf     each processor is a rank of 1 cpu placed anywhere; size = requested
          processors (field 8, else 5), run = field 4, limit = field 9 (else
          the run time); jobs that ran past their limit are cut to it.
  openb   each pod is one rank of cpu_milli, memory_mib and num_gpu whole GPUs
          (a GPU share takes a whole GPU), allowed models from gpu_spec;
          run = deletion_time - creation_time.
  philly  a job of shape "8+8" is a gang of size 1-GPU ranks, 8 on each of 2 nodes.
  openb and Philly record no time limit: the limit is the run time rounded up
  to the next whole hour (at least 1 hour). Jobs the cluster could never hold
  are skipped and counted.

examples:
  cadre-sim --trace KTH-SP2-1996-2.1-cln.swf --nodes 100 --cpus-per-node 1 \
            --policy fcfs,easy,conservative
  cadre-sim --trace openb_pod_list_default.csv --node-list openb_node_list_gpu_node.csv --policy easy --json
  cadre-sim --trace philly_jobs_rfold.csv --nodes 320 --cpus-per-node 32 --gpus-per-node 8 \
            --nodes-per-switch 16 --switches-per-rack 4 --policy easy,conservative
)";

struct Options {
  std::string trace;
  std::optional<TraceFormat> format;
  std::string node_list;
  UniformSpec uniform;
  uint32_t nodes_per_switch = 0;
  uint32_t switches_per_rack = 0;
  std::vector<std::pair<std::string, sched::Backfill>> policies;
  int64_t max_jobs = 0;
  bool json = false;
};

// A count flag, if given; `max` bounds it.
Status read_count(const Flags& f, const std::string& name, int64_t max, int64_t& out) {
  auto text = f.get(name);
  if (!text) return {};
  auto v = parse_count(*text, max);
  if (!v) return make_error(name + ": " + v.error());
  out = *v;
  return {};
}

Status read_cluster_flags(const Flags& f, Options& o) {
  const bool uniform = f.has("--nodes") || f.has("--cpus-per-node") || f.has("--gpus-per-node") ||
                       f.has("--memory-per-node");
  if (f.has("--node-list") && uniform)
    return make_error("give either --node-list or --nodes/--cpus-per-node/..., not both");
  if (f.has("--node-list")) {
    o.node_list = *f.get("--node-list");
    return check_regular_file(o.node_list, "--node-list");
  }
  if (!f.has("--nodes") || !f.has("--cpus-per-node"))
    return make_error("describe the cluster: --nodes N --cpus-per-node C, or --node-list FILE");
  o.uniform.memory_mb_per_node = 1024 * 1024;
  const std::pair<const char*, int64_t*> counts[] = {{"--nodes", &o.uniform.nodes},
                                                      {"--cpus-per-node", &o.uniform.cpus_per_node},
                                                      {"--gpus-per-node", &o.uniform.gpus_per_node}};
  for (auto [name, field] : counts)
    if (Status s = read_count(f, name, 10'000'000, *field); !s) return s;
  if (auto mem = f.get("--memory-per-node")) {
    auto v = parse_size_mb(*mem);
    if (!v) return make_error("--memory-per-node: " + v.error());
    o.uniform.memory_mb_per_node = *v;
  }
  return {};
}

Status read_options(const std::vector<std::string>& args, Options& o) {
  Flags f;
  f.value("--trace").value("--format").value("--nodes").value("--cpus-per-node").value("--gpus-per-node");
  f.value("--memory-per-node").value("--node-list").value("--nodes-per-switch").value("--switches-per-rack");
  f.value("--policy").value("--max-jobs").toggle("--json");
  if (Status s = f.parse(args); !s) return s;
  if (!f.has("--trace")) return make_error("--trace FILE is required");
  o.trace = *f.get("--trace");
  if (Status s = check_regular_file(o.trace, "--trace"); !s) return s;
  if (auto text = f.get("--format")) {
    TraceFormat fmt;
    if (!parse_trace_format(*text, fmt)) return make_error("--format: '" + *text + "' is not swf, openb or philly");
    o.format = fmt;
  }
  if (Status s = read_cluster_flags(f, o); !s) return s;
  int64_t per_switch = 0, per_rack = 0;
  if (Status s = read_count(f, "--nodes-per-switch", UINT32_MAX, per_switch); !s) return s;
  if (Status s = read_count(f, "--switches-per-rack", UINT32_MAX, per_rack); !s) return s;
  o.nodes_per_switch = static_cast<uint32_t>(per_switch);
  o.switches_per_rack = static_cast<uint32_t>(per_rack);
  if (Status s = read_count(f, "--max-jobs", INT64_MAX / 2, o.max_jobs); !s) return s;
  if (!f.has("--policy")) return make_error("--policy is required, e.g. --policy fcfs,easy,conservative");
  const std::string list = *f.get("--policy");
  for (std::string_view name : split(list, ',')) {
    sched::Backfill b;
    if (!sched::parse_backfill(name, b))
      return make_error("--policy: '" + std::string(name) + "' is not fcfs, easy, conservative or greedy");
    for (const auto& [seen, unused] : o.policies)
      if (seen == name) return make_error("--policy: '" + seen + "' is listed twice");
    o.policies.emplace_back(std::string(name), b);
  }
  o.json = f.has("--json");
  return {};
}

std::string describe(const Cluster& c) {
  Resources total;
  for (const sched::NodeView& n : c.nodes) total += n.total;
  return std::to_string(c.nodes.size()) + " nodes, " + format_cpus(total.millicores) + " cpus, " +
         std::to_string(total.gpus) + " GPUs, " + format_size_mb(total.memory_mb) + " memory";
}

int fail(const std::string& message, int status) { return print_error("cadre-sim", message, status); }

int run(const std::vector<std::string>& args) {
  for (const std::string& a : args)
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    }
  Options o;
  if (Status s = read_options(args, o); !s) return fail(s.error(), 2);

  Result<Cluster> cluster = o.node_list.empty() ? uniform_cluster(o.uniform) : load_node_list(o.node_list);
  if (!cluster) return fail(cluster.error(), o.node_list.empty() ? 2 : 1);
  apply_topology(*cluster, o.nodes_per_switch, o.switches_per_rack);

  if (!o.format) {
    auto detected = detect_trace_file(o.trace);
    if (!detected) return fail(detected.error(), 2);
    o.format = *detected;
  }
  auto trace = load_trace(o.trace, *o.format);
  if (!trace) return fail(trace.error(), 1);
  const Workload workload = prepare_workload(*trace, *cluster, o.max_jobs);

  RunSummary summary{o.trace, std::string(to_string(*o.format)), describe(*cluster),
                     static_cast<int64_t>(workload.jobs.size()), trace->skipped, workload.never_fit,
                     trace->capped, trace->first_problem.empty() ? workload.first_never_fit : trace->first_problem};
  std::vector<PolicyResult> results;
  for (const auto& [name, backfill] : o.policies) {
    sched::Policy policy;
    policy.backfill = backfill;
    results.push_back(PolicyResult{name, replay(*cluster, workload, policy)});
  }
  if (o.json) std::cout << to_json(summary, results).dump(2) << "\n";
  else print_table(std::cout, summary, results);
  return 0;
}

}  // namespace
}  // namespace cadre::sim

// An exception nothing in run() caught: one line and exit 1, never an abort.
int main(int argc, char** argv) {
  return cadre::guarded_main("cadre-sim", [&] { return cadre::sim::run(std::vector<std::string>(argv + 1, argv + argc)); });
}
