// Who may charge which account; see accounts.hpp.
#include "master/state/accounts.hpp"

#include <algorithm>
#include <cctype>

#include "common/limits.hpp"

namespace cadre {
namespace {

constexpr const char* kHowToJoin = "ask an admin to add you under [accounts] in cadre.toml";
// Names shown in one refusal; a big account's list is cut after these.
constexpr size_t kNamesShown = 10;

std::string list(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::string out;
  for (size_t i = 0; i < names.size() && i < kNamesShown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > kNamesShown) out += " and " + std::to_string(names.size() - kNamesShown) + " more";
  return out;
}

}  // namespace

AccountTable::AccountTable(Members accounts) : accounts_(std::move(accounts)) {
  for (auto& [account, users] : accounts_) {
    std::sort(users.begin(), users.end());
    users.erase(std::unique(users.begin(), users.end()), users.end());
    for (const std::string& user : users) of_user_[user].push_back(account);  // accounts_ is in name order
  }
}

Status AccountTable::may_charge(const std::string& user, const std::string& account, bool admin) const {
  if (account.empty() || account == user || admin) return {};
  auto it = accounts_.find(account);
  if (it == accounts_.end())
    return make_error("account " + account + " does not exist (yours: " + list(accounts_of(user)) + "); " +
                      kHowToJoin);
  if (std::binary_search(it->second.begin(), it->second.end(), user)) return {};
  return make_error("user " + user + " is not a member of account " + account + " (members: " + list(it->second) +
                    "); " + kHowToJoin);
}

std::vector<std::string> AccountTable::accounts_of(const std::string& user) const {
  std::vector<std::string> out{user};
  if (auto it = of_user_.find(user); it != of_user_.end())
    for (const std::string& account : it->second)
      if (account != user) out.push_back(account);
  return out;
}

Status may_set_priority(int32_t priority, bool admin) {
  if (admin || priority <= limits::kDefaultPriority) return {};
  return make_error("only admins may raise a job's priority above " + std::to_string(limits::kDefaultPriority) +
                    " (asked for " + std::to_string(priority) + "); leave --priority out, or ask an admin");
}

}  // namespace cadre
