// Slurm-style host lists: "n[1-3,5],gpu[07-08],login" <-> the names they
// stand for. Used wherever cadre prints or reads a set of node names, as
// Slurm's SLURM_JOB_NODELIST and squeue do. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace cadre {

// Compresses names as Slurm does: names are grouped by the text before
// their trailing digits (groups in the order first seen), and each group's
// numbers, in input order, become ranges where consecutive:
// {"n1","n2","n3","gpu07","gpu08","login"} -> "n[1-3],gpu[07-08],login".
// Zero padding is kept ("gpu[07-08]"); a group of one name has no brackets.
std::string compress_hostlist(const std::vector<std::string>& names);

// The inverse: expands "n[1-3,5],a", "rack[1-2]-n[01-02]" (brackets anywhere
// in a name, several per name multiply out, left one slowest) in order.
// Errors for unbalanced brackets, bad or reversed ranges, empty names, and
// lists of more than kMaxHostlistNames names.
constexpr size_t kMaxHostlistNames = 1 << 20;
Result<std::vector<std::string>> expand_hostlist(std::string_view text);

}  // namespace cadre
