#include "master/scheduler/fairshare.hpp"

#include <cmath>

namespace cadre::sched {

double FairShare::billing(const Resources& r) const {
  return static_cast<double>(r.millicores) / 1000.0 + gpu_billing_ * static_cast<double>(r.gpus);
}

void FairShare::advance(int64_t now) {
  if (!started_) {
    started_ = true;
    as_of_ = now;
    return;
  }
  if (now <= as_of_) return;
  if (half_life_s_ > 0) {
    const double k = std::exp2(-static_cast<double>(now - as_of_) / static_cast<double>(half_life_s_));
    for (auto& [name, u] : users_) u *= k;
    for (auto& [name, u] : accounts_) u *= k;
    users_total_ *= k;
    accounts_total_ *= k;
  }
  as_of_ = now;
}

void FairShare::charge(const std::string& user, const std::string& account, double amount) {
  if (!(amount > 0)) amount = 0;
  users_[user] += amount;
  accounts_[account] += amount;
  users_total_ += amount;
  accounts_total_ += amount;
}

void FairShare::touch(const std::string& user, const std::string& account) {
  users_.try_emplace(user, 0.0);
  accounts_.try_emplace(account, 0.0);
}

double FairShare::factor(const std::map<std::string, double>& usage, double total, const std::string& name) {
  auto it = usage.find(name);
  if (it == usage.end() || total <= 0 || usage.empty()) return 1.0;
  const double usage_share = it->second / total;
  const double fair_share = 1.0 / static_cast<double>(usage.size());
  return std::exp2(-usage_share / fair_share);
}

double FairShare::user_factor(const std::string& user) const { return factor(users_, users_total_, user); }
double FairShare::account_factor(const std::string& account) const {
  return factor(accounts_, accounts_total_, account);
}

double FairShare::user_usage(const std::string& user) const {
  auto it = users_.find(user);
  return it == users_.end() ? 0.0 : it->second;
}

double FairShare::account_usage(const std::string& account) const {
  auto it = accounts_.find(account);
  return it == accounts_.end() ? 0.0 : it->second;
}

void FairShare::restore(std::map<std::string, double> users, std::map<std::string, double> accounts,
                        int64_t as_of) {
  users_ = std::move(users);
  accounts_ = std::move(accounts);
  users_total_ = 0;
  accounts_total_ = 0;
  for (auto& [n, u] : users_) users_total_ += u;
  for (auto& [n, u] : accounts_) accounts_total_ += u;
  as_of_ = as_of;
  started_ = true;
}

}  // namespace cadre::sched
