#include "cli/names.hpp"

#include <cstdlib>
#include <set>
#include <string>

#include "common/escape.hpp"
#include "common/job_array.hpp"
#include "common/limits.hpp"
#include "common/resources.hpp"

namespace cadre::cli {
namespace {

// A word as errors show it: quoted and cut after 40 characters, with its
// length when cut, so a 5,000-character value does not fill the terminal.
std::string shown(std::string_view word) {
  constexpr size_t kShown = 40;
  return quoted(word, kShown) + (word.size() > kShown ? " (" + std::to_string(word.size()) + " bytes)" : "");
}

}  // namespace

Result<uint64_t> parse_job_id(std::string_view text) {
  auto n = parse_count(text, INT64_MAX);
  if (!n || *n == 0) return make_error(shown(text) + " is not a job id (a positive whole number)");
  return static_cast<uint64_t>(*n);
}

Result<JobTargets> parse_job_targets(const std::vector<std::string>& words) {
  JobTargets out;
  std::set<uint64_t> ids;
  std::set<std::string> tasks;
  for (const std::string& w : words) {
    const auto under = w.find('_');
    if (under == std::string::npos) {
      auto id = parse_job_id(w);
      if (!id) return make_error(id.error());
      if (ids.insert(*id).second) out.ids.push_back(*id);
      continue;
    }
    auto array = parse_job_id(std::string_view(w).substr(0, under));
    std::string_view index = std::string_view(w).substr(under + 1);
    const bool bracketed = index.size() >= 2 && index.front() == '[' && index.back() == ']';
    if (bracketed) index = index.substr(1, index.size() - 2);
    auto set = IndexSet::parse(index);
    if (!array || !set || (!bracketed && set->count() != 1))
      return make_error(shown(w) + " is not a job id or an array task (42, 42_7 or 42_[1-3,7])");
    if (out.tasks.size() + set->count() > limits::kMaxIdsPerRequest)
      return make_error("more than " + std::to_string(limits::kMaxIdsPerRequest) +
                        " array tasks in one command: name the whole array by its id instead");
    IndexSet left = *set;
    while (!left.empty()) {
      std::string task = std::to_string(*array) + "_" + std::to_string(left.take_lowest());
      if (tasks.insert(task).second) out.tasks.push_back(std::move(task));
    }
  }
  return out;
}

void set_task_refs(capnp::List<capnp::Text>::Builder out, const std::vector<std::string>& tasks) {
  for (unsigned i = 0; i < tasks.size(); ++i) out.set(i, capnp::Text::Reader(tasks[i].data(), tasks[i].size()));
}

Result<std::optional<uint64_t>> job_from_environment() {
  const char* value = std::getenv("CADRE_JOB_ID");
  if (!value || !*value) return std::optional<uint64_t>();
  auto id = parse_job_id(value);
  if (!id)
    return make_error("CADRE_JOB_ID: " + id.error() +
                      "; inside a job it holds the job's id, outside one unset it (unset CADRE_JOB_ID)");
  return std::optional<uint64_t>(*id);
}

Status check_node_name(std::string_view name) {
  if (name.empty()) return make_error("a node name is empty (''); give a name as `cadre nodes` lists it");
  if (name.size() > limits::kMaxNodeNameBytes)
    return make_error("node name " + shown(name) + " is too long (at most " +
                      std::to_string(limits::kMaxNodeNameBytes) + " bytes)");
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f || c == '/')
      return make_error("node name " + shown(name) + " holds " + (c == '/' ? "a '/'" : "a control character") +
                        "; give a name as `cadre nodes` lists it");
  return {};
}

}  // namespace cadre::cli
