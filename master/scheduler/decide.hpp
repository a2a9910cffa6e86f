// decide(): the scheduling policy as a pure function of a snapshot.
// No I/O, no clock (the caller passes `now`), no globals: the same input
// always gives the same decisions, in the master, the simulator or a test.
//
// One pass: rank pending jobs (partition tier, then multifactor priority,
// then submit time and id); start each in turn when its whole gang fits
// without delaying any reservation; give the first jobs that cannot start a
// reservation at the earliest time their gang fits (EASY: one,
// conservative: every job up to reservation_depth); let a job of a higher
// tier preempt whole gangs of lower tiers when that lets it start now.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "master/scheduler/gang_placement.hpp"
#include "master/scheduler/priority.hpp"
#include "master/scheduler/snapshot.hpp"

namespace cadre::sched {

enum class Backfill {
  fcfs,          // strict order: nothing passes a job that cannot start
  greedy,        // anything that fits starts (no reservations; can starve big jobs)
  easy,          // the first blocked job holds a reservation; others backfill around it
  conservative,  // every blocked job (up to reservation_depth) holds a reservation
};
std::string_view to_string(Backfill b);
bool parse_backfill(std::string_view text, Backfill& out);

struct Policy {
  Backfill backfill = Backfill::easy;
  Weights weights;
  bool preemption = true;
  // Conservative backfill reserves for at most this many jobs per pass
  // (the rest may only start where they delay no reservation).
  uint32_t reservation_depth = 100;
  // Jobs without a time limit are planned as if they ran this long.
  int64_t unlimited_as_s = 365 * 86400;
};

struct Placement {
  JobId job = 0;
  GangPlacement gang;
};

// `preemptor` starts once `victims` (whole running gangs) have been
// stopped and requeued; until then it holds a reservation.
struct Preemption {
  JobId preemptor = 0;
  std::vector<JobId> victims;
};

struct Reservation {
  JobId job = 0;
  int64_t start_time = 0;
  std::vector<uint32_t> nodes;  // indices into Snapshot::nodes
};

enum class WaitReason {
  resources,        // not enough free resources now
  priority,         // would fit, but jobs ahead of it come first
  reservation,      // holds a reservation: starts by expected_start
  partition_limit,  // a per-user limit of its partition
  topology,         // fits only across more switches than --switches allows
  preempting,       // victims are being stopped to make room for it
  partition_down,   // its partition has no node that could ever hold it now
  qos_jobs_limit,   // its QOS's max_running_jobs_per_user
  qos_gpu_limit,    // its QOS's max_gpus_per_user
};
std::string_view to_string(WaitReason r);

struct Waiting {
  JobId job = 0;
  uint32_t pending = 0;        // its index in Snapshot::pending
  WaitReason reason = WaitReason::resources;
  int64_t expected_start = 0;  // 0: unknown
  PriorityFactors priority;    // what ranked it (for `cadre show`)
};

struct Decisions {
  std::vector<Placement> placements;
  std::vector<Preemption> preemptions;
  std::vector<Reservation> reservations;
  std::vector<Waiting> waiting;  // every pending job not placed, in rank order
};

Decisions decide(const Snapshot& snapshot, const Policy& policy, int64_t now);

}  // namespace cadre::sched
