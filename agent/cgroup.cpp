// CgroupManager: creates the cgroups of job attempts and ranks, writes
// their limits, moves, kills and inspects their processes, and removes
// them. Also the values written to cpu.max / memory.max, memory.events
// parsing, join_cgroup, and the control-file helpers of cgroup_files.hpp
// that cgroup_setup.cpp shares.
#include "agent/cgroup.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <set>
#include <system_error>
#include <thread>
#include <tuple>

#include "agent/cgroup_files.hpp"

namespace cadre::agent {

// ---- Control files and their text (cgroup_files.hpp) -------------------

namespace cgroup_detail {
namespace {

// The kernel treats a write to these as adding to a set, so a fake tree
// appends to them; other control files hold one value and are replaced.
bool adds_to_set(const std::string& path) {
  std::string_view name = std::string_view(path).substr(path.rfind('/') + 1);
  return name == "cgroup.procs" || name == "cgroup.subtree_control";
}

}  // namespace

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

std::vector<pid_t> parse_pids(std::string_view text) {
  std::vector<pid_t> out;
  for (const std::string& w : words(text)) {
    if (auto pid = to_int<pid_t>(w); pid && *pid > 0) out.push_back(*pid);
  }
  return out;
}

}  // namespace cgroup_detail

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

namespace fs = std::filesystem;

Status write_value(const std::string& dir, std::string_view file, const std::string& value, bool fake) {
  std::string path = join(dir, file);
  if (int e = write_control(path, value, fake); e != 0) {
    return make_error("cannot write \"" + value + "\" to " + path + ": " + errno_text(e));
  }
  return {};
}

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

}  // namespace cadre::agent
