#include "common/begin_time.hpp"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <optional>

#include "common/escape.hpp"

namespace cadre {
namespace {

constexpr const char* kForms =
    "expected HH:MM[:SS] [AM|PM], midnight, noon, elevenses, fika, teatime, today, tomorrow, MMDD[YY], "
    "MM/DD[/YY], YYYY-MM-DD[THH:MM[:SS]] or now+COUNT[seconds|minutes|hours|days|weeks]";

// A cursor over the text; every reader leaves it past what it took.
struct Reader {
  std::string_view s;
  size_t at = 0;

  bool done() const { return at >= s.size(); }
  char peek(size_t ahead = 0) const { return at + ahead < s.size() ? s[at + ahead] : '\0'; }
  bool digit(size_t ahead = 0) const { return std::isdigit(static_cast<unsigned char>(peek(ahead))) != 0; }
  void skip_blanks() {
    while (!done() && (s[at] == ' ' || s[at] == '\t')) ++at;
  }
  // Takes `word` when the text continues with it, in any case.
  bool take_word(std::string_view word) {
    if (s.size() - at < word.size()) return false;
    for (size_t i = 0; i < word.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(s[at + i])) != word[i]) return false;
    at += word.size();
    return true;
  }
  // Up to `max` digits (at least one); nullopt when there is none.
  std::optional<int> number(size_t max) {
    if (!digit()) return std::nullopt;
    int v = 0;
    for (size_t n = 0; n < max && digit(); ++n) v = v * 10 + (s[at++] - '0');
    return v;
  }
};

struct Moment {
  std::optional<int> year, month, day;  // year as in tm (since 1900), month 0-11
  std::optional<int> hour;
  int minute = 0, second = 0;
};

void set_day(Moment& m, const std::tm& t) {
  m.year = t.tm_year;
  m.month = t.tm_mon;
  m.day = t.tm_mday;
}

std::tm local(int64_t unix_s) {
  std::tm t{};
  const std::time_t tt = static_cast<std::time_t>(unix_s);
  localtime_r(&tt, &t);
  return t;
}

// HH:MM[:SS] with an optional AM or PM after blanks.
bool read_clock(Reader& r, Moment& m) {
  auto h = r.number(2);
  if (!h || r.peek() != ':') return false;
  ++r.at;
  if (!r.digit() || !r.digit(1)) return false;
  auto min = r.number(2);
  int sec = 0;
  if (r.peek() == ':') {
    ++r.at;
    if (!r.digit() || !r.digit(1)) return false;
    sec = *r.number(2);
  }
  if (*h > 23 || *min > 59 || sec > 59) return false;
  int hour = *h;
  const size_t before = r.at;
  r.skip_blanks();
  if (r.take_word("pm")) {
    if (hour > 12) return false;
    hour = hour == 12 ? 12 : hour + 12;
  } else if (r.take_word("am")) {
    if (hour > 12) return false;
    hour = hour == 12 ? 0 : hour;
  } else {
    r.at = before;
  }
  m.hour = hour;
  m.minute = *min;
  m.second = sec;
  return true;
}

// YYYY-MM-DD, or MM[/.]DD[[/.]YY] and MMDD[YY].
bool read_date(Reader& r, Moment& m) {
  const bool iso = r.digit(0) && r.digit(1) && r.digit(2) && r.digit(3) && r.peek(4) == '-';
  if (iso) {
    const int year = *r.number(4);
    ++r.at;  // '-'
    auto mon = r.number(2);
    if (!mon || r.peek() != '-') return false;
    ++r.at;
    auto day = r.number(2);
    if (!day || *mon < 1 || *mon > 12 || *day < 1 || *day > 31 || year < 1970) return false;
    m.year = year - 1900;
    m.month = *mon - 1;
    m.day = *day;
    return true;
  }
  auto mon = r.number(2);
  if (!mon) return false;
  const bool separated = r.peek() == '/' || r.peek() == '.';
  if (separated) ++r.at;
  auto day = r.number(2);
  if (!day || *mon < 1 || *mon > 12 || *day < 1 || *day > 31) return false;
  m.month = *mon - 1;
  m.day = *day;
  if (separated && (r.peek() == '/' || r.peek() == '.')) ++r.at;
  if (r.digit()) {
    if (!r.digit(1)) return false;
    m.year = 100 + *r.number(2);  // "26" is 2026
  }
  return true;
}

// now[{+|-}COUNT[UNIT]], blanks allowed around the sign and the unit.
bool read_now(Reader& r, Moment& m, int64_t now_unix) {
  r.skip_blanks();
  int64_t delta = 0;
  if (r.peek() == '+' || r.peek() == '-') {
    const int sign = r.peek() == '-' ? -1 : 1;
    ++r.at;
    r.skip_blanks();
    if (!r.digit()) return false;
    int64_t count = 0;
    while (r.digit()) {
      count = count * 10 + (r.s[r.at++] - '0');
      if (count > 1'000'000'000) return false;
    }
    r.skip_blanks();
    int64_t unit = 1;
    constexpr std::pair<std::string_view, int64_t> kUnits[] = {
        {"seconds", 1}, {"second", 1}, {"minutes", 60}, {"minute", 60}, {"hours", 3600}, {"hour", 3600},
        {"days", 86400}, {"day", 86400}, {"weeks", 604800}, {"week", 604800}};
    for (const auto& [name, seconds] : kUnits)
      if (r.take_word(name)) {
        unit = seconds;
        break;
      }
    delta = sign * count * unit;
  }
  const int64_t then = now_unix + delta;
  const std::tm t = local(then);
  set_day(m, t);
  m.hour = t.tm_hour;
  m.minute = t.tm_min;
  m.second = t.tm_sec;
  return true;
}

// Both readings: `past` is sacct's (what is left out is filled in so that
// the time is not later than now), else sbatch's (not earlier than now).
Result<int64_t> parse_time(std::string_view text, int64_t now_unix, bool past, std::string_view option) {
  const std::string flag(option);
  auto bad = [&] { return make_error(flag + " " + quoted(text, 64) + ": " + kForms); };
  if (text.empty()) return make_error(flag + ": give a time (" + kForms + ")");
  if (text.size() > 64) return bad();
  Reader uts{text};
  if (uts.take_word("uts")) {
    int64_t v = 0;
    if (uts.done()) return bad();
    while (uts.digit()) {
      v = v * 10 + (text[uts.at++] - '0');
      if (v > 253'402'300'799) return bad();  // past 9999-12-31
    }
    if (!uts.done()) return bad();
    return v;
  }

  const std::tm now = local(now_unix);
  Moment m;
  Reader r{text};
  constexpr std::pair<std::string_view, int> kNamedHours[] = {
      {"midnight", 0}, {"noon", 12}, {"elevenses", 11}, {"fika", 15}, {"teatime", 16}};
  while (!r.done()) {
    if (r.take_word("today")) {
      set_day(m, now);
      continue;
    }
    if (r.take_word("tomorrow")) {
      set_day(m, local(now_unix + 86400));
      continue;
    }
    if (r.take_word("now")) {
      if (!read_now(r, m, now_unix)) return bad();
      continue;
    }
    bool named = false;
    for (const auto& [name, hour] : kNamedHours)
      if (r.take_word(name)) {
        m.hour = hour;
        m.minute = m.second = 0;
        named = true;
        break;
      }
    if (named) continue;
    const char c = r.peek();
    if (c == ' ' || c == '\t' || c == '-' || c == 'T') {
      ++r.at;  // between a date and a time
      continue;
    }
    if (!r.digit()) return bad();
    const bool clock = r.peek(1) == ':' || r.peek(2) == ':';
    if (!(clock ? read_clock(r, m) : read_date(r, m))) return bad();
  }
  if (!m.hour && !m.month) return bad();

  // Slurm's rules for what is left out: a date alone is its midnight; a
  // time alone is today, or tomorrow once past; a date without a year is
  // this year, or next once past. Read as the past (sacct's -S and -E),
  // the other way round: today, or yesterday when still ahead; this year,
  // or last year when still ahead.
  auto later_than_now = [&](int mon, int day, int hour, int minute) {
    if (mon != now.tm_mon) return mon > now.tm_mon;
    if (day != now.tm_mday) return day > now.tm_mday;
    if (hour != now.tm_hour) return hour > now.tm_hour;
    return minute > now.tm_min;
  };
  if (!m.hour) m.hour = 0;
  if (!m.month) {
    const bool ahead = *m.hour > now.tm_hour || (*m.hour == now.tm_hour && m.minute > now.tm_min);
    if (past) set_day(m, ahead ? local(now_unix - 86400) : now);
    else set_day(m, ahead ? now : local(now_unix + 86400));
  }
  if (!m.year) {
    const bool ahead = later_than_now(*m.month, *m.day, *m.hour, m.minute);
    if (past) m.year = ahead ? now.tm_year - 1 : now.tm_year;
    else m.year = ahead ? now.tm_year : now.tm_year + 1;
  }

  std::tm t{};
  t.tm_year = *m.year;
  t.tm_mon = *m.month;
  t.tm_mday = *m.day;
  t.tm_hour = *m.hour;
  t.tm_min = m.minute;
  t.tm_sec = m.second;
  t.tm_isdst = -1;  // the zone's rule for that day, not today's
  const std::time_t at = std::mktime(&t);
  if (at == static_cast<std::time_t>(-1) || t.tm_mday != *m.day) return bad();  // 02/31 rolls over: refused
  return static_cast<int64_t>(at);
}

}  // namespace

Result<int64_t> parse_begin_time(std::string_view text, int64_t now_unix) {
  return parse_time(text, now_unix, false, "--begin");
}

Result<int64_t> parse_past_time(std::string_view text, int64_t now_unix, std::string_view option) {
  return parse_time(text, now_unix, true, option);
}

std::string format_local_time(int64_t unix_s) {
  const std::tm t = local(unix_s);
  char buf[80];  // room for any int the fields could hold
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                t.tm_hour, t.tm_min, t.tm_sec);
  return buf;
}

}  // namespace cadre
