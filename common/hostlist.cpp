#include "common/hostlist.hpp"

#include <charconv>
#include <map>

namespace cadre {
namespace {

// Longest numbers treated as numbers; longer digit runs stay text.
constexpr size_t kMaxDigits = 18;

std::string pad(uint64_t n, size_t width) {
  std::string s = std::to_string(n);
  if (s.size() < width) s.insert(0, width - s.size(), '0');
  return s;
}

// A run of consecutive numbers, written with the first one's width.
struct Range {
  uint64_t first = 0;
  uint64_t last = 0;
  size_t width = 0;
};

struct Group {
  std::string prefix;
  std::vector<Range> ranges;  // empty: a name without trailing digits
};

std::string format_group(const Group& g) {
  if (g.ranges.empty()) return g.prefix;
  std::string body;
  for (const Range& r : g.ranges) {
    if (!body.empty()) body += ',';
    body += pad(r.first, r.width);
    if (r.last != r.first) body += "-" + pad(r.last, r.width);
  }
  bool single = g.ranges.size() == 1 && g.ranges[0].first == g.ranges[0].last;
  return single ? g.prefix + body : g.prefix + "[" + body + "]";
}

Result<std::vector<std::string>> expand_brackets(std::string_view body) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= body.size()) {
    size_t comma = body.find(',', start);
    std::string_view item = body.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    std::string_view lo = item, hi = item;
    if (auto dash = item.find('-'); dash != std::string_view::npos) {
      lo = item.substr(0, dash);
      hi = item.substr(dash + 1);
    }
    auto digits = [](std::string_view s) {
      return !s.empty() && s.size() <= kMaxDigits && s.find_first_not_of("0123456789") == std::string_view::npos;
    };
    if (!digits(lo) || !digits(hi))
      return make_error("bad range '" + std::string(item) + "': use N, N-M or a list of them, e.g. [1-3,5]");
    uint64_t a = 0, b = 0;
    std::from_chars(lo.data(), lo.data() + lo.size(), a);
    std::from_chars(hi.data(), hi.data() + hi.size(), b);
    if (a > b) return make_error("bad range '" + std::string(item) + "': the first number is larger");
    if (b - a >= kMaxHostlistNames) return make_error("range '" + std::string(item) + "' is too long");
    for (uint64_t n = a; n <= b; ++n) out.push_back(pad(n, lo.size()));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

// One name with zero or more bracket groups: "rack[1-2]-n[1-3]".
Status expand_name(std::string_view name, std::vector<std::string>& out) {
  if (name.empty()) return make_error("empty name");
  std::vector<std::string> partial{""};
  size_t i = 0;
  while (i < name.size()) {
    size_t open = name.find_first_of("[]", i);
    std::string_view text = name.substr(i, open == std::string_view::npos ? std::string_view::npos : open - i);
    for (auto& p : partial) p.append(text);
    if (open == std::string_view::npos) break;
    if (name[open] == ']') return make_error("unbalanced ']' in '" + std::string(name) + "'");
    size_t close = name.find_first_of("[]", open + 1);
    if (close == std::string_view::npos || name[close] != ']')
      return make_error("unbalanced '[' in '" + std::string(name) + "'");
    auto values = expand_brackets(name.substr(open + 1, close - open - 1));
    if (!values) return make_error(values.error() + " in '" + std::string(name) + "'");
    if (partial.size() * values->size() + out.size() > kMaxHostlistNames)
      return make_error("more than " + std::to_string(kMaxHostlistNames) + " names");
    std::vector<std::string> next;
    next.reserve(partial.size() * values->size());
    for (const auto& p : partial)
      for (const auto& v : *values) next.push_back(p + v);
    partial = std::move(next);
    i = close + 1;
  }
  out.insert(out.end(), partial.begin(), partial.end());
  return {};
}

}  // namespace

std::string compress_hostlist(const std::vector<std::string>& names) {
  std::vector<Group> groups;
  std::map<std::string, size_t> index;  // prefix -> its group
  for (const std::string& name : names) {
    size_t digits = name.size();
    while (digits > 0 && name[digits - 1] >= '0' && name[digits - 1] <= '9') --digits;
    size_t count = name.size() - digits;
    if (count == 0 || count > kMaxDigits) {
      groups.push_back(Group{name, {}});  // kept as written, once per occurrence
      continue;
    }
    std::string prefix = name.substr(0, digits);
    uint64_t n = 0;
    std::from_chars(name.data() + digits, name.data() + name.size(), n);
    auto [it, added] = index.try_emplace(prefix, groups.size());
    if (added) groups.push_back(Group{prefix, {}});
    auto& ranges = groups[it->second].ranges;
    bool extends = !ranges.empty() && ranges.back().last + 1 == n && pad(n, ranges.back().width) == name.substr(digits);
    if (extends) ranges.back().last = n;
    else ranges.push_back(Range{n, n, count});
  }
  std::string out;
  for (const Group& g : groups) {
    if (!out.empty()) out += ',';
    out += format_group(g);
  }
  return out;
}

Result<std::vector<std::string>> expand_hostlist(std::string_view text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  size_t start = 0, depth = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    char c = i < text.size() ? text[i] : ',';
    if (c == '[') ++depth;
    else if (c == ']' && depth > 0) --depth;
    if (c != ',' || (depth > 0 && i < text.size())) continue;
    if (Status s = expand_name(text.substr(start, i - start), out); !s)
      return make_error("invalid host list '" + std::string(text) + "': " + s.error());
    start = i + 1;
  }
  return out;
}

}  // namespace cadre
