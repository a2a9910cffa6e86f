// Small text helpers the trace and node-list readers share: splitting a
// line into fields and reading numbers without locale or exceptions.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace cadre::sim {

// Without leading and trailing blanks (spaces, tabs, '\r').
std::string_view trim(std::string_view s);

// Fields separated by `sep`, each trimmed; "a,,b" has an empty middle field.
std::vector<std::string_view> split(std::string_view line, char sep);

// Fields separated by runs of blanks (SWF's layout).
std::vector<std::string_view> split_blanks(std::string_view line);

// A whole decimal integer ("-1", "42"); nullopt for anything else.
std::optional<int64_t> parse_int(std::string_view s);

// A decimal number ("12", "266563.0", "1e3") rounded to the nearest whole
// number; nullopt for anything else, or for a value too large for seconds.
std::optional<int64_t> parse_rounded(std::string_view s);

}  // namespace cadre::sim
