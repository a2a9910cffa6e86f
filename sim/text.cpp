#include "sim/text.hpp"

#include <charconv>
#include <cmath>

namespace cadre::sim {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  size_t from = 0;
  while (true) {
    size_t at = line.find(sep, from);
    if (at == std::string_view::npos) {
      out.push_back(trim(line.substr(from)));
      return out;
    }
    out.push_back(trim(line.substr(from, at - from)));
    from = at + 1;
  }
}

std::vector<std::string_view> split_blanks(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_blank(line[i])) ++i;
    size_t start = i;
    while (i < line.size() && !is_blank(line[i])) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<int64_t> parse_rounded(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  // A thousand years of seconds is far beyond any trace; beyond it the
  // value is garbage (and might not fit int64 exactly).
  if (!std::isfinite(v) || std::fabs(v) > 3.2e10) return std::nullopt;
  return static_cast<int64_t>(std::llround(v));
}

}  // namespace cadre::sim
