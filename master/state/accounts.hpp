// AccountTable: which accounts a user may charge a job to (JobSpec.account),
// from [accounts] in cadre.toml; Slurm's associations without the tree.
// Every user has an account of their own name (the default); an account
// listed in [accounts] is open to its members; admins (root or [security]
// admin_group) may charge any account. Also may_set_priority: only admins
// raise a job above the default priority.
// Immutable once built: safe to read from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace cadre {

class AccountTable {
 public:
  using Members = std::map<std::string, std::vector<std::string>>;  // account -> its users

  AccountTable() = default;
  explicit AccountTable(Members accounts);

  // Whether `user` may charge `account` ("" is the user's own). Refusals
  // say why and what to do: "user alice is not a member of account physics
  // (members: bob); ask an admin to add you under [accounts] in cadre.toml".
  Status may_charge(const std::string& user, const std::string& account, bool admin) const;

  // The accounts `user` may charge without being an admin: their own
  // name first, then the listed accounts they belong to, by name.
  std::vector<std::string> accounts_of(const std::string& user) const;

  const Members& members() const { return accounts_; }

 private:
  Members accounts_;
  std::map<std::string, std::vector<std::string>> of_user_;  // user -> listed accounts, by name
};

// Users may lower their job's priority; only admins raise it above
// limits::kDefaultPriority.
Status may_set_priority(int32_t priority, bool admin);

}  // namespace cadre
