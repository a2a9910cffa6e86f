#include "sim/metrics.hpp"

#include <algorithm>
#include <cmath>

namespace cadre::sim {
namespace {

uint32_t ceil_div(int64_t a, int64_t b) { return b <= 0 ? 0 : static_cast<uint32_t>((a + b - 1) / b); }

}  // namespace

uint32_t nodes_spanned(const sched::GangShape& shape, const Resources& largest_node) {
  if (shape.nodes > 0) return shape.nodes;
  const Resources total = shape.total();
  if (total.gpus > 0) return ceil_div(total.gpus, largest_node.gpus);
  return ceil_div(total.millicores, largest_node.millicores);
}

double nearest_rank(std::vector<int64_t>& values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  rank = std::clamp<size_t>(rank, 1, values.size());
  return static_cast<double>(values[rank - 1]);
}

Metrics summarize(const std::vector<JobOutcome>& jobs, double busy_unit_s, double capacity_units) {
  Metrics m;
  if (jobs.empty()) return m;
  std::vector<int64_t> waits;
  waits.reserve(jobs.size());
  double wait_sum = 0, slowdown_sum = 0, jct_sum = 0;
  int64_t first_submit = jobs.front().submit_s, last_end = jobs.front().end_s;
  for (const JobOutcome& j : jobs) {
    const int64_t wait = j.first_start_s - j.submit_s;
    waits.push_back(wait);
    wait_sum += static_cast<double>(wait);
    // Bounded slowdown (Feitelson): runs under 10 s count as 10 s, so a
    // short job that waited a little does not dominate the mean.
    const double bounded = static_cast<double>(wait + j.run_s) / static_cast<double>(std::max<int64_t>(j.run_s, 10));
    slowdown_sum += std::max(1.0, bounded);
    jct_sum += static_cast<double>(j.end_s - j.submit_s);
    first_submit = std::min(first_submit, j.submit_s);
    last_end = std::max(last_end, j.end_s);
    if (j.nodes_spanned >= kLargeJobNodes) m.max_wait_large_s = std::max(m.max_wait_large_s, static_cast<double>(wait));
  }
  const auto n = static_cast<double>(jobs.size());
  m.mean_wait_s = wait_sum / n;
  m.mean_bounded_slowdown = slowdown_sum / n;
  m.mean_jct_s = jct_sum / n;
  m.median_wait_s = nearest_rank(waits, 0.5);
  m.p99_wait_s = nearest_rank(waits, 0.99);
  m.makespan_s = static_cast<double>(last_end - first_submit);
  if (m.makespan_s > 0 && capacity_units > 0) m.utilization = busy_unit_s / (capacity_units * m.makespan_s);
  return m;
}

}  // namespace cadre::sim
