#include "master/scheduler/priority.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace cadre::sched {

ClusterTotals cluster_totals(const Snapshot& s) {
  ClusterTotals t;
  for (const NodeView& n : s.nodes) t.total += n.total;
  bool first = true;
  for (const PartitionView& p : s.partitions) {
    t.max_tier = first ? p.tier : std::max(t.max_tier, p.tier);
    t.min_tier = first ? p.tier : std::min(t.min_tier, p.tier);
    first = false;
  }
  return t;
}

namespace {

double ratio(int64_t part, int64_t whole) {
  if (whole <= 0 || part <= 0) return 0;
  return std::min(1.0, static_cast<double>(part) / static_cast<double>(whole));
}

}  // namespace

PriorityFactors priority_of(const PendingJob& job, const Snapshot& s, const ClusterTotals& totals,
                            const Weights& w, int64_t now) {
  PriorityFactors f;
  const int64_t waited = std::max<int64_t>(0, now - job.submit_time);
  f.age = w.max_age_s > 0 ? std::min(1.0, static_cast<double>(waited) / static_cast<double>(w.max_age_s)) : 0;
  // Size: the larger of the job's share of the cluster's GPUs and of its
  // cpus, so GPU jobs are measured by what is scarce.
  const Resources want = job.shape.total();
  f.size = std::max(ratio(want.gpus, totals.total.gpus), ratio(want.millicores, totals.total.millicores));
  const double user_fs = job.user < s.user_fairshare.size() ? s.user_fairshare[job.user] : 1.0;
  const double account_fs = job.account < s.account_fairshare.size() ? s.account_fairshare[job.account] : 1.0;
  f.fairshare = (user_fs + account_fs) / 2;
  f.job = job.priority;
  if (job.partition < s.partitions.size() && totals.max_tier > totals.min_tier)
    f.partition = static_cast<double>(s.partitions[job.partition].tier - totals.min_tier) /
                  static_cast<double>(totals.max_tier - totals.min_tier);
  if (job.qos > 0 && job.qos < s.qos.size()) f.qos = s.qos[job.qos].priority;
  f.total = w.age * f.age + w.size * f.size + w.fairshare * f.fairshare + w.job * f.job + w.partition * f.partition +
            w.qos * f.qos;
  return f;
}

std::string explain(const PriorityFactors& f, const Weights& w) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%.0f = age %.0f + size %.0f + fairshare %.0f + job %.0f + partition %.0f + qos %.0f",
                f.total, w.age * f.age, w.size * f.size, w.fairshare * f.fairshare, w.job * f.job,
                w.partition * f.partition, w.qos * f.qos);
  return buf;
}

}  // namespace cadre::sched
