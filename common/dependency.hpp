// Job dependencies (`--dependency`, sbatch's meaning): after, afterany,
// afterok, afternotok with ':'-separated job ids (an array's id, or one
// task "12_7"), after's "+MINUTES", singleton; items joined by ',' (all
// must hold) or '?' (any one). Parsing and the canonical text only; the
// master decides whether one holds (master/state/dependencies.hpp). Pure;
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace cadre {

enum class DepKind { after, afterany, afterok, afternotok, singleton };

struct DepTarget {
  uint64_t job = 0;
  int64_t task = -1;        // an array task's index; -1: the whole job (or array)
  int64_t delay_min = 0;    // after's +MINUTES
  bool operator==(const DepTarget&) const = default;
};

struct DepItem {
  DepKind kind = DepKind::afterany;
  std::vector<DepTarget> targets;  // empty for singleton
  bool operator==(const DepItem&) const = default;
};

struct DependencySpec {
  bool any = false;  // joined by '?': one item suffices; else all must hold
  std::vector<DepItem> items;
  bool operator==(const DependencySpec&) const = default;
};

inline constexpr size_t kMaxDependencyBytes = 1024;
inline constexpr size_t kMaxDependencyTargets = 128;

// Errors name what is wrong and how to write it.
Result<DependencySpec> parse_dependency(std::string_view text);
// "afterok:12:13_2,singleton": what parse_dependency reads back.
std::string format_dependency(const DependencySpec& spec);
std::string_view to_string(DepKind kind);

}  // namespace cadre
