// Reading cadre's TOML config (cadre.toml) the same way in both daemons:
// FILE, then its drop-ins FILE.d/*.toml in name order, merged into one
// document whose every value still knows the file and line it came from;
// and TomlReader, the checks each daemon's reader builds on, which turn a
// bad value into "FILE:LINE:COLUMN: table.key: what is wrong".
// Pure functions and a const reader: thread-safe.
//
// Merging: a later file's keys replace earlier ones key by key inside
// tables (at any depth); anything else, an array of tables such as
// [[partition]] included, is replaced whole.
#pragma once

#include <toml++/toml.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace cadre {

struct TomlDocument {
  toml::table root;
  std::vector<std::string> files;  // in the order read; errors sort by it
};

// Parses one file's text; a syntax error is "SOURCE:LINE:COLUMN: problem".
Result<TomlDocument> parse_toml(std::string_view text, const std::string& source_name);

// Reads `path`, then every regular `path`.d/*.toml in name order (a
// missing folder is no error), merged. Errors say which file and why.
Result<TomlDocument> load_toml(const std::string& path);

// Moves every key of `over` into `base` (see the merge rule above).
void merge_toml(toml::table& base, toml::table&& over);

// The drop-ins load_toml reads after `path`, in name order.
std::vector<std::string> toml_drop_ins(const std::string& path);

// Milliseconds in "500ms", "30s", "5m", "2h", "7d" or a Slurm time such as
// "1:00:00"; nullopt for anything else. `too_long` is set when the text is
// a duration longer than kMaxTomlDurationMs.
constexpr int64_t kMaxTomlDurationMs = int64_t{100000} * 86400 * 1000;
std::optional<int64_t> duration_text_ms(std::string_view text, bool& too_long);

// "did you mean" for a key not in `known`, or the list of the known keys.
std::string suggest_key(std::string_view key, std::initializer_list<std::string_view> known);

// How a value reads in a message: 'eazy', 5, true, a table.
std::string describe_toml(const toml::node& v);

// The checks every config table is read with. Each returns the first
// problem, naming file, line, column and the key's dotted path.
class TomlReader {
 public:
  using Keys = std::initializer_list<std::string_view>;
  static constexpr bool kMustBePositive = true;
  static constexpr bool kZeroAllowed = false;

  // `source` names values that carry no file (parsed from a string).
  explicit TomlReader(const TomlDocument& doc, std::string source = "config")
      : files_(doc.files), source_(std::move(source)) {}

  Status error_at(const toml::source_region& at, const std::string& message) const;
  Status fail(const toml::node& v, const std::string& path, const std::string& message) const;
  Status expected(const toml::node& v, const std::string& path, const std::string& what,
                  const std::string& hint = "") const;

  // Calls read(key, value, "table.key") for each key of the table `v` in
  // the order of the files (so the first error is the first one a reader
  // meets); a key not in `known` is an error that suggests the right one.
  template <typename Fn>
  Status each_key(const toml::node& v, const std::string& path, const std::string& where, Keys known,
                  const Fn& read) const {
    const toml::table* table = v.as_table();
    if (!table) return expected(v, path, "a table");
    for (const auto& [key, value] : ordered(*table)) {
      const std::string name(key->str());
      const std::string key_path = path.empty() ? name : path + "." + name;
      if (std::find(known.begin(), known.end(), name) == known.end())
        return unknown_key(*key, *value, key_path, where, known);
      if (Status s = read(name, *value, key_path); !s) return s;
    }
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

  Status read_string(const toml::node& v, const std::string& path, std::string& out) const;
  Status read_bool(const toml::node& v, const std::string& path, bool& out) const;
  // An integer from `min` to `max`.
  Status read_int64(const toml::node& v, const std::string& path, int64_t& out, int64_t min, int64_t max) const;
  template <typename T>
  Status read_int(const toml::node& v, const std::string& path, T& out, int64_t min = 0) const {
    int64_t n = 0;
    const int64_t max = static_cast<int64_t>(
        std::min<uint64_t>(static_cast<uint64_t>(std::numeric_limits<T>::max()), std::numeric_limits<int64_t>::max()));
    if (Status s = read_int64(v, path, n, min, max); !s) return s;
    out = static_cast<T>(n);
    return {};
  }
  // Integer or float, finite, >= 0.
  Status read_number(const toml::node& v, const std::string& path, double& out) const;
  // An integer (seconds) or a duration string; see duration_text_ms.
  Status read_duration_ms(const toml::node& v, const std::string& path, bool positive, int64_t& out) const;
  Status read_duration_s(const toml::node& v, const std::string& path, bool positive, int64_t& out) const;
  // A size string such as "32G" or "512M" (parse_size_mb), in MiB.
  Status read_size_mb(const toml::node& v, const std::string& path, int64_t& out) const;
  // A log level: debug, info, warning or error.
  Status read_log_level(const toml::node& v, const std::string& path, std::string& out) const;

 private:
  std::vector<std::pair<const toml::key*, const toml::node*>> ordered(const toml::table& t) const;
  size_t file_rank(const toml::source_region& at) const;
  Status unknown_key(const toml::key& key, const toml::node& value, const std::string& key_path,
                     const std::string& where, Keys known) const;

  std::vector<std::string> files_;
  std::string source_;
};

}  // namespace cadre
