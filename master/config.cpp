// Reads cadre.toml with toml++ and checks every key; see config.hpp.
#include "master/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <sstream>
#include <utility>

#include "common/log.hpp"
#include "common/resources.hpp"
#include "master/scheduler/snapshot.hpp"

namespace cadre {
namespace {

constexpr auto npos = std::string_view::npos;

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string quoted(std::string_view s) { return std::string(1, '\'').append(s).append("'"); }

// ---- Reading TOML ----

// As parse_duration_s: what format_duration_s prints parses back.
constexpr int64_t kMaxDurationMs = int64_t{100000} * 86400 * 1000;
constexpr bool kMustBePositive = true;
constexpr bool kZeroAllowed = false;

// How a value reads in a message: 'eazy', 5, true, a table.
std::string describe(const toml::node& v) {
  if (auto* s = v.as_string()) {
    std::string_view text = s->get();
    return text.size() > 60 ? quoted(std::string(text.substr(0, 57)) + "...") : quoted(text);
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

// Milliseconds in "500ms", "30s", "5m", "2h", "7d" or a Slurm time such as
// "1:00:00"; nullopt when the text is none of these, or (with `too_long`
// set) longer than kMaxDurationMs.
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
    auto n = parse_count(number, kMaxDurationMs / u.ms);
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

// Levenshtein distance, for "did you mean".
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

using Keys = std::initializer_list<std::string_view>;

// " (did you mean 'policy'?)", or the keys there are when none is close.
std::string suggest(std::string_view key, Keys known) {
  std::string_view best;
  size_t best_distance = 3;  // a typo is at most two edits away
  for (std::string_view k : known) {
    size_t d = edit_distance(key, k);
    if (d < best_distance && d < key.size()) {
      best = k;
      best_distance = d;
    }
  }
  if (!best.empty()) return " (did you mean " + quoted(best) + "?)";
  std::string list;
  for (std::string_view k : known) list.append(list.empty() ? "" : ", ").append(k);
  return " (known keys: " + list + ")";
}

// Walks a parsed document into a MasterConfig. Every method returns the
// first problem as "FILE:LINE:COLUMN: KEY: what is wrong".
class Reader {
 public:
  explicit Reader(const std::string& source) : source_(source) {}

  Status read(const toml::table& root, MasterConfig& c) const {
    return each_key(root, "", "at the top level", {"master", "scheduler", "partition", "limits", "security"},
                    [&](std::string_view key, const toml::node& v, const std::string& path) {
                      if (key == "master") return read_master(v, c);
                      if (key == "scheduler") return read_scheduler(v, c);
                      if (key == "limits") return read_limits(v, c.limits);
                      if (key == "security") return read_security(v, c);
                      return read_partitions(v, path, c.partitions);
                    });
  }

 private:
  Status error_at(const toml::source_region& at, const std::string& message) const {
    return make_error(source_ + ":" + std::to_string(at.begin.line) + ":" + std::to_string(at.begin.column) + ": " +
                      message);
  }
  Status fail(const toml::node& v, const std::string& path, const std::string& message) const {
    return error_at(v.source(), path + ": " + message);
  }
  Status expected(const toml::node& v, const std::string& path, const std::string& what,
                  const std::string& hint = "") const {
    return fail(v, path, "expected " + what + ", got " + describe(v) + hint);
  }

  // Calls read(key, value, "table.key") for each key of the table `v`, in
  // the order they appear in the file, so the first error reported is the
  // first one a reader meets; a key not in `known` is an error.
  template <typename Fn>
  Status each_key(const toml::node& v, const std::string& path, const std::string& where, Keys known,
                  const Fn& read) const {
    const toml::table* table = v.as_table();
    if (!table) return expected(v, path, "a table");
    std::vector<std::pair<const toml::key*, const toml::node*>> entries;
    for (auto&& [key, value] : *table) entries.emplace_back(&key, &value);
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      const auto &pa = a.first->source().begin, &pb = b.first->source().begin;
      return std::pair(pa.line, pa.column) < std::pair(pb.line, pb.column);
    });
    for (const auto& [key, value] : entries) {
      const std::string name(key->str());
      const std::string key_path = path.empty() ? name : path + "." + name;
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        const toml::array* list = value->as_array();
        std::string what = "key " + quoted(name) + " " + where;
        if (value->is_table()) what = "table [" + key_path + "]";
        if (list && !list->empty() && list->is_array_of_tables()) what = "table [[" + key_path + "]]";
        return error_at(key->source(), "unknown " + what + suggest(name, known));
      }
      if (Status s = read(name, *value, key_path); !s) return s;
    }
    return {};
  }

  Status read_string(const toml::node& v, const std::string& path, std::string& out) const {
    const auto* s = v.as_string();
    if (!s || s->get().empty()) return expected(v, path, "a non-empty string");
    out = s->get();
    return {};
  }
  // A string that `accept` takes, such as a policy name.
  template <typename Accept>
  Status read_choice(const toml::node& v, const std::string& path, const std::string& choices, std::string& out,
                     const Accept& accept) const {
    const auto* s = v.as_string();
    if (!s || !accept(s->get())) return expected(v, path, "one of " + choices);
    out = s->get();
    return {};
  }

  // An optional field becomes set only once `read` has accepted the value.
  template <typename T, typename Read>
  static Status set(std::optional<T>& field, const Read& read) {
    T value{};
    if (Status s = read(value); !s) return s;
    field = std::move(value);
    return {};
  }

  Status read_bool(const toml::node& v, const std::string& path, bool& out) const {
    const auto* b = v.as_boolean();
    if (!b) return expected(v, path, "true or false");
    out = b->get();
    return {};
  }

  // Counts are never negative; `min` lets a signed field (tier) through.
  template <typename T>
  Status read_int(const toml::node& v, const std::string& path, T& out, int64_t min = 0) const {
    const auto* i = v.as_integer();
    if (!i) return expected(v, path, "an integer");
    const int64_t n = i->get();
    const int64_t max = static_cast<int64_t>(
        std::min<uint64_t>(static_cast<uint64_t>(std::numeric_limits<T>::max()), std::numeric_limits<int64_t>::max()));
    if (n < min)
      return fail(v, path,
                  (min == 0 ? "must not be negative" : "must be at least " + std::to_string(min)) + ", got " +
                      std::to_string(n));
    if (n > max) return fail(v, path, "must be at most " + std::to_string(max) + ", got " + std::to_string(n));
    out = static_cast<T>(n);
    return {};
  }

  // Weights and gpu_billing: integer or float, finite, >= 0.
  Status read_number(const toml::node& v, const std::string& path, double& out) const {
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

  Status read_duration_ms(const toml::node& v, const std::string& path, bool positive, int64_t& out) const {
    std::optional<int64_t> ms;
    bool too_long = false;
    if (const auto* i = v.as_integer()) {
      too_long = i->get() > kMaxDurationMs / 1000;
      if (i->get() >= 0 && !too_long) ms = i->get() * 1000;
    } else if (const auto* s = v.as_string()) {
      ms = duration_text_ms(s->get(), too_long);
    }
    if (!ms) {
      std::string hint = too_long ? " (at most " + std::to_string(kMaxDurationMs / 86'400'000) + " days)" : "";
      if (const auto* s = v.as_string(); s && all_digits(s->get()))
        hint = " (a number in quotes is ambiguous: write " + s->get() + " for seconds or \"" + s->get() +
               "m\" for minutes)";
      return expected(v, path, "a duration like \"30s\"", hint);
    }
    if (positive && *ms == 0) return fail(v, path, "must be longer than zero, got " + describe(v));
    out = *ms;
    return {};
  }

  Status read_duration_s(const toml::node& v, const std::string& path, bool positive, int64_t& out) const {
    int64_t ms = 0;
    if (Status s = read_duration_ms(v, path, positive, ms); !s) return s;
    if (ms % 1000 != 0) return fail(v, path, "must be a whole number of seconds, got " + describe(v));
    out = ms / 1000;
    return {};
  }

  // One function per table: each_key checks the key is known, the
  // function reads it.
  Status read_master(const toml::node& v, MasterConfig& c) const {
    return each_key(v, "master", "in [master]", {"listen", "state_dir", "node_timeout", "max_retries", "log_level"},
                    [&](std::string_view key, const toml::node& x, const std::string& path) {
                      return read_master_key(key, x, path, c);
                    });
  }
  Status read_master_key(std::string_view key, const toml::node& x, const std::string& path, MasterConfig& c) const {
    if (key == "listen") return set(c.listen, [&](std::string& out) { return read_string(x, path, out); });
    if (key == "state_dir") return set(c.state_dir, [&](std::string& out) { return read_string(x, path, out); });
    if (key == "node_timeout")
      return set(c.node_timeout_ms, [&](int64_t& out) { return read_duration_ms(x, path, kMustBePositive, out); });
    if (key == "max_retries") return set(c.max_retries, [&](uint32_t& out) { return read_int(x, path, out); });
    return set(c.log_level, [&](std::string& out) {
      log::Level level;
      return read_choice(x, path, "debug, info, warning, error", out,
                         [&](std::string_view text) { return log::parse_level(text, &level); });
    });
  }

  Status read_scheduler(const toml::node& v, MasterConfig& c) const {
    return each_key(v, "scheduler", "in [scheduler]",
                    {"policy", "preemption", "reservation_depth", "unlimited_as", "interval", "debounce",
                     "fairshare_half_life", "gpu_billing", "weights"},
                    [&](std::string_view key, const toml::node& x, const std::string& path) {
                      return read_scheduler_key(key, x, path, c);
                    });
  }
  Status read_scheduler_key(std::string_view key, const toml::node& x, const std::string& path, MasterConfig& c) const {
    sched::Policy& p = c.policy;
    if (key == "policy") {
      std::string text;
      return read_choice(x, path, "fcfs, greedy, easy, conservative", text,
                         [&](std::string_view t) { return sched::parse_backfill(t, p.backfill); });
    }
    if (key == "preemption") return read_bool(x, path, p.preemption);
    if (key == "reservation_depth") return read_int(x, path, p.reservation_depth);
    if (key == "unlimited_as") return read_duration_s(x, path, kMustBePositive, p.unlimited_as_s);
    if (key == "interval") return read_duration_ms(x, path, kMustBePositive, c.interval_ms);
    if (key == "debounce") return read_duration_ms(x, path, kZeroAllowed, c.debounce_ms);
    if (key == "fairshare_half_life") return read_duration_s(x, path, kMustBePositive, c.fairshare_half_life_s);
    if (key == "gpu_billing") return read_number(x, path, c.gpu_billing);
    return read_weights(x, path, p.weights);
  }

  Status read_security(const toml::node& v, MasterConfig& c) const {
    return each_key(v, "security", "in [security]", {"key", "agent_keys", "user_keys", "local_socket", "admin_group"},
                    [&](std::string_view key, const toml::node& x, const std::string& path) -> Status {
                      // "" turns the local socket off; every other key names something.
                      if (key == "local_socket") {
                        const auto* text = x.as_string();
                        if (!text) return expected(x, path, "a string (\"\" for no local socket)");
                        c.local_socket = text->get();
                        return Status{};
                      }
                      auto& field = key == "key"          ? c.key_file
                                    : key == "agent_keys" ? c.agent_keys_dir
                                    : key == "user_keys"  ? c.user_keys_dir
                                                          : c.admin_group;
                      return set(field, [&](std::string& out) { return read_string(x, path, out); });
                    });
  }

  Status read_limits(const toml::node& v, Limits& l) const {
    return each_key(v, "limits", "in [limits]",
                    {"max_pending_jobs_per_user", "submit_rate", "submit_burst", "max_command_bytes",
                     "max_script_bytes"},
                    [&](std::string_view key, const toml::node& x, const std::string& path) -> Status {
                      if (key == "max_pending_jobs_per_user") return read_int(x, path, l.max_pending_jobs_per_user);
                      if (key == "submit_rate") return read_number(x, path, l.submit_rate);
                      if (key == "submit_burst") return read_int(x, path, l.submit_burst, 1);
                      // The protocol's own bound (64 MiB a message) caps both sizes.
                      if (key == "max_command_bytes") return read_int(x, path, l.max_command_bytes, 0);
                      return read_int(x, path, l.max_script_bytes, 0);
                    });
  }

  Status read_weights(const toml::node& v, const std::string& path, sched::Weights& w) const {
    return each_key(v, path, "in [scheduler.weights]", {"age", "max_age", "size", "fairshare", "job", "partition"},
                    [&](std::string_view key, const toml::node& x, const std::string& key_path) {
                      return read_weights_key(key, x, key_path, w);
                    });
  }
  Status read_weights_key(std::string_view key, const toml::node& x, const std::string& path, sched::Weights& w) const {
    if (key == "age") return read_number(x, path, w.age);
    if (key == "max_age") return read_duration_s(x, path, kMustBePositive, w.max_age_s);
    if (key == "size") return read_number(x, path, w.size);
    if (key == "fairshare") return read_number(x, path, w.fairshare);
    if (key == "job") return read_number(x, path, w.job);
    return read_number(x, path, w.partition);
  }

  Status read_partitions(const toml::node& v, const std::string& path, std::vector<PartitionConfig>& out) const {
    const toml::array* list = v.as_array();
    if (!list || (!list->empty() && !list->is_array_of_tables()))
      return expected(v, path, "[[partition]] tables", " (write [[partition]], with two brackets)");
    std::vector<const toml::table*> tables;
    for (const toml::node& item : *list) {
      const toml::table& t = *item.as_table();
      if (out.size() == sched::kMaxPartitions)
        return error_at(t.source(), "too many partitions: at most " + std::to_string(sched::kMaxPartitions));
      PartitionConfig p;
      if (Status s = read_partition(t, path, p); !s) return s;
      if (Status s = check_against_earlier(p, t, out, tables); !s) return s;
      out.push_back(std::move(p));
      tables.push_back(&t);
    }
    return {};
  }

  Status read_partition(const toml::table& t, const std::string& path, PartitionConfig& p) const {
    Status s = each_key(t, path, "in [[partition]]",
                        {"name", "nodes", "default", "default_time", "max_time", "tier", "preemptible",
                         "max_running_jobs_per_user", "max_gpus_per_user"},
                        [&](std::string_view key, const toml::node& x, const std::string& key_path) {
                          return read_partition_key(key, x, key_path, p);
                        });
    if (!s) return s;
    if (p.name.empty()) return error_at(t.source(), path + ": every [[partition]] needs a name = \"...\"");
    if (p.default_time_s > 0 && p.max_time_s > 0 && p.default_time_s > p.max_time_s)
      return fail(*t.get("default_time"), path + ".default_time",
                  format_duration_s(p.default_time_s) + " is longer than max_time " + format_duration_s(p.max_time_s));
    return {};
  }

  Status read_partition_key(std::string_view key, const toml::node& x, const std::string& path,
                            PartitionConfig& p) const {
    if (key == "name") return read_partition_name(x, path, p.name);
    if (key == "nodes") return read_nodes(x, path, p.nodes);
    if (key == "default") return read_bool(x, path, p.is_default);
    if (key == "default_time") return read_duration_s(x, path, kZeroAllowed, p.default_time_s);
    if (key == "max_time") return read_duration_s(x, path, kZeroAllowed, p.max_time_s);
    if (key == "tier") return read_int(x, path, p.tier, std::numeric_limits<int32_t>::min());
    if (key == "preemptible") return read_bool(x, path, p.preemptible);
    if (key == "max_running_jobs_per_user") return read_int(x, path, p.max_running_jobs_per_user);
    return read_int(x, path, p.max_gpus_per_user);
  }

  Status read_partition_name(const toml::node& v, const std::string& path, std::string& out) const {
    const auto* s = v.as_string();
    auto allowed = [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    };
    if (!s || s->get().empty() || s->get().size() > 64 || !std::all_of(s->get().begin(), s->get().end(), allowed))
      return expected(v, path, "a name of 1 to 64 letters, digits, '_', '.' or '-'");
    out = s->get();
    return {};
  }

  Status read_nodes(const toml::node& v, const std::string& path, std::vector<std::string>& out) const {
    const toml::array* list = v.as_array();
    if (!list) return expected(v, path, "a list of node patterns like [\"gpu[01-16]\"]");
    // Leaving the key out means every node; an empty list most likely means
    // a generated file lost its nodes, and a partition of none is useless.
    if (list->empty()) return fail(v, path, "an empty list matches no node; leave 'nodes' out to mean every node");
    for (const toml::node& item : *list) {
      const auto* s = item.as_string();
      if (!s) return expected(item, path, "a node pattern (a string)");
      if (Status st = check_node_pattern(s->get()); !st)
        return fail(item, path, "invalid node pattern " + quoted(s->get()) + ": " + st.error());
      out.push_back(s->get());
    }
    return {};
  }

  // Names are unique and at most one partition is the default.
  Status check_against_earlier(const PartitionConfig& p, const toml::table& t,
                               const std::vector<PartitionConfig>& earlier,
                               const std::vector<const toml::table*>& earlier_tables) const {
    for (size_t i = 0; i < earlier.size(); ++i) {
      const std::string line = std::to_string(earlier_tables[i]->source().begin.line);
      if (earlier[i].name == p.name)
        return fail(*t.get("name"), "partition.name",
                    quoted(p.name) + " is already the name of the partition at line " + line);
      if (earlier[i].is_default && p.is_default)
        return fail(*t.get("default"), "partition.default",
                    quoted(p.name) + " and " + quoted(earlier[i].name) + " (line " + line +
                        ") are both marked default; only one may be");
    }
    return {};
  }

  const std::string& source_;
};

}  // namespace

Result<MasterConfig> parse_master_config(std::string_view text, const std::string& source_name) {
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(source_name));
  } catch (const toml::parse_error& e) {
    const toml::source_position& at = e.source().begin;
    return make_error(source_name + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " +
                      std::string(e.description()));
  }
  MasterConfig config;
  if (Status s = Reader(source_name).read(root, config); !s) return make_error(s.error());
  return config;
}

Result<MasterConfig> load_master_config(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return make_error("cannot read config file " + path + ": " + std::strerror(errno));
  std::string text;
  char buf[65536];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  // A directory opens fine and fails here, with EISDIR.
  const int err = std::ferror(f) ? (errno != 0 ? errno : EIO) : 0;
  std::fclose(f);
  if (err != 0) return make_error("cannot read config file " + path + ": " + std::strerror(err));
  return parse_master_config(text, path);
}

std::string default_partition(const MasterConfig& config) {
  for (const PartitionConfig& p : config.partitions)
    if (p.is_default) return p.name;
  return config.partitions.empty() ? "default" : config.partitions.front().name;
}

}  // namespace cadre
