// Slurm's output-format strings, as squeue and sinfo read them: "-o" takes
// "%[[.]size]type[suffix]" items ("%.18i %T"), "-O" takes a comma list of
// "name[:[.][size][suffix]]" ("JobID:.10,State"). This file only parses them
// and pads values into columns; which letters and names exist, and what they
// print, is the caller's table (cli/queue_fields.cpp, cli/sinfo_fields.cpp).
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace cadre::cli {

// What a table says about one field letter or name it knows.
struct FieldRef {
  int index = -1;    // the field's row in the caller's table
  bool cut = true;   // a value wider than its size is cut to it (node lists are not)
};
// Finds a field by its letter ("i", case-sensitive) or its long name
// (lower-cased by the parser); nullopt when the command has no such field.
using FieldLookup = std::function<std::optional<FieldRef>(std::string_view key)>;

// Whether the space-separated `names` ("nodelist nodes") include `name`.
bool names_has(const char* names, std::string_view name);

// The lookups squeue's and sinfo's tables share: rows with `letter`
// ('\0': -O only), space-separated `names` and `cut`.
template <typename Row, size_t N>
std::optional<FieldRef> find_field_letter(const Row (&table)[N], std::string_view key) {
  for (size_t i = 0; i < N; ++i)
    if (table[i].letter != 0 && key.size() == 1 && table[i].letter == key[0])
      return FieldRef{static_cast<int>(i), table[i].cut};
  return std::nullopt;
}
template <typename Row, size_t N>
std::optional<FieldRef> find_field_name(const Row (&table)[N], std::string_view key) {
  for (size_t i = 0; i < N; ++i)
    if (names_has(table[i].names, key)) return FieldRef{static_cast<int>(i), table[i].cut};
  return std::nullopt;
}

// One column of a listing.
struct FormatItem {
  FieldRef field;
  size_t width = 0;    // 0: as wide as the value
  bool right = false;  // '.': right-justified
  bool fit = false;    // '#' (sinfo's own defaults only): as wide as the widest value
  std::string suffix;  // literal text printed after the field
};

struct Format {
  std::string prefix;  // literal text before the first field
  std::vector<FormatItem> items;
};

// The widest a field may be asked to be (squeue's, sinfo's and sacct's
// sizes): past this it is a typo or an attack, not a column anyone reads;
// it would only make every line that long.
inline constexpr size_t kMaxFieldWidth = 1000;

// Size -O gives a field that names none, as both commands document.
inline constexpr size_t kNamedFieldWidth = 20;

// Parses a "-o" string. `option` names the flag in errors ("squeue -o").
// `allow_fit`: '#' as a size (the commands' built-in formats; refused from users).
Result<Format> parse_letter_format(std::string_view text, const FieldLookup& letter, std::string_view option,
                                   bool allow_fit = false);
// Parses a "-O" string; names are matched case-insensitively.
Result<Format> parse_named_format(std::string_view text, const FieldLookup& name, std::string_view option);

// One value as squeue and sinfo print it: cut to `width` when `cut`, then
// padded to it on the left (`right`) or on the right. width 0: as it is.
std::string fit_value(std::string_view value, size_t width, bool right, bool cut);

// The lines of a listing: `rows[r][i]` is item i's text in row r (a header
// row, when wanted, is simply the first). Sizes marked `fit` become the
// widest cell of their column. Values are printed through escape_control.
std::string render_format(const Format& format, const std::vector<std::vector<std::string>>& rows);

// Slurm's short options take their value attached too ("-o%i", "-j42",
// which squeue's man page asks for): splits such a word in two when its
// first two characters are one of `valued`, so the flag parser sees both.
std::vector<std::string> split_attached(const std::vector<std::string>& args,
                                        const std::vector<std::string_view>& valued);

}  // namespace cadre::cli
