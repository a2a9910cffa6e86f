#include "common/job_array.hpp"

#include <algorithm>
#include <charconv>

namespace cadre {
namespace {

std::optional<uint64_t> read_number(std::string_view s) {
  if (s.empty() || s.size() > 12) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

// One "N", "N-M" or "N-M:S" element.
Result<IndexRange> parse_element(std::string_view e) {
  const std::string what = "'" + std::string(e) + "'";
  std::string_view body = e, step_text;
  if (auto colon = e.find(':'); colon != std::string_view::npos) {
    body = e.substr(0, colon);
    step_text = e.substr(colon + 1);
  }
  IndexRange r;
  auto dash = body.find('-');
  auto first = read_number(dash == std::string_view::npos ? body : body.substr(0, dash));
  auto last = dash == std::string_view::npos ? first : read_number(body.substr(dash + 1));
  if (!first || !last) return make_error(what + " is not an index or a range N-M[:STEP]");
  if (*last > kMaxArrayIndex)
    return make_error(what + ": array indices go from 0 to " + std::to_string(kMaxArrayIndex));
  if (*first > *last) return make_error(what + ": the range ends before it starts");
  uint64_t step = 1;
  if (e.find(':') != std::string_view::npos) {
    if (dash == std::string_view::npos) return make_error(what + ": a step needs a range (N-M:STEP)");
    auto s = read_number(step_text);
    if (!s || *s == 0 || *s > kMaxArrayIndex) return make_error(what + ": the step must be a number from 1");
    step = *s;
  }
  r.first = static_cast<uint32_t>(*first);
  r.step = static_cast<uint32_t>(step);
  // The last index actually reached on the step.
  r.last = static_cast<uint32_t>(*first + (*last - *first) / step * step);
  return r;
}

}  // namespace

IndexSet IndexSet::of(std::vector<IndexRange> ranges) {
  IndexSet out;
  if (ranges.empty()) return out;
  std::sort(ranges.begin(), ranges.end(), [](const IndexRange& a, const IndexRange& b) { return a.first < b.first; });
  bool disjoint = true;
  for (size_t i = 1; i < ranges.size(); ++i) disjoint = disjoint && ranges[i].first > ranges[i - 1].last;
  if (disjoint) {
    out.ranges_ = std::move(ranges);
    return out;
  }
  // Overlapping ranges (a user's "1-10,5,3-20:2"): merged through the
  // indices themselves, at most kMaxArrayIndex + 1 bits.
  std::vector<bool> has;
  uint32_t top = 0;
  for (const IndexRange& r : ranges) top = std::max(top, r.last);
  has.assign(static_cast<size_t>(top) + 1, false);
  for (const IndexRange& r : ranges)
    for (uint64_t i = r.first; i <= r.last; i += r.step) has[i] = true;
  // Runs of consecutive indices become ranges of step 1; the rest points.
  for (uint32_t i = 0; i <= top; ++i) {
    if (!has[i]) continue;
    uint32_t j = i;
    while (j + 1 <= top && has[j + 1]) ++j;
    out.ranges_.push_back(IndexRange{i, j, 1});
    i = j;
  }
  return out;
}

Result<IndexSet> IndexSet::parse(std::string_view text) {
  if (text.empty()) return make_error("no indices");
  std::vector<IndexRange> ranges;
  for (std::string_view e : split(text, ',')) {
    auto r = parse_element(e);
    if (!r) return make_error(r.error());
    ranges.push_back(*r);
  }
  return of(std::move(ranges));
}

uint64_t IndexSet::count() const {
  uint64_t n = 0;
  for (const IndexRange& r : ranges_) n += r.count();
  return n;
}

bool IndexSet::contains(uint32_t index) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), index,
                             [](uint32_t i, const IndexRange& r) { return i < r.first; });
  if (it == ranges_.begin()) return false;
  const IndexRange& r = *(it - 1);
  return index <= r.last && (index - r.first) % r.step == 0;
}

uint32_t IndexSet::take_lowest() {
  IndexRange& r = ranges_.front();
  const uint32_t index = r.first;
  if (r.first == r.last) ranges_.erase(ranges_.begin());
  else r.first += r.step;
  return index;
}

bool IndexSet::remove(uint32_t index) {
  if (!contains(index)) return false;
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), index,
                             [](uint32_t i, const IndexRange& r) { return i < r.first; }) - 1;
  IndexRange r = *it;
  std::vector<IndexRange> parts;
  if (index > r.first) parts.push_back(IndexRange{r.first, index - r.step, r.step});
  if (index < r.last) parts.push_back(IndexRange{index + r.step, r.last, r.step});
  it = ranges_.erase(it);
  ranges_.insert(it, parts.begin(), parts.end());
  return true;
}

std::string IndexSet::format() const {
  std::string out;
  for (const IndexRange& r : ranges_) {
    if (!out.empty()) out += ',';
    out += std::to_string(r.first);
    if (r.last == r.first) continue;
    // Two indices read better as a list than as a range with a step.
    if (r.count() == 2 && r.step > 1) {
      out += ',' + std::to_string(r.last);
      continue;
    }
    out += '-' + std::to_string(r.last);
    if (r.step > 1) out += ':' + std::to_string(r.step);
  }
  return out;
}

Result<ArraySpec> parse_array_spec(std::string_view text) {
  const std::string what = "--array=" + std::string(text);
  ArraySpec spec;
  std::string_view indices = text;
  if (auto pct = text.find('%'); pct != std::string_view::npos) {
    indices = text.substr(0, pct);
    auto t = read_number(text.substr(pct + 1));
    if (!t || *t == 0 || *t > kMaxArrayIndex + 1)
      return make_error(what + ": the throttle after % must be a number from 1 (at most that many tasks run at once)");
    spec.throttle = static_cast<uint32_t>(*t);
  }
  auto set = IndexSet::parse(indices);
  if (!set) return make_error(what + ": " + set.error() + " (give indices as 0-99, 1,3,7, 0-15:4, with %N to run at most N at once)");
  spec.indices = std::move(*set);
  return spec;
}

uint32_t array_throttle(std::string_view array) {
  auto pct = array.find('%');
  if (pct == std::string_view::npos) return 0;
  auto t = read_number(array.substr(pct + 1));
  return t && *t <= UINT32_MAX ? static_cast<uint32_t>(*t) : 0;
}

ArrayFacts array_facts(const ArraySpec& spec) {
  ArrayFacts f;
  if (spec.indices.empty()) return f;
  f.count = spec.indices.count();
  f.min = spec.indices.min();
  f.max = spec.indices.max();
  f.step = spec.indices.ranges().size() == 1 ? spec.indices.ranges().front().step : 1;
  return f;
}

std::optional<JobRef> parse_job_ref(std::string_view text) {
  JobRef ref;
  auto under = text.find('_');
  auto job = read_number(under == std::string_view::npos ? text : text.substr(0, under));
  if (!job || *job == 0) return std::nullopt;
  ref.job = *job;
  if (under != std::string_view::npos) {
    auto task = read_number(text.substr(under + 1));
    if (!task || *task > kMaxArrayIndex) return std::nullopt;
    ref.task = static_cast<int64_t>(*task);
  }
  return ref;
}

}  // namespace cadre
