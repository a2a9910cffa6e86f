// Internal to agent/cgroup.cpp and agent/cgroup_setup.cpp: the small
// helpers both use to read and write cgroup control files and to split
// their text. Not part of the agent's API; include agent/cgroup.hpp.
#pragma once

#include <sys/types.h>

#include <optional>
#include <set>
#include <string>
#include <string_view>
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

// Positive pids only: kill(0) or kill(-1) would hit far more than a cgroup.
std::vector<pid_t> parse_pids(std::string_view text);

// Enables each controller on its own so that an optional one failing
// (cpuset) does not stop the others.
std::set<std::string> enable_controllers(const std::string& cg, const std::vector<std::string>& names, bool fake,
                                         std::string* first_error);

}  // namespace cadre::agent::cgroup_detail
