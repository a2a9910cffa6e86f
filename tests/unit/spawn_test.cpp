// Specification of agent/spawn: starting one rank as a child process.
// The tests reap their own children with waitpid. They may run as root, so
// every request names the current uid/gid and allows root.
#include "agent/spawn.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace cadre::agent {
namespace {

namespace fs = std::filesystem;

class SpawnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cadre-spawn-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  SpawnRequest request(std::vector<std::string> argv) const {
    SpawnRequest r;
    r.argv = std::move(argv);
    r.env = {"PATH=/usr/bin:/bin", "CADRE_RANK=3", "FOO=bar baz"};
    r.workdir = dir_.string();
    r.output_path = (dir_ / "rank.out").string();
    r.uid = getuid();
    r.gid = getgid();
    r.allow_root = true;
    return r;
  }

  // Waits for the child and returns its wait status.
  static int reap(pid_t pid) {
    int status = 0;
    pid_t r;
    while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    EXPECT_EQ(r, pid);
    return status;
  }

  std::string output() const {
    std::ifstream in(dir_ / "rank.out");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  fs::path dir_;
};

bool no_children_left() {
  int status;
  return waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD;
}

TEST_F(SpawnTest, RunsTheCommandWithExactlyTheRanksEnvironment) {
  ASSERT_EQ(setenv("CADRE_TEST_AGENT_ONLY", "leak", 1), 0);
  auto pid = spawn_rank(request({"/bin/sh", "-c", "env; echo to-stderr >&2; exit 7"}));
  unsetenv("CADRE_TEST_AGENT_ONLY");
  ASSERT_TRUE(pid) << pid.error();
  int status = reap(*pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
  std::string out = output();
  EXPECT_NE(out.find("CADRE_RANK=3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("FOO=bar baz\n"), std::string::npos) << out;
  EXPECT_NE(out.find("to-stderr\n"), std::string::npos) << "stderr goes to the same file:\n" << out;
  EXPECT_EQ(out.find("CADRE_TEST_AGENT_ONLY"), std::string::npos) << "the agent's environment leaked:\n" << out;
}

TEST_F(SpawnTest, StartsInTheWorkdirWithStdinFromDevNull) {
  fs::create_directory(dir_ / "work");
  SpawnRequest r = request({"/bin/sh", "-c", "pwd; readlink /proc/$$/fd/0"});
  r.workdir = (dir_ / "work").string();
  auto pid = spawn_rank(r);
  ASSERT_TRUE(pid) << pid.error();
  int status = reap(*pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(output(), fs::canonical(dir_ / "work").string() + "\n/dev/null\n");
}

TEST_F(SpawnTest, TheRankLeadsItsOwnProcessGroup) {
  // /proc/PID/stat: "pid (comm) state ppid pgrp ..."
  auto pid = spawn_rank(request({"/bin/sh", "-c", "read -r line < /proc/$$/stat; echo \"$line\"; sleep 0.2"}));
  ASSERT_TRUE(pid) << pid.error();
  EXPECT_EQ(getpgid(*pid), *pid) << "seen from the parent";
  EXPECT_NE(getpgid(*pid), getpgid(0)) << "the rank must not share the agent's group";
  int status = reap(*pid);
  ASSERT_TRUE(WIFEXITED(status));
  std::istringstream stat(output());
  std::string self, comm, state, ppid, pgrp;
  stat >> self >> comm >> state >> ppid >> pgrp;
  EXPECT_EQ(self, std::to_string(*pid));
  EXPECT_EQ(pgrp, std::to_string(*pid)) << "seen from the child: " << output();
  EXPECT_EQ(ppid, std::to_string(getpid()));
}

TEST_F(SpawnTest, KillingTheGroupEndsTheRankAndItsChildren) {
  auto pid = spawn_rank(request({"/bin/sh", "-c", "sleep 30 & echo $!; wait"}));
  ASSERT_TRUE(pid) << pid.error();
  // The rank prints its background child's pid once it has started it.
  for (int i = 0; i < 200 && output().find('\n') == std::string::npos; ++i) usleep(10 * 1000);
  const std::string child = output().substr(0, output().find('\n'));
  ASSERT_FALSE(child.empty()) << "the rank never started its child";
  ASSERT_EQ(kill(-*pid, SIGTERM), 0);
  int status = reap(*pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  // The grandchild was in the group too: it is gone or a zombie awaiting its new parent.
  auto alive = [&child] {
    std::ifstream stat("/proc/" + child + "/stat");
    std::string pid_field, comm, state;
    if (!(stat >> pid_field >> comm >> state)) return false;
    return state != "Z" && state != "X";
  };
  for (int i = 0; i < 100 && alive(); ++i) usleep(10 * 1000);
  EXPECT_FALSE(alive()) << "the rank's child " << child << " survived the group kill";
}

TEST_F(SpawnTest, TheRankStartsWithNoSignalsBlocked) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigaddset(&block, SIGTERM);
  ASSERT_EQ(sigprocmask(SIG_BLOCK, &block, &old), 0);
  // exec: the mask survives exec, and no fork of the shell's own can race the read.
  auto pid = spawn_rank(request({"/bin/sh", "-c", "exec grep SigBlk /proc/self/status"}));
  sigprocmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(pid) << pid.error();
  reap(*pid);
  EXPECT_EQ(output(), "SigBlk:\t0000000000000000\n");
}

TEST_F(SpawnTest, TheRankRunsWithTheJobsUmaskAndItsOutputFileHasIt) {
  SpawnRequest r = request({"/bin/sh", "-c", "umask"});
  r.umask = 027;
  auto pid = spawn_rank(r);
  ASSERT_TRUE(pid) << pid.error();
  reap(*pid);
  EXPECT_EQ(output(), "0027\n");
  struct stat st {};
  ASSERT_EQ(stat((dir_ / "rank.out").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u) << "0644 less the umask's 027";
}

TEST_F(SpawnTest, WithoutAUmaskTheRankKeepsItsParents) {
  const mode_t mine = umask(0);
  umask(mine);
  SpawnRequest r = request({"/bin/sh", "-c", "umask"});
  auto pid = spawn_rank(r);
  ASSERT_TRUE(pid) << pid.error();
  reap(*pid);
  char want[8];
  snprintf(want, sizeof want, "%04o\n", static_cast<unsigned>(mine));
  EXPECT_EQ(output(), want);
}

TEST_F(SpawnTest, OutputIsAppendedToAnExistingFile) {
  {
    std::ofstream(dir_ / "rank.out") << "earlier\n";
  }
  auto pid = spawn_rank(request({"/bin/sh", "-c", "echo later"}));
  ASSERT_TRUE(pid) << pid.error();
  reap(*pid);
  EXPECT_EQ(output(), "earlier\nlater\n");
}

TEST_F(SpawnTest, ABareCommandIsFoundOnTheRanksPath) {
  SpawnRequest r = request({"sh", "-c", "echo found"});
  auto pid = spawn_rank(r);
  ASSERT_TRUE(pid) << pid.error();
  reap(*pid);
  EXPECT_EQ(output(), "found\n");

  fs::create_directory(dir_ / "empty-bin");
  r.env = {"PATH=" + (dir_ / "empty-bin").string()};
  auto missing = spawn_rank(r);
  ASSERT_FALSE(missing) << "found sh outside the rank's PATH";
  EXPECT_NE(missing.error().find("cannot execute 'sh'"), std::string::npos) << missing.error();
}

TEST_F(SpawnTest, AMissingWorkdirIsAnErrorNamingIt) {
  SpawnRequest r = request({"/bin/true"});
  r.workdir = (dir_ / "no-such-dir").string();
  r.output_path = "/dev/null";
  auto pid = spawn_rank(r);
  ASSERT_FALSE(pid);
  EXPECT_NE(pid.error().find("cannot enter working directory " + r.workdir), std::string::npos) << pid.error();
  EXPECT_NE(pid.error().find("No such file or directory"), std::string::npos) << pid.error();
  EXPECT_TRUE(no_children_left()) << "the failed child was not reaped";
}

TEST_F(SpawnTest, ACommandThatDoesNotExistIsAnErrorNamingIt) {
  auto pid = spawn_rank(request({"/no/such/command-xyz", "arg"}));
  ASSERT_FALSE(pid);
  EXPECT_NE(pid.error().find("cannot execute '/no/such/command-xyz'"), std::string::npos) << pid.error();
  EXPECT_TRUE(no_children_left()) << "the failed child was not reaped";
}

TEST_F(SpawnTest, AnOutputFileThatCannotBeOpenedIsAnErrorNamingIt) {
  SpawnRequest r = request({"/bin/true"});
  r.output_path = (dir_ / "missing-dir" / "out").string();
  auto pid = spawn_rank(r);
  ASSERT_FALSE(pid);
  EXPECT_NE(pid.error().find("cannot open output file " + r.output_path), std::string::npos) << pid.error();
  EXPECT_TRUE(no_children_left());
}

TEST_F(SpawnTest, AnEmptyCommandIsRefused) {
  auto pid = spawn_rank(request({}));
  ASSERT_FALSE(pid);
  EXPECT_EQ(pid.error(), "no command");
}

TEST_F(SpawnTest, AsRootAJobOfUidZeroIsRefusedUnlessAllowed) {
  if (geteuid() != 0) GTEST_SKIP() << "only the root agent switches users";
  SpawnRequest r = request({"/bin/true"});
  r.uid = 0;
  r.allow_root = false;
  auto pid = spawn_rank(r);
  ASSERT_FALSE(pid);
  EXPECT_EQ(pid.error(), "refusing to run a job as root (uid 0)");
}

}  // namespace
}  // namespace cadre::agent
