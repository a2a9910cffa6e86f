#include "sim/usage_meter.hpp"

namespace cadre::sim {

UsageMeter::UsageMeter(const Workload& workload)
    : workload_(workload),
      held_(workload.pairs.size()),
      user_done_(workload.users.size(), 0),
      account_done_(workload.accounts.size(), 0) {}

void UsageMeter::touch(const SimJob& job) {
  fairshare_.touch(workload_.users[job.user], workload_.accounts[job.account]);
}

void UsageMeter::started(const SimJob& job) { held_[job.pair] += job.shape.total(); }

void UsageMeter::stopped(const SimJob& job) { held_[job.pair] -= job.shape.total(); }

void UsageMeter::accrue(int64_t now) {
  fairshare_.advance(now);
  const int64_t dt = last_ < 0 ? 0 : now - last_;
  last_ = now;
  if (dt <= 0) return;
  for (size_t p = 0; p < held_.size(); ++p) {
    if (held_[p].is_zero()) continue;
    const auto [user, account] = workload_.pairs[p];
    fairshare_.charge(workload_.users[user], workload_.accounts[account],
                      fairshare_.billing(held_[p]) * static_cast<double>(dt));
  }
}

void UsageMeter::refresh(sched::Snapshot& snap) {
  ++epoch_;
  for (const sched::PendingJob& p : snap.pending) {
    if (user_done_[p.user] != epoch_) {
      user_done_[p.user] = epoch_;
      snap.user_fairshare[p.user] = fairshare_.user_factor(workload_.users[p.user]);
    }
    if (account_done_[p.account] != epoch_) {
      account_done_[p.account] = epoch_;
      snap.account_fairshare[p.account] = fairshare_.account_factor(workload_.accounts[p.account]);
    }
  }
}

}  // namespace cadre::sim
