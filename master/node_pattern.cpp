// Node patterns of partitions: exact names, '*' and '?' globs, and Slurm
// host ranges; see node_pattern.hpp.
#include "master/node_pattern.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace cadre {
namespace {

constexpr auto npos = std::string_view::npos;

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Bracket numbers stay this short, so neither they nor the digits of a node
// name compared with them can overflow.
constexpr size_t kMaxRangeDigits = 9;

// One item inside brackets: "01-16" is {1, 16, 2}. Numbers print zero-padded
// to the width `lo` is written with, as in Slurm's hostlists ("08-10" is 08,
// 09, 10; "8-10" is 8, 9, 10).
struct RangeItem {
  int64_t lo = 0;
  int64_t hi = 0;
  size_t width = 0;

  bool matches(std::string_view digits) const {
    if (digits.size() < width || digits.size() > kMaxRangeDigits) return false;
    // Wider than `width` only when the number needs it: no extra leading zero.
    if (digits.size() > width && digits[0] == '0') return false;
    int64_t v = 0;
    for (char c : digits) v = v * 10 + (c - '0');
    return v >= lo && v <= hi;
  }
};

struct PatternToken {
  enum class Kind { literal, any_char, any_run, range };
  Kind kind = Kind::literal;
  char c = 0;                    // literal
  std::vector<RangeItem> items;  // range
};

std::string quoted(std::string_view s) { return std::string(1, '\'').append(s).append("'"); }

// The inside of brackets: "1-3,7".
Result<std::vector<RangeItem>> parse_ranges(std::string_view inside) {
  if (inside.empty()) return make_error("'[]' is empty");
  std::vector<RangeItem> items;
  for (size_t start = 0;;) {
    size_t comma = inside.find(',', start);
    std::string_view item = inside.substr(start, comma == npos ? npos : comma - start);
    size_t dash = item.find('-');
    std::string_view lo = item.substr(0, dash);
    std::string_view hi = dash == npos ? lo : item.substr(dash + 1);
    if (!all_digits(lo) || !all_digits(hi) || lo.size() > kMaxRangeDigits || hi.size() > kMaxRangeDigits)
      return make_error(quoted(item) + " in brackets is not a number or a range like 01-16");
    RangeItem r{0, 0, lo.size()};
    for (char c : lo) r.lo = r.lo * 10 + (c - '0');
    for (char c : hi) r.hi = r.hi * 10 + (c - '0');
    if (r.hi < r.lo) return make_error("the range " + quoted(item) + " runs backwards");
    items.push_back(r);
    if (comma == npos) return items;
    start = comma + 1;
  }
}

Result<std::vector<PatternToken>> parse_pattern(std::string_view pattern) {
  using Kind = PatternToken::Kind;
  if (pattern.empty()) return make_error("a node pattern cannot be empty");
  std::vector<PatternToken> tokens;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    const std::string at = " at position " + std::to_string(i + 1);
    if (c == '[') {
      size_t close = pattern.find_first_of("[]", i + 1);
      if (close == npos) return make_error("the '['" + at + " is never closed");
      if (pattern[close] == '[')
        return make_error("brackets cannot nest (second '[' at position " + std::to_string(close + 1) + ")");
      auto items = parse_ranges(pattern.substr(i + 1, close - i - 1));
      if (!items) return make_error(items.error());
      tokens.push_back({Kind::range, 0, std::move(*items)});
      i = close;
    } else if (c == ']') {
      return make_error("the ']'" + at + " has no '[' before it");
    } else if (c == ',') {
      // Slurm's "a[1-2],b3" is several patterns; here each is its own string.
      return make_error("',' outside brackets" + at + ": give each pattern as its own string");
    } else if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c))) {
      return make_error("whitespace or a control character" + at);
    } else if (c == '*') {
      if (tokens.empty() || tokens.back().kind != Kind::any_run) tokens.push_back({Kind::any_run, 0, {}});
    } else {
      tokens.push_back({c == '?' ? Kind::any_char : Kind::literal, c, {}});
    }
  }
  return tokens;
}

// Memoised over (token, position) so that several '*' and ranges in one
// pattern stay linear in practice instead of backtracking exponentially.
class Matcher {
 public:
  Matcher(const std::vector<PatternToken>& tokens, std::string_view node)
      : tokens_(tokens), node_(node), memo_((tokens.size() + 1) * (node.size() + 1), -1) {}

  bool match(size_t t, size_t pos) {
    if (t == tokens_.size()) return pos == node_.size();
    int8_t& m = memo_[t * (node_.size() + 1) + pos];
    if (m < 0) m = compute(t, pos) ? 1 : 0;
    return m == 1;
  }

 private:
  bool compute(size_t t, size_t pos) {
    using Kind = PatternToken::Kind;
    const PatternToken& tok = tokens_[t];
    const bool more = pos < node_.size();
    switch (tok.kind) {
      case Kind::literal:
        return more && node_[pos] == tok.c && match(t + 1, pos + 1);
      case Kind::any_char:
        return more && match(t + 1, pos + 1);
      case Kind::any_run:
        return match(t + 1, pos) || (more && match(t, pos + 1));
      case Kind::range:
        for (size_t end = pos + 1; end <= node_.size() && end - pos <= kMaxRangeDigits; ++end) {
          if (!all_digits(node_.substr(end - 1, 1))) break;
          std::string_view digits = node_.substr(pos, end - pos);
          bool in_range =
              std::any_of(tok.items.begin(), tok.items.end(), [&](const RangeItem& r) { return r.matches(digits); });
          if (in_range && match(t + 1, end)) return true;
        }
        return false;
    }
    return false;
  }

  const std::vector<PatternToken>& tokens_;
  std::string_view node_;
  std::vector<int8_t> memo_;
};

}  // namespace

bool node_matches(std::string_view pattern, std::string_view node) {
  auto tokens = parse_pattern(pattern);
  return tokens && Matcher(*tokens, node).match(0, 0);
}

Status check_node_pattern(std::string_view pattern) {
  auto tokens = parse_pattern(pattern);
  if (!tokens) return make_error(tokens.error());
  return {};
}

}  // namespace cadre
