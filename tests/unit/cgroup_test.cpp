// Specification of agent/cgroup: cgroup v2 isolation of ranks. Most tests
// run against a fake cgroup tree, a temp folder of plain files laid out as
// the kernel lays out /sys/fs/cgroup; one uses the real machine when it
// can without moving the test runner, and skips otherwise.
#include "agent/cgroup.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace cadre::agent {
namespace {

namespace fs = std::filesystem;

const char* const kService = "system.slice/cadre-agent.service";

class CgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cadre-cgroup-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    mnt_ = (dir_ / "sys/fs/cgroup").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void put(const std::string& path, const std::string& text) const {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
  }
  static std::string get(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // The files the kernel makes in a non-root cgroup (the root has no cgroup.type).
  void make_cgroup(const std::string& path, const std::string& controllers, const std::string& procs = "",
                   bool root = false) const {
    put(path + "/cgroup.controllers", controllers + "\n");
    put(path + "/cgroup.procs", procs);
    put(path + "/cgroup.subtree_control", "");
    put(path + "/cpuset.cpus.effective", "0-7\n");
    if (!root) put(path + "/cgroup.type", "domain\n");
  }

  // /proc/self files saying the agent is in `cg_path` of a cgroup2 mounted at mnt_.
  CgroupPaths paths(const std::string& cg_path, const std::string& extra_mounts = "") const {
    put((dir_ / "proc/cgroup").string(), "0::" + cg_path + "\n");
    put((dir_ / "proc/mountinfo").string(),
        "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/root rw\n" + extra_mounts + "31 22 0:26 / " + mnt_ +
            " rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n");
    CgroupPaths p;
    p.proc_self_cgroup = (dir_ / "proc/cgroup").string();
    p.proc_self_mountinfo = (dir_ / "proc/mountinfo").string();
    p.fake = true;
    return p;
  }

  std::string service() const { return mnt_ + "/" + kService; }

  // A set-up fake node with cpu, memory and cpuset.
  CgroupManager manager() const {
    make_cgroup(service(), "cpuset cpu io memory pids", "100\n");
    CgroupSupport s = setup_cgroups(paths(std::string("/") + kService));
    EXPECT_TRUE(s.enabled) << s.description;
    return CgroupManager(s);
  }

  fs::path dir_;
  std::string mnt_;
};

// ---- setup_cgroups -----------------------------------------------------

TEST_F(CgroupTest, DelegatedV2SubtreeIsEnabledAndTheAgentMovesIntoALeaf) {
  make_cgroup(service(), "cpuset cpu io memory pids", "100\n200\n");
  CgroupSupport s = setup_cgroups(paths(std::string("/") + kService));
  ASSERT_TRUE(s.enabled) << s.description;
  EXPECT_EQ(s.base, service());
  EXPECT_EQ(s.self, service());
  EXPECT_TRUE(s.cpu && s.memory && s.cpuset);
  EXPECT_EQ(s.description, "cgroup v2 (cpu, memory, cpuset)");
  EXPECT_EQ(get(service() + "/agent/cgroup.procs"), "100\n200\n");
  EXPECT_EQ(get(service() + "/cgroup.subtree_control"), "+cpu\n+memory\n+cpuset\n");
}

TEST_F(CgroupTest, CpusetIsOptional) {
  make_cgroup(service(), "cpu io memory pids");
  CgroupSupport s = setup_cgroups(paths(std::string("/") + kService));
  ASSERT_TRUE(s.enabled) << s.description;
  EXPECT_FALSE(s.cpuset);
  EXPECT_EQ(s.description, "cgroup v2 (cpu, memory)");
}

TEST_F(CgroupTest, HybridModeWithControllersOnV1IsDisabledAndSaysSo) {
  // systemd's hybrid layout: cgroup2 at /sys/fs/cgroup/unified, controllers on v1.
  mnt_ = (dir_ / "sys/fs/cgroup/unified").string();
  make_cgroup(mnt_, "hugetlb", "1\n", /*root=*/true);
  std::string v1 =
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
      "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n";
  CgroupSupport s = setup_cgroups(paths("/", v1));
  EXPECT_FALSE(s.enabled);
  EXPECT_EQ(s.description.rfind("process groups (", 0), 0u) << s.description;
  EXPECT_NE(s.description.find("cpu and memory controllers not available"), std::string::npos) << s.description;
  EXPECT_NE(s.description.find("cgroup v1"), std::string::npos) << s.description;
  EXPECT_FALSE(fs::exists(mnt_ + "/cadre"));
  EXPECT_EQ(get(mnt_ + "/cgroup.subtree_control"), "");
}

TEST_F(CgroupTest, NoCgroup2MountIsDisabledAndSaysSo) {
  CgroupPaths p = paths("/");
  put(p.proc_self_mountinfo, "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/root rw\n");
  CgroupSupport s = setup_cgroups(p);
  EXPECT_FALSE(s.enabled);
  EXPECT_EQ(s.description, "process groups (no cgroup v2 file system is mounted)");
}

TEST_F(CgroupTest, PureV1NodeIsDisabledAndSaysSo) {
  CgroupPaths p = paths("/");
  put(p.proc_self_cgroup, "4:memory:/user.slice\n1:cpu,cpuacct:/user.slice\n");
  put(p.proc_self_mountinfo, "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n");
  CgroupSupport s = setup_cgroups(p);
  EXPECT_FALSE(s.enabled);
  EXPECT_NE(s.description.find("cgroup v1"), std::string::npos) << s.description;
}

TEST_F(CgroupTest, ControllersNotDelegatedAreDisabledAndSayWhatToDo) {
  make_cgroup(service(), "pids");
  CgroupSupport s = setup_cgroups(paths(std::string("/") + kService));
  EXPECT_FALSE(s.enabled);
  EXPECT_NE(s.description.find("cpu and memory controllers not delegated"), std::string::npos) << s.description;
  EXPECT_NE(s.description.find("Delegate=yes"), std::string::npos) << s.description;
}

TEST_F(CgroupTest, MissingCgroupFolderIsDisabled) {
  CgroupSupport s = setup_cgroups(paths("/nowhere.service"));
  EXPECT_FALSE(s.enabled);
  EXPECT_NE(s.description.find("cgroup.controllers"), std::string::npos) << s.description;
}

TEST_F(CgroupTest, ProbeOnlyChangesNothing) {
  make_cgroup(service(), "cpuset cpu memory", "100\n");
  CgroupPaths p = paths(std::string("/") + kService);
  p.probe_only = true;
  CgroupSupport s = setup_cgroups(p);
  EXPECT_TRUE(s.enabled) << s.description;
  EXPECT_FALSE(fs::exists(service() + "/agent"));
  EXPECT_EQ(get(service() + "/cgroup.subtree_control"), "");
}

TEST_F(CgroupTest, AgentInTheRootCgroupMovesNothingAndUsesAChild) {
  make_cgroup(mnt_, "cpuset cpu io memory pids", "1\n2\n100\n", /*root=*/true);
  CgroupSupport s = setup_cgroups(paths("/"));
  ASSERT_TRUE(s.enabled) << s.description;
  EXPECT_EQ(s.base, mnt_ + "/cadre");
  EXPECT_EQ(get(mnt_ + "/cgroup.procs"), "1\n2\n100\n");
  EXPECT_FALSE(fs::exists(mnt_ + "/agent"));
  EXPECT_EQ(get(mnt_ + "/cgroup.subtree_control"), "+cpu\n+memory\n+cpuset\n");
  EXPECT_EQ(get(mnt_ + "/cadre/cgroup.subtree_control"), "+cpu\n+memory\n+cpuset\n");
}

TEST_F(CgroupTest, AgentRestartedInsideItsLeafKeepsTheSameBase) {
  make_cgroup(service(), "cpuset cpu memory");
  make_cgroup(service() + "/agent", "cpuset cpu memory", "300\n");
  CgroupSupport s = setup_cgroups(paths(std::string("/") + kService + "/agent"));
  ASSERT_TRUE(s.enabled) << s.description;
  EXPECT_EQ(s.base, service());
  EXPECT_FALSE(fs::exists(service() + "/agent/agent"));
}

TEST_F(CgroupTest, MountOfAContainerSubtreeIsResolved) {
  // Without a cgroup namespace a container sees its cgroup's path below the mount's root.
  make_cgroup(service(), "cpu memory");
  CgroupPaths p = paths("/docker/abc/system.slice/cadre-agent.service");
  put(p.proc_self_mountinfo, "31 22 0:26 /docker/abc " + mnt_ + " rw - cgroup2 cgroup2 rw\n");
  CgroupSupport s = setup_cgroups(p);
  EXPECT_TRUE(s.enabled) << s.description;
  EXPECT_EQ(s.base, service());
}

TEST_F(CgroupTest, BaseOverrideSkipsDiscovery) {
  make_cgroup(dir_.string() + "/custom", "cpu memory");
  CgroupPaths p;
  p.proc_self_cgroup = "/nonexistent";
  p.base = dir_.string() + "/custom";
  p.fake = true;
  CgroupSupport s = setup_cgroups(p);
  EXPECT_TRUE(s.enabled) << s.description;
  EXPECT_EQ(s.base, p.base);
}

// ---- CgroupManager -----------------------------------------------------

TEST_F(CgroupTest, JobAndRankGetCpuAndMemoryLimits) {
  CgroupManager m = manager();
  Result<std::string> job = m.create_job(7, 2, Resources{2500, 4096, 0});
  ASSERT_TRUE(job.ok()) << job.error();
  EXPECT_EQ(*job, service() + "/job_7_2");
  EXPECT_EQ(get(*job + "/cpu.max"), "250000 100000");
  EXPECT_EQ(get(*job + "/memory.max"), "4294967296");
  EXPECT_EQ(get(*job + "/cgroup.subtree_control"), "+cpu\n+memory\n+cpuset\n");
  EXPECT_FALSE(fs::exists(*job + "/cpuset.cpus"));

  Result<std::string> rank = m.create_process(*job, "rank_0_3", Resources{500, 1024, 0});
  ASSERT_TRUE(rank.ok()) << rank.error();
  EXPECT_EQ(*rank, *job + "/rank_0_3");
  EXPECT_EQ(get(*rank + "/cpu.max"), "50000 100000");
  EXPECT_EQ(get(*rank + "/memory.max"), "1073741824");
}

TEST_F(CgroupTest, UnlimitedResourcesAreMax) {
  CgroupManager m = manager();
  Result<std::string> job = m.create_job(1, 1, Resources{});
  ASSERT_TRUE(job.ok()) << job.error();
  EXPECT_EQ(get(*job + "/cpu.max"), "max");
  EXPECT_EQ(get(*job + "/memory.max"), "max");
}

TEST_F(CgroupTest, LimitValues) {
  EXPECT_EQ(cpu_max_value(1000), "100000 100000");
  EXPECT_EQ(cpu_max_value(16000), "1600000 100000");
  EXPECT_EQ(cpu_max_value(1), "1000 100000");  // the kernel's minimum quota
  EXPECT_EQ(cpu_max_value(0), "max");
  EXPECT_EQ(memory_max_value(64), "67108864");
  EXPECT_EQ(memory_max_value(0), "max");
}

TEST_F(CgroupTest, WholeCpuJobIsPinnedAndRanksGetSlices) {
  CgroupManager m = manager();
  std::vector<int> cpus = {2, 3, 4, 5};
  Result<std::string> job = m.create_job(3, 1, Resources{4000, 1024, 0}, cpus);
  ASSERT_TRUE(job.ok()) << job.error();
  EXPECT_EQ(get(*job + "/cpuset.cpus"), "2-5");
  Result<std::string> rank = m.create_process(*job, "rank_0_1", Resources{2000, 512, 0}, rank_cpus(cpus, 1, 2));
  ASSERT_TRUE(rank.ok()) << rank.error();
  EXPECT_EQ(get(*rank + "/cpuset.cpus"), "4-5");
}

TEST_F(CgroupTest, SwapIsTurnedOffWhereTheKernelAccountsIt) {
  CgroupManager m = manager();
  put(m.job_path(4, 1) + "/memory.swap.max", "max\n");
  Result<std::string> job = m.create_job(4, 1, Resources{1000, 64, 0});
  ASSERT_TRUE(job.ok()) << job.error();
  EXPECT_EQ(get(*job + "/memory.swap.max"), "0");
}

TEST_F(CgroupTest, RankCgroupIsOneOomUnit) {
  CgroupManager m = manager();
  Result<std::string> job = m.create_job(4, 1, Resources{1000, 64, 0});
  ASSERT_TRUE(job.ok()) << job.error();
  put(*job + "/rank_0_0/memory.oom.group", "0\n");
  ASSERT_TRUE(m.create_process(*job, "rank_0_0", Resources{1000, 64, 0}).ok());
  EXPECT_EQ(get(*job + "/rank_0_0/memory.oom.group"), "1");
}

TEST_F(CgroupTest, DisabledSupportRefusesToCreate) {
  CgroupSupport s;
  s.description = "process groups (no cgroup v2 file system is mounted)";
  CgroupManager m(s);
  Result<std::string> job = m.create_job(1, 1, Resources{1000, 64, 0});
  ASSERT_FALSE(job.ok());
  EXPECT_NE(job.error().find("no cgroup v2 file system"), std::string::npos);
}

TEST_F(CgroupTest, BadRankNamesAndForeignPathsAreRefused) {
  CgroupManager m = manager();
  Result<std::string> job = m.create_job(1, 1, Resources{1000, 64, 0});
  ASSERT_TRUE(job.ok()) << job.error();
  EXPECT_FALSE(m.create_process(*job, "../escape", Resources{}).ok());
  EXPECT_FALSE(m.create_process(*job, "", Resources{}).ok());
  EXPECT_FALSE(m.create_process("/tmp", "rank_0_0", Resources{}).ok());
  EXPECT_FALSE(m.remove(dir_.string()).ok());
  EXPECT_TRUE(fs::exists(dir_));
}

TEST_F(CgroupTest, ListsJobCgroupsForRecovery) {
  CgroupManager m = manager();
  ASSERT_TRUE(m.create_job(12, 2, Resources{1000, 64, 0}, {4}).ok());
  ASSERT_TRUE(m.create_job(3, 1, Resources{2000, 64, 0}, {0, 1}).ok());
  ASSERT_TRUE(m.create_job(3, 2, Resources{500, 64, 0}).ok());
  fs::create_directories(service() + "/job_x");
  std::vector<JobCgroup> jobs = m.list_jobs();
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].job, 3u);
  EXPECT_EQ(jobs[0].attempt, 1u);
  EXPECT_EQ(jobs[0].cpus, (std::vector<int>{0, 1}));
  EXPECT_EQ(jobs[1].attempt, 2u);
  EXPECT_TRUE(jobs[1].cpus.empty());
  EXPECT_EQ(jobs[2].job, 12u);
  EXPECT_EQ(jobs[2].path, service() + "/job_12_2");
  EXPECT_EQ(jobs[2].cpus, (std::vector<int>{4}));
}

TEST_F(CgroupTest, RemoveTakesRankCgroupsFirst) {
  CgroupManager m = manager();
  Result<std::string> job = m.create_job(5, 1, Resources{1000, 64, 0});
  ASSERT_TRUE(job.ok()) << job.error();
  ASSERT_TRUE(m.create_process(*job, "rank_0_0", Resources{}).ok());
  ASSERT_TRUE(m.create_process(*job, "rank_0_1", Resources{}).ok());
  Status st = m.remove(*job);
  EXPECT_TRUE(st.ok()) << st.error();
  EXPECT_FALSE(fs::exists(*job));
  EXPECT_TRUE(m.remove(*job).ok());  // already gone
}

TEST_F(CgroupTest, MemoryEventsReportOomKills) {
  MemoryEvents ev = parse_memory_events("low 0\nhigh 3\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n");
  EXPECT_EQ(ev.high, 3);
  EXPECT_EQ(ev.max, 12);
  EXPECT_EQ(ev.oom, 2);
  EXPECT_EQ(ev.oom_kill, 1);
  EXPECT_TRUE(ev.oom_killed());
  EXPECT_FALSE(parse_memory_events("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n").oom_killed());
  EXPECT_TRUE(parse_memory_events("oom_kill 0\noom_group_kill 1\n").oom_killed());

  CgroupManager m = manager();
  Result<std::string> job = m.create_job(6, 1, Resources{1000, 64, 0});
  ASSERT_TRUE(job.ok()) << job.error();
  EXPECT_FALSE(m.oom_killed(*job));  // no memory.events: nothing known
  put(*job + "/memory.events", "low 0\nhigh 0\nmax 40\noom 1\noom_kill 1\n");
  put(*job + "/memory.peak", "67108864\n");
  EXPECT_TRUE(m.oom_killed(*job));
  EXPECT_EQ(m.memory_peak_bytes(*job), 67108864);
}

TEST_F(CgroupTest, KillUsesCgroupKillWhenTheKernelHasIt) {
  CgroupManager m = manager();
  Result<std::string> job = m.create_job(8, 1, Resources{1000, 64, 0});
  ASSERT_TRUE(job.ok()) << job.error();
  put(*job + "/cgroup.kill", "");
  EXPECT_TRUE(m.kill(*job).ok());
  EXPECT_EQ(get(*job + "/cgroup.kill"), "1");
}

TEST_F(CgroupTest, KillWithoutCgroupKillSignalsEveryListedProcess) {
  CgroupManager m = manager();
  Result<std::string> job = m.create_job(9, 1, Resources{1000, 64, 0});
  ASSERT_TRUE(job.ok()) << job.error();
  Result<std::string> rank = m.create_process(*job, "rank_0_0", Resources{});
  ASSERT_TRUE(rank.ok()) << rank.error();
  pid_t children[2];
  for (pid_t& c : children) {
    c = fork();
    ASSERT_GE(c, 0);
    if (c == 0) {
      for (;;) pause();
    }
  }
  put(*job + "/cgroup.procs", std::to_string(children[0]) + "\n");
  put(*rank + "/cgroup.procs", std::to_string(children[1]) + "\n");
  ASSERT_FALSE(fs::exists(*job + "/cgroup.kill"));
  Status st = m.kill(*job);
  EXPECT_TRUE(st.ok()) << st.error();
  for (pid_t c : children) {
    // Poll, so that a kill that did not happen fails instead of hanging.
    int status = 0;
    pid_t r = 0;
    for (int i = 0; i < 200 && r == 0; ++i) {
      r = waitpid(c, &status, WNOHANG);
      if (r == 0) usleep(10000);
    }
    if (r == 0) {
      ::kill(c, SIGKILL);
      waitpid(c, &status, 0);
      ADD_FAILURE() << "process " << c << " was not killed";
      continue;
    }
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "wait status " << status;
  }
}

TEST_F(CgroupTest, JoinWritesZeroToCgroupProcs) {
  std::string procs = cgroup_procs_path(dir_.string());
  put(procs, "");
  EXPECT_EQ(join_cgroup(procs.c_str()), 0);
  EXPECT_EQ(get(procs), "0");
  std::string missing = cgroup_procs_path(dir_.string() + "/none");
  EXPECT_EQ(join_cgroup(missing.c_str()), ENOENT);
}

// ---- cpu sets ----------------------------------------------------------

TEST(CpuSetList, ParsesAndFormatsLinuxCpuLists) {
  Result<std::vector<int>> cpus = parse_cpu_list("0-3,8,10-11\n");
  ASSERT_TRUE(cpus.ok()) << cpus.error();
  EXPECT_EQ(*cpus, (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(format_cpu_list(*cpus), "0-3,8,10-11");
  for (const char* text : {"0", "0-63", "1,3,5-6", "0-3,8,10-11,16-31"}) {
    Result<std::vector<int>> parsed = parse_cpu_list(text);
    ASSERT_TRUE(parsed.ok()) << text;
    EXPECT_EQ(format_cpu_list(*parsed), text);
  }
  EXPECT_EQ(format_cpu_list({5, 3, 4, 3, 0}), "0,3-5");
  EXPECT_EQ(format_cpu_list({}), "");
  EXPECT_TRUE(parse_cpu_list("").ok());
  EXPECT_TRUE(parse_cpu_list("\n")->empty());
}

TEST(CpuSetList, RejectsMalformedLists) {
  for (const char* text : {"a", "3-1", "1,,2", ",", "-1", "1-", "0-3,", "1 2", "99999999"}) {
    EXPECT_FALSE(parse_cpu_list(text).ok()) << text;
  }
}

TEST(CpuSetAllocator, GivesTheLowestFreeCpus) {
  CpuSetAllocator a(*parse_cpu_list("0-7"));
  Result<std::vector<int>> first = a.allocate("job_1_1", 2);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, (std::vector<int>{0, 1}));
  Result<std::vector<int>> second = a.allocate("job_2_1", 3);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, (std::vector<int>{2, 3, 4}));
  Result<std::vector<int>> too_many = a.allocate("job_3_1", 4);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error(), "only 3 of this node's 8 cpus are free; 4 needed");
  a.release("job_1_1");
  EXPECT_EQ(*a.allocate("job_3_1", 4), (std::vector<int>{0, 1, 5, 6}));
  EXPECT_EQ(a.free_cpus(), (std::vector<int>{7}));
}

TEST(CpuSetAllocator, UsesOnlyTheAgentsEffectiveCpus) {
  CpuSetAllocator a(*parse_cpu_list("2-3,8"));
  EXPECT_EQ(*a.allocate("job_1_1", 3), (std::vector<int>{2, 3, 8}));
  EXPECT_FALSE(a.allocate("job_2_1", 1).ok());
  EXPECT_FALSE(a.allocate("job_2_1", 0).ok());
}

TEST_F(CgroupTest, CpuSetAllocatorRecoversCpusOfLiveJobCgroups) {
  CgroupManager m = manager();
  ASSERT_TRUE(m.create_job(1, 1, Resources{2000, 64, 0}, {0, 1}).ok());
  ASSERT_TRUE(m.create_job(2, 1, Resources{1000, 64, 0}, {3}).ok());

  // A restarted agent: a new manager and allocator over the same tree.
  CgroupManager again(m.support());
  Result<std::vector<int>> usable = parse_cpu_list(get(service() + "/cpuset.cpus.effective"));
  ASSERT_TRUE(usable.ok());
  CpuSetAllocator a(*usable);
  for (const JobCgroup& j : again.list_jobs()) a.hold(j.path, j.cpus);
  EXPECT_EQ(*a.allocate(again.job_path(3, 1), 2), (std::vector<int>{2, 4}));
}

TEST(CpuSetSlices, RanksGetConsecutiveSlicesByLocalRank) {
  std::vector<int> job = {4, 5, 6, 7};
  EXPECT_EQ(rank_cpus(job, 0, 2), (std::vector<int>{4, 5}));
  EXPECT_EQ(rank_cpus(job, 1, 2), (std::vector<int>{6, 7}));
  EXPECT_TRUE(rank_cpus(job, 2, 2).empty());
  EXPECT_TRUE(rank_cpus(job, 0, 0).empty());
  EXPECT_EQ(whole_cpus(3000), 3);
  EXPECT_EQ(whole_cpus(1500), 0);
  EXPECT_EQ(whole_cpus(0), 0);
}

// ---- the real machine --------------------------------------------------

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool enables_cpu_and_memory(const std::string& cg) {
  std::string text = " " + read_all(cg + "/cgroup.subtree_control");
  for (char& c : text) c = c == '\n' ? ' ' : c;
  return text.find(" cpu ") != std::string::npos && text.find(" memory") != std::string::npos &&
         access(cg.c_str(), W_OK) == 0;
}

// Needs a cgroup whose children already get cpu and memory and which is
// writable: setting one up would mean moving this test runner (and its
// shell's processes) out of their cgroup, which a test must not do.
TEST(CgroupRealMachine, RankOverItsMemoryLimitIsOomKilled) {
  CgroupPaths probe;
  probe.probe_only = true;
  CgroupSupport s = setup_cgroups(probe);
  if (!s.enabled) GTEST_SKIP() << s.description;
  std::string parent;
  for (const std::string& c : {s.self, fs::path(s.self).parent_path().string()}) {
    if (enables_cpu_and_memory(c)) {
      parent = c;
      break;
    }
  }
  if (parent.empty()) {
    GTEST_SKIP() << "cpu and memory are not enabled for children of " << s.self
                 << " or its parent; the test would have to move its own runner";
  }
  std::string scratch = parent + "/cadre_test_" + std::to_string(getpid());
  ASSERT_EQ(mkdir(scratch.c_str(), 0755), 0) << strerror(errno);
  struct Cleanup {
    std::string dir;
    ~Cleanup() { rmdir(dir.c_str()); }
  } cleanup{scratch};
  std::ofstream(scratch + "/cgroup.subtree_control") << "+cpu";
  std::ofstream(scratch + "/cgroup.subtree_control") << "+memory";

  CgroupSupport t = s;
  t.base = scratch;
  t.cpuset = false;
  CgroupManager m(t);
  Result<std::string> job = m.create_job(1, 1, Resources{1000, 128, 0});
  ASSERT_TRUE(job.ok()) << job.error();
  Result<std::string> rank = m.create_process(*job, "rank_0_0", Resources{1000, 64, 0});
  ASSERT_TRUE(rank.ok()) << rank.error();

  std::string procs = cgroup_procs_path(*rank);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (join_cgroup(procs.c_str()) != 0) _exit(2);
    const size_t size = size_t{256} << 20;
    volatile char* p = static_cast<volatile char*>(malloc(size));
    if (p == nullptr) _exit(3);
    for (size_t i = 0; i < size; i += 4096) p[i] = 1;
    _exit(0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "wait status " << status;
  EXPECT_TRUE(m.oom_killed(*rank));
  if (std::optional<int64_t> peak = m.memory_peak_bytes(*rank)) {
    EXPECT_LE(*peak, int64_t{64} << 20);
  }
  Status removed = m.remove(*job);
  EXPECT_TRUE(removed.ok()) << removed.error();
}

}  // namespace
}  // namespace cadre::agent
