// Multifactor priority, as Slurm's priority/multifactor plugin computes it:
// a weighted sum of factors, each in [0, 1] except the job's own priority.
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "master/scheduler/snapshot.hpp"

namespace cadre::sched {

struct Weights {
  double age = 1000;            // grows linearly to its full weight at max_age_s
  int64_t max_age_s = 7 * 86400;
  double size = 1000;           // share of the cluster the job asks for (large first)
  double fairshare = 10000;     // 1 for no recent usage, 0.5 for an average user
  double job = 1000;            // per unit of the job's --priority
  double partition = 1000;      // the partition's tier relative to the highest
  double qos = 1000;            // the QOS's priority relative to the highest
};

struct PriorityFactors {
  double age = 0;
  double size = 0;
  double fairshare = 0;
  double job = 0;
  double partition = 0;
  double qos = 0;
  double total = 0;             // the weighted sum
};

// Cluster totals the size factor is relative to.
struct ClusterTotals {
  Resources total;
  int32_t max_tier = 0;
  int32_t min_tier = 0;
};

ClusterTotals cluster_totals(const Snapshot& s);

PriorityFactors priority_of(const PendingJob& job, const Snapshot& s, const ClusterTotals& totals,
                            const Weights& w, int64_t now);

// "12345 = age 500 + size 20 + fairshare 9800 + job 0 + partition 25 + qos 0"
std::string explain(const PriorityFactors& f, const Weights& w);

}  // namespace cadre::sched
