#include "cli/names.hpp"

#include <cstdlib>
#include <string>

#include "common/escape.hpp"
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
