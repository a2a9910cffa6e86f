// Internal to agent/cgroup.cpp, agent/cgroup_setup.cpp and agent/cpuset.cpp:
// the small helpers they use to read and write cgroup control files and to
// split and parse their text. Not part of the agent's API; include
// agent/cgroup.hpp.
#pragma once

#include <sys/types.h>

#include <charconv>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace cadre::agent::cgroup_detail {

// The message for the errno value `e`.
std::string errno_text(int e);

// dir + "/" + name, without doubling a trailing slash.
std::string join(const std::string& dir, std::string_view name);

bool exists(const std::string& path);

// The whole file, or nullopt (errno set) when it cannot be read.
std::optional<std::string> read_text(const std::string& path);

// One write(2) of `text`, as cgroup control files expect. Returns 0 or errno.
// With `fake`, a missing file is created (see CgroupPaths::fake).
int write_control(const std::string& path, const std::string& text, bool fake);

// The non-empty pieces of `text` between `sep`s.
std::vector<std::string> split(std::string_view text, char sep);
// The words of every line of `text`.
std::vector<std::string> words(std::string_view text);

// `s` without leading and trailing spaces, tabs and newlines.
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The whole of `s` as a decimal Int, or nullopt.
template <typename Int>
std::optional<Int> to_int(std::string_view s) {
  Int v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Positive pids only: kill(0) or kill(-1) would hit far more than a cgroup.
std::vector<pid_t> parse_pids(std::string_view text);

// Enables each controller on its own so that an optional one failing
// (cpuset) does not stop the others.
std::set<std::string> enable_controllers(const std::string& cg, const std::vector<std::string>& names, bool fake,
                                         std::string* first_error);

}  // namespace cadre::agent::cgroup_detail

// The helpers above by their short names, for the files that include this one.
namespace cadre::agent {
using cgroup_detail::enable_controllers;
using cgroup_detail::errno_text;
using cgroup_detail::exists;
using cgroup_detail::join;
using cgroup_detail::parse_pids;
using cgroup_detail::read_text;
using cgroup_detail::split;
using cgroup_detail::to_int;
using cgroup_detail::trim;
using cgroup_detail::words;
using cgroup_detail::write_control;
}  // namespace cadre::agent
