#include "agent/spawn.hpp"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cadre::agent {
namespace {

// Writes "what: strerror" to the error pipe and exits. Only async-signal-safe
// calls: this runs in the child between fork and exec.
[[noreturn]] void child_fail(int fd, const char* what) {
  int err = errno;
  const char* reason = strerror(err);
  ssize_t ignored = write(fd, what, strlen(what));
  ignored = write(fd, ": ", 2);
  ignored = write(fd, reason, strlen(reason));
  (void)ignored;
  _exit(127);
}

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const std::string& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

Result<pid_t> spawn_rank(const SpawnRequest& req) {
  if (req.argv.empty()) return make_error("no command");
  const bool drop_privileges = geteuid() == 0;
  if (drop_privileges && req.uid == 0 && !req.allow_root)
    return make_error("refusing to run a job as root (uid 0)");

  // Everything the child needs is prepared before fork.
  std::vector<char*> argv = c_strings(req.argv);
  std::vector<char*> envp = c_strings(req.env);
  const std::string open_what = "cannot open output file " + req.output_path;
  const std::string open_err_what = "cannot open error file " + req.error_path;
  const std::string cgroup_procs = req.cgroup.empty() ? "" : req.cgroup + "/cgroup.procs";
  const std::string cgroup_what = "cannot join cgroup " + req.cgroup;
  const std::string chdir_what = "cannot enter working directory " + req.workdir;
  const std::string exec_what = "cannot execute '" + req.argv[0] + "'";

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return make_error(std::string("pipe: ") + strerror(errno));
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return make_error(std::string("fork: ") + strerror(err));
  }
  if (pid == 0) {
    int err_fd = pipe_fds[1];
    close(pipe_fds[0]);
    setpgid(0, 0);
    // The rank dies with its supervisor (its parent), so a killed
    // supervisor leaves no orphan holding GPUs.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGCHLD, SIGHUP}) signal(sig, SIG_DFL);

    // Join the rank's cgroup while still privileged; "0" means this process.
    if (!cgroup_procs.empty()) {
      int cg = open(cgroup_procs.c_str(), O_WRONLY | O_CLOEXEC);
      if (cg < 0 || write(cg, "0", 1) != 1) child_fail(err_fd, cgroup_what.c_str());
      close(cg);
    }
    if (drop_privileges && req.uid != 0) {
      if (setgid(req.gid) != 0) child_fail(err_fd, "setgid");
      if (initgroups(req.user.c_str(), req.gid) != 0 && setgroups(0, nullptr) != 0)
        child_fail(err_fd, "initgroups");
      if (setuid(req.uid) != 0) child_fail(err_fd, "setuid");
    }
    // As the job's user now; before the output files are created, so they
    // too are as private as the submitter's umask asks.
    if (req.umask >= 0) umask(static_cast<mode_t>(req.umask & 0777));
    if (chdir(req.workdir.c_str()) != 0) child_fail(err_fd, chdir_what.c_str());
    const int mode = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (req.truncate ? O_TRUNC : 0);
    int out = open(req.output_path.c_str(), mode, 0644);
    if (out < 0) child_fail(err_fd, open_what.c_str());
    int in = open("/dev/null", O_RDONLY);
    if (in >= 0) dup2(in, STDIN_FILENO);
    int err = out;
    if (!req.error_path.empty()) {
      err = open(req.error_path.c_str(), mode, 0644);
      if (err < 0) child_fail(err_fd, open_err_what.c_str());
    }
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    // execvp searches the PATH of `environ`, so install the rank's first.
    environ = envp.data();
    execvp(argv[0], argv.data());
    child_fail(err_fd, exec_what.c_str());
  }
  // Also from the parent, so the group exists before any kill(-pid) below.
  setpgid(pid, pid);
  close(pipe_fds[1]);
  // The pipe closes on a successful exec (O_CLOEXEC) or carries the error.
  std::string error;
  char buf[512];
  ssize_t n;
  while ((n = read(pipe_fds[0], buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    error.append(buf, static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  if (!error.empty()) {
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return make_error(error);
  }
  return pid;
}

}  // namespace cadre::agent
