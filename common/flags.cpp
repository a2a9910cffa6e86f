#include "common/flags.hpp"

#include <algorithm>
#include <vector>

namespace cadre {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string Flags::suggestion(const std::string& key) const {
  // Long words only, and only typos: a close spelling, or a known option
  // the word starts (--part for --partition).
  if (!key.starts_with("--") || key.size() > 64) return "";
  std::string best;
  size_t best_distance = 3;
  for (const auto& [alias, name] : alias_to_name_) {
    if (!alias.starts_with("--")) continue;
    size_t d = edit_distance(key, alias);
    if (key.size() >= 5 && alias.starts_with(key)) d = std::min<size_t>(d, 1);
    if (d < best_distance) {
      best_distance = d;
      best = alias;
    }
  }
  return best;
}

Flags& Flags::value(const std::string& name, std::vector<std::string> aliases) {
  specs_[name] = Spec{true};
  alias_to_name_[name] = name;
  for (auto& a : aliases) alias_to_name_[a] = name;
  return *this;
}

Flags& Flags::toggle(const std::string& name, std::vector<std::string> aliases) {
  specs_[name] = Spec{false};
  alias_to_name_[name] = name;
  for (auto& a : aliases) alias_to_name_[a] = name;
  return *this;
}

Status Flags::parse(const std::vector<std::string>& args, bool allow_positionals) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      saw_double_dash_ = true;
      rest_.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      return {};
    }
    if (arg.size() < 2 || arg[0] != '-') {
      if (!allow_positionals) return make_error("unexpected argument '" + arg + "'");
      positionals_.push_back(arg);
      continue;
    }
    std::string key = arg;
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); eq != std::string::npos && arg.starts_with("--")) {
      key = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    auto alias = alias_to_name_.find(key);
    if (alias == alias_to_name_.end()) {
      const std::string close = suggestion(key);
      return make_error("unknown option '" + key + "' (" + (close.empty() ? "" : "did you mean " + close + "? ") +
                        "see --help)");
    }
    const std::string& name = alias->second;
    if (!specs_[name].takes_value) {
      if (inline_value) return make_error("option '" + key + "' takes no value");
      values_[name] = "true";
      continue;
    }
    if (inline_value) {
      values_[name] = *inline_value;
    } else {
      if (i + 1 >= args.size()) return make_error("option '" + key + "' needs a value");
      values_[name] = args[++i];
    }
  }
  return {};
}

std::optional<std::string> Flags::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Flags::get_or(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

}  // namespace cadre
