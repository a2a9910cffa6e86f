#include "common/dependency.hpp"

#include <charconv>
#include <optional>

namespace cadre {
namespace {

constexpr const char* kForm =
    " (give TYPE:JOBID[:JOBID...] with TYPE after, afterany, afterok or afternotok, or singleton; "
    "join several with ',' for all or '?' for any)";

std::optional<uint64_t> number(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

Result<DepTarget> parse_target(std::string_view word, DepKind kind) {
  DepTarget t;
  std::string_view id = word;
  if (auto plus = word.find('+'); plus != std::string_view::npos) {
    if (kind != DepKind::after) return make_error("'" + std::string(word) + "': only after takes +MINUTES");
    auto m = number(word.substr(plus + 1));
    if (!m || *m > 525600) return make_error("'" + std::string(word) + "': +MINUTES must be a number of minutes");
    t.delay_min = static_cast<int64_t>(*m);
    id = word.substr(0, plus);
  }
  std::string_view task;
  if (auto under = id.find('_'); under != std::string_view::npos) {
    task = id.substr(under + 1);
    id = id.substr(0, under);
  }
  auto job = number(id);
  if (!job || *job == 0) return make_error("'" + std::string(word) + "' is not a job id");
  t.job = *job;
  if (!task.empty() || word.find('_') != std::string_view::npos) {
    auto i = number(task);
    if (!i || *i > 4000000) return make_error("'" + std::string(word) + "' is not an array task (ARRAYID_INDEX)");
    t.task = static_cast<int64_t>(*i);
  }
  return t;
}

}  // namespace

std::string_view to_string(DepKind kind) {
  switch (kind) {
    case DepKind::after: return "after";
    case DepKind::afterany: return "afterany";
    case DepKind::afterok: return "afterok";
    case DepKind::afternotok: return "afternotok";
    case DepKind::singleton: return "singleton";
  }
  return "?";
}

Result<DependencySpec> parse_dependency(std::string_view text) {
  const std::string what = "--dependency=" + std::string(text.substr(0, 64)) + (text.size() > 64 ? "..." : "");
  if (text.empty()) return make_error("--dependency: give a dependency" + std::string(kForm));
  if (text.size() > kMaxDependencyBytes)
    return make_error("--dependency is " + std::to_string(text.size()) + " bytes; at most " +
                      std::to_string(kMaxDependencyBytes) + " are allowed");
  const bool has_all = text.find(',') != std::string_view::npos, has_any = text.find('?') != std::string_view::npos;
  if (has_all && has_any)
    return make_error(what + ": ',' (all) and '?' (any) cannot be mixed in one dependency, as in Slurm");
  DependencySpec spec;
  spec.any = has_any;
  size_t targets = 0;
  for (std::string_view item : split(text, has_any ? '?' : ',')) {
    auto words = split(item, ':');
    DepItem d;
    const std::string_view type = words[0];
    if (type == "after") d.kind = DepKind::after;
    else if (type == "afterany") d.kind = DepKind::afterany;
    else if (type == "afterok") d.kind = DepKind::afterok;
    else if (type == "afternotok") d.kind = DepKind::afternotok;
    else if (type == "singleton") d.kind = DepKind::singleton;
    else if (type == "aftercorr")
      return make_error(what + ": aftercorr is not supported yet; afterok:ARRAYID waits for every task of the array");
    else if (type == "afterburstbuffer")
      return make_error(what + ": cadre has no burst buffers; use afterany:JOBID");
    else
      return make_error(what + ": unknown dependency type '" + std::string(type) + "'" + kForm);
    if (d.kind == DepKind::singleton) {
      if (words.size() != 1) return make_error(what + ": singleton takes no job ids");
    } else {
      if (words.size() < 2) return make_error(what + ": " + std::string(type) + " needs job ids" + kForm);
      for (size_t i = 1; i < words.size(); ++i) {
        auto t = parse_target(words[i], d.kind);
        if (!t) return make_error(what + ": " + t.error());
        d.targets.push_back(*t);
        if (++targets > kMaxDependencyTargets)
          return make_error(what + ": at most " + std::to_string(kMaxDependencyTargets) + " job ids");
      }
    }
    spec.items.push_back(std::move(d));
  }
  return spec;
}

std::string format_dependency(const DependencySpec& spec) {
  std::string out;
  for (const DepItem& d : spec.items) {
    if (!out.empty()) out += spec.any ? '?' : ',';
    out += to_string(d.kind);
    for (const DepTarget& t : d.targets) {
      out += ':' + std::to_string(t.job);
      if (t.task >= 0) out += '_' + std::to_string(t.task);
      if (t.delay_min > 0) out += '+' + std::to_string(t.delay_min);
    }
  }
  return out;
}

}  // namespace cadre
