// Reservations: nodes an admin sets aside for a window of time, for some
// users and accounts (Slurm's scontrol create reservation). Jobs submitted
// with --reservation run inside one, on its nodes, within its window; any
// other job stays off its nodes unless it would end before the window
// opens. Pure functions over plain values; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace cadre {

struct Reservation {
  std::string name;
  std::vector<std::string> nodes;     // names, sorted
  int64_t start = 0;                  // unix seconds
  int64_t end = 0;                    // > start
  std::vector<std::string> users;     // who may run inside it; with accounts, at least one listed
  std::vector<std::string> accounts;  // jobs charged to these may run inside it

  bool operator==(const Reservation&) const = default;
};

using Reservations = std::map<std::string, Reservation>;

// At most this many reservations at once: each is checked per pass.
inline constexpr size_t kMaxReservations = 256;

// [A-Za-z0-9_.-]{1,64}, as partition names.
Status check_reservation_name(const std::string& name);

// The reservation's window meets [from, to).
inline bool overlaps(const Reservation& r, int64_t from, int64_t to) { return from < r.end && r.start < to; }

// What is wrong with `r` as a new reservation at `now` (names, window,
// who may use it), or among `existing` (a name taken, a node reserved
// twice for overlapping windows).
Status check_new_reservation(const Reservation& r, const Reservations& existing, int64_t now);

// Whether `user`, charging `account`, may run jobs inside `r` (admins always may).
Status may_use_reservation(const Reservation& r, const std::string& user, const std::string& account, bool admin);

}  // namespace cadre
