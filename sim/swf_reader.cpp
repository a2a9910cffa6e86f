#include "sim/swf_reader.hpp"

#include <array>
#include <cstdint>
#include <string>

#include "sim/text.hpp"

namespace cadre::sim {
namespace {

constexpr size_t kFields = 18;
// 1-based field numbers, as the archive documents them.
constexpr size_t kSubmit = 2, kRun = 4, kAllocated = 5, kRequested = 8, kLimit = 9, kUser = 12, kGroup = 13;

// Fills `job` from one row, or says why the row is unusable.
std::string read_row(const std::array<int64_t, kFields + 1>& f, TraceJob& job, bool& capped) {
  const int64_t size = f[kRequested] != -1 ? f[kRequested] : f[kAllocated];
  if (size <= 0) return "size " + std::to_string(size);
  if (size > int64_t{UINT32_MAX}) return "size " + std::to_string(size) + " is too large";
  if (f[kRun] < 0) return "run time " + std::to_string(f[kRun]);
  if (f[kSubmit] < 0) return "submit time " + std::to_string(f[kSubmit]);
  job.submit_s = f[kSubmit];
  job.run_s = f[kRun];
  // A limit of -1 (unknown) or 0 (nonsense) falls back to the run time.
  job.limit_s = f[kLimit] > 0 ? f[kLimit] : f[kRun];
  if (job.limit_s < 1) job.limit_s = 1;
  capped = job.run_s > job.limit_s;
  if (capped) job.run_s = job.limit_s;
  job.shape = sched::GangShape{Resources{1000, 0, 0}, 0, 0, static_cast<uint32_t>(size)};
  job.user = std::to_string(f[kUser]);
  job.account = std::to_string(f[kGroup]);
  return "";
}

}  // namespace

Trace read_swf(std::istream& in) {
  Trace trace;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string_view text = trim(line);
    if (text.empty() || text.front() == ';') continue;
    auto words = split_blanks(text);
    if (words.size() < kFields) {
      skip_row(trace, number, std::to_string(words.size()) + " fields, not 18");
      continue;
    }
    std::array<int64_t, kFields + 1> f{};
    std::string bad;
    for (size_t i = 0; i < kFields && bad.empty(); ++i) {
      auto v = parse_int(words[i]);
      if (!v) bad = "field " + std::to_string(i + 1) + " '" + std::string(words[i]) + "' is not an integer";
      else f[i + 1] = *v;
    }
    TraceJob job;
    bool capped = false;
    if (bad.empty()) bad = read_row(f, job, capped);
    if (!bad.empty()) {
      skip_row(trace, number, bad);
      continue;
    }
    if (capped) ++trace.capped;
    trace.jobs.push_back(std::move(job));
  }
  sort_by_submit(trace);
  return trace;
}

}  // namespace cadre::sim
