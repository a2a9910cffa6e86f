// Prints the results of a run: a table for people, or JSON for scripts.
// Pure formatting; thread-safe.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/metrics.hpp"

namespace cadre::sim {

struct RunSummary {
  std::string trace;          // path
  std::string format;         // "swf", ...
  std::string cluster;        // "100 nodes, 100 cpus, 0 GPUs"
  int64_t jobs = 0;           // replayed
  int64_t unusable = 0;       // trace rows skipped by the reader
  int64_t never_fit = 0;      // jobs skipped because the cluster can never hold them
  int64_t capped = 0;         // ran past their limit
  std::string first_problem;  // why the first row or job was skipped
  int64_t skipped() const { return unusable + never_fit; }
};

struct PolicyResult {
  std::string policy;  // "easy"
  Metrics metrics;
};

void print_table(std::ostream& out, const RunSummary& run, const std::vector<PolicyResult>& results);

// {"jobs": N, "skipped": N, "policies": {"easy": {"utilization": ..., ...}}}
nlohmann::ordered_json to_json(const RunSummary& run, const std::vector<PolicyResult>& results);

}  // namespace cadre::sim
