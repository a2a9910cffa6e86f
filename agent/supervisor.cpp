#include "agent/supervisor.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>
#include <vector>

#include "agent/cgroup.hpp"
#include "agent/rank_dir.hpp"
#include "agent/spawn.hpp"

namespace cadre::agent {
namespace {

// The supervisor's view of the rank's cgroup: it kills, inspects and
// removes only that one (<base>/job_<id>_<attempt>/rank_<step>_<rank>).
CgroupManager rank_cgroup_manager(const std::string& cgroup) {
  CgroupSupport s;
  s.enabled = s.cpu = s.memory = true;
  s.base = std::filesystem::path(cgroup).parent_path().parent_path().string();
  s.kill = access((cgroup + "/cgroup.kill").c_str(), F_OK) == 0;
  return CgroupManager(s);
}

int64_t monotonic_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// This process's children: the rank and, the supervisor being a child
// subreaper, every descendant of the rank that lost its parent (a daemon,
// a setsid escapee). Read from /proc/self/task/<tid>/children where the
// kernel has it (CONFIG_PROC_CHILDREN; the supervisor has one thread), else
// from every process's parent in /proc/<pid>/stat. A snapshot: callers
// repeat it.
std::vector<pid_t> own_children() {
  std::vector<pid_t> out;
  const pid_t self = getpid();
  if (std::ifstream in("/proc/self/task/" + std::to_string(self) + "/children"); in) {
    long long child = 0;
    while (in >> child) out.push_back(static_cast<pid_t>(child));
    return out;
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (!all_digits(name)) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    if (!std::getline(in, stat)) continue;
    // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    long long ppid = 0;
    if (rest >> state >> ppid && ppid == self) out.push_back(static_cast<pid_t>(std::stoll(name)));
  }
  return out;
}

// Runs one rank to its end and takes every process it left behind with it.
//
// The rank leads its own process group, which a kill reaches; what left the
// group (setsid, a double-forked daemon) is found instead as the
// supervisor's own children, since orphans reparent to a child subreaper.
// Only own children are signalled (their pids cannot be recycled until they
// are reaped); killing one makes its children own children for the next
// round, so repeated rounds reach the whole tree.
class RankSupervision {
 public:
  RankSupervision(pid_t rank, int64_t grace_ms, std::string cgroup)
      : rank_(rank), grace_ms_(grace_ms), cgroup_(std::move(cgroup)) {}

  // Waits until the rank and all that it left are gone and reaped (or, for
  // what even SIGKILL does not end, kKillPatienceMs after the rank);
  // returns the rank's own wait status, never an orphan's.
  int run(const sigset_t& signals) {
    while (true) {
      if (reap_and_check_done()) break;
      const int64_t now = monotonic_ms();
      if (terminating_ && !killing_ && now >= kill_at_) start_killing(now);
      if (killing_) {
        signal_escapees(SIGKILL);
        if (rank_status_ && now >= give_up_at_) break;  // unkillable orphans: report the rank anyway
      }
      int sig = wait_signal(signals, now);
      if ((sig == SIGTERM || sig == SIGINT || sig == SIGHUP) && !terminating_) terminate(monotonic_ms());
    }
    return rank_status_.value_or(0);
  }

 private:
  // How often the kill phase looks for newly reparented processes, and how
  // long it keeps at it once the rank is gone.
  static constexpr int64_t kKillRoundMs = 50;
  static constexpr int64_t kKillPatienceMs = 60000;

  // Reaps every child that ended; true once none is left.
  bool reap_and_check_done() {
    while (true) {
      int status = 0;
      pid_t done = waitpid(-1, &status, WNOHANG);
      if (done == rank_) {
        rank_status_ = status;
        rank_ended();
        continue;
      }
      if (done > 0) continue;  // an orphan: reaped, its status is not the rank's
      if (done < 0 && errno == EINTR) continue;
      return done < 0;  // ECHILD: nothing left; 0: children still run
    }
  }

  // The leader is gone; whatever it left in its group goes at once (as
  // before escapees were chased), and what left the group gets the grace.
  void rank_ended() {
    kill(-rank_, SIGKILL);
    if (!cgroup_.empty()) (void)rank_cgroup_manager(cgroup_).kill(cgroup_);
    if (!terminating_) {
      terminating_ = true;
      kill_at_ = monotonic_ms() + grace_ms_;
    }
    signal_escapees(SIGTERM);
  }

  void terminate(int64_t now) {
    terminating_ = true;
    kill(-rank_, SIGTERM);
    signal_escapees(SIGTERM);
    kill_at_ = now + grace_ms_;
  }

  void start_killing(int64_t now) {
    killing_ = true;
    if (!rank_status_) kill(-rank_, SIGKILL);
    // Whatever left the process group also goes with the cgroup.
    if (!cgroup_.empty()) (void)rank_cgroup_manager(cgroup_).kill(cgroup_);
    give_up_at_ = now + kKillPatienceMs;
  }

  // Every child that left the rank's process group (the group signal
  // reaches the rest, orphans of the group included).
  void signal_escapees(int sig) const {
    for (pid_t child : own_children())
      if (child > 0 && child != rank_ && getpgid(child) != rank_) kill(child, sig);
  }

  // The next signal, or -1 when it is time to look again.
  int wait_signal(const sigset_t& signals, int64_t now) const {
    siginfo_t info;
    if (!terminating_) return sigwaitinfo(&signals, &info);
    int64_t left = killing_ ? kKillRoundMs : std::max<int64_t>(kill_at_ - now, 0);
    timespec timeout{static_cast<time_t>(left / 1000), static_cast<long>(left % 1000) * 1000000};
    return sigtimedwait(&signals, &info, &timeout);
  }

  const pid_t rank_;
  const int64_t grace_ms_;
  const std::string cgroup_;
  std::optional<int> rank_status_;
  bool terminating_ = false;  // SIGTERM sent (or the rank ended): SIGKILL at kill_at_
  bool killing_ = false;      // past kill_at_: SIGKILL to whatever is left, every round
  int64_t kill_at_ = 0;
  int64_t give_up_at_ = 0;
};

}  // namespace

int run_supervisor(const std::string& dir, int64_t grace_ms) {
  // Signals are taken synchronously with sigtimedwait; block them before
  // the rank exists so none is missed. The rank starts with an empty mask.
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  // Orphaned descendants of the rank (setsid escapees, daemons) become
  // this process's children, so they can be found and killed with it.
  prctl(PR_SET_CHILD_SUBREAPER, 1);

  // Also written by the agent after fork; written here too so an agent that
  // dies in between still finds this supervisor when it restarts.
  (void)write_supervisor_pid(dir, getpid());
  // Claimed only once the pid is recorded, so an agent that finds the
  // request claimed also finds this supervisor. Withdrawn: a restarted agent
  // found no supervisor recorded and gave the rank up; start nothing.
  if (!claim_request(dir)) return 0;
  auto req = read_request(dir);
  if (!req) {
    (void)write_exit(dir, RankExit{true, false, 127, 0, req.error()});
    return 1;
  }
  auto pid = spawn_rank(*req);
  if (!pid) {
    (void)write_exit(dir, RankExit{true, false, 127, 0, pid.error()});
    return 0;
  }
  (void)write_pid(dir + "/rank", *pid);

  const int status = RankSupervision(*pid, grace_ms, req->cgroup).run(set);
  RankExit exit;
  exit.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  exit.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  if (!req->cgroup.empty()) {
    // The kernel's OOM count says whether the memory limit is what ended it.
    CgroupManager cg = rank_cgroup_manager(req->cgroup);
    exit.oom_killed = cg.oom_killed(req->cgroup);
    if (exit.oom_killed) {
      auto peak = cg.memory_peak_bytes(req->cgroup);
      exit.message = "exceeded its memory limit" +
                     (peak ? " (peak " + std::to_string(*peak / (1024 * 1024)) + " MiB)" : std::string()) +
                     " and was killed by the kernel";
    }
    (void)cg.kill(req->cgroup);
    (void)cg.remove(req->cgroup);
  }
  (void)write_exit(dir, exit);
  return 0;
}

Result<pid_t> start_supervisor(const std::string& agent_binary, const std::string& rank_dir, int64_t grace_ms) {
  const std::string grace = std::to_string(grace_ms);
  pid_t pid = fork();
  if (pid < 0) return make_error(std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    prepare_supervisor_process();
    execl(agent_binary.c_str(), "cadre-agent", kSuperviseFlag, rank_dir.c_str(), grace.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

void prepare_supervisor_process() {
  setsid();
  // The supervisor takes these with sigwaitinfo. Blocked from here on (the
  // mask and pending signals survive exec), a kill that arrives while it is
  // still starting waits for it instead of ending it before it can record
  // anything.
  sigset_t mine;
  sigemptyset(&mine);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&mine, s);
  sigprocmask(SIG_SETMASK, &mine, nullptr);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGCHLD, SIGHUP}) signal(sig, SIG_DFL);
  // None of the agent's descriptors (sockets, pipes) leak into the rank.
  close_range(3, ~0U, 0);
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0) {
    dup2(null_fd, STDIN_FILENO);
    dup2(null_fd, STDOUT_FILENO);
  }
}

Status write_supervisor_pid(const std::string& rank_dir, pid_t pid) {
  std::optional<uint64_t> started = process_start_time(pid);
  return write_atomically(rank_dir + "/supervisor",
                          std::to_string(pid) + "\n" + (started ? std::to_string(*started) + "\n" : ""), 0600,
                          Durability::lost_with_the_node);
}

bool is_supervisor_of(pid_t pid, const std::string& rank_dir) {
  // Recorded "PID\nSTART_TIME\n": the pid is this supervisor's only if the
  // process behind it started when the recorded one did.
  if (std::ifstream file(rank_dir + "/supervisor"); file) {
    long long recorded_pid = 0;
    uint64_t recorded_start = 0;
    if (file >> recorded_pid >> recorded_start && recorded_pid == pid) {
      std::optional<uint64_t> started = process_start_time(pid);
      return started && *started == recorded_start;
    }
  }
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  if (!in) return false;
  std::ostringstream data;
  data << in.rdbuf();
  std::string cmdline = data.str();
  return cmdline.find(std::string(kSuperviseFlag) + '\0' + rank_dir + '\0') != std::string::npos;
}

}  // namespace cadre::agent
