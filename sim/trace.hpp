// A workload trace as the simulator replays it: one TraceJob per usable
// job row, in submit order, plus counts of the rows that were left out.
// Every reader (SWF, openb, Philly) produces this. Value types; not
// synchronised.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "master/scheduler/snapshot.hpp"

namespace cadre::sim {

struct TraceJob {
  int64_t submit_s = 0;
  // What the job runs once started: the recorded run time, cut to the
  // limit when it ran past it (a real scheduler would have killed it).
  int64_t run_s = 0;
  // The time limit the scheduler plans with; always >= 1 so it is never
  // read as "no limit".
  int64_t limit_s = 1;
  sched::GangShape shape;
  std::vector<std::string> gpu_models;  // allowed GPU models by name; empty: any
  std::string user = "u";
  std::string account = "a";
};

struct Trace {
  std::vector<TraceJob> jobs;  // by submit time; rows of equal time in file order
  int64_t skipped = 0;         // job rows with unusable or malformed fields
  int64_t capped = 0;          // jobs that ran past their limit (run cut to it)
  std::string first_problem;   // why the first skipped row was skipped, with its line
};

// Traces that record no time limit (openb, Philly) get one derived from the
// run time: rounded up to the next whole hour, at least one hour, as users
// who ask for "a few hours" do. Backfill then plans with a plausible
// over-estimate instead of the exact run time.
int64_t limit_from_run(int64_t run_s);

// Notes a skipped row, keeping the first reason for the summary.
void skip_row(Trace& trace, int64_t line, const std::string& why);

// Stable sort by submit time (file order breaks ties).
void sort_by_submit(Trace& trace);

}  // namespace cadre::sim
