#include "common/resources.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <vector>

namespace cadre {

Resources& Resources::operator+=(const Resources& o) {
  millicores += o.millicores;
  memory_mb += o.memory_mb;
  gpus += o.gpus;
  return *this;
}

Resources& Resources::operator-=(const Resources& o) {
  millicores -= o.millicores;
  memory_mb -= o.memory_mb;
  gpus -= o.gpus;
  return *this;
}

Resources Resources::times(int64_t n) const { return Resources{millicores * n, memory_mb * n, gpus * n}; }

std::string format_cpus(int64_t millicores) {
  std::string cpus = std::to_string(millicores / 1000);
  if (int64_t frac = millicores % 1000; frac > 0) {
    std::string digits = std::to_string(1000 + frac).substr(1);
    while (digits.back() == '0') digits.pop_back();
    cpus += "." + digits;
  }
  return cpus;
}

std::string Resources::to_string() const {
  return "cpus=" + format_cpus(millicores) + " mem=" + format_size_mb(memory_mb) + " gpus=" + std::to_string(gpus);
}

bool fits(const Resources& request, const Resources& free) {
  return request.millicores <= free.millicores && request.memory_mb <= free.memory_mb && request.gpus <= free.gpus;
}

int64_t count_fits(const Resources& request, const Resources& free, int64_t cap) {
  int64_t n = cap;
  auto limit = [&n](int64_t want, int64_t have) {
    if (want > 0) n = std::min(n, have < 0 ? 0 : have / want);
  };
  limit(request.millicores, free.millicores);
  limit(request.memory_mb, free.memory_mb);
  limit(request.gpus, free.gpus);
  return std::max<int64_t>(n, 0);
}

Result<int64_t> parse_count(std::string_view text, int64_t max) {
  int64_t v = 0;
  if (text.empty()) return make_error("expected a number, got an empty string");
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  // Built by appending: GCC 12 warns falsely (-Wrestrict) on "'" + std::string.
  std::string quoted = std::string(1, '\'').append(text).append("'");
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && v > max))
    return make_error(quoted + " is too large (at most " + std::to_string(max) + ")");
  if (ec != std::errc() || p != text.data() + text.size() || v < 0)
    return make_error(quoted + " is not a non-negative whole number");
  return v;
}

Result<int64_t> parse_size_mb(std::string_view text) {
  const std::string original(text);
  auto bad = [&original] {
    return make_error("invalid size '" + original + "': use a whole number with an optional unit, e.g. 512M, 32G, 1T");
  };
  std::string s;
  for (char c : text) s += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (s.ends_with("IB")) s.resize(s.size() - 2);
  else if (s.size() > 1 && s.ends_with("B")) s.resize(s.size() - 1);
  if (s.empty()) return bad();
  // Multiplier relative to KiB so K can round up to MiB.
  int64_t kib_per_unit = 1024;  // bare number: MiB
  switch (s.back()) {
    case 'K': kib_per_unit = 1; s.pop_back(); break;
    case 'M': kib_per_unit = 1024; s.pop_back(); break;
    case 'G': kib_per_unit = 1024 * 1024; s.pop_back(); break;
    case 'T': kib_per_unit = int64_t{1024} * 1024 * 1024; s.pop_back(); break;
    default: break;
  }
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return bad();
  auto n = parse_count(s, std::numeric_limits<int64_t>::max() / kib_per_unit);
  if (!n) return make_error("invalid size '" + original + "': too large");
  int64_t kib = *n * kib_per_unit;
  // Rounds up without adding first: kib may be INT64_MAX.
  return kib / 1024 + (kib % 1024 != 0 ? 1 : 0);
}

std::string format_size_mb(int64_t mb) {
  if (mb != 0 && mb % (1024 * 1024) == 0) return std::to_string(mb / (1024 * 1024)) + "T";
  if (mb != 0 && mb % 1024 == 0) return std::to_string(mb / 1024) + "G";
  return std::to_string(mb) + "M";
}

Result<int64_t> parse_duration_s(std::string_view text) {
  constexpr int64_t kMaxDays = 100000;
  const std::string original(text);
  auto bad = [&original] {
    return make_error("invalid time '" + original +
                      "': use MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (e.g. 30, 1:30:00, 2-00:00:00)");
  };
  std::string upper(text);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "UNLIMITED" || upper == "INFINITE") return int64_t{0};
  if (text.empty()) return bad();

  int64_t days = 0;
  bool has_days = false;
  std::string_view rest = text;
  if (auto dash = text.find('-'); dash != std::string_view::npos) {
    auto d = parse_count(text.substr(0, dash), kMaxDays);
    if (!d) return bad();
    days = *d;
    has_days = true;
    rest = text.substr(dash + 1);
  }
  std::vector<int64_t> parts;
  size_t start = 0;
  while (true) {
    size_t colon = rest.find(':', start);
    auto piece = rest.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
    auto v = parse_count(piece, 1000000000);
    if (!v) return bad();
    parts.push_back(*v);
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() > 3) return bad();
  int64_t h = 0, m = 0, sec = 0;
  if (has_days) {
    // D-HH, D-HH:MM, D-HH:MM:SS
    h = parts[0];
    if (parts.size() > 1) m = parts[1];
    if (parts.size() > 2) sec = parts[2];
  } else if (parts.size() == 1) {
    m = parts[0];
  } else if (parts.size() == 2) {
    m = parts[0];
    sec = parts[1];
  } else {
    h = parts[0];
    m = parts[1];
    sec = parts[2];
  }
  // Fields after the leading one must be in range, as Slurm requires.
  if (parts.size() > 1 && (sec > 59 || (parts.size() == 3 || has_days ? m > 59 : false))) return bad();
  if (has_days && h > 23) return bad();
  // format_duration_s prints whole days as "D-", and that must parse back.
  int64_t seconds = ((days * 24 + h) * 60 + m) * 60 + sec;
  if (seconds / 86400 > kMaxDays)
    return make_error("invalid time '" + original + "': longer than " + std::to_string(kMaxDays) + " days");
  return seconds;
}

std::string format_duration_s(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  int64_t d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, s = seconds % 60;
  char buf[64];
  if (d > 0) snprintf(buf, sizeof buf, "%ld-%02ld:%02ld:%02ld", static_cast<long>(d), static_cast<long>(h), static_cast<long>(m), static_cast<long>(s));
  else if (h > 0) snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", static_cast<long>(h), static_cast<long>(m), static_cast<long>(s));
  else snprintf(buf, sizeof buf, "%ld:%02ld", static_cast<long>(m), static_cast<long>(s));
  return buf;
}

}  // namespace cadre
