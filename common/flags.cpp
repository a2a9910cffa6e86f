#include "common/flags.hpp"

namespace cadre {

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
    if (alias == alias_to_name_.end()) return make_error("unknown option '" + key + "' (see --help)");
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
