#include "agent/supervisor.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

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

}  // namespace

int run_supervisor(const std::string& dir, int64_t grace_ms) {
  // Signals are taken synchronously with sigtimedwait; block them before
  // the rank exists so none is missed. The rank starts with an empty mask.
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  sigprocmask(SIG_BLOCK, &set, nullptr);

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

  int status = 0;
  bool terminating = false;
  int64_t kill_at = 0;
  while (true) {
    pid_t done = waitpid(*pid, &status, WNOHANG);
    if (done == *pid) break;
    if (done < 0 && errno != EINTR) break;  // cannot happen: it is our child
    siginfo_t info;
    int sig;
    if (terminating) {
      int64_t left = std::max<int64_t>(kill_at - monotonic_ms(), 0);
      timespec timeout{static_cast<time_t>(left / 1000), static_cast<long>(left % 1000) * 1000000};
      sig = sigtimedwait(&set, &info, &timeout);
      if (sig < 0 && errno == EAGAIN) {
        kill(-*pid, SIGKILL);
        // Also whatever left the process group (setsid, daemons).
        if (!req->cgroup.empty()) (void)rank_cgroup_manager(req->cgroup).kill(req->cgroup);
        kill_at = monotonic_ms() + 60000;  // only the reap is left to wait for
      }
    } else {
      sig = sigwaitinfo(&set, &info);
    }
    if ((sig == SIGTERM || sig == SIGINT || sig == SIGHUP) && !terminating) {
      terminating = true;
      kill(-*pid, SIGTERM);
      kill_at = monotonic_ms() + grace_ms;
    }
  }
  // The leader is gone; whatever it left in its group goes too.
  kill(-*pid, SIGKILL);
  RankExit exit;
  exit.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  exit.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  if (!req->cgroup.empty()) {
    // Whatever escaped the group goes with the cgroup; the kernel's OOM
    // count says whether the memory limit is what ended it.
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
