#include "sim/trace.hpp"

#include <algorithm>

namespace cadre::sim {

int64_t limit_from_run(int64_t run_s) {
  constexpr int64_t kHour = 3600;
  if (run_s <= kHour) return kHour;
  return (run_s + kHour - 1) / kHour * kHour;
}

void skip_row(Trace& trace, int64_t line, const std::string& why) {
  if (trace.skipped == 0) trace.first_problem = "line " + std::to_string(line) + ": " + why;
  ++trace.skipped;
}

void sort_by_submit(Trace& trace) {
  std::stable_sort(trace.jobs.begin(), trace.jobs.end(),
                   [](const TraceJob& a, const TraceJob& b) { return a.submit_s < b.submit_s; });
}

}  // namespace cadre::sim
