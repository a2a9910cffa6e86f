// libFuzzer target for the quantity parsers in common/resources: the input
// is one string given to parse_size_mb, parse_duration_s and parse_count.
// None may crash or throw, and what they accept must obey their contracts:
// no negative results, counts within their maximum, and the formatters'
// output parsing back to the same value. A violation traps.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "common/resources.hpp"

namespace {

void check_size(std::string_view text) {
  auto mb = cadre::parse_size_mb(text);
  if (!mb) return;
  if (*mb < 0) __builtin_trap();
  auto again = cadre::parse_size_mb(cadre::format_size_mb(*mb));
  if (!again || *again != *mb) __builtin_trap();
}

void check_duration(std::string_view text) {
  auto s = cadre::parse_duration_s(text);
  if (!s) return;
  if (*s < 0) __builtin_trap();
  auto again = cadre::parse_duration_s(cadre::format_duration_s(*s));
  if (!again || *again != *s) __builtin_trap();
}

// True when text is decimal digits, optionally after a '-' that only a zero
// may carry ("-0": std::from_chars reads it, and it is not negative).
bool is_count_text(std::string_view text, int64_t value) {
  if (text.starts_with('-')) {
    if (value != 0) return false;
    text.remove_prefix(1);
  }
  if (text.empty()) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  return true;
}

void check_count(std::string_view text) {
  constexpr int64_t kMaxima[] = {0, 1, 59, 3600, 100000, 1000000000, std::numeric_limits<int64_t>::max()};
  for (int64_t max : kMaxima) {
    auto n = cadre::parse_count(text, max);
    if (!n) continue;
    if (*n < 0 || *n > max || !is_count_text(text, *n)) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_size(text);
  check_duration(text);
  check_count(text);
  return 0;
}
