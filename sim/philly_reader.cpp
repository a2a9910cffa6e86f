#include "sim/philly_reader.hpp"

#include <string>

#include "sim/csv_header.hpp"
#include "sim/text.hpp"

namespace cadre::sim {
namespace {

constexpr size_t kColumns = 6;
constexpr int64_t kCpusPerGpu = 4;

// Parses "8+8" into nodes and tasks_per_node; explains a bad shape.
std::string read_shape(std::string_view text, int64_t size, sched::GangShape& shape) {
  int64_t per_part = -1, parts = 0, sum = 0;
  for (std::string_view part : split(text, '+')) {
    auto v = parse_int(part);
    if (!v || *v <= 0) return "shape '" + std::string(text) + "' has a part that is not a positive integer";
    if (per_part != -1 && *v != per_part) return "shape '" + std::string(text) + "' has unequal parts";
    per_part = *v;
    ++parts;
    sum += *v;
  }
  if (sum != size) return "shape '" + std::string(text) + "' does not add up to size " + std::to_string(size);
  shape = sched::GangShape{Resources{1000, 0, 1}, static_cast<uint32_t>(parts), static_cast<uint32_t>(per_part),
                           static_cast<uint32_t>(size)};
  return "";
}

std::string read_job(const std::vector<std::string_view>& f, TraceJob& job) {
  auto arrival = parse_rounded(f[1]);
  if (!arrival || *arrival < 0) return "arrival time '" + std::string(f[1]) + "' is not a non-negative number";
  auto size = parse_int(f[4]);
  if (!size || *size <= 0 || *size > 1'000'000) return "size '" + std::string(f[4]) + "' is not a positive integer";
  auto duration = parse_rounded(f[5]);
  if (!duration || *duration < 0) return "duration '" + std::string(f[5]) + "' is not a non-negative number";
  if (std::string why = read_shape(f[3], *size, job.shape); !why.empty()) return why;
  job.submit_s = *arrival;
  job.run_s = *duration;
  job.limit_s = limit_from_run(job.run_s);
  return "";
}

}  // namespace

Result<Trace> read_philly_jobs(std::istream& in) {
  std::string line;
  if (!std::getline(in, line) || !trim(line).starts_with("#"))
    return make_error("not a Philly job list: the first line should be a header starting with '#'");
  Trace trace;
  int64_t number = 1;
  while (std::getline(in, line)) {
    ++number;
    if (trim(line).empty()) continue;
    auto f = split(line, ',');
    TraceJob job;
    std::string why = f.size() == kColumns ? read_job(f, job) : std::to_string(f.size()) + " columns, not 6";
    if (!why.empty()) {
      skip_row(trace, number, why);
      continue;
    }
    trace.jobs.push_back(std::move(job));
  }
  sort_by_submit(trace);
  return trace;
}

Result<Cluster> read_philly_machines(std::istream& in) {
  std::string line;
  if (!std::getline(in, line)) return make_error("the machine list is empty");
  auto h = CsvHeader::find(line, {"machineId", "number of GPUs", "single GPU mem"});
  if (!h) return make_error("not a Philly machine list: " + h.error());
  Cluster cluster;
  int64_t number = 1;
  while (std::getline(in, line)) {
    ++number;
    if (trim(line).empty()) continue;
    auto f = split(line, ',');
    const std::string where = "machine list line " + std::to_string(number) + ": ";
    if (f.size() != h->width()) return make_error(where + "expected " + std::to_string(h->width()) + " columns");
    auto gpus = parse_int(f[(*h)[1]]);
    if (f[(*h)[0]].empty() || !gpus || *gpus < 0 || *gpus > int64_t{sched::kMaxGpusPerNode})
      return make_error(where + "machineId must be set and the GPU count 0 to " +
                        std::to_string(sched::kMaxGpusPerNode));
    const uint32_t model = model_index(cluster, std::string(f[(*h)[2]]));
    cluster.nodes.push_back(
        idle_node(std::string(f[(*h)[0]]), Resources{*gpus * kCpusPerGpu * 1000, 0, *gpus}, model));
  }
  if (cluster.nodes.empty()) return make_error("the machine list has no machines");
  return cluster;
}

}  // namespace cadre::sim
