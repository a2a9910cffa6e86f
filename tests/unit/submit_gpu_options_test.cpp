// Specification of sbatch's GPU-centred options in cli/submit_resources:
// -G/--gpus (the job's total), --cpus-per-gpu, --mem-per-gpu,
// --ntasks-per-gpu, and --mem=0 (all of each node's memory).
#include <gtest/gtest.h>

#include "cli/submit_options.hpp"

namespace cadre::cli {
namespace {

const std::string kCwd = "/home/ada/project";

SubmitOptions parse_ok(std::vector<std::string> args) {
  args.insert(args.end(), {"--", "train"});
  auto r = parse_submit(args, kCwd);
  EXPECT_TRUE(r) << r.error();
  return r ? *r : SubmitOptions{};
}

std::string parse_error(std::vector<std::string> args) {
  args.insert(args.end(), {"--", "train"});
  auto r = parse_submit(args, kCwd);
  EXPECT_FALSE(r) << "accepted";
  return r ? "" : r.error();
}

TEST(SubmitGpuOptions, TotalGpusSpreadEvenlyOverTheNodesAndTheirTasks) {
  SubmitOptions o = parse_ok({"-N", "2", "--ntasks-per-node", "4", "--gpus", "16"});
  EXPECT_EQ(o.per_task.gpus, 2);
  EXPECT_EQ(o.nodes, 2u);
  SubmitOptions one = parse_ok({"-G", "a100:4"});
  EXPECT_EQ(one.per_task.gpus, 4) << "one task, as Slurm's default, holds the job's GPUs";
  EXPECT_EQ(one.gpu_type, "a100");
  SubmitOptions anywhere = parse_ok({"-n", "4", "--gpus=8"});
  EXPECT_EQ(anywhere.per_task.gpus, 2);
  EXPECT_EQ(anywhere.nodes, 0u);
}

TEST(SubmitGpuOptions, TotalGpusThatDoNotDivideAreRefusedWithAWayForward) {
  EXPECT_EQ(parse_error({"-N", "2", "-G", "3"}),
            "-G/--gpus 3 does not divide evenly over --nodes 2; cadre gives every node of a job the same GPUs: give "
            "--gpus-per-node");
  EXPECT_EQ(parse_error({"-n", "3", "-G", "4"}),
            "-G/--gpus 4 does not divide evenly over --ntasks 3; cadre gives every task the same GPUs: give "
            "--gpus-per-task");
  EXPECT_EQ(parse_error({"-N", "1", "--ntasks-per-node", "4", "-G", "2"}),
            "-G/--gpus 2 gives each node 2 GPUs, which do not divide evenly over 4 tasks per node");
  EXPECT_EQ(parse_error({"-G", "4", "--gpus-per-task", "1"}),
            "give only one of -G/--gpus, --gres, --gpus-per-node and --gpus-per-task");
  EXPECT_EQ(parse_error({"-G", "x"}).rfind("-G/--gpus: ", 0), 0u);
}

TEST(SubmitGpuOptions, CpusPerGpuScaleWithTheTasksGpus) {
  SubmitOptions o = parse_ok({"-N", "2", "--ntasks-per-node", "2", "--gpus-per-node", "8", "--cpus-per-gpu", "6"});
  EXPECT_EQ(o.per_task.gpus, 4);
  EXPECT_EQ(o.per_task.millicores, 24000);
  EXPECT_EQ(parse_error({"--gpus-per-task", "1", "--cpus-per-gpu", "4", "-c", "2"}),
            "give --cpus-per-task or --cpus-per-gpu, not both (as in Slurm)");
  EXPECT_EQ(parse_error({"--cpus-per-gpu", "4"}),
            "--cpus-per-gpu needs GPUs: give -G/--gpus, --gpus-per-node, --gpus-per-task or --gres too");
}

TEST(SubmitGpuOptions, MemPerGpuScalesWithTheTasksGpusAndExcludesTheOtherMemoryFlags) {
  SubmitOptions o = parse_ok({"--gpus-per-task", "2", "--mem-per-gpu", "40G"});
  EXPECT_EQ(o.per_task.memory_mb, 2 * 40 * 1024);
  // The memory per cpu counts the cpus --cpus-per-gpu gave.
  SubmitOptions cpus = parse_ok({"--gpus-per-task", "2", "--cpus-per-gpu", "3", "--mem-per-cpu", "1G"});
  EXPECT_EQ(cpus.per_task.memory_mb, 6 * 1024);
  EXPECT_EQ(parse_error({"--gpus-per-task", "1", "--mem-per-gpu", "4G", "--mem", "8G"}),
            "give only one of --mem, --mem-per-cpu, --mem-per-gpu and --mem-per-task");
  EXPECT_EQ(parse_error({"--mem-per-gpu", "4G"}),
            "--mem-per-gpu needs GPUs: give -G/--gpus, --gpus-per-node, --gpus-per-task or --gres too");
}

TEST(SubmitGpuOptions, OneTaskPerGpuFollowsTheGpusOrTheTasks) {
  SubmitOptions from_gpus = parse_ok({"-N", "2", "--gpus-per-node", "4", "--ntasks-per-gpu", "1"});
  EXPECT_EQ(from_gpus.ntasks, 8u);
  EXPECT_EQ(from_gpus.tasks_per_node, 4u);
  EXPECT_EQ(from_gpus.per_task.gpus, 1);
  SubmitOptions from_total = parse_ok({"-G", "6", "--ntasks-per-gpu=1"});
  EXPECT_EQ(from_total.ntasks, 6u);
  EXPECT_EQ(from_total.nodes, 0u);
  EXPECT_EQ(from_total.per_task.gpus, 1);
  SubmitOptions from_tasks = parse_ok({"-n", "3", "--ntasks-per-gpu", "1"});
  EXPECT_EQ(from_tasks.ntasks, 3u);
  EXPECT_EQ(from_tasks.per_task.gpus, 1);
}

TEST(SubmitGpuOptions, TasksPerGpuThatCannotBeHonouredAreRefused) {
  EXPECT_EQ(parse_error({"-n", "4", "--ntasks-per-gpu", "2"}),
            "--ntasks-per-gpu 2: cadre gives each task whole GPUs of its own, so 2 tasks cannot share one; give "
            "--ntasks-per-gpu=1, or start 2 processes from each task");
  EXPECT_EQ(parse_error({"-N", "1", "--ntasks-per-node", "2", "--ntasks-per-gpu", "1", "--gpus-per-node", "2"}),
            "--ntasks-per-gpu does not go with --ntasks-per-node (as in Slurm)");
  EXPECT_EQ(parse_error({"-n", "4", "-G", "2", "--ntasks-per-gpu", "1"}),
            "--ntasks-per-gpu=1 with --ntasks 4 asks for 4 GPUs, not the 2 given");
  EXPECT_EQ(parse_error({"--ntasks-per-gpu", "1"}),
            "--ntasks-per-gpu needs --ntasks or the GPUs (-G/--gpus, or --gpus-per-node/--gres with --nodes)");
  EXPECT_EQ(parse_error({"-N", "2", "-G", "3", "--ntasks-per-gpu", "1"}),
            "--ntasks-per-gpu=1 gives 3 tasks, which do not divide evenly over --nodes 2; cadre places the same "
            "number on every node");
}

TEST(SubmitGpuOptions, MemZeroTakesWholeNodesWithNoMemoryLimitOfTheRanksOwn) {
  SubmitOptions o = parse_ok({"-N", "2", "--mem=0"});
  EXPECT_TRUE(o.exclusive);
  EXPECT_EQ(o.per_task.memory_mb, 0);
  SubmitOptions plain = parse_ok({"-N", "2", "--mem=8G"});
  EXPECT_FALSE(plain.exclusive);
}

}  // namespace
}  // namespace cadre::cli
