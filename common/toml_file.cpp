// cadre.toml plus drop-ins, and the value checks; see toml_file.hpp.
#include "common/toml_file.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <tuple>

#include "common/bounded_file.hpp"
#include "common/flags.hpp"
#include "common/log.hpp"
#include "common/resources.hpp"

namespace cadre {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string in_quotes(std::string_view s) { return std::string(1, '\'').append(s).append("'"); }

Result<std::string> read_text(const std::string& path) {
  // Not a FIFO (whose open would block) nor a folder, nor an empty path.
  if (Status s = check_regular_file(path, "config file"); !s) return make_error(s.error());
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return make_error("cannot read config file " + shown_path(path) + ": " + std::strerror(errno));
  std::string text;
  char buf[65536];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  // A directory opens fine and fails here, with EISDIR.
  const int err = std::ferror(f) ? (errno != 0 ? errno : EIO) : 0;
  std::fclose(f);
  if (err != 0) return make_error("cannot read config file " + shown_path(path) + ": " + std::strerror(err));
  return text;
}


}  // namespace

// ---- Files ----

Result<TomlDocument> parse_toml(std::string_view text, const std::string& source_name) {
  TomlDocument doc;
  try {
    doc.root = toml::parse(text, std::string_view(source_name));
  } catch (const toml::parse_error& e) {
    const toml::source_position& at = e.source().begin;
    return make_error(source_name + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " +
                      std::string(e.description()));
  }
  doc.files.push_back(source_name);
  return doc;
}

std::vector<std::string> toml_drop_ins(const std::string& path) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path + ".d", ec)) {
    const std::string name = entry.path().filename().string();
    // Editors' and dpkg's leftovers (.swp, .dpkg-old) do not end in .toml.
    if (name.ends_with(".toml") && name[0] != '.' && entry.is_regular_file(ec)) found.push_back(entry.path().string());
  }
  std::sort(found.begin(), found.end());
  return found;
}

void merge_toml(toml::table& base, toml::table&& over) {
  for (auto&& [key, value] : over) {
    toml::node* mine = base.get(key.str());
    if (mine && mine->is_table() && value.is_table()) {
      merge_toml(*mine->as_table(), std::move(*value.as_table()));
      continue;
    }
    // Erased first so the key, too, names the later file. Moving (not
    // copying) keeps the value's source: toml++ drops it on a copy.
    base.erase(key.str());
    // A named copy of the key: clang 14 cannot capture a structured binding.
    const toml::key& name = key;
    value.visit([&](auto&& concrete) { base.insert(toml::key(name), std::move(concrete)); });
  }
}

Result<TomlDocument> load_toml(const std::string& path) {
  auto text = read_text(path);
  if (!text) return make_error(text.error());
  auto doc = parse_toml(*text, path);
  if (!doc) return doc;
  for (const std::string& drop_in : toml_drop_ins(path)) {
    auto more_text = read_text(drop_in);
    if (!more_text) return make_error(more_text.error());
    auto more = parse_toml(*more_text, drop_in);
    if (!more) return more;
    merge_toml(doc->root, std::move(more->root));
    doc->files.push_back(drop_in);
  }
  return doc;
}

// ---- Values ----

std::optional<int64_t> duration_text_ms(std::string_view text, bool& too_long) {
  struct Unit {
    std::string_view suffix;
    int64_t ms;
  };
  // "ms" before "m" and "s", which it also ends with.
  static constexpr Unit kUnits[] = {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
  for (const Unit& u : kUnits) {
    if (!text.ends_with(u.suffix)) continue;
    std::string_view number = text.substr(0, text.size() - u.suffix.size());
    if (!all_digits(number)) break;
    auto n = parse_count(number, kMaxTomlDurationMs / u.ms);
    too_long = !n;
    if (!n) return std::nullopt;
    return *n * u.ms;
  }
  // Slurm reads a bare "90" as minutes, an integer 90 here is seconds: the
  // caller refuses the quoted form rather than pick one.
  if (all_digits(text)) return std::nullopt;
  auto s = parse_duration_s(text);
  if (!s) return std::nullopt;
  return *s * 1000;
}

std::string suggest_key(std::string_view key, std::initializer_list<std::string_view> known) {
  std::string_view best;
  size_t best_distance = 3;  // a typo is at most two edits away
  for (std::string_view k : known) {
    size_t d = edit_distance(key, k);
    if (d < best_distance && d < key.size()) {
      best = k;
      best_distance = d;
    }
  }
  if (!best.empty()) return " (did you mean " + in_quotes(best) + "?)";
  std::string list;
  for (std::string_view k : known) list.append(list.empty() ? "" : ", ").append(k);
  return " (known keys: " + list + ")";
}

std::string describe_toml(const toml::node& v) {
  if (auto* s = v.as_string()) {
    std::string_view text = s->get();
    return text.size() > 60 ? in_quotes(std::string(text.substr(0, 57)) + "...") : in_quotes(text);
  }
  if (auto* i = v.as_integer()) return std::to_string(i->get());
  if (auto* f = v.as_floating_point()) {
    std::ostringstream out;
    out << f->get();
    return out.str();
  }
  if (auto* b = v.as_boolean()) return b->get() ? "true" : "false";
  if (v.is_table()) return "a table";
  if (v.is_array()) return "a list";
  return "a date or time";
}

// ---- TomlReader ----

Status TomlReader::error_at(const toml::source_region& at, const std::string& message) const {
  const std::string& file = at.path ? *at.path : source_;
  return make_error(file + ":" + std::to_string(at.begin.line) + ":" + std::to_string(at.begin.column) + ": " +
                    message);
}

Status TomlReader::fail(const toml::node& v, const std::string& path, const std::string& message) const {
  return error_at(v.source(), path + ": " + message);
}

Status TomlReader::expected(const toml::node& v, const std::string& path, const std::string& what,
                            const std::string& hint) const {
  return fail(v, path, "expected " + what + ", got " + describe_toml(v) + hint);
}

size_t TomlReader::file_rank(const toml::source_region& at) const {
  if (!at.path) return 0;
  auto it = std::find(files_.begin(), files_.end(), *at.path);
  return static_cast<size_t>(it - files_.begin());
}

std::vector<std::pair<const toml::key*, const toml::node*>> TomlReader::ordered(const toml::table& t) const {
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (auto&& [key, value] : t) entries.emplace_back(&key, &value);
  // toml++ keeps keys sorted by name; the file order is what a reader sees.
  std::stable_sort(entries.begin(), entries.end(), [this](const auto& a, const auto& b) {
    const auto &ra = a.first->source(), &rb = b.first->source();
    return std::tuple(file_rank(ra), ra.begin.line, ra.begin.column) <
           std::tuple(file_rank(rb), rb.begin.line, rb.begin.column);
  });
  return entries;
}

Status TomlReader::unknown_key(const toml::key& key, const toml::node& value, const std::string& key_path,
                               const std::string& where, Keys known) const {
  const std::string name(key.str());
  const toml::array* list = value.as_array();
  std::string what = "key " + in_quotes(name) + " " + where;
  if (value.is_table()) what = "table [" + key_path + "]";
  if (list && !list->empty() && list->is_array_of_tables()) what = "table [[" + key_path + "]]";
  return error_at(key.source(), "unknown " + what + suggest_key(name, known));
}

Status TomlReader::read_string(const toml::node& v, const std::string& path, std::string& out) const {
  const auto* s = v.as_string();
  if (!s || s->get().empty()) return expected(v, path, "a non-empty string");
  out = s->get();
  return {};
}

Status TomlReader::read_bool(const toml::node& v, const std::string& path, bool& out) const {
  const auto* b = v.as_boolean();
  if (!b) return expected(v, path, "true or false");
  out = b->get();
  return {};
}

Status TomlReader::read_int64(const toml::node& v, const std::string& path, int64_t& out, int64_t min,
                              int64_t max) const {
  const auto* i = v.as_integer();
  if (!i) return expected(v, path, "an integer");
  const int64_t n = i->get();
  if (n < min)
    return fail(v, path,
                (min == 0 ? "must not be negative" : "must be at least " + std::to_string(min)) + ", got " +
                    std::to_string(n));
  if (n > max) return fail(v, path, "must be at most " + std::to_string(max) + ", got " + std::to_string(n));
  out = n;
  return {};
}

Status TomlReader::read_number(const toml::node& v, const std::string& path, double& out) const {
  double d = 0;
  if (const auto* i = v.as_integer()) {
    d = static_cast<double>(i->get());
  } else if (const auto* f = v.as_floating_point()) {
    d = f->get();
  } else {
    return expected(v, path, "a number");
  }
  if (!std::isfinite(d) || d < 0) return expected(v, path, "a finite number >= 0");
  out = d;
  return {};
}

Status TomlReader::read_duration_ms(const toml::node& v, const std::string& path, bool positive,
                                    int64_t& out) const {
  std::optional<int64_t> ms;
  bool too_long = false;
  if (const auto* i = v.as_integer()) {
    too_long = i->get() > kMaxTomlDurationMs / 1000;
    if (i->get() >= 0 && !too_long) ms = i->get() * 1000;
  } else if (const auto* s = v.as_string()) {
    ms = duration_text_ms(s->get(), too_long);
  }
  if (!ms) {
    std::string hint = too_long ? " (at most " + std::to_string(kMaxTomlDurationMs / 86'400'000) + " days)" : "";
    if (const auto* s = v.as_string(); s && all_digits(s->get()))
      hint = " (a number in quotes is ambiguous: write " + s->get() + " for seconds or \"" + s->get() +
             "m\" for minutes)";
    return expected(v, path, "a duration like \"30s\"", hint);
  }
  if (positive && *ms == 0) return fail(v, path, "must be longer than zero, got " + describe_toml(v));
  out = *ms;
  return {};
}

Status TomlReader::read_duration_s(const toml::node& v, const std::string& path, bool positive,
                                   int64_t& out) const {
  int64_t ms = 0;
  if (Status s = read_duration_ms(v, path, positive, ms); !s) return s;
  if (ms % 1000 != 0) return fail(v, path, "must be a whole number of seconds, got " + describe_toml(v));
  out = ms / 1000;
  return {};
}

Status TomlReader::read_size_mb(const toml::node& v, const std::string& path, int64_t& out) const {
  const auto* s = v.as_string();
  // A bare integer has no unit a reader could be sure of.
  if (!s) return expected(v, path, "a size like \"32G\" or \"512M\"");
  auto mb = parse_size_mb(s->get());
  if (!mb) return fail(v, path, mb.error());
  out = *mb;
  return {};
}

Status TomlReader::read_log_level(const toml::node& v, const std::string& path, std::string& out) const {
  const auto* s = v.as_string();
  log::Level level;
  if (!s || !log::parse_level(s->get(), &level)) return expected(v, path, "one of debug, info, warning, error");
  out = s->get();
  return {};
}

}  // namespace cadre
