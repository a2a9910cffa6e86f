#include "agent/cgroup.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <set>
#include <system_error>
#include <thread>
#include <tuple>

namespace cadre::agent {
namespace {

namespace fs = std::filesystem;

// The leaf the agent moves itself into (cgroup v2 lets only leaves hold
// processes once controllers are enabled for children).
constexpr const char* kAgentLeaf = "agent";
// When the agent runs in the root cgroup, jobs go under this child of it.
constexpr const char* kRootSubtree = "cadre";
constexpr int kMaxCpuId = 65535;

std::string errno_text(int e) { return std::error_code(e, std::generic_category()).message(); }

std::string join(const std::string& dir, std::string_view name) {
  if (!dir.empty() && dir.back() == '/') return dir + std::string(name);
  return dir + "/" + std::string(name);
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::optional<std::string> read_text(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  bool ok = false;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      ok = n == 0;
      break;
    }
  }
  ::close(fd);
  if (!ok) return std::nullopt;
  return out;
}

// The kernel treats a write to these as adding to a set, so a fake tree
// appends to them; other control files hold one value and are replaced.
bool adds_to_set(const std::string& path) {
  std::string_view name = std::string_view(path).substr(path.rfind('/') + 1);
  return name == "cgroup.procs" || name == "cgroup.subtree_control";
}

// One write(2) of `text`, as cgroup control files expect. Returns 0 or errno.
int write_control(const std::string& path, const std::string& text, bool fake) {
  int flags = O_WRONLY | O_CLOEXEC;
  bool append = fake && adds_to_set(path);
  if (fake) flags |= O_CREAT | (append ? O_APPEND : O_TRUNC);
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return errno;
  std::string data = append ? text + "\n" : text;
  ssize_t n;
  do {
    n = ::write(fd, data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  int err = n < 0 ? errno : (static_cast<size_t>(n) == data.size() ? 0 : EIO);
  ::close(fd);
  return err;
}

Status write_value(const std::string& dir, std::string_view file, const std::string& value, bool fake) {
  std::string path = join(dir, file);
  if (int e = write_control(path, value, fake); e != 0) {
    return make_error("cannot write \"" + value + "\" to " + path + ": " + errno_text(e));
  }
  return {};
}

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  for (std::string& line : split(text, '\n')) {
    for (std::string& w : split(line, ' ')) {
      if (!w.empty()) out.push_back(std::move(w));
    }
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <typename Int>
std::optional<Int> to_int(std::string_view s) {
  Int v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Positive pids only: kill(0) or kill(-1) would hit far more than a cgroup.
std::vector<pid_t> parse_pids(std::string_view text) {
  std::vector<pid_t> out;
  for (const std::string& w : words(text)) {
    if (auto pid = to_int<pid_t>(w); pid && *pid > 0) out.push_back(*pid);
  }
  return out;
}

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

// Enables each controller on its own so that an optional one failing
// (cpuset) does not stop the others.
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

// ---- Values ------------------------------------------------------------

MemoryEvents parse_memory_events(std::string_view text) {
  MemoryEvents ev;
  for (const std::string& line : split(text, '\n')) {
    std::vector<std::string> f = split(line, ' ');
    if (f.size() != 2) continue;
    std::optional<int64_t> v = to_int<int64_t>(f[1]);
    if (!v) continue;
    if (f[0] == "low") ev.low = *v;
    else if (f[0] == "high") ev.high = *v;
    else if (f[0] == "max") ev.max = *v;
    else if (f[0] == "oom") ev.oom = *v;
    else if (f[0] == "oom_kill") ev.oom_kill = *v;
    else if (f[0] == "oom_group_kill") ev.oom_group_kill = *v;
  }
  return ev;
}

std::string cpu_max_value(int64_t millicores) {
  if (millicores <= 0) return "max";
  constexpr int64_t kPeriodUs = 100000, kMinQuotaUs = 1000;
  return std::to_string(std::max(millicores * (kPeriodUs / 1000), kMinQuotaUs)) + " " + std::to_string(kPeriodUs);
}

std::string memory_max_value(int64_t memory_mb) {
  if (memory_mb <= 0) return "max";
  return std::to_string(memory_mb * 1048576);
}

std::string format_cpu_list(const std::vector<int>& cpus) {
  std::vector<int> sorted = cpus;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string out;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(sorted[i]);
    if (j > i) out += "-" + std::to_string(sorted[j]);
    i = j + 1;
  }
  return out;
}

Result<std::vector<int>> parse_cpu_list(std::string_view text) {
  std::vector<int> out;
  text = trim(text);
  if (text.empty()) return out;
  if (text.front() == ',' || text.back() == ',' || text.find(",,") != std::string_view::npos) {
    return make_error("bad cpu list \"" + std::string(text) + "\": empty item");
  }
  for (const std::string& item : split(text, ',')) {
    size_t dash = item.find('-');
    std::optional<int> lo = to_int<int>(std::string_view(item).substr(0, dash));
    std::optional<int> hi = dash == std::string::npos ? lo : to_int<int>(std::string_view(item).substr(dash + 1));
    if (!lo || !hi || *lo < 0 || *hi < *lo || *hi > kMaxCpuId) {
      return make_error("bad cpu list \"" + std::string(text) + "\": expected ids or ranges like 0-3,8,10-11");
    }
    for (int c = *lo; c <= *hi; ++c) out.push_back(c);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

int whole_cpus(int64_t millicores) {
  if (millicores <= 0 || millicores % 1000 != 0) return 0;
  return static_cast<int>(millicores / 1000);
}

std::vector<int> rank_cpus(const std::vector<int>& job_cpus, int local_rank, int per_rank) {
  if (local_rank < 0 || per_rank <= 0) return {};
  size_t start = static_cast<size_t>(local_rank) * static_cast<size_t>(per_rank);
  if (start + static_cast<size_t>(per_rank) > job_cpus.size()) return {};
  return std::vector<int>(job_cpus.begin() + static_cast<long>(start),
                          job_cpus.begin() + static_cast<long>(start + static_cast<size_t>(per_rank)));
}

std::string cgroup_procs_path(const std::string& cgroup) { return join(cgroup, "cgroup.procs"); }

int join_cgroup(const char* procs_path) {
  int fd = ::open(procs_path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t n;
  do {
    n = ::write(fd, "0", 1);
  } while (n < 0 && errno == EINTR);
  int err = n == 1 ? 0 : (n < 0 ? errno : EIO);
  ::close(fd);
  return err;
}

// ---- CgroupManager -----------------------------------------------------

namespace {

// rmdir, retrying EBUSY while the kernel finishes freeing the cgroup. A
// fake tree's folders hold plain files, which go first.
Status remove_one(const std::string& dir, bool fake) {
  if (fake) {
    std::error_code ec, ec2;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec2)) fs::remove(it->path(), ec2);
    }
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    int e = errno;
    if (e != EBUSY || std::chrono::steady_clock::now() >= deadline) {
      return make_error("cannot remove cgroup " + dir + ": " + errno_text(e) +
                        (e == EBUSY ? " (processes are still in it)" : ""));
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(16));
  }
}

// `path` and its descendant cgroups, parents before children.
std::vector<std::string> subtree(const std::string& path) {
  std::vector<std::string> out = {path};
  std::error_code ec;
  fs::recursive_directory_iterator it(path, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (it->is_directory(ec2) && !it->is_symlink(ec2)) out.push_back(it->path().string());
  }
  return out;
}

bool valid_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\n') == std::string::npos;
}

}  // namespace

CgroupManager::CgroupManager(CgroupSupport support) : support_(std::move(support)) {}

std::string CgroupManager::job_path(JobId job, Attempt attempt) const {
  return join(support_.base, "job_" + std::to_string(job) + "_" + std::to_string(attempt));
}

Status CgroupManager::write_limits(const std::string& path, const Resources& limits,
                                   const std::vector<int>& cpus) const {
  if (support_.cpu) {
    if (Status st = write_value(path, "cpu.max", cpu_max_value(limits.millicores), support_.fake); !st.ok()) return st;
  }
  if (support_.memory) {
    if (Status st = write_value(path, "memory.max", memory_max_value(limits.memory_mb), support_.fake); !st.ok()) {
      return st;
    }
    // Without swap accounting the file is absent; with it, a rank over its
    // limit must be OOM-killed rather than pushed to swap.
    if (exists(join(path, "memory.swap.max"))) {
      if (Status st = write_value(path, "memory.swap.max", "0", support_.fake); !st.ok()) return st;
    }
  }
  if (support_.cpuset && !cpus.empty()) {
    if (Status st = write_value(path, "cpuset.cpus", format_cpu_list(cpus), support_.fake); !st.ok()) return st;
  }
  return {};
}

Result<std::string> CgroupManager::create_job(JobId job, Attempt attempt, const Resources& node_alloc,
                                              const std::vector<int>& cpus) {
  if (!support_.enabled) return make_error("cgroups are not in use on this node: " + support_.description);
  std::string path = job_path(job, attempt);
  bool made = ::mkdir(path.c_str(), 0755) == 0;
  if (!made && errno != EEXIST) return make_error("cannot create cgroup " + path + ": " + errno_text(errno));
  Status st = write_limits(path, node_alloc, cpus);
  if (st.ok()) {
    std::vector<std::string> names = {"cpu", "memory"};
    if (support_.cpuset) names.push_back("cpuset");
    std::string error;
    if (enable_controllers(path, names, support_.fake, &error).size() != names.size()) st = make_error(error);
  }
  if (!st.ok()) {
    if (made) (void)remove(path);
    return make_error(st.error());
  }
  return path;
}

Result<std::string> CgroupManager::create_process(const std::string& job_path, const std::string& name,
                                                  const Resources& limits, const std::vector<int>& cpus) {
  if (!support_.enabled) return make_error("cgroups are not in use on this node: " + support_.description);
  if (!valid_name(name)) return make_error("bad cgroup name \"" + name + "\"");
  if (job_path.rfind(support_.base + "/", 0) != 0) return make_error(job_path + " is not under " + support_.base);
  std::string path = join(job_path, name);
  bool made = ::mkdir(path.c_str(), 0755) == 0;
  if (!made && errno != EEXIST) return make_error("cannot create cgroup " + path + ": " + errno_text(errno));
  Status st = write_limits(path, limits, cpus);
  // One rank is one unit: when the kernel OOM-kills a process of it, it
  // kills the rest too instead of leaving a rank with a missing worker.
  if (st.ok() && support_.memory && exists(join(path, "memory.oom.group"))) {
    st = write_value(path, "memory.oom.group", "1", support_.fake);
  }
  if (!st.ok()) {
    if (made) (void)remove(path);
    return make_error(st.error());
  }
  return path;
}

Status CgroupManager::add_process(const std::string& path, pid_t pid) const {
  return write_value(path, "cgroup.procs", std::to_string(pid), support_.fake);
}

Status CgroupManager::kill(const std::string& path) const {
  if (path.rfind(support_.base + "/", 0) != 0) return make_error(path + " is not under " + support_.base);
  // Never created on a fake tree: a test's cgroup.kill is there or not.
  int e = write_control(join(path, "cgroup.kill"), "1", false);
  if (e == 0) return {};
  if (e != ENOENT) return make_error("cannot write " + join(path, "cgroup.kill") + ": " + errno_text(e));
  if (!exists(path)) return make_error("no cgroup " + path);

  // Before 5.14: signal each listed pid, rereading in case one forked.
  std::set<pid_t> signalled;
  std::string error;
  for (int pass = 0; pass < 20; ++pass) {
    bool any_new = false;
    for (const std::string& cg : subtree(path)) {
      for (pid_t pid : parse_pids(read_text(join(cg, "cgroup.procs")).value_or(""))) {
        if (pid == ::getpid() || !signalled.insert(pid).second) continue;
        any_new = true;
        if (::kill(pid, SIGKILL) != 0 && errno != ESRCH && error.empty()) {
          error = "cannot kill process " + std::to_string(pid) + " of " + cg + ": " + errno_text(errno);
        }
      }
    }
    if (!any_new) break;
  }
  if (!error.empty()) return make_error(error);
  return {};
}

Result<MemoryEvents> CgroupManager::memory_events(const std::string& path) const {
  std::optional<std::string> text = read_text(join(path, "memory.events"));
  if (!text) return make_error("cannot read " + join(path, "memory.events") + ": " + errno_text(errno));
  return parse_memory_events(*text);
}

bool CgroupManager::oom_killed(const std::string& path) const {
  Result<MemoryEvents> ev = memory_events(path);
  return ev.ok() && ev->oom_killed();
}

std::optional<int64_t> CgroupManager::memory_peak_bytes(const std::string& path) const {
  std::optional<std::string> text = read_text(join(path, "memory.peak"));
  if (!text) return std::nullopt;
  return to_int<int64_t>(trim(*text));
}

Status CgroupManager::remove(const std::string& path) const {
  if (path.rfind(support_.base + "/", 0) != 0) return make_error(path + " is not under " + support_.base);
  std::vector<std::string> dirs = subtree(path);
  // Children before parents: a cgroup with children cannot be removed.
  std::sort(dirs.begin(), dirs.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& dir : dirs) {
    if (Status st = remove_one(dir, support_.fake); !st.ok()) return st;
  }
  return {};
}

std::vector<JobCgroup> CgroupManager::list_jobs() const {
  std::vector<JobCgroup> out;
  std::error_code ec, ec2;
  for (fs::directory_iterator it(support_.base, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& e = *it;
    std::string name = e.path().filename().string();
    if (!e.is_directory(ec2) || name.rfind("job_", 0) != 0) continue;
    size_t sep = name.find('_', 4);
    if (sep == std::string::npos) continue;
    std::optional<JobId> job = to_int<JobId>(std::string_view(name).substr(4, sep - 4));
    std::optional<Attempt> attempt = to_int<Attempt>(std::string_view(name).substr(sep + 1));
    if (!job || !attempt) continue;
    JobCgroup jc{*job, *attempt, e.path().string(), {}};
    if (std::optional<std::string> text = read_text(join(jc.path, "cpuset.cpus"))) {
      if (Result<std::vector<int>> cpus = parse_cpu_list(*text); cpus.ok()) jc.cpus = std::move(*cpus);
    }
    out.push_back(std::move(jc));
  }
  std::sort(out.begin(), out.end(),
            [](const JobCgroup& a, const JobCgroup& b) { return std::tie(a.job, a.attempt) < std::tie(b.job, b.attempt); });
  return out;
}

// ---- CpuSetAllocator ---------------------------------------------------

CpuSetAllocator::CpuSetAllocator(std::vector<int> usable) : usable_(std::move(usable)) {
  std::sort(usable_.begin(), usable_.end());
  usable_.erase(std::unique(usable_.begin(), usable_.end()), usable_.end());
}

void CpuSetAllocator::hold(const std::string& owner, const std::vector<int>& cpus) { held_[owner] = cpus; }

void CpuSetAllocator::release(const std::string& owner) { held_.erase(owner); }

std::vector<int> CpuSetAllocator::free_cpus() const {
  std::set<int> taken;
  for (const auto& [owner, cpus] : held_) taken.insert(cpus.begin(), cpus.end());
  std::vector<int> out;
  for (int c : usable_) {
    if (!taken.count(c)) out.push_back(c);
  }
  return out;
}

Result<std::vector<int>> CpuSetAllocator::allocate(const std::string& owner, int count) {
  if (count <= 0) return make_error("a cpu set needs at least one cpu");
  release(owner);
  std::vector<int> free = free_cpus();
  if (free.size() < static_cast<size_t>(count)) {
    return make_error("only " + std::to_string(free.size()) + " of this node's " + std::to_string(usable_.size()) +
                      " cpus are free; " + std::to_string(count) + " needed");
  }
  free.resize(static_cast<size_t>(count));
  held_[owner] = free;
  return free;
}

}  // namespace cadre::agent
