// UsageMeter: feeds the replay's running jobs into a sched::FairShare as
// simulated time passes, and writes the resulting factors into the
// snapshot for decide(). Not synchronised (owned by one replay).
#pragma once

#include <cstdint>
#include <vector>

#include "master/scheduler/fairshare.hpp"
#include "master/scheduler/snapshot.hpp"
#include "sim/workload.hpp"

namespace cadre::sim {

class UsageMeter {
 public:
  // FairShare's default half-life and GPU billing.
  explicit UsageMeter(const Workload& workload);

  void touch(const SimJob& job);    // the job's user and account take a share
  void started(const SimJob& job);  // its resources count from now on
  void stopped(const SimJob& job);

  // Decays usage to `now`, then charges what ran since the previous call.
  // Charged per event (not once at each job's end) so a long job weighs on
  // its user while it runs, as in Slurm; it stays cheap because what is
  // held is summed per (user, account) pair, and a trace has few pairs.
  void accrue(int64_t now);

  // Fair-share factors of the users and accounts that have pending jobs
  // (decide() reads no others).
  void refresh(sched::Snapshot& snap);

 private:
  const Workload& workload_;
  sched::FairShare fairshare_;
  std::vector<Resources> held_;  // per pair
  int64_t last_ = -1;
  uint64_t epoch_ = 0;
  std::vector<uint64_t> user_done_, account_done_;  // epoch of their last refresh
};

}  // namespace cadre::sim
