#include "sim/report.hpp"

#include <cstdio>

namespace cadre::sim {
namespace {

std::string format_row(const char* fmt, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

}  // namespace

void print_table(std::ostream& out, const RunSummary& run, const std::vector<PolicyResult>& results) {
  out << "trace " << run.trace << " (" << run.format << "): " << run.jobs << " jobs replayed, " << run.skipped()
      << " skipped (" << run.unusable << " unusable rows, " << run.never_fit << " never fit the cluster), "
      << run.capped << " capped at their limit\n";
  if (!run.first_problem.empty()) out << "first skipped: " << run.first_problem << "\n";
  out << "cluster: " << run.cluster << "\n";
  out << format_row("%-13s %6s %11s %11s %11s %9s %11s %11s %11s %8s %7s %9s %8s\n", "policy", "util",
                    "mean_wait", "median_wait", "p99_wait", "bsld", "mean_jct", "makespan", "wait_16n+",
                    "started", "preempt", "reserv", "replay");
  for (const PolicyResult& r : results) {
    const Metrics& m = r.metrics;
    out << format_row("%-13s %5.1f%% %10.0fs %10.0fs %10.0fs %9.2f %10.0fs %10.0fs %10.0fs %8lld %7lld %9lld %7.2fs\n",
                      r.policy.c_str(), 100 * m.utilization, m.mean_wait_s, m.median_wait_s, m.p99_wait_s,
                      m.mean_bounded_slowdown, m.mean_jct_s, m.makespan_s, m.max_wait_large_s,
                      static_cast<long long>(m.started), static_cast<long long>(m.preemptions),
                      static_cast<long long>(m.reservations), m.replay_s);
    if (m.unfinished > 0)
      out << "  " << r.policy << ": " << m.unfinished << " jobs never finished (left out of the figures)\n";
  }
}

nlohmann::ordered_json to_json(const RunSummary& run, const std::vector<PolicyResult>& results) {
  nlohmann::ordered_json policies = nlohmann::ordered_json::object();
  for (const PolicyResult& r : results) {
    const Metrics& m = r.metrics;
    policies[r.policy] = {
        {"utilization", m.utilization},
        {"mean_wait_s", m.mean_wait_s},
        {"median_wait_s", m.median_wait_s},
        {"p99_wait_s", m.p99_wait_s},
        {"mean_bounded_slowdown", m.mean_bounded_slowdown},
        {"mean_jct_s", m.mean_jct_s},
        {"makespan_s", m.makespan_s},
        {"max_wait_large_s", m.max_wait_large_s},
        {"replay_s", m.replay_s},
        {"preemptions", m.preemptions},
    };
  }
  return {{"jobs", run.jobs}, {"skipped", run.skipped()}, {"policies", policies}};
}

}  // namespace cadre::sim
