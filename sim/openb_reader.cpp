#include "sim/openb_reader.hpp"

#include <string>

#include "sim/csv_header.hpp"
#include "sim/text.hpp"

namespace cadre::sim {
namespace {

enum PodColumn { kCpu, kMemory, kGpus, kGpuMilli, kGpuSpec, kCreated, kDeleted };

// A non-negative integer field, or an explanation in `why`.
std::optional<int64_t> count_field(std::string_view text, const char* name, std::string& why) {
  auto v = parse_int(text);
  if (!v || *v < 0) {
    why = std::string(name) + " '" + std::string(text) + "' is not a non-negative integer";
    return std::nullopt;
  }
  return v;
}

std::string read_pod(const std::vector<std::string_view>& f, const CsvHeader& h, TraceJob& job) {
  std::string why;
  auto cpu = count_field(f[h[kCpu]], "cpu_milli", why);
  auto mem = cpu ? count_field(f[h[kMemory]], "memory_mib", why) : std::nullopt;
  auto gpus = mem ? count_field(f[h[kGpus]], "num_gpu", why) : std::nullopt;
  auto created = gpus ? count_field(f[h[kCreated]], "creation_time", why) : std::nullopt;
  if (!created) return why;
  if (f[h[kDeleted]].empty()) return "no deletion_time";
  auto deleted = count_field(f[h[kDeleted]], "deletion_time", why);
  if (!deleted) return why;
  if (*deleted < *created) return "deletion_time before creation_time";
  // An empty gpu_milli is read as 0; a share of a GPU still takes a whole one.
  auto milli = f[h[kGpuMilli]].empty() ? std::optional<int64_t>(0) : parse_int(f[h[kGpuMilli]]);
  int64_t whole = *gpus;
  if (whole == 0 && milli && *milli > 0) whole = 1;

  job.submit_s = *created;
  job.run_s = *deleted - *created;
  job.limit_s = limit_from_run(job.run_s);
  job.shape = sched::GangShape{Resources{*cpu, *mem, whole}, 0, 0, 1};
  if (!f[h[kGpuSpec]].empty())
    for (std::string_view model : split(f[h[kGpuSpec]], '|'))
      if (!model.empty()) job.gpu_models.emplace_back(model);
  return "";
}

}  // namespace

Result<Trace> read_openb_pods(std::istream& in) {
  std::string line;
  if (!std::getline(in, line)) return make_error("the pod list is empty");
  auto header = CsvHeader::find(line, {"cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "gpu_spec",
                                       "creation_time", "deletion_time"});
  if (!header) return make_error("not an openb pod list: " + header.error());
  Trace trace;
  int64_t number = 1;
  while (std::getline(in, line)) {
    ++number;
    if (trim(line).empty()) continue;
    auto fields = split(line, ',');
    if (fields.size() != header->width()) {
      skip_row(trace, number, std::to_string(fields.size()) + " columns, the header has " +
                                  std::to_string(header->width()));
      continue;
    }
    TraceJob job;
    if (std::string why = read_pod(fields, *header, job); !why.empty()) {
      skip_row(trace, number, why);
      continue;
    }
    trace.jobs.push_back(std::move(job));
  }
  sort_by_submit(trace);
  return trace;
}

Result<Cluster> read_openb_nodes(std::istream& in) {
  std::string line;
  if (!std::getline(in, line)) return make_error("the node list is empty");
  auto h = CsvHeader::find(line, {"sn", "cpu_milli", "memory_mib", "gpu", "model"});
  if (!h) return make_error("not an openb node list: " + h.error());
  Cluster cluster;
  int64_t number = 1;
  while (std::getline(in, line)) {
    ++number;
    if (trim(line).empty()) continue;
    auto f = split(line, ',');
    const std::string where = "node list line " + std::to_string(number) + ": ";
    if (f.size() != h->width()) return make_error(where + "expected " + std::to_string(h->width()) + " columns");
    auto cpu = parse_int(f[(*h)[1]]);
    auto mem = parse_int(f[(*h)[2]]);
    auto gpus = parse_int(f[(*h)[3]]);
    if (f[(*h)[0]].empty() || !cpu || *cpu < 0 || !mem || *mem < 0 || !gpus || *gpus < 0)
      return make_error(where + "sn must be set and cpu_milli, memory_mib, gpu non-negative integers");
    if (*gpus > int64_t{sched::kMaxGpusPerNode})
      return make_error(where + "more than " + std::to_string(sched::kMaxGpusPerNode) + " GPUs");
    const uint32_t model = model_index(cluster, std::string(f[(*h)[4]]));
    cluster.nodes.push_back(idle_node(std::string(f[(*h)[0]]), Resources{*cpu, *mem, *gpus}, model));
  }
  if (cluster.nodes.empty()) return make_error("the node list has no nodes");
  return cluster;
}

}  // namespace cadre::sim
