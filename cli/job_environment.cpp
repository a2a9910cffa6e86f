#include "cli/job_environment.hpp"

#include <algorithm>
#include <map>

#include "common/escape.hpp"
#include "common/job_validation.hpp"

namespace cadre::cli {
namespace {

std::string name_of(const std::string& entry) { return entry.substr(0, entry.find('=')); }

bool usable(const std::string& entry) {
  const size_t eq = entry.find('=');
  return eq != 0 && eq != std::string::npos && entry.find('\0') == std::string::npos && valid_utf8(entry);
}

// Slurm's word for a variable name: what a shell would accept, plus the
// '%' of exported bash functions (BASH_FUNC_module%%).
bool variable_name(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '%';
  });
}

}  // namespace

Result<ExportSpec> parse_export(const std::string& text) {
  if (text.empty()) return make_error("--export: give ALL, NONE, or variable names (e.g. --export=ALL,OMP_NUM_THREADS=4)");
  ExportSpec spec;
  spec.all = false;
  std::vector<std::string> words;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    words.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  for (const std::string& w : words) {
    if (w == "ALL") {
      spec.all = true;
    } else if (w == "NONE" || w == "NIL") {
      if (words.size() > 1)
        return make_error("--export: " + w + " takes no variables (" + quoted(text) +
                          "); to export some, list them without " + w + ": --export=NAME,NAME=value");
    } else if (const size_t eq = w.find('='); eq != std::string::npos) {
      if (!variable_name(w.substr(0, eq)))
        return make_error("--export: " + quoted(w) + " does not start with a variable name (NAME=value)");
      spec.settings.push_back(w);
    } else if (variable_name(w)) {
      spec.names.push_back(w);
    } else {
      return make_error("--export: " + quoted(w) +
                        " is not ALL, NONE, NIL, a variable name or NAME=value (a value holding ',' must go in an "
                        "--export-file)");
    }
  }
  return spec;
}

Result<std::vector<std::string>> parse_export_file(const std::string& content) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < content.size()) {
    size_t end = content.find('\0', start);
    if (end == std::string::npos) end = content.size();
    std::string def = content.substr(start, end - start);
    start = end + 1;
    if (end == content.size() && !def.empty() && def.back() == '\n') def.pop_back();
    if (def.empty()) continue;
    const size_t eq = def.find('=');
    if (eq == std::string::npos || !variable_name(def.substr(0, eq)))
      return make_error("--export-file: " + quoted(def, 60) +
                        " is not NAME=value (definitions are separated by NUL bytes, as `env -0` writes them)");
    if (!valid_utf8(def)) return make_error("--export-file: the value of " + def.substr(0, eq) + " is not UTF-8");
    out.push_back(std::move(def));
  }
  return out;
}

std::vector<std::string> exported_environment(const ExportSpec& spec, const std::vector<std::string>& caller,
                                              const std::vector<std::string>& file) {
  // Names in first-seen order, so the job sees the caller's order.
  std::vector<std::string> order;
  std::map<std::string, std::string> value;
  auto put = [&](const std::string& entry) {
    const std::string name = name_of(entry);
    if (value.emplace(name, entry).second) order.push_back(name);
    else value[name] = entry;
  };
  std::map<std::string, const std::string*> of_caller;
  for (const std::string& e : caller)
    if (usable(e)) of_caller.emplace(name_of(e), &e);
  if (!spec.all) {
    for (const std::string& e : caller)
      if (usable(e) && e.starts_with("SLURM_")) put(e);
    for (const std::string& s : spec.settings) put(s);
    for (const std::string& n : spec.names)
      if (auto it = of_caller.find(n); it != of_caller.end()) put(*it->second);
  } else {
    for (const std::string& s : spec.settings)
      if (!of_caller.count(name_of(s))) put(s);
    for (const std::string& e : caller)
      if (usable(e)) put(e);
  }
  for (const std::string& d : file) put(d);
  std::vector<std::string> out;
  out.reserve(order.size());
  for (const std::string& n : order) out.push_back(value[n]);
  return out;
}

std::vector<std::string> unexportable(const std::vector<std::string>& caller) {
  std::vector<std::string> out;
  for (const std::string& e : caller)
    if (!usable(e)) out.push_back(name_of(e));
  return out;
}

}  // namespace cadre::cli
