// Specification of agent/supervisor: a rank's supervisor (started as the
// agent binary with --supervise) runs the rank, ends it on a kill, takes
// every process the rank left behind with it, even those that left its
// process group, and records the rank's own exit.
#include "agent/supervisor.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/rank_dir.hpp"

namespace cadre::agent {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int64_t kGraceMs = 1000;

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cadre-supervisor-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    for (pid_t pid : escapees_) kill(pid, SIGKILL);  // only if a test failed
    if (supervisor_ > 0) {
      kill(supervisor_, SIGKILL);
      waitpid(supervisor_, nullptr, 0);
    }
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // Starts a supervisor for a rank that runs `script` with sh in root_.
  void start(const std::string& script, int32_t umask = -1) {
    dir_ = root_ + "/rank";
    fs::create_directories(dir_);
    SpawnRequest req;
    req.argv = {"/bin/sh", "-c", script};
    req.env = {"PATH=/usr/bin:/bin"};
    req.workdir = root_;
    req.output_path = dir_ + "/out";
    req.uid = getuid();
    req.gid = getgid();
    req.allow_root = true;
    req.umask = umask;
    ASSERT_TRUE(write_request(dir_, req).ok());
    auto pid = start_supervisor(CADRE_AGENT_BIN, dir_, kGraceMs);
    ASSERT_TRUE(pid) << pid.error();
    supervisor_ = *pid;
  }

  // The pid a rank wrote to root_/NAME, once it has.
  pid_t wait_pid_file(const std::string& name) {
    for (int i = 0; i < 1000; ++i) {
      std::ifstream in(root_ + "/" + name);
      long long pid = 0;
      std::string line;
      if (std::getline(in, line) && std::istringstream(line) >> pid && pid > 0) {
        escapees_.push_back(static_cast<pid_t>(pid));
        return static_cast<pid_t>(pid);
      }
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << "the rank never wrote " << name;
    return -1;
  }

  // Waits for the supervisor to finish; its exit record.
  RankExit finish() {
    int status = 0;
    pid_t r;
    while ((r = waitpid(supervisor_, &status, 0)) < 0 && errno == EINTR) {
    }
    EXPECT_EQ(r, supervisor_);
    supervisor_ = -1;
    auto exit = read_exit(dir_);
    EXPECT_TRUE(exit.has_value());
    return exit.value_or(RankExit{});
  }

  static bool gone(pid_t pid) { return kill(pid, 0) != 0 && errno == ESRCH; }

  std::string read_out() const {
    std::ifstream in(dir_ + "/out");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::string root_, dir_;
  pid_t supervisor_ = -1;
  std::vector<pid_t> escapees_;
};

TEST_F(SupervisorTest, ACancelledRankTakesASetsidEscapeeWithIt) {
  start("setsid sleep 1000 & echo $! > pidfile; wait");
  const pid_t escapee = wait_pid_file("pidfile");
  ASSERT_GT(escapee, 0);
  ASSERT_NE(getpgid(escapee), getpgid(supervisor_)) << "setsid left the rank's group";
  ASSERT_EQ(kill(supervisor_, SIGTERM), 0);
  RankExit exit = finish();
  EXPECT_EQ(exit.signal, SIGTERM) << "the rank's own end, not the escapee's";
  EXPECT_TRUE(gone(escapee)) << "the setsid escapee " << escapee << " survived the cancel";
}

TEST_F(SupervisorTest, ARankThatEndsLeavesNoDaemonBehindAndReportsItsOwnExit) {
  // A double fork: the daemon's parent exits at once, so it is an orphan
  // in its own session before the rank ends.
  start("(setsid sh -c 'sleep 1000 & echo $! > pidfile; wait' &); sleep 0.2; exit 3");
  const pid_t daemon = wait_pid_file("pidfile");
  ASSERT_GT(daemon, 0);
  RankExit exit = finish();
  EXPECT_FALSE(exit.launch_failed);
  EXPECT_EQ(exit.exit_code, 3);
  EXPECT_EQ(exit.signal, 0);
  EXPECT_TRUE(gone(daemon)) << "the daemon " << daemon << " outlived its rank";
}

TEST_F(SupervisorTest, AnEscapeeThatIgnoresSigtermIsKilledAfterTheGrace) {
  start("setsid sh -c 'trap \"\" TERM; sleep 1000' & echo $! > pidfile; wait");
  const pid_t escapee = wait_pid_file("pidfile");
  ASSERT_GT(escapee, 0);
  std::this_thread::sleep_for(100ms);  // the trap is set
  const auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(supervisor_, SIGTERM), 0);
  RankExit exit = finish();
  EXPECT_EQ(exit.signal, SIGTERM);
  EXPECT_TRUE(gone(escapee));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
}

TEST_F(SupervisorTest, TheRankRunsWithTheUmaskItsRequestCarries) {
  start("umask", 077);
  RankExit exit = finish();
  EXPECT_EQ(exit.exit_code, 0);
  EXPECT_EQ(read_out(), "0077\n");
}

}  // namespace
}  // namespace cadre::agent
