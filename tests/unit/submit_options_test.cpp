// Specification of cli/submit_options: `cadre submit` flags to a job request.
#include "cli/submit_options.hpp"

#include <gtest/gtest.h>

#include "common/ids.hpp"
#include "common/job_validation.hpp"

namespace cadre::cli {
namespace {

const std::string kCwd = "/home/ada/project";

SubmitOptions parse_ok(std::vector<std::string> args) {
  auto r = parse_submit(args, kCwd);
  EXPECT_TRUE(r) << r.error();
  return r ? *r : SubmitOptions{};
}

std::string parse_error(std::vector<std::string> args) {
  auto r = parse_submit(args, kCwd);
  EXPECT_FALSE(r) << "accepted";
  return r ? "" : r.error();
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

TEST(SubmitOptions, DefaultsToOneTaskOfOneCpuAndOneGigabyteHere) {
  SubmitOptions o = parse_ok({"--", "hostname"});
  EXPECT_EQ(o.argv, (std::vector<std::string>{"hostname"}));
  EXPECT_EQ(o.name, "hostname");
  EXPECT_EQ(o.workdir, kCwd);
  EXPECT_EQ(o.output_pattern, "cadre-%j.out") << "one file per job that every rank appends to";
  EXPECT_EQ(o.per_task, (Resources{1000, 1024, 0}));
  EXPECT_EQ(o.nodes, 0u);
  EXPECT_EQ(o.tasks_per_node, 0u);
  EXPECT_EQ(o.ntasks, 1u);
  EXPECT_EQ(o.time_limit_s, 0);
  EXPECT_EQ(o.priority, 0);
  EXPECT_FALSE(o.parsable);
  EXPECT_FALSE(o.wait);
}

TEST(SubmitOptions, TheCommandAfterDoubleDashIsKeptVerbatim) {
  SubmitOptions o = parse_ok({"-N", "1", "--", "/opt/bin/train", "--nodes", "9", "--", "x"});
  EXPECT_EQ(o.argv, (std::vector<std::string>{"/opt/bin/train", "--nodes", "9", "--", "x"}));
  EXPECT_EQ(o.nodes, 1u) << "flags after '--' belong to the command";
  EXPECT_EQ(o.name, "train");
}

TEST(SubmitOptions, NodesTimesTasksPerNodeGivesTheTaskCount) {
  SubmitOptions o = parse_ok({"--nodes", "2", "--tasks-per-node", "4", "--", "a"});
  EXPECT_EQ(o.nodes, 2u);
  EXPECT_EQ(o.tasks_per_node, 4u);
  EXPECT_EQ(o.ntasks, 8u);
  SubmitOptions slurm = parse_ok({"-N", "3", "--ntasks-per-node=2", "--", "a"});
  EXPECT_EQ(slurm.ntasks, 6u);
}

TEST(SubmitOptions, NodesAloneMeansOneTaskPerNode) {
  SubmitOptions o = parse_ok({"-N", "4", "--", "a"});
  EXPECT_EQ(o.nodes, 4u);
  EXPECT_EQ(o.tasks_per_node, 1u);
  EXPECT_EQ(o.ntasks, 4u);
}

TEST(SubmitOptions, TasksPerNodeAloneMeansOneNode) {
  SubmitOptions o = parse_ok({"--tasks-per-node", "4", "--", "a"});
  EXPECT_EQ(o.nodes, 1u);
  EXPECT_EQ(o.tasks_per_node, 4u);
  EXPECT_EQ(o.ntasks, 4u);
}

TEST(SubmitOptions, NodesWithADivisibleNtasksSplitsEvenly) {
  SubmitOptions o = parse_ok({"--nodes", "2", "--ntasks", "8", "--", "a"});
  EXPECT_EQ(o.tasks_per_node, 4u);
  EXPECT_EQ(o.ntasks, 8u);
}

TEST(SubmitOptions, NodesWithAnIndivisibleNtasksIsRefused) {
  std::string e = parse_error({"--nodes", "3", "--ntasks", "8", "--", "a"});
  EXPECT_EQ(e, "--ntasks 8 does not divide evenly over --nodes 3; give --tasks-per-node");
}

TEST(SubmitOptions, ContradictoryShapeIsRefused) {
  std::string e = parse_error({"--nodes", "2", "--tasks-per-node", "4", "--ntasks", "10", "--", "a"});
  EXPECT_EQ(e, "--ntasks 10 contradicts --nodes 2 x --tasks-per-node 4");
  EXPECT_TRUE(starts_with(parse_error({"--tasks-per-node", "2", "-n", "3", "--", "a"}),
                          "--ntasks 3 with at most 2 tasks per node leaves a node with fewer"));
  EXPECT_TRUE(starts_with(parse_error({"-N", "2", "--tasks-per-node", "4", "-n", "7", "--", "a"}),
                          "--ntasks 7 does not divide evenly over --nodes 2"));
}

TEST(SubmitOptions, NtasksWithTasksPerNodeIsAMaximumPerNodeAsInSlurm) {
  SubmitOptions o = parse_ok({"-n", "8", "--ntasks-per-node", "4", "--", "a"});
  EXPECT_EQ(o.ntasks, 8u);
  EXPECT_EQ(o.nodes, 2u);
  EXPECT_EQ(o.tasks_per_node, 4u);
  o = parse_ok({"-N", "2", "--ntasks-per-node", "4", "-n", "6", "--", "a"});
  EXPECT_EQ(o.nodes, 2u);
  EXPECT_EQ(o.tasks_per_node, 3u) << "6 tasks over 2 nodes, at most 4 each: 3 and 3";
  EXPECT_EQ(o.ntasks, 6u);
}

TEST(SubmitOptions, ConsistentRedundantShapeIsAccepted) {
  SubmitOptions o = parse_ok({"--nodes", "2", "--tasks-per-node", "4", "--ntasks", "8", "--", "a"});
  EXPECT_EQ(o.ntasks, 8u);
}

TEST(SubmitOptions, NtasksAloneGoesAnywhere) {
  SubmitOptions o = parse_ok({"-n", "5", "--", "a"});
  EXPECT_EQ(o.nodes, 0u);
  EXPECT_EQ(o.tasks_per_node, 0u);
  EXPECT_EQ(o.ntasks, 5u);
}

TEST(SubmitOptions, ZeroCountsAreRefusedNamingTheFlag) {
  EXPECT_EQ(parse_error({"--nodes", "0", "--", "a"}), "--nodes: must be at least 1");
  EXPECT_EQ(parse_error({"--ntasks", "0", "--", "a"}), "--ntasks: must be at least 1");
  EXPECT_EQ(parse_error({"--tasks-per-node", "0", "--", "a"}), "--tasks-per-node: must be at least 1");
  EXPECT_EQ(parse_error({"-c", "0", "--", "a"}), "--cpus-per-task: must be at least 1");
}

TEST(SubmitOptions, NonNumericCountsAreRefusedNamingTheFlag) {
  EXPECT_TRUE(starts_with(parse_error({"--nodes", "two", "--", "a"}), "--nodes: 'two' is not"));
  EXPECT_TRUE(starts_with(parse_error({"-n", "-1", "--", "a"}), "--ntasks: "));
  EXPECT_TRUE(starts_with(parse_error({"--gpus-per-task", "1.5", "--", "a"}), "--gpus-per-task: "));
}

TEST(SubmitOptions, TooManyTasksAreRefused) {
  EXPECT_EQ(parse_error({"--nodes", "1000", "--tasks-per-node", "1000", "--", "a"}),
            "a job may have at most 100000 tasks");
  EXPECT_TRUE(starts_with(parse_error({"-n", "100001", "--", "a"}), "--ntasks: '100001' is too large"));
}

TEST(SubmitOptions, GpusPerNodeSplitsOverTheTasksOfANode) {
  SubmitOptions o = parse_ok({"--nodes", "2", "--tasks-per-node", "4", "--gpus-per-node", "8", "--", "a"});
  EXPECT_EQ(o.per_task.gpus, 2);
  SubmitOptions one = parse_ok({"-N", "2", "--gpus-per-node", "4", "--", "a"});
  EXPECT_EQ(one.per_task.gpus, 4);
}

TEST(SubmitOptions, GpusPerNodeMustDivideEvenly) {
  EXPECT_EQ(parse_error({"--nodes", "1", "--tasks-per-node", "4", "--gpus-per-node", "6", "--", "a"}),
            "--gpus-per-node 6 does not divide evenly over 4 tasks per node");
}

TEST(SubmitOptions, GpusPerNodeNeedsNodes) {
  EXPECT_EQ(parse_error({"--gpus-per-node", "8", "--", "a"}), "--gpus-per-node needs --nodes");
  EXPECT_EQ(parse_error({"-n", "4", "--gpus-per-node", "8", "--", "a"}), "--gpus-per-node needs --nodes");
}

TEST(SubmitOptions, GpusPerNodeAndGpusPerTaskContradict) {
  EXPECT_EQ(parse_error({"-N", "1", "--gpus-per-node", "8", "--gpus-per-task", "1", "--", "a"}),
            "give only one of -G/--gpus, --gres, --gpus-per-node and --gpus-per-task");
}

TEST(SubmitOptions, ResourcesPerTask) {
  SubmitOptions o = parse_ok({"-c", "4", "--mem-per-task", "16G", "--gpus-per-task", "1", "--", "a"});
  EXPECT_EQ(o.per_task, (Resources{4000, 16384, 1}));
  SubmitOptions none = parse_ok({"--gpus-per-task", "0", "--mem-per-task", "512", "--", "a"});
  EXPECT_EQ(none.per_task, (Resources{1000, 512, 0}));
}

TEST(SubmitOptions, MissingDoubleDashIsRefusedWithAnExample) {
  // A word before any '--' is a batch script; when there is no such file the
  // user most likely meant a command.
  std::string stray = parse_error({"--nodes", "2", "hostname"});
  EXPECT_EQ(stray, "no batch script 'hostname' (/home/ada/project/hostname does not exist); to run a command "
                   "instead, put it after '--', e.g. cadre submit -- hostname");
  EXPECT_EQ(parse_error({"--nodes", "2"}), "no command given: put it after '--', e.g. cadre submit -- hostname");
  EXPECT_EQ(parse_error({"--"}), "no command given: put it after '--', e.g. cadre submit -- hostname");
  EXPECT_EQ(parse_error({}), "no command given: put it after '--', e.g. cadre submit -- hostname");
  EXPECT_EQ(parse_error({""}), "no batch script given: the script path is empty (''); to run a command instead, "
                               "put it after '--', e.g. cadre submit -- hostname")
      << "not the working directory taken for the script";
}

TEST(SubmitOptions, UnknownFlagsAreRefused) {
  EXPECT_EQ(parse_error({"--bogus", "high", "--", "a"}), "unknown option '--bogus' (see --help)");
  EXPECT_EQ(parse_error({"--bogus", "high", "job.sh"}), "unknown option '--bogus' (see --help)")
      << "not taken for a script named 'high'";
  EXPECT_EQ(parse_error({"--partiton", "gpu", "--", "a"}),
            "unknown option '--partiton' (did you mean --partition? see --help)");
  EXPECT_EQ(parse_error({"--gpus-per-nod", "2", "--", "a"}),
            "unknown option '--gpus-per-nod' (did you mean --gpus-per-node? see --help)");
}

TEST(SubmitOptions, SlurmOptionsCadreLacksSayWhatToDoInstead) {
  EXPECT_EQ(parse_ok({"--qos", "high", "--", "a"}).qos, "high");
  EXPECT_EQ(parse_ok({"-q", "low", "--", "a"}).qos, "low");
  const int64_t now = unix_now();
  const int64_t deadline = parse_ok({"--deadline", "now+1hour", "--", "a"}).deadline;
  EXPECT_GE(deadline, now + 3600);
  EXPECT_LE(deadline, now + 3660);
  EXPECT_EQ(parse_error({"--deadline", "someday", "--", "a"}).rfind("--deadline 'someday': expected", 0), 0u)
      << parse_error({"--deadline", "someday", "--", "a"});
  EXPECT_EQ(parse_error({"--qos=", "--", "a"}), "--qos: give a QOS name");
  EXPECT_EQ(parse_ok({"--reservation", "maint", "--", "a"}).reservation, "maint");
  EXPECT_EQ(parse_error({"--reservation=", "--", "a"}), "--reservation: give a reservation name");
  EXPECT_EQ(parse_ok({"-C", "[rack1|rack2]", "--", "a"}).constraint, "[rack1|rack2]");
  EXPECT_EQ(parse_ok({"--constraint=", "--", "a"}).constraint, "") << "sbatch's empty value: none";
  EXPECT_EQ(parse_error({"-C", "gpu*2", "--", "a"}).rfind("-C/--constraint 'gpu*2': node counts", 0), 0u);
  EXPECT_TRUE(parse_ok({"--", "sh", "--qos"}).argv.back() == "--qos") << "words after -- are the command's";
}

TEST(SubmitOptions, PartitionAccountAndSwitches) {
  SubmitOptions o = parse_ok({"-p", "gpu", "-A", "vision", "--switches", "2@1:00:00", "--", "a"});
  EXPECT_EQ(o.partition, "gpu");
  EXPECT_EQ(o.account, "vision");
  EXPECT_EQ(o.max_switches, 2u);
  EXPECT_EQ(o.switches_wait_s, 3600);
  o = parse_ok({"--switches", "1", "--switches-wait", "5:00", "--", "a"});
  EXPECT_EQ(o.max_switches, 1u);
  EXPECT_EQ(o.switches_wait_s, 300);
  EXPECT_EQ(parse_ok({"--switches", "3", "--", "a"}).switches_wait_s, 0) << "held forever";
  EXPECT_EQ(parse_error({"--switches", "0", "--", "a"}), "--switches: expected N or N@TIME with N >= 1, got '0'");
  EXPECT_EQ(parse_error({"--switches", "x@5", "--", "a"}), "--switches: expected N or N@TIME with N >= 1, got 'x@5'");
  EXPECT_EQ(parse_error({"--switches", "1@", "--", "a"}), "--switches: expected N or N@TIME with N >= 1, got '1@'")
      << "an '@' promises a TIME";
  EXPECT_EQ(parse_error({"--switches-wait", "5", "--", "a"}), "--switches-wait needs --switches");
  EXPECT_EQ(parse_error({"--partition", "", "--", "a"}), "--partition: give a partition name");
}

TEST(SubmitOptions, TimeUnlimitedIsTellableFromNoTime) {
  EXPECT_FALSE(parse_ok({"--", "a"}).time_limit_given);
  SubmitOptions o = parse_ok({"--time", "UNLIMITED", "--", "a"});
  EXPECT_TRUE(o.time_limit_given);
  EXPECT_EQ(o.time_limit_s, 0);
}

TEST(SubmitOptions, RelativeChdirIsResolvedAgainstTheCurrentDirectory) {
  EXPECT_EQ(parse_ok({"--chdir", "runs/../exp/", "--", "a"}).workdir, kCwd + "/exp");
  EXPECT_EQ(parse_ok({"-D", ".", "--", "a"}).workdir, kCwd);
  EXPECT_EQ(parse_ok({"-D", "..", "--", "a"}).workdir, "/home/ada");
}

TEST(SubmitOptions, AbsoluteChdirIsNormalised) {
  EXPECT_EQ(parse_ok({"--chdir", "/scratch//ada/./x/", "--", "a"}).workdir, "/scratch/ada/x");
  EXPECT_EQ(parse_ok({"--chdir=/", "--", "a"}).workdir, "/");
}

TEST(SubmitOptions, BadTimeNamesTheFlag) {
  std::string e = parse_error({"--time", "1:60", "--", "a"});
  EXPECT_TRUE(starts_with(e, "--time: invalid time '1:60'")) << e;
  EXPECT_TRUE(starts_with(parse_error({"-t", "soon", "--", "a"}), "--time: ")) << "alias -t names --time";
}

TEST(SubmitOptions, TimeIsReadAsSlurmReadsIt) {
  EXPECT_EQ(parse_ok({"-t", "30", "--", "a"}).time_limit_s, 1800);
  EXPECT_EQ(parse_ok({"--time=1-00:00:00", "--", "a"}).time_limit_s, 86400);
  EXPECT_EQ(parse_ok({"--time", "UNLIMITED", "--", "a"}).time_limit_s, 0);
}

TEST(SubmitOptions, BadMemoryNamesTheFlag) {
  std::string e = parse_error({"--mem-per-task", "12Q", "--", "a"});
  EXPECT_TRUE(starts_with(e, "--mem-per-task: invalid size '12Q'")) << e;
  EXPECT_TRUE(starts_with(parse_error({"--mem-per-task", "1.5G", "--", "a"}), "--mem-per-task: ")) << e;
}

TEST(SubmitOptions, PriorityIsABoundedWholeNumber) {
  EXPECT_EQ(parse_ok({"--priority", "-5", "--", "a"}).priority, -5);
  EXPECT_EQ(parse_ok({"--priority", "1000000", "--", "a"}).priority, 1000000);
  for (const char* bad : {"1000001", "-1000001", "1e3", "high", "", "99999999999999999999"}) {
    std::string e = parse_error({"--priority", bad, "--", "a"});
    EXPECT_EQ(e, "--priority: expected a whole number from -1000000 to 1000000, got '" + std::string(bad) + "'");
  }
}

TEST(SubmitOptions, NameOutputAndToggles) {
  SubmitOptions o =
      parse_ok({"-J", "exp-1", "-o", "/scratch/%j.log", "--parsable", "--wait", "--", "python", "train.py"});
  EXPECT_EQ(o.name, "exp-1");
  EXPECT_EQ(o.output_pattern, "/scratch/%j.log");
  EXPECT_TRUE(o.parsable);
  EXPECT_TRUE(o.wait);
  EXPECT_EQ(parse_ok({"--job-name", "x", "--", "a"}).name, "x");
  EXPECT_TRUE(parse_ok({"-W", "--", "a"}).wait);
}

TEST(SubmitOptions, EmptyOutputPatternIsRefused) {
  EXPECT_EQ(parse_error({"--output=", "--", "a"}), "--output: the pattern must not be empty");
}

// --- Slurm-compatible flags ---

TEST(SubmitOptions, MemIsPerNodeAndSplitOverTheTasksOfANode) {
  SubmitOptions o = parse_ok({"-N", "2", "--ntasks-per-node", "4", "-c", "2", "--mem", "16G", "--", "a"});
  EXPECT_EQ(o.nodes, 2u);
  EXPECT_EQ(o.tasks_per_node, 4u);
  EXPECT_EQ(o.ntasks, 8u);
  EXPECT_EQ(o.per_task, (Resources{2000, 4096, 0}));
  EXPECT_EQ(parse_ok({"-N", "1", "--ntasks-per-node", "3", "--mem", "1G", "--", "a"}).per_task.memory_mb, 342)
      << "rounded up: three tasks never get less than the node asked for";
  EXPECT_EQ(parse_ok({"--mem", "8G", "--", "a"}).per_task.memory_mb, 8192);
}

TEST(SubmitOptions, MemWithoutNodesIsSplitOverAllTheTasks) {
  SubmitOptions o = parse_ok({"-n", "8", "--mem", "16G", "--", "a"});
  EXPECT_EQ(o.nodes, 0u);
  EXPECT_EQ(o.ntasks, 8u);
  EXPECT_EQ(o.per_task.memory_mb, 2048);
}

TEST(SubmitOptions, MemPerCpuIsMultipliedByTheCpusOfATask) {
  EXPECT_EQ(parse_ok({"-c", "4", "--mem-per-cpu", "2G", "--", "a"}).per_task.memory_mb, 8192);
  EXPECT_EQ(parse_ok({"--mem-per-cpu=500M", "--", "a"}).per_task.memory_mb, 500);
}

TEST(SubmitOptions, OnlyOneMemoryFlagMayBeGiven) {
  const std::string e = "give only one of --mem, --mem-per-cpu, --mem-per-gpu and --mem-per-task";
  EXPECT_EQ(parse_error({"--mem", "1G", "--mem-per-cpu", "1G", "--", "a"}), e);
  EXPECT_EQ(parse_error({"--mem", "1G", "--mem-per-task", "1G", "--", "a"}), e);
  EXPECT_EQ(parse_error({"--mem-per-cpu", "1G", "--mem-per-task", "1G", "--", "a"}), e);
}

TEST(SubmitOptions, BadOrZeroMemNamesTheFlag) {
  EXPECT_TRUE(starts_with(parse_error({"--mem", "lots", "--", "a"}), "--mem: invalid size 'lots'"));
  EXPECT_TRUE(starts_with(parse_error({"--mem-per-cpu", "2X", "--", "a"}), "--mem-per-cpu: invalid size '2X'"));
  EXPECT_EQ(parse_error({"--mem-per-cpu", "0", "--", "a"}),
            "--mem-per-cpu: give a size, e.g. --mem-per-cpu 4G (only --mem=0 means all of a node's memory)");
  EXPECT_TRUE(starts_with(parse_error({"-c", "100000", "--mem-per-cpu", "8000000000T", "--", "a"}),
                          "--mem-per-cpu: '8000000000T' is too large"));
}

TEST(SubmitOptions, GresGivesGpusPerNodeAndTheirModel) {
  SubmitOptions o = parse_ok({"--gres=gpu:a100:4", "-N", "2", "--ntasks-per-node", "4", "--", "a"});
  EXPECT_EQ(o.per_task.gpus, 1);
  EXPECT_EQ(o.gpu_type, "a100");
  SubmitOptions n = parse_ok({"--gres", "gpu:8", "-N", "2", "--ntasks-per-node", "2", "--", "a"});
  EXPECT_EQ(n.per_task.gpus, 4);
  EXPECT_EQ(n.gpu_type, "");
  EXPECT_EQ(parse_ok({"--gres", "gpu", "-N", "1", "--", "a"}).per_task.gpus, 1) << "gpu alone is one";
  SubmitOptions typed = parse_ok({"--gres", "gpu:v100", "-N", "1", "--", "a"});
  EXPECT_EQ(typed.per_task.gpus, 1);
  EXPECT_EQ(typed.gpu_type, "v100");
}

TEST(SubmitOptions, GresWithOneTaskNeedsNoNodes) {
  SubmitOptions o = parse_ok({"--gres=gpu:2", "--", "a"});
  EXPECT_EQ(o.nodes, 0u);
  EXPECT_EQ(o.per_task.gpus, 2);
  EXPECT_EQ(parse_error({"-n", "4", "--gres=gpu:2", "--", "a"}),
            "--gres counts GPUs per node and needs --nodes when there are several tasks");
}

TEST(SubmitOptions, GresOtherThanGpusIsRefused) {
  EXPECT_EQ(parse_error({"--gres=mps:100", "--", "a"}), "--gres: cadre schedules only GPUs (gpu[:TYPE]:N), not 'mps'");
  EXPECT_EQ(parse_error({"--gres=gpu:2,mps:1", "-N", "1", "--", "a"}),
            "--gres: cadre schedules only GPUs; give a single gpu[:TYPE]:N, not 'gpu:2,mps:1'");
  for (const char* bad : {"gpu:", "gpu::2", "gpu:a:b:2", ""}) {
    EXPECT_EQ(parse_error({"--gres", bad, "-N", "1", "--", "a"}),
              "--gres: expected gpu[:TYPE]:N (e.g. gpu:2 or gpu:a100:4), got '" + std::string(bad) + "'");
  }
  EXPECT_TRUE(starts_with(parse_error({"--gres", "gpu:a100:x", "-N", "1", "--", "a"}), "--gres: 'x' is not"));
  EXPECT_EQ(parse_error({"--gres", "gpu:-1", "-N", "1", "--", "a"}), "--gres: '-1' is not a non-negative whole number")
      << "a signed count, not a GPU model named '-1'";
  EXPECT_EQ(parse_error({"--gres", "gpu:3", "-N", "1", "--ntasks-per-node", "2", "--", "a"}),
            "--gres 3 does not divide evenly over 2 tasks per node");
}

TEST(SubmitOptions, NoNodeHoldsMoreGpusThanTheLimit) {
  EXPECT_EQ(parse_error({"--nodes", "1", "--gpus-per-node", "65", "--", "a"}),
            "--gpus-per-node: 65 GPUs on a node; a node has at most 64");
  EXPECT_EQ(parse_error({"--nodes", "1", "--gres", "gpu:a100:65", "--", "a"}),
            "--gres: 65 GPUs on a node; a node has at most 64");
  EXPECT_EQ(parse_ok({"--nodes", "1", "--gpus-per-node", "64", "--", "a"}).per_task.gpus, 64);
}

TEST(SubmitOptions, OnlyOneWayToAskForGpus) {
  EXPECT_EQ(parse_error({"-N", "1", "--gres", "gpu:2", "--gpus-per-node", "2", "--", "a"}),
            "give only one of -G/--gpus, --gres, --gpus-per-node and --gpus-per-task");
  EXPECT_EQ(parse_error({"--gres", "gpu:2", "--gpus-per-task", "2", "--", "a"}),
            "give only one of -G/--gpus, --gres, --gpus-per-node and --gpus-per-task");
}

TEST(SubmitOptions, GpuCountsMayNameTheModel) {
  SubmitOptions o = parse_ok({"-N", "2", "--ntasks-per-node", "2", "--gpus-per-node", "h100:4", "--", "a"});
  EXPECT_EQ(o.per_task.gpus, 2);
  EXPECT_EQ(o.gpu_type, "h100");
  SubmitOptions t = parse_ok({"--gpus-per-task", "a100:1", "--", "a"});
  EXPECT_EQ(t.per_task.gpus, 1);
  EXPECT_EQ(t.gpu_type, "a100");
  EXPECT_EQ(parse_error({"-N", "1", "--gpus-per-node", ":4", "--", "a"}),
            "--gpus-per-node: expected N or TYPE:N (e.g. a100:4), got ':4'");
}

TEST(SubmitOptions, GpuTypeRestrictsTheNodes) {
  SubmitOptions o = parse_ok({"--gpu-type", "H100", "--gpus-per-task", "1", "--", "a"});
  EXPECT_EQ(o.gpu_type, "H100");
  EXPECT_EQ(o.per_task.gpus, 1);
  EXPECT_EQ(parse_ok({"--gpu-type=A100", "--gres=gpu:a100:1", "--", "a"}).gpu_type, "A100") << "same model, any case";
  EXPECT_EQ(parse_error({"--gpu-type", "H100", "--gres=gpu:a100:1", "--", "a"}),
            "--gpu-type H100 contradicts the GPU type 'a100' in --gres");
  EXPECT_EQ(parse_error({"--gpu-type=", "--", "a"}), "--gpu-type: give a GPU model, e.g. --gpu-type H100");
  EXPECT_EQ(parse_ok({"--", "a"}).gpu_type, "");
}

TEST(SubmitOptions, ErrorPatternSeparatesStderr) {
  EXPECT_EQ(parse_ok({"--", "a"}).error_pattern, "") << "stderr goes to the output file";
  SubmitOptions o = parse_ok({"-o", "%x-%j.out", "-e", "%x-%j.err", "--", "a"});
  EXPECT_EQ(o.output_pattern, "%x-%j.out");
  EXPECT_EQ(o.error_pattern, "%x-%j.err");
  EXPECT_EQ(parse_ok({"--error=/logs/%j-%t.err", "--", "a"}).error_pattern, "/logs/%j-%t.err");
  EXPECT_EQ(parse_error({"--error=", "--", "a"}), "--error: the pattern must not be empty");
}

TEST(SubmitOptions, NodesMayBeASlurmRangeOfOneSize) {
  EXPECT_EQ(parse_ok({"-N", "3-3", "--", "a"}).nodes, 3u);
  EXPECT_EQ(parse_error({"-N", "2-4", "--", "a"}),
            "--nodes: cadre runs a job on an exact number of nodes, not a range ('2-4'); give one count, e.g. --nodes 2");
  EXPECT_TRUE(starts_with(parse_error({"-N", "2-x", "--", "a"}), "--nodes: 'x' is not"));
  EXPECT_TRUE(starts_with(parse_error({"-N", "-1", "--", "a"}), "--nodes: '-1' is not"));
}

TEST(SubmitOptions, SlurmShapesAllocateWhatSlurmWould) {
  SubmitOptions n8 = parse_ok({"-n", "8", "--", "a"});
  EXPECT_EQ(n8.nodes, 0u);
  EXPECT_EQ(n8.ntasks, 8u);
  SubmitOptions spread = parse_ok({"-N", "2", "-n", "8", "--", "a"});
  EXPECT_EQ(spread.nodes, 2u);
  EXPECT_EQ(spread.tasks_per_node, 4u);
}

TEST(SubmitOptions, CommandModeIsNotBatch) {
  SubmitOptions o = parse_ok({"--", "a"});
  EXPECT_FALSE(o.batch);
  EXPECT_EQ(o.script, "");
}

TEST(SubmitOptions, TheFlagTableKnowsEverySpelling) {
  ASSERT_NE(find_submit_flag("-N"), nullptr);
  EXPECT_EQ(find_submit_flag("-N")->name, "--nodes");
  EXPECT_EQ(find_submit_flag("--ntasks-per-node")->name, "--tasks-per-node");
  EXPECT_EQ(find_submit_flag("-e")->name, "--error");
  EXPECT_TRUE(find_submit_flag("--gres")->takes_value);
  EXPECT_FALSE(find_submit_flag("-W")->takes_value);
  EXPECT_EQ(find_submit_flag("-q")->name, "--qos");
  EXPECT_EQ(find_submit_flag("--licenses"), nullptr);
  for (const auto& f : submit_flags()) EXPECT_EQ(find_submit_flag(f.name), &f);
}

TEST(SubmitOptions, BecomeTheJobSpecTheyDescribe) {
  SubmitOptions o = parse_ok({"--name", "t", "-N", "2", "--tasks-per-node", "2", "--cpus-per-task", "3", "--time",
                              "1:00:00", "--priority", "-5", "--partition", "gpu", "--account", "phys", "--no-requeue",
                              "--error", "e-%j", "--", "/bin/train", "x"});
  JobSpec s = to_job_spec(o);
  EXPECT_EQ(s.name, "t");
  EXPECT_EQ(s.argv, (std::vector<std::string>{"/bin/train", "x"}));
  EXPECT_EQ(s.workdir, kCwd);
  EXPECT_EQ(s.output_pattern, o.output_pattern);
  EXPECT_EQ(s.error_pattern, "e-%j");
  EXPECT_EQ(s.per_task, (Resources{3000, 1024, 0}));
  EXPECT_EQ(s.nodes, 2u);
  EXPECT_EQ(s.tasks_per_node, 2u);
  EXPECT_EQ(s.ntasks, 4u);
  EXPECT_EQ(s.time_limit_s, 3600);
  EXPECT_TRUE(s.time_limit_given);
  EXPECT_EQ(s.priority, -5);
  EXPECT_FALSE(s.requeue);
  EXPECT_EQ(s.partition, "gpu");
  EXPECT_EQ(s.account, "phys");
  EXPECT_FALSE(s.batch);
  EXPECT_EQ(s.umask, -1) << "the caller's umask is filled in by whoever sends it";
  EXPECT_EQ(s.user, "");
  EXPECT_TRUE(validate_job_request(s)) << "what the parser accepts, the validator accepts";
}

TEST(SubmitOptions, ValidationCatchesWhatTheParserDoesNotBound) {
  SubmitOptions o = parse_ok({"--name", std::string(300, 'n'), "--", "a"});
  Status st = validate_job_request(to_job_spec(o));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error(), "the job name is 300 bytes; at most 256 are allowed");
}

}  // namespace
}  // namespace cadre::cli
