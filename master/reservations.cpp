#include "master/reservations.hpp"

#include <algorithm>
#include <cctype>

#include "common/job_validation.hpp"
#include "common/resources.hpp"

namespace cadre {
namespace {

std::string listed(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ",") + n;
  return out.empty() ? "none" : out;
}

}  // namespace

Status check_reservation_name(const std::string& name) {
  auto allowed = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'; };
  if (name.empty() || name.size() > 64 || !std::all_of(name.begin(), name.end(), allowed))
    return make_error("'" + name + "' is not a usable reservation name (1 to 64 letters, digits, '_', '.' or '-')");
  return {};
}

Status check_new_reservation(const Reservation& r, const Reservations& existing, int64_t now) {
  if (Status s = check_reservation_name(r.name); !s) return s;
  if (existing.count(r.name)) return make_error("a reservation named " + r.name + " already exists");
  if (existing.size() >= kMaxReservations)
    return make_error("there are already " + std::to_string(existing.size()) + " reservations, the most allowed");
  if (r.nodes.empty()) return make_error("a reservation needs nodes: give --nodes or --node-count");
  if (r.end <= r.start) return make_error("a reservation must end after it starts: give a --duration or a later --end");
  if (r.end <= now) return make_error("the reservation would end before now: give a later --end");
  if (r.users.empty() && r.accounts.empty())
    return make_error("say who may use the reservation: --users or --accounts (as scontrol's Users= or Accounts=)");
  for (const std::string& u : r.users)
    if (Status s = check_account_name(u, "user"); !s) return s;
  for (const std::string& a : r.accounts)
    if (Status s = check_account_name(a, "account"); !s) return s;
  for (const auto& [name, other] : existing) {
    if (!overlaps(other, r.start, r.end)) continue;
    for (const std::string& n : r.nodes)
      if (std::binary_search(other.nodes.begin(), other.nodes.end(), n))
        return make_error("node " + n + " is already in reservation " + name + " for an overlapping time");
  }
  return {};
}

Status may_use_reservation(const Reservation& r, const std::string& user, const std::string& account, bool admin) {
  if (admin) return {};
  if (std::find(r.users.begin(), r.users.end(), user) != r.users.end()) return {};
  if (std::find(r.accounts.begin(), r.accounts.end(), account) != r.accounts.end()) return {};
  return make_error("user " + user + " (account " + account + ") may not use reservation " + r.name +
                    " (users: " + listed(r.users) + "; accounts: " + listed(r.accounts) + ")");
}

}  // namespace cadre
