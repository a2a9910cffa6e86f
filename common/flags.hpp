// A small command-line flag parser shared by the three binaries.
// Accepts "--flag value", "--flag=value", boolean "--flag", short aliases
// ("-N 2"), and "--" to end flags. Unknown flags, missing values and stray
// words are errors with a message that names them. Not synchronised.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace cadre {

// Levenshtein distance (inserts, deletes, substitutions) between two short
// words: "did you mean" for options and config keys.
size_t edit_distance(std::string_view a, std::string_view b);

class Flags {
 public:
  // Declares a flag that takes a value. `aliases` are other spellings ("-N").
  Flags& value(const std::string& name, std::vector<std::string> aliases = {});
  // Declares a boolean flag.
  Flags& toggle(const std::string& name, std::vector<std::string> aliases = {});

  // Parses args (without the program name). Words that are not flags are
  // collected as positionals when `allow_positionals`, else rejected. After
  // "--" everything is positional and ends up in rest().
  Status parse(const std::vector<std::string>& args, bool allow_positionals = false);

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& fallback) const;
  const std::vector<std::string>& positionals() const { return positionals_; }
  const std::vector<std::string>& rest() const { return rest_; }
  bool saw_double_dash() const { return saw_double_dash_; }
  // The declared long option closest to the unknown `key` (a typo of it),
  // or "" when none is close.
  std::string suggestion(const std::string& key) const;

 private:
  struct Spec {
    bool takes_value;
  };
  std::map<std::string, Spec> specs_;
  std::map<std::string, std::string> alias_to_name_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positionals_;
  std::vector<std::string> rest_;
  bool saw_double_dash_ = false;
};

}  // namespace cadre
