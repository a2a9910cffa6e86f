// Specification of agent/launch_spec: where a rank's output goes and what
// environment it starts with.
#include "agent/launch_spec.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include <map>

namespace cadre::agent {
namespace {

LaunchSpec two_node_spec() {
  LaunchSpec s;
  s.job = 1234;
  s.attempt = 2;
  s.job_name = "train";
  s.rank = 5;
  s.world_size = 8;
  s.local_rank = 1;
  s.local_world_size = 4;
  s.node_rank = 1;
  s.nodelist = {"gpu-01", "gpu-02"};
  s.tasks_per_node = {4, 4};
  s.gpus = {2, 3};
  s.argv = {"python", "train.py"};
  s.workdir = "/home/ada/exp";
  s.output_pattern = "cadre-%j-%t.out";
  s.master_addr = "10.0.0.1";
  s.master_port = 30734;
  s.user = "ada";
  s.uid = 1001;
  s.ntasks = 8;
  s.cpus_per_task = 2;
  s.per_task = Resources{2000, 3000, 1};
  return s;
}

// NAME -> every value it was given, in order.
std::map<std::string, std::vector<std::string>> parse_env(const std::vector<std::string>& env) {
  std::map<std::string, std::vector<std::string>> out;
  for (const std::string& e : env) {
    auto eq = e.find('=');
    EXPECT_NE(eq, std::string::npos) << "entry without '=': " << e;
    if (eq != std::string::npos) out[e.substr(0, eq)].push_back(e.substr(eq + 1));
  }
  return out;
}

// ---- output_path ----

TEST(LaunchSpec, OutputPathSubstitutesJobAndRankInTheWorkdir) {
  EXPECT_EQ(output_path(two_node_spec(), "gpu-02"), "/home/ada/exp/cadre-1234-5.out");
}

TEST(LaunchSpec, OutputPathHasSlurmsMeaningsForNodeIndexNameRestartsAndArrays) {
  LaunchSpec s = two_node_spec();  // attempt 2, rank 5 on gpu-02, the job's second node
  s.output_pattern = "logs/%N/%n-%j.%r.%t";
  EXPECT_EQ(output_path(s, "gpu-02"), "/home/ada/exp/logs/gpu-02/1-1234.1.5") << "%n is the node's index, %r restarts";
  s.output_pattern = "%A_%a-%b.out";
  EXPECT_EQ(output_path(s, "gpu-02"), "/home/ada/exp/1234_4294967294-4.out") << "a job outside an array, as sbatch names it";
  s.output_pattern = "%J-%s";
  EXPECT_EQ(output_path(s, "gpu-02"), "/home/ada/exp/1234.0-0");
  s.batch = true;
  EXPECT_EQ(output_path(s, "gpu-02"), "/home/ada/exp/1234-batch") << "the batch step's %J is the bare job id";
  s.batch = false;
  s.step = 3;
  EXPECT_EQ(output_path(s, "gpu-02"), "/home/ada/exp/1234.3-3");
}

TEST(LaunchSpec, OutputPathZeroPadsNumbersToTheGivenWidth) {
  LaunchSpec s = two_node_spec();
  s.output_pattern = "%6j-%3t-%3x-%12t-%0j";
  EXPECT_EQ(output_path(s, "n"), "/home/ada/exp/001234-005-train-0000000005-1234") << "names are not padded; 10 at most";
}

TEST(LaunchSpec, OutputPathWithABackslashIsTakenLiterally) {
  LaunchSpec s = two_node_spec();
  s.output_pattern = "\\%j-%t.out";
  EXPECT_EQ(output_path(s, "n"), "/home/ada/exp/%j-%t.out");
}

TEST(LaunchSpec, OutputPathTurnsDoublePercentIntoOnePercent) {
  LaunchSpec s = two_node_spec();
  s.output_pattern = "100%%-%%j-%j";
  EXPECT_EQ(output_path(s, "n"), "/home/ada/exp/100%-%j-1234");
}

TEST(LaunchSpec, OutputPathKeepsUnknownEscapesAndATrailingPercent) {
  LaunchSpec s = two_node_spec();
  s.output_pattern = "a%qb%";
  EXPECT_EQ(output_path(s, "n"), "/home/ada/exp/a%qb%");
}

TEST(LaunchSpec, OutputPathExpandsSlurmsJobNameUserAndNode) {
  LaunchSpec s = two_node_spec();
  s.job_name = "train";
  s.user = "ada";
  s.output_pattern = "%x-%u-%N-%j.out";
  EXPECT_EQ(output_path(s, "gpu-02"), "/home/ada/exp/train-ada-gpu-02-1234.out");
}

TEST(LaunchSpec, OutputPathUsesAnAbsolutePatternAsIs) {
  LaunchSpec s = two_node_spec();
  s.output_pattern = "/scratch/%j/rank-%t.log";
  EXPECT_EQ(output_path(s, "n"), "/scratch/1234/rank-5.log");
}

TEST(LaunchSpec, OutputPathSubstitutesEveryOccurrence) {
  LaunchSpec s = two_node_spec();
  s.output_pattern = "%t-%t-%j-%j";
  EXPECT_EQ(output_path(s, "n"), "/home/ada/exp/5-5-1234-1234");
}

// ---- rank_environment ----

// The one value of `name`, or "<missing>" / "<repeated>".
std::string only(const std::map<std::string, std::vector<std::string>>& env, const std::string& name) {
  auto it = env.find(name);
  if (it == env.end()) return "<missing>";
  return it->second.size() == 1 ? it->second.front() : "<repeated>";
}

TEST(LaunchSpec, SlurmTasksPerNodeFoldsRepeats) {
  EXPECT_EQ(slurm_tasks_per_node({2, 2, 2, 1}), "2(x3),1");
  EXPECT_EQ(slurm_tasks_per_node({4}), "4");
  EXPECT_EQ(slurm_tasks_per_node({1, 2, 1}), "1,2,1");
  EXPECT_EQ(slurm_tasks_per_node({}), "");
}

TEST(LaunchSpec, UmaskOctalIsFourOctalDigitsAsSlurmWritesIt) {
  EXPECT_EQ(umask_octal(0), "0000");
  EXPECT_EQ(umask_octal(022), "0022");
  EXPECT_EQ(umask_octal(027), "0027");
  EXPECT_EQ(umask_octal(0777), "0777");
}

TEST(LaunchSpec, AJobWithAUmaskExportsSlurmUmask) {
  LaunchSpec s = two_node_spec();
  s.umask = 027;
  auto env = parse_env(rank_environment(s, AgentContext{"gpu-02", "", "", ""}, "/h", {"SLURM_UMASK=0000"}));
  EXPECT_EQ(only(env, "SLURM_UMASK"), "0027");
}

TEST(LaunchSpec, AJobWithoutAUmaskExportsNone) {
  auto env = parse_env(rank_environment(two_node_spec(), AgentContext{"gpu-02", "", "", ""}, "/h", {}));
  EXPECT_EQ(env.count("SLURM_UMASK"), 0u);
}

TEST(LaunchSpec, JobsGetOpenMpisLauncherAndTheCliOnPath) {
  auto env = parse_env(rank_environment(two_node_spec(), AgentContext{"gpu-02", "tcp://head:7700", "/opt/cadre/bin/cadre", ""},
                                        "/h", {"PATH=/usr/bin:/bin"}));
  EXPECT_EQ(only(env, "OMPI_MCA_plm_rsh_agent"), "/opt/cadre/bin/cadre rsh");
  EXPECT_EQ(only(env, "OMPI_MCA_plm"), "rsh");
  // The Slurm names would make Open MPI pick its srun launcher.
  EXPECT_EQ(only(env, "OMPI_MCA_ras"), "^slurm");
  EXPECT_EQ(only(env, "OMPI_MCA_ess"), "^slurm");
  EXPECT_EQ(only(env, "CADRE_MASTER"), "tcp://head:7700");
  EXPECT_EQ(only(env, "PATH"), "/usr/bin:/bin:/opt/cadre/bin");
  // Already on PATH: not added twice.
  auto again = parse_env(rank_environment(two_node_spec(), AgentContext{"n", "", "/usr/bin/cadre", ""}, "/h",
                                          {"PATH=/usr/bin:/bin"}));
  EXPECT_EQ(only(again, "PATH"), "/usr/bin:/bin");
}

TEST(LaunchSpec, SlurmsFrontEndsGoLastOnPath) {
  auto env = parse_env(rank_environment(two_node_spec(), AgentContext{"n", "", "/usr/bin/cadre", "/usr/lib/cadre/slurm-bin"},
                                        "/h", {"PATH=/opt/slurm/bin:/usr/bin"}));
  EXPECT_EQ(only(env, "PATH"), "/opt/slurm/bin:/usr/bin:/usr/lib/cadre/slurm-bin") << "a real Slurm first";
  auto none = parse_env(rank_environment(two_node_spec(), AgentContext{"n", "", "/usr/bin/cadre", ""}, "/h",
                                         {"PATH=/usr/bin"}));
  EXPECT_EQ(only(none, "PATH"), "/usr/bin");
}

TEST(LaunchSpec, ABatchScriptAndAStepSeeTheAllocationInTheSlurmNames) {
  LaunchSpec s = two_node_spec();
  s.batch = true;
  s.rank = 0;
  s.node_rank = 0;
  auto env = parse_env(rank_environment(s, AgentContext{"gpu-01", "", "", ""}, "/h", {}));
  EXPECT_EQ(only(env, "SLURM_STEP_ID"), "batch");
  // A step of 2 ranks on the second node still sees the whole allocation.
  LaunchSpec step = two_node_spec();
  step.step = 3;
  step.nodelist = {"gpu-02"};
  step.tasks_per_node = {2};
  step.job_nodelist = {"gpu-01", "gpu-02"};
  step.job_tasks_per_node = {4, 4};
  env = parse_env(rank_environment(step, AgentContext{"gpu-02", "", "", ""}, "/h", {}));
  EXPECT_EQ(only(env, "CADRE_STEP_ID"), "3");
  EXPECT_EQ(only(env, "SLURM_STEP_ID"), "3");
  EXPECT_EQ(only(env, "SLURM_JOB_NODELIST"), "gpu-[01-02]");
  EXPECT_EQ(only(env, "CADRE_NODELIST"), "gpu-01,gpu-02");
  EXPECT_EQ(hostfile_text(step), "gpu-01 slots=4\ngpu-02 slots=4\n");
  // ... while the step's own names are the step's, as srun sets them.
  step.world_size = 2;
  env = parse_env(rank_environment(step, AgentContext{"gpu-02", "", "", ""}, "/h", {}));
  EXPECT_EQ(only(env, "SLURM_NTASKS"), "2");
  EXPECT_EQ(only(env, "SLURM_NPROCS"), "2");
  EXPECT_EQ(only(env, "SLURM_NNODES"), "1");
  EXPECT_EQ(only(env, "SLURM_NODELIST"), "gpu-02");
  EXPECT_EQ(only(env, "SLURM_TASKS_PER_NODE"), "2");
  EXPECT_EQ(only(env, "SLURM_STEP_NUM_TASKS"), "2");
  EXPECT_EQ(only(env, "SLURM_JOB_NUM_NODES"), "2");
  EXPECT_EQ(only(env, "CADRE_NTASKS"), "8");
}

TEST(LaunchSpec, AStepKeepsTheRendezvousItsScriptExported) {
  LaunchSpec step = two_node_spec();
  step.step = 2;
  step.environment = {"MASTER_ADDR=gpu-01", "MASTER_PORT=12345", "RANK=99"};
  auto env = parse_env(rank_environment(step, AgentContext{"gpu-02", "", "", ""}, "/h", {}));
  EXPECT_EQ(only(env, "MASTER_ADDR"), "gpu-01");
  EXPECT_EQ(only(env, "MASTER_PORT"), "12345");
  EXPECT_EQ(only(env, "RANK"), "5") << "each rank's own";
  // A job's own ranks: the submitter's shell does not choose the rendezvous.
  LaunchSpec job = two_node_spec();
  job.environment = {"MASTER_PORT=12345"};
  env = parse_env(rank_environment(job, AgentContext{"gpu-02", "", "", ""}, "/h", {}));
  EXPECT_EQ(only(env, "MASTER_PORT"), "30734");
  // The batch script holds its node's GPUs of the allocation.
  job.batch = true;
  env = parse_env(rank_environment(job, AgentContext{"gpu-02", "", "", ""}, "/h", {}));
  EXPECT_EQ(only(env, "SLURM_JOB_GPUS"), "2,3");
  EXPECT_EQ(env.count("SLURM_STEP_NUM_TASKS"), 0u);
}

TEST(LaunchSpec, RankEnvironmentHasEveryVariableWithItsValue) {
  auto env = parse_env(rank_environment(two_node_spec(), AgentContext{"gpu-02", "", "", ""}, "/var/lib/cadre/1234/hostfile", {}));
  const std::map<std::string, std::string> want{
      {"CADRE_JOB_ID", "1234"},
      {"CADRE_JOB_NAME", "train"},
      {"CADRE_ATTEMPT", "2"},
      {"CADRE_RANK", "5"},
      {"CADRE_WORLD_SIZE", "8"},
      {"CADRE_LOCAL_RANK", "1"},
      {"CADRE_LOCAL_WORLD_SIZE", "4"},
      {"CADRE_NODE_RANK", "1"},
      {"CADRE_NNODES", "2"},
      {"CADRE_NODE_NAME", "gpu-02"},
      {"CADRE_NODELIST", "gpu-01,gpu-02"},
      {"CADRE_HOSTFILE", "/var/lib/cadre/1234/hostfile"},
      {"CUDA_VISIBLE_DEVICES", "2,3"},
      {"RANK", "5"},
      {"WORLD_SIZE", "8"},
      {"LOCAL_RANK", "1"},
      {"LOCAL_WORLD_SIZE", "4"},
      {"GROUP_RANK", "1"},
      {"MASTER_ADDR", "10.0.0.1"},
      {"MASTER_PORT", "30734"},
      {"CADRE_STEP_ID", "0"},
      {"CADRE_NTASKS", "8"},
      {"SLURM_JOB_ID", "1234"},
      {"SLURM_JOBID", "1234"},
      {"SLURM_JOB_NAME", "train"},
      {"SLURM_JOB_USER", "ada"},
      {"SLURM_JOB_UID", "1001"},
      {"SLURM_JOB_NUM_NODES", "2"},
      {"SLURM_NNODES", "2"},
      {"SLURM_JOB_NODELIST", "gpu-[01-02]"},
      {"SLURM_NODELIST", "gpu-[01-02]"},
      {"SLURM_NTASKS", "8"},
      {"SLURM_NPROCS", "8"},
      {"SLURM_TASKS_PER_NODE", "4(x2)"},
      {"SLURM_NTASKS_PER_NODE", "4"},
      {"SLURM_CPUS_PER_TASK", "2"},
      {"SLURM_SUBMIT_DIR", "/home/ada/exp"},
      {"SLURMD_NODENAME", "gpu-02"},
      {"SLURM_PROCID", "5"},
      {"SLURM_LOCALID", "1"},
      {"SLURM_NODEID", "1"},
      {"SLURM_STEP_ID", "0"},
      {"SLURM_GPUS_ON_NODE", "2"},
      {"SLURM_CLUSTER_NAME", "cadre"},
      {"SLURM_CPUS_ON_NODE", "8"},
      {"SLURM_MEM_PER_NODE", "12000"},
      {"SLURM_JOB_CPUS_PER_NODE", "8(x2)"},
      // A job without a script is its own step; attempt 2 is one restart.
      {"SLURM_STEP_NUM_TASKS", "8"},
      {"SLURM_STEP_NUM_NODES", "2"},
      {"SLURM_STEP_NODELIST", "gpu-[01-02]"},
      {"SLURM_STEP_TASKS_PER_NODE", "4(x2)"},
      {"SLURM_RESTART_COUNT", "1"},
      {"SLURM_GPUS_PER_NODE", "4"},
      {"SLURM_GPUS_PER_TASK", "1"},
  };
  for (auto& [name, value] : want) {
    ASSERT_EQ(env.count(name), 1u) << name << " is missing";
    ASSERT_EQ(env[name].size(), 1u) << name << " is set more than once";
    EXPECT_EQ(env[name][0], value) << name;
  }
  EXPECT_EQ(env.size(), want.size()) << "unexpected extra variables";
}

TEST(LaunchSpec, RankEnvironmentKeepsTheBase) {
  std::vector<std::string> base{"PATH=/usr/bin:/bin", "HOME=/home/ada", "USER=ada"};
  auto env = rank_environment(two_node_spec(), AgentContext{"gpu-02", "", "", ""}, "/h", base);
  for (const std::string& entry : base)
    EXPECT_EQ(std::count(env.begin(), env.end(), entry), 1) << entry;
}

TEST(LaunchSpec, CadreVariablesWinOverTheBase) {
  std::vector<std::string> base{"RANK=99", "CUDA_VISIBLE_DEVICES=0,1,2,3", "HOME=/home/ada"};
  auto env = parse_env(rank_environment(two_node_spec(), AgentContext{"gpu-02", "", "", ""}, "/h", base));
  ASSERT_EQ(env["RANK"].size(), 1u);
  EXPECT_NE(env["RANK"][0], "99");
  ASSERT_EQ(env["CUDA_VISIBLE_DEVICES"].size(), 1u);
  EXPECT_NE(env["CUDA_VISIBLE_DEVICES"][0], "0,1,2,3");
  EXPECT_EQ(env["HOME"].size(), 1u);
}

TEST(LaunchSpec, TheExportedEnvironmentComesBetweenCadresNamesAndTheBase) {
  LaunchSpec s = two_node_spec();
  s.environment = {"PATH=/opt/conda/bin:/usr/bin", "PYTHONPATH=/home/ada/lib", "RANK=99",
                   "BASH_FUNC_module%%=() {  eval $(/usr/bin/modulecmd bash $*)\n}", "HOME=/home/ada"};
  s.partition = "gpu";
  s.account = "physics";
  s.submit_host = "login-1";
  s.export_mode = "ALL,OMP_NUM_THREADS=4";
  std::vector<std::string> base{"PATH=/usr/bin:/bin", "HOME=/nonexistent", "SHELL=/bin/sh"};
  auto env = parse_env(rank_environment(s, AgentContext{"gpu-02", "", "", ""}, "/h", base));
  EXPECT_EQ(env["PATH"], (std::vector<std::string>{"/opt/conda/bin:/usr/bin"})) << "the submitter's PATH, not the agent's";
  EXPECT_EQ(env["PYTHONPATH"], (std::vector<std::string>{"/home/ada/lib"}));
  EXPECT_EQ(env["HOME"], (std::vector<std::string>{"/home/ada"}));
  EXPECT_EQ(env["SHELL"], (std::vector<std::string>{"/bin/sh"})) << "the base fills in what was not exported";
  EXPECT_EQ(env["RANK"], (std::vector<std::string>{"5"})) << "cadre's names win over exported ones";
  EXPECT_EQ(env["BASH_FUNC_module%%"].size(), 1u) << "exported shell functions travel";
  EXPECT_EQ(env["SLURM_JOB_PARTITION"], (std::vector<std::string>{"gpu"}));
  EXPECT_EQ(env["SLURM_JOB_ACCOUNT"], (std::vector<std::string>{"physics"}));
  EXPECT_EQ(env["SLURM_SUBMIT_HOST"], (std::vector<std::string>{"login-1"}));
  EXPECT_EQ(env["SLURM_EXPORT_ENV"], (std::vector<std::string>{"ALL,OMP_NUM_THREADS=4"}));
}

TEST(LaunchSpec, RankWithoutGpusSeesAnEmptyCudaVisibleDevices) {
  LaunchSpec s = two_node_spec();
  s.gpus.clear();
  auto env = parse_env(rank_environment(s, AgentContext{"gpu-02", "", "", ""}, "/h", {}));
  ASSERT_EQ(env["CUDA_VISIBLE_DEVICES"].size(), 1u) << "unset would expose every GPU";
  EXPECT_EQ(env["CUDA_VISIBLE_DEVICES"][0], "");
}

TEST(LaunchSpec, SingleNodeSingleGpuEnvironment) {
  LaunchSpec s;
  s.job = 1;
  s.nodelist = {"solo"};
  s.tasks_per_node = {1};
  s.gpus = {7};
  s.master_addr = "solo";
  s.master_port = 29501;
  auto env = parse_env(rank_environment(s, AgentContext{"solo", "", "", ""}, "/h", {}));
  EXPECT_EQ(env["CADRE_NODELIST"], (std::vector<std::string>{"solo"}));
  EXPECT_EQ(env["CUDA_VISIBLE_DEVICES"], (std::vector<std::string>{"7"}));
  EXPECT_EQ(env["WORLD_SIZE"], (std::vector<std::string>{"1"}));
  EXPECT_EQ(env["RANK"], (std::vector<std::string>{"0"}));
  EXPECT_EQ(env["MASTER_PORT"], (std::vector<std::string>{"29501"}));
}

// ---- hostfile_text ----

TEST(LaunchSpec, HostfileHasOneLinePerNodeWithItsSlots) {
  LaunchSpec s = two_node_spec();
  s.tasks_per_node = {4, 2};
  EXPECT_EQ(hostfile_text(s), "gpu-01 slots=4\ngpu-02 slots=2\n");
}

TEST(LaunchSpec, HostfileDefaultsToOneSlotWhenCountsAreMissing) {
  LaunchSpec s = two_node_spec();
  s.nodelist = {"a", "b", "c"};
  s.tasks_per_node = {3};
  EXPECT_EQ(hostfile_text(s), "a slots=3\nb slots=1\nc slots=1\n");
}

TEST(LaunchSpec, HostfileOfNoNodesIsEmpty) {
  LaunchSpec s;
  EXPECT_EQ(hostfile_text(s), "");
}

}  // namespace
}  // namespace cadre::agent
