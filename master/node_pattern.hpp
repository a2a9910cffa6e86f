// Node patterns, as partitions name their nodes. Pure; thread-safe.
#pragma once

#include <string_view>

#include "common/result.hpp"

namespace cadre {

// Node pattern matching: exact name, shell-style '*' and '?' globs, and Slurm
// host ranges like "gpu[01-16]" or "n[1-3,7]" (zero padding preserved:
// "gpu[01-16]" matches gpu07, not gpu7). An invalid pattern matches nothing.
bool node_matches(std::string_view pattern, std::string_view node);

// Why `pattern` is not a valid node pattern (brackets unbalanced, a range
// that is not numbers or runs backwards, whitespace or a ',' outside
// brackets); success when it is valid.
Status check_node_pattern(std::string_view pattern);

}  // namespace cadre
