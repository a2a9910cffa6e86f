#include "agent/launcher.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/supervisor.hpp"
#include "common/log.hpp"

namespace cadre::agent {
namespace {

// Requests are "GRACE_MS\0RANK_DIR" in one datagram; replies are a Reply,
// with the pidfd attached when `error` is 0.
struct Reply {
  int32_t pid;
  int32_t error;  // errno of a failed fork or pidfd_open
};

constexpr size_t kMaxRequest = 8192;
// Room in the helper's command line for a supervisor's title (see
// set_supervisor_title); a rank folder path longer than this still works,
// but its supervisor shows as the helper in ps.
constexpr size_t kTitleRoom = 4200;
// A helper that does not answer in this time is treated as dead: the agent's
// only thread must not hang on it.
constexpr int kReplyTimeoutMs = 10000;

// waitid()'s P_PIDFD (Linux 5.4), which glibc 2.36's headers may lack.
constexpr int kWaitPidfd = 3;

void on_sigchld(int) {}  // only interrupts recv(), so the loop reaps

Status send_reply(int fd, const Reply& reply, int pidfd) {
  iovec iov{const_cast<Reply*>(&reply), sizeof reply};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (pidfd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &pidfd, sizeof(int));
  }
  while (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return make_error(std::string("send: ") + strerror(errno));
  }
  return {};
}

// Rewrites the command line a forked supervisor shows (/proc/PID/cmdline,
// ps, pkill -f) to the one an exec'd supervisor has, `cadre-agent
// --supervise RANK_DIR GRACE_MS`, in the room the helper's own arguments
// take up (the helper is started with padding for this).
void set_supervisor_title(char* title, size_t room, const std::string& rank_dir, int64_t grace_ms) {
  std::string text = "cadre-agent";
  text += '\0';
  text += kSuperviseFlag;
  text += '\0';
  text += rank_dir;
  text += '\0';
  text += std::to_string(grace_ms);
  text += '\0';
  if (!title || text.size() > room) return;
  memset(title, 0, room);
  memcpy(title, text.data(), text.size());
}

}  // namespace

int run_launcher(int fd, char* title, size_t title_room) {
  log::set_program("cadre-agent launcher");
  // SIGCHLD interrupts recv() (no SA_RESTART) so that exited supervisors
  // are reaped while no request comes; they are reaped only here, after
  // their pidfd went out, never between fork and pidfd_open.
  struct sigaction sa{};
  sa.sa_handler = on_sigchld;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGCHLD, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  char buf[kMaxRequest + 1];
  while (true) {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    ssize_t n = recv(fd, buf, kMaxRequest, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;  // the agent closed its end or is gone
    buf[n] = '\0';
    const size_t grace_len = strnlen(buf, static_cast<size_t>(n));
    if (grace_len + 1 >= static_cast<size_t>(n)) {
      (void)send_reply(fd, Reply{-1, EINVAL}, -1);
      continue;
    }
    const int64_t grace_ms = std::strtoll(buf, nullptr, 10);
    const std::string rank_dir(buf + grace_len + 1, static_cast<size_t>(n) - grace_len - 1);
    pid_t pid = fork();
    if (pid == 0) {
      // This process is single-threaded, so the child may run the
      // supervisor as it is, without an exec.
      prepare_supervisor_process();
      set_supervisor_title(title, title_room, rank_dir, grace_ms);
      _exit(run_supervisor(rank_dir, grace_ms));
    }
    if (pid < 0) {
      (void)send_reply(fd, Reply{-1, errno}, -1);
      continue;
    }
    // Via syscall(): glibc 2.36's <sys/pidfd.h> lacks C linkage for C++.
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) {
      // Without a pidfd the agent could not watch it: stop it before it
      // claims the request, so the agent may report a launch failure.
      int err = errno;
      kill(pid, SIGKILL);
      (void)send_reply(fd, Reply{-1, err}, -1);
      continue;
    }
    Status sent = send_reply(fd, Reply{pid, 0}, pidfd);
    close(pidfd);
    if (!sent) return 0;  // the agent is gone; the supervisor runs on
  }
}

SupervisorLauncher::SupervisorLauncher(std::string agent_binary) : agent_binary_(std::move(agent_binary)) {}

SupervisorLauncher::~SupervisorLauncher() { stop_helper(); }

Status SupervisorLauncher::start_helper() {
  const std::string padding(kTitleRoom, ' ');
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
    return make_error(std::string("socketpair: ") + strerror(errno));
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(fds[0]);
    close(fds[1]);
    return make_error(std::string("fork: ") + strerror(err));
  }
  if (pid == 0) {
    // Only async-signal-safe calls until exec: the agent has threads.
    if (fds[1] != 3) {
      dup2(fds[1], 3);  // the duplicate does not inherit O_CLOEXEC
    } else {
      fcntl(3, F_SETFD, 0);
    }
    close_range(4, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execl(agent_binary_.c_str(), "cadre-agent", kLauncherFlag, "3", padding.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  // Opened before anything could reap the helper, so stop_helper() never
  // waits on a pid that has since been reused.
  helper_pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  timeval timeout{kReplyTimeoutMs / 1000, (kReplyTimeoutMs % 1000) * 1000};
  setsockopt(fds[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  fd_ = fds[0];
  helper_pid_ = pid;
  CADRE_LOG(debug) << "supervisor launcher started, pid " << pid;
  return {};
}

void SupervisorLauncher::stop_helper() {
  if (fd_ >= 0) close(fd_);  // the helper sees EOF and exits
  fd_ = -1;
  if (helper_pidfd_ >= 0) {
    // A helper that stopped answering ends here, and is reaped here unless
    // the agent's SIGCHLD handler already did (then waitid says ECHILD).
    syscall(SYS_pidfd_send_signal, helper_pidfd_, SIGKILL, nullptr, 0);
    siginfo_t info{};
    while (waitid(static_cast<idtype_t>(kWaitPidfd), static_cast<id_t>(helper_pidfd_), &info, WEXITED) < 0 &&
           errno == EINTR) {
    }
    close(helper_pidfd_);
  } else if (helper_pid_ > 0) {
    kill(helper_pid_, SIGKILL);
    waitpid(helper_pid_, nullptr, WNOHANG);
  }
  helper_pidfd_ = -1;
  helper_pid_ = -1;
}

Result<StartedSupervisor> SupervisorLauncher::ask_helper(const std::string& rank_dir, int64_t grace_ms) {
  std::string request = std::to_string(grace_ms);
  request += '\0';
  request += rank_dir;
  if (request.size() > kMaxRequest) return make_error("rank folder path too long: " + rank_dir);
  while (send(fd_, request.data(), request.size(), MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return make_error(std::string("send to the launcher: ") + strerror(errno));
  }
  Reply reply{};
  iovec iov{&reply, sizeof reply};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  while ((n = recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  if (n < 0) return make_error(std::string("no answer from the launcher: ") + strerror(errno));
  if (n != static_cast<ssize_t>(sizeof reply)) return make_error("the launcher closed its socket");
  int pidfd = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(&pidfd, CMSG_DATA(c), sizeof(int));
  if (reply.error != 0) {
    if (pidfd >= 0) close(pidfd);
    // The helper works; it could not start this one (out of processes).
    return StartedSupervisor{-reply.error, -1};
  }
  if (pidfd < 0) return make_error("the launcher sent no pidfd");
  return StartedSupervisor{reply.pid, pidfd};
}

void SupervisorLauncher::prestart() {
  if (fd_ >= 0) return;
  if (Status st = start_helper(); !st) CADRE_LOG(warning) << "cannot start the supervisor launcher: " << st.error();
}

Result<StartedSupervisor> SupervisorLauncher::start(const std::string& rank_dir, int64_t grace_ms) {
  for (int tries = 0; tries < 2; ++tries) {
    if (fd_ < 0) {
      if (Status st = start_helper(); !st) {
        CADRE_LOG(warning) << "cannot start the supervisor launcher (" << st.error() << "); exec'ing supervisors";
        break;
      }
    }
    Result<StartedSupervisor> got = ask_helper(rank_dir, grace_ms);
    if (got && got->pid > 0) return got;
    if (got) return make_error(std::string("fork: ") + strerror(-got->pid));
    CADRE_LOG(warning) << "supervisor launcher " << helper_pid_ << " failed (" << got.error() << "); starting another";
    stop_helper();
  }
  // The slow path: exec the supervisor from here. The agent opens the pidfd
  // itself; the supervisor is its child, so it stays a zombie until reaped.
  Result<pid_t> pid = start_supervisor(agent_binary_, rank_dir, grace_ms);
  if (!pid) return make_error(pid.error());
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, *pid, 0));
  if (pidfd < 0) {
    int err = errno;
    kill(*pid, SIGKILL);
    return make_error(std::string("cannot watch the rank's supervisor: ") + strerror(err));
  }
  return StartedSupervisor{*pid, pidfd};
}

}  // namespace cadre::agent
