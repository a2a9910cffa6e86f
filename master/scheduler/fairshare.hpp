// FairShare: decayed usage per user and per account, and the fair-share
// factor the priority is made of.
//
// Usage is charged in billing units x seconds (a cpu-second is 1, a
// GPU-second `gpu_billing`), and halves every `half_life_s`, as with
// Slurm's PriorityDecayHalfLife. Every name holds an equal share; the
// factor is 2^(-usage_share / fair_share) (Slurm's classic formula): 1
// with no usage, 0.5 for exactly a fair share, near 0 for heavy users.
// A job's factor is the mean of its user's and its account's.
//
// Deterministic: time is passed in. Not synchronised.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/resources.hpp"

namespace cadre::sched {

class FairShare {
 public:
  explicit FairShare(int64_t half_life_s = 7 * 86400, double gpu_billing = 8.0)
      : half_life_s_(half_life_s), gpu_billing_(gpu_billing) {}

  // Billing units per second of `r` held.
  double billing(const Resources& r) const;
  // Decays everything to `now` (never backwards).
  void advance(int64_t now);
  // Adds `amount` (billing-seconds) at the current time.
  void charge(const std::string& user, const std::string& account, double amount);
  // Makes a name known (it takes a share) without usage.
  void touch(const std::string& user, const std::string& account);

  double user_factor(const std::string& user) const;
  double account_factor(const std::string& account) const;
  double user_usage(const std::string& user) const;
  double account_usage(const std::string& account) const;

  int64_t as_of() const { return as_of_; }
  int64_t half_life_s() const { return half_life_s_; }
  const std::map<std::string, double>& users() const { return users_; }
  const std::map<std::string, double>& accounts() const { return accounts_; }
  // Restores saved usage (already decayed to `as_of`).
  void restore(std::map<std::string, double> users, std::map<std::string, double> accounts, int64_t as_of);

 private:
  static double factor(const std::map<std::string, double>& usage, double total, const std::string& name);

  int64_t half_life_s_;
  double gpu_billing_;
  int64_t as_of_ = 0;
  bool started_ = false;
  std::map<std::string, double> users_;
  std::map<std::string, double> accounts_;
  double users_total_ = 0;
  double accounts_total_ = 0;
};

}  // namespace cadre::sched
