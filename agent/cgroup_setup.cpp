// Prepares cgroup v2 for the agent: finds its delegated subtree (from
// /proc/self/mountinfo and /proc/self/cgroup), moves the agent into a leaf
// of it and enables the controllers ranks need (setup_cgroups), or nests a
// per-agent subtree under it (nest_cgroups). Says why when cgroup v2 cannot
// be used.
#include "agent/cgroup.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "agent/cgroup_files.hpp"

namespace cadre::agent {

namespace {

// The leaf the agent moves itself into (cgroup v2 lets only leaves hold
// processes once controllers are enabled for children).
constexpr const char* kAgentLeaf = "agent";
// When the agent runs in the root cgroup, jobs go under this child of it.
constexpr const char* kRootSubtree = "cadre";

// ---- Discovery ---------------------------------------------------------

struct Mount {
  std::string root;  // the folder of the hierarchy mounted here
  std::string point;
  std::string fstype;
  std::string super_options;
};

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    std::string_view digits = i + 3 < s.size() ? s.substr(i + 1, 3) : std::string_view();
    if (s[i] == '\\' && !digits.empty() && digits.find_first_not_of("01234567") == std::string_view::npos) {
      out.push_back(static_cast<char>((digits[0] - '0') * 64 + (digits[1] - '0') * 8 + (digits[2] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<Mount> parse_mountinfo(std::string_view text) {
  std::vector<Mount> mounts;
  for (const std::string& line : split(text, '\n')) {
    std::vector<std::string> f = split(line, ' ');
    // id parent major:minor root point options [optional fields] - fstype source super_options
    if (f.size() < 10) continue;
    auto dash = std::find(f.begin() + 6, f.end(), "-");
    if (f.end() - dash < 4) continue;
    mounts.push_back({unescape(f[3]), unescape(f[4]), dash[1], dash[3]});
  }
  return mounts;
}

// Controllers some cgroup v1 hierarchy holds; the kernel gives each
// controller to one hierarchy only, so these are missing from cgroup v2.
std::set<std::string> v1_controllers(const std::vector<Mount>& mounts) {
  std::set<std::string> out;
  for (const Mount& m : mounts) {
    if (m.fstype != "cgroup") continue;
    for (const std::string& opt : split(m.super_options, ',')) out.insert(opt);
  }
  return out;
}

// The path after "0::" in /proc/self/cgroup.
std::optional<std::string> unified_path(std::string_view text) {
  for (const std::string& line : split(text, '\n')) {
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  }
  return std::nullopt;
}

const Mount* find_cgroup2(const std::vector<Mount>& mounts, const std::string& cg_path) {
  const Mount* first = nullptr;
  for (const Mount& m : mounts) {
    if (m.fstype != "cgroup2") continue;
    if (!first) first = &m;
    if (m.root == "/" || cg_path == m.root || cg_path.rfind(m.root + "/", 0) == 0) return &m;
  }
  return first;
}

std::string dirname(const std::string& path) {
  size_t slash = path.find_last_not_of('/');
  slash = slash == std::string::npos ? 0 : path.rfind('/', slash);
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string basename(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p.substr(p.rfind('/') + 1);
}

// Why writing to `path` will not work, or "" when it may.
std::string write_problem(const std::string& path) {
  if (::access(path.c_str(), W_OK) == 0) return "";
  int e = errno;
  if (e == EROFS) return "the cgroup file system is read-only (" + path + ")";
  if (e == EACCES || e == EPERM) {
    return "no write access to " + path + "; run the agent as root or under systemd with Delegate=yes";
  }
  if (e == ENOENT) return path + " does not exist; is it a cgroup v2 folder?";
  return "cannot write " + path + ": " + errno_text(e);
}

std::string controller_words(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out + (names.size() == 1 ? " controller" : " controllers");
}

// Moves every process listed in from/cgroup.procs to `to`. Processes may
// fork meanwhile, so it rereads until a pass finds no pid it has not moved.
Status move_processes(const std::string& from, const std::string& to, bool fake) {
  std::set<pid_t> moved;
  for (int pass = 0; pass < 10; ++pass) {
    std::optional<std::string> text = read_text(join(from, "cgroup.procs"));
    if (!text) return make_error("cannot read " + join(from, "cgroup.procs") + ": " + errno_text(errno));
    bool any_new = false;
    for (pid_t pid : parse_pids(*text)) {
      if (!moved.insert(pid).second) continue;
      any_new = true;
      int e = write_control(join(to, "cgroup.procs"), std::to_string(pid), fake);
      if (e != 0 && e != ESRCH) {
        return make_error("cannot move process " + std::to_string(pid) + " into " + to + ": " + errno_text(e));
      }
    }
    if (!any_new) break;
  }
  return {};
}

std::string enabled_description(const CgroupSupport& s) {
  std::vector<std::string> names;
  if (s.cpu) names.push_back("cpu");
  if (s.memory) names.push_back("memory");
  if (s.cpuset) names.push_back("cpuset");
  std::string out = "cgroup v2 (";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out + ")";
}

// Finds the agent's own cgroup folder, or says why there is none.
Result<std::string> find_self(const CgroupPaths& paths, const std::vector<Mount>& mounts, bool has_v1) {
  if (!paths.base.empty()) return paths.base;
  std::optional<std::string> cg_text = read_text(paths.proc_self_cgroup);
  if (!cg_text) return make_error("cannot read " + paths.proc_self_cgroup + ": " + errno_text(errno));
  std::optional<std::string> cg_path = unified_path(*cg_text);
  if (!cg_path) {
    return make_error(has_v1 ? "this node uses cgroup v1 only; boot with systemd.unified_cgroup_hierarchy=1"
                             : "the kernel has no cgroup v2 hierarchy");
  }
  const Mount* mount = find_cgroup2(mounts, *cg_path);
  if (!mount) {
    return make_error(std::string("no cgroup v2 file system is mounted") +
                      (has_v1 ? " (this node uses cgroup v1; boot with systemd.unified_cgroup_hierarchy=1)" : ""));
  }
  std::string rel = *cg_path;
  if (mount->root != "/") {
    if (rel != mount->root && rel.rfind(mount->root + "/", 0) != 0) {
      return make_error("the agent's cgroup " + rel + " is outside the cgroup v2 mount at " + mount->point);
    }
    rel = rel.substr(mount->root.size());
  }
  while (rel.size() > 1 && rel.back() == '/') rel.pop_back();
  return rel.empty() || rel == "/" ? mount->point : join(mount->point, rel.substr(rel[0] == '/' ? 1 : 0));
}

}  // namespace

// Declared in cgroup_files.hpp: CgroupManager::create_job enables the
// controllers of a job cgroup with it too.
namespace cgroup_detail {

std::set<std::string> enable_controllers(const std::string& cg, const std::vector<std::string>& names, bool fake,
                                         std::string* first_error) {
  std::set<std::string> enabled;
  for (const std::string& name : names) {
    int e = write_control(join(cg, "cgroup.subtree_control"), "+" + name, fake);
    if (e == 0) {
      enabled.insert(name);
    } else if (first_error && first_error->empty()) {
      *first_error = "cannot enable the " + name + " controller in " + join(cg, "cgroup.subtree_control") + ": " +
                     errno_text(e) + (e == EBUSY ? " (processes remain in " + cg + ")" : "");
    }
  }
  return enabled;
}

}  // namespace cgroup_detail

// ---- setup_cgroups -----------------------------------------------------

CgroupSupport setup_cgroups(const CgroupPaths& paths) {
  CgroupSupport s;
  s.fake = paths.fake;
  auto disabled = [&s](const std::string& why) {
    s.enabled = s.cpu = s.memory = s.cpuset = s.kill = false;
    s.description = "process groups (" + why + ")";
    return s;
  };

  std::vector<Mount> mounts = parse_mountinfo(read_text(paths.proc_self_mountinfo).value_or(""));
  std::set<std::string> v1 = v1_controllers(mounts);
  Result<std::string> self = find_self(paths, mounts, !v1.empty());
  if (!self.ok()) return disabled(self.error());
  s.self = *self;
  if (!exists(join(s.self, "cgroup.controllers"))) {
    return disabled(s.self + " is not a cgroup v2 folder (no cgroup.controllers in it)");
  }

  // The root cgroup has no cgroup.type. Its processes are the whole
  // machine's, and it may hold processes and enable controllers at once,
  // so nothing moves: jobs live under a child of it instead.
  bool is_root = !exists(join(s.self, "cgroup.type"));
  // The cgroup whose cgroup.controllers says what base's children may use.
  std::string parent = s.self;
  if (is_root) {
    s.base = join(s.self, kRootSubtree);
  } else if (paths.base.empty() && basename(s.self) == kAgentLeaf) {
    // An agent restarted from inside the leaf an earlier one made.
    s.base = parent = dirname(s.self);
  } else {
    s.base = s.self;
  }

  std::optional<std::string> controllers_text = read_text(join(parent, "cgroup.controllers"));
  if (!controllers_text) return disabled("cannot read " + join(parent, "cgroup.controllers") + ": " + errno_text(errno));
  std::vector<std::string> available = words(*controllers_text);
  auto has = [&available](const char* c) { return std::find(available.begin(), available.end(), c) != available.end(); };
  std::vector<std::string> missing;
  for (const char* c : {"cpu", "memory"}) {
    if (!has(c)) missing.push_back(c);
  }
  if (!missing.empty()) {
    bool all_v1 = std::all_of(missing.begin(), missing.end(), [&v1](const std::string& c) { return v1.count(c) > 0; });
    if (all_v1) {
      return disabled("cgroup v2 " + controller_words(missing) +
                      " not available: controllers bound to cgroup v1 (hybrid mode; boot with "
                      "systemd.unified_cgroup_hierarchy=1 to use them)");
    }
    return disabled("cgroup v2 " + controller_words(missing) + " not delegated to " + parent +
                    "; run the agent under systemd with Delegate=yes");
  }
  for (const std::string& path : {parent, join(parent, "cgroup.subtree_control"), join(parent, "cgroup.procs")}) {
    if (std::string why = write_problem(path); !why.empty()) return disabled(why);
  }

  std::vector<std::string> wanted = {"cpu", "memory"};
  if (has("cpuset")) wanted.push_back("cpuset");
  if (paths.probe_only) {
    s.enabled = s.cpu = s.memory = true;
    s.cpuset = has("cpuset");
    s.kill = exists(join(is_root ? s.self : s.base, "cgroup.kill"));
    s.description = enabled_description(s);
    return s;
  }

  if (is_root) {
    if (::mkdir(s.base.c_str(), 0755) != 0 && errno != EEXIST) {
      return disabled("cannot create " + s.base + ": " + errno_text(errno));
    }
    std::string error;
    std::set<std::string> on = enable_controllers(s.self, wanted, s.fake, &error);
    if (!on.count("cpu") || !on.count("memory")) return disabled(error);
    if (!on.count("cpuset")) wanted.resize(2);
  } else {
    std::string leaf = join(s.base, kAgentLeaf);
    if (::mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) {
      return disabled("cannot create " + leaf + ": " + errno_text(errno));
    }
    if (Status st = move_processes(s.base, leaf, s.fake); !st.ok()) return disabled(st.error());
  }
  std::string error;
  std::set<std::string> on = enable_controllers(s.base, wanted, s.fake, &error);
  if (!on.count("cpu") || !on.count("memory")) return disabled(error);
  s.enabled = s.cpu = s.memory = true;
  s.cpuset = on.count("cpuset") > 0;
  s.kill = exists(join(s.base, "cgroup.kill"));
  s.description = enabled_description(s);
  return s;
}

CgroupSupport nest_cgroups(CgroupSupport s, const std::string& name) {
  if (!s.enabled) return s;
  const std::string path = join(s.base, name);
  auto disabled = [&s](const std::string& why) {
    s.enabled = s.cpu = s.memory = s.cpuset = s.kill = false;
    s.description = "process groups (" + why + ")";
    return s;
  };
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    return disabled("bad cgroup name \"" + name + "\"");
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    return disabled("cannot create " + path + ": " + errno_text(errno));
  std::vector<std::string> wanted = {"cpu", "memory"};
  if (s.cpuset) wanted.push_back("cpuset");
  std::string error;
  std::set<std::string> on = enable_controllers(path, wanted, s.fake, &error);
  if (!on.count("cpu") || !on.count("memory")) return disabled(error);
  s.cpuset = on.count("cpuset") > 0;
  s.base = path;
  return s;
}

}  // namespace cadre::agent
