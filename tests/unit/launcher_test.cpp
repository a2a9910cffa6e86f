// SupervisorLauncher (agent/launcher.hpp) with the real cadre-agent binary
// as its helper: supervisors are forked by the helper, reported with a
// pidfd, recognised after the fact, and outlive the helper.
#include "agent/launcher.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/rank_dir.hpp"
#include "agent/supervisor.hpp"

namespace cadre::agent {
namespace {

namespace fs = std::filesystem;

class LauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cadre-launcher-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    for (pid_t pid : started_) kill(pid, SIGKILL);
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // A rank folder holding a request to run `script` with sh.
  std::string rank_dir(const std::string& name, const std::string& script) {
    const std::string dir = root_ + "/" + name;
    fs::create_directories(dir);
    SpawnRequest req;
    req.argv = {"/bin/sh", "-c", script};
    req.env = {"PATH=/usr/bin:/bin"};
    req.workdir = root_;
    req.output_path = dir + "/out";
    req.uid = getuid();
    req.gid = getgid();
    req.allow_root = true;
    EXPECT_TRUE(write_request(dir, req).ok());
    return dir;
  }

  StartedSupervisor start(SupervisorLauncher& launcher, const std::string& dir) {
    auto got = launcher.start(dir, 2000);
    EXPECT_TRUE(got) << (got ? "" : got.error());
    if (!got) return {};
    started_.push_back(got->pid);
    return *got;
  }

  std::string root_;
  std::vector<pid_t> started_;
};

bool wait_readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) == 1;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_F(LauncherTest, RunsARankUnderASupervisorTheHelperForked) {
  SupervisorLauncher launcher(CADRE_AGENT_BIN);
  const std::string dir = rank_dir("a", "echo hello from the rank");
  StartedSupervisor s = start(launcher, dir);
  ASSERT_GT(s.pid, 0);
  ASSERT_GE(s.pidfd, 0);
  EXPECT_GT(launcher.helper_pid(), 0);
  // The supervisor is the helper's child, not ours.
  errno = 0;
  EXPECT_EQ(waitpid(s.pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  ASSERT_TRUE(wait_readable(s.pidfd, 30000)) << "the pidfd never reported the supervisor's exit";
  close(s.pidfd);
  auto exit = read_exit(dir);
  ASSERT_TRUE(exit.has_value());
  EXPECT_FALSE(exit->launch_failed);
  EXPECT_EQ(exit->exit_code, 0);
  EXPECT_EQ(read_all(dir + "/out"), "hello from the rank\n");
}

TEST_F(LauncherTest, ReportsAnExitThatCameBeforeTheAnswerWasRead) {
  SupervisorLauncher launcher(CADRE_AGENT_BIN);
  // Several quick ranks in a row: each pidfd was opened before the helper
  // could reap its supervisor, so every one still reports the exit.
  for (int i = 0; i < 5; ++i) {
    const std::string dir = rank_dir("q" + std::to_string(i), "exit " + std::to_string(i + 3));
    StartedSupervisor s = start(launcher, dir);
    ASSERT_GE(s.pidfd, 0);
    ASSERT_TRUE(wait_readable(s.pidfd, 30000));
    close(s.pidfd);
    auto exit = read_exit(dir);
    ASSERT_TRUE(exit.has_value());
    EXPECT_EQ(exit->exit_code, i + 3);
  }
}

TEST_F(LauncherTest, ASupervisorIsRecognisedByItsRecordedStartTime) {
  SupervisorLauncher launcher(CADRE_AGENT_BIN);
  const std::string dir = rank_dir("b", "sleep 30");
  StartedSupervisor s = start(launcher, dir);
  ASSERT_GT(s.pid, 0);
  // ps and pkill -f see what an exec'd supervisor shows.
  const std::string wanted = std::string("cadre-agent\0--supervise\0", 24) + dir + '\0';
  std::string cmdline;
  for (int i = 0; i < 300 && cmdline.find(wanted) == std::string::npos; ++i) {
    if (i) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // it retitles itself after fork
    cmdline = read_all("/proc/" + std::to_string(s.pid) + "/cmdline");
  }
  EXPECT_NE(cmdline.find(wanted), std::string::npos) << cmdline;
  ASSERT_TRUE(write_supervisor_pid(dir, s.pid).ok());
  EXPECT_TRUE(is_supervisor_of(s.pid, dir));
  // Another live process with the recorded pid's place taken is not it.
  EXPECT_FALSE(is_supervisor_of(getpid(), dir));
  // Killing the supervisor ends the rank, and the exit says how.
  kill(s.pid, SIGTERM);
  ASSERT_TRUE(wait_readable(s.pidfd, 30000));
  close(s.pidfd);
  auto exit = read_exit(dir);
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->signal, SIGTERM);
}

TEST_F(LauncherTest, SupervisorsOutliveTheHelperAndANewHelperIsStarted) {
  SupervisorLauncher launcher(CADRE_AGENT_BIN);
  const std::string dir = rank_dir("c", "sleep 30");
  StartedSupervisor first = start(launcher, dir);
  ASSERT_GT(first.pid, 0);
  const pid_t helper = launcher.helper_pid();
  ASSERT_GT(helper, 0);
  ASSERT_EQ(kill(helper, SIGKILL), 0);
  waitpid(helper, nullptr, 0);
  // The supervisor (and its rank) run on without the helper.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(kill(first.pid, 0), 0);
  EXPECT_FALSE(wait_readable(first.pidfd, 0));

  const std::string next = rank_dir("d", "echo again");
  StartedSupervisor second = start(launcher, next);
  ASSERT_GT(second.pid, 0);
  EXPECT_NE(launcher.helper_pid(), helper);
  ASSERT_TRUE(wait_readable(second.pidfd, 30000));
  close(second.pidfd);
  EXPECT_EQ(read_all(next + "/out"), "again\n");
  close(first.pidfd);
}

}  // namespace
}  // namespace cadre::agent
