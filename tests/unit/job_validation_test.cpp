// Specification of common/job_validation: every bound on a job request, at
// the limit accepted and one past it refused, with a message that says so.
#include "common/job_validation.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace cadre {
namespace {

JobSpec good() {
  JobSpec s;
  s.argv = {"/bin/true"};
  s.workdir = "/home/ada";
  s.user = "ada";
  s.per_task = Resources{1000, 1024, 0};
  return s;
}

std::string refusal(const JobSpec& s, const RequestBounds& b = {}) {
  Status st = validate_job_request(s, b);
  EXPECT_FALSE(st) << "accepted";
  return st ? "" : st.error();
}

void expect_ok(const JobSpec& s, const RequestBounds& b = {}) {
  Status st = validate_job_request(s, b);
  EXPECT_TRUE(st) << st.error();
}

TEST(JobValidation, AWellFormedRequestPasses) {
  expect_ok(good());
  JobSpec batch = good();
  batch.batch = true;
  batch.script = "#!/bin/sh\necho 'ünïcödé ✓ 🚀'\n";
  expect_ok(batch);
}

struct TextField {
  const char* what;
  std::function<std::string&(JobSpec&)> field;
  size_t max;
  std::string prefix;  // what a valid value starts with
};

std::vector<TextField> text_fields() {
  return {
      {"job name", [](JobSpec& s) -> std::string& { return s.name; }, limits::kMaxJobNameBytes, ""},
      {"user name", [](JobSpec& s) -> std::string& { return s.user; }, limits::kMaxUserNameBytes, ""},
      {"account name", [](JobSpec& s) -> std::string& { return s.account; }, limits::kMaxUserNameBytes, ""},
      {"partition name", [](JobSpec& s) -> std::string& { return s.partition; }, limits::kMaxPartitionNameBytes, ""},
      {"GPU type", [](JobSpec& s) -> std::string& { return s.gpu_type; }, limits::kMaxGpuTypeBytes, ""},
      {"working directory", [](JobSpec& s) -> std::string& { return s.workdir; }, limits::kMaxPathBytes, "/"},
      {"output pattern", [](JobSpec& s) -> std::string& { return s.output_pattern; }, limits::kMaxPathBytes, ""},
      {"error pattern", [](JobSpec& s) -> std::string& { return s.error_pattern; }, limits::kMaxPathBytes, ""},
  };
}

TEST(JobValidation, EveryTextFieldHasAMaximumLength) {
  for (const TextField& f : text_fields()) {
    JobSpec s = good();
    f.field(s) = f.prefix + std::string(f.max - f.prefix.size(), 'a');
    expect_ok(s);
    f.field(s) += "a";
    EXPECT_EQ(refusal(s), "the " + std::string(f.what) + " is " + std::to_string(f.max + 1) + " bytes; at most " +
                              std::to_string(f.max) + " are allowed");
  }
}

TEST(JobValidation, AHugeNameIsRefusedWithItsSize) {
  JobSpec s = good();
  s.name = std::string(1 << 20, 'n');
  EXPECT_EQ(refusal(s), "the job name is 1048576 bytes; at most 256 are allowed");
}

TEST(JobValidation, NoTextMayHoldANulByte) {
  for (const TextField& f : text_fields()) {
    JobSpec s = good();
    f.field(s) = f.prefix + std::string("a\0b", 3);
    EXPECT_EQ(refusal(s), "the " + std::string(f.what) + " holds a NUL byte; remove it");
  }
  JobSpec s = good();
  s.argv = {"/bin/echo", std::string("x\0y", 3)};
  EXPECT_EQ(refusal(s), "argument 1 of the command holds a NUL byte; remove it");
  s = good();
  s.batch = true;
  s.script = std::string("echo\0rm -rf /", 13);
  EXPECT_EQ(refusal(s), "the batch script holds a NUL byte; remove it");
}

TEST(JobValidation, TextMustBeStrictUtf8) {
  for (const TextField& f : text_fields()) {
    JobSpec s = good();
    f.field(s) = f.prefix + "caf\xE9";  // Latin-1
    EXPECT_EQ(refusal(s), "the " + std::string(f.what) + " holds text that is not UTF-8");
  }
  for (const char* bad : {"\xC0\x80", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80"}) {
    JobSpec s = good();
    s.argv = {"/bin/echo", bad};
    EXPECT_EQ(refusal(s), "the command holds an argument that is not UTF-8 (argument 1)");
  }
  EXPECT_TRUE(valid_utf8("\xF4\x8F\xBF\xBF\xEF\xBF\xBD\xE0\xA0\x80")) << "U+10FFFF, U+FFFD, U+0800";
}

TEST(JobValidation, TheWorkingDirectoryIsAbsolute) {
  JobSpec s = good();
  s.workdir = "relative/dir";
  EXPECT_EQ(refusal(s), "working directory must be an absolute path, got 'relative/dir'");
  s.workdir = "";
  EXPECT_EQ(refusal(s), "working directory must be an absolute path, got ''");
}

TEST(JobValidation, AJobNeedsACommand) {
  JobSpec s = good();
  s.argv.clear();
  EXPECT_EQ(refusal(s), "no command given: put it after '--'");
  s.argv = {""};
  EXPECT_EQ(refusal(s), "no command given: put it after '--'");
}

TEST(JobValidation, TheCommandHasAMaximumNumberOfWords) {
  JobSpec s = good();
  s.argv.assign(limits::kMaxArgvWords, "x");
  expect_ok(s);
  s.argv.push_back("x");
  EXPECT_EQ(refusal(s), "the command has 4097 words; at most 4096 are allowed (put long inputs in a file)");
}

TEST(JobValidation, TheCommandHasAMaximumSizeAnAdminMayChange) {
  // Each word counts with its terminating NUL, as exec sees it.
  JobSpec s = good();
  s.argv = {"/bin/echo", std::string(limits::kMaxCommandBytes - 10 - 1, 'x')};
  expect_ok(s);
  s.argv[1] += "x";
  EXPECT_EQ(refusal(s), "the command is 262145 bytes; at most 262144 are allowed (put long inputs in a file)");

  RequestBounds small{100, 0};
  s.argv = {"echo", std::string(200, 'x')};
  EXPECT_EQ(refusal(s, small), "the command is 206 bytes; at most 100 are allowed (put long inputs in a file)");
  expect_ok(s, RequestBounds{0, 0});  // 0: no limit
}

TEST(JobValidation, ABatchJobHasAScriptAndOnlyABatchJobHasOne) {
  JobSpec s = good();
  s.batch = true;
  EXPECT_EQ(refusal(s), "a batch job needs a script");
  s = good();
  s.script = "echo";
  EXPECT_EQ(refusal(s), "a script was given for a job that is not a batch job");
}

TEST(JobValidation, TheScriptHasAMaximumSizeAnAdminMayChange) {
  JobSpec s = good();
  s.batch = true;
  s.script = std::string(limits::kMaxScriptBytes, '#');
  expect_ok(s);
  s.script += "#";
  EXPECT_EQ(refusal(s), "the batch script is 1048577 bytes; at most 1048576 are allowed");
  s.script = "#!/bin/sh\n" + std::string(60, '#');
  EXPECT_EQ(refusal(s, RequestBounds{0, 50}), "the batch script is 70 bytes; at most 50 are allowed");
  s.script = std::string(limits::kMaxScriptBytes * 2, '#');
  expect_ok(s, RequestBounds{0, 0});
}

TEST(JobValidation, TheTaskCountIsBounded) {
  JobSpec s = good();
  s.ntasks = 0;
  EXPECT_EQ(refusal(s), "a job needs at least one task");
  s.ntasks = limits::kMaxTasksPerJob;
  expect_ok(s);
  s.ntasks += 1;
  EXPECT_EQ(refusal(s), "a job may have at most 100000 tasks; this one asks for 100001");
}

TEST(JobValidation, NodesTimesTasksPerNodeMustMakeTheTaskCount) {
  JobSpec s = good();
  s.nodes = 2;
  s.tasks_per_node = 2;
  s.ntasks = 4;
  expect_ok(s);
  s.ntasks = 5;
  EXPECT_EQ(refusal(s), "--nodes 2 with 2 tasks per node does not make 5 tasks");
  s.tasks_per_node = 0;
  s.ntasks = 2;
  EXPECT_EQ(refusal(s), "--nodes 2 with 0 tasks per node does not make 2 tasks");
  // A product that overflows 32 bits must not wrap around to ntasks.
  s.nodes = 65536;
  s.tasks_per_node = 65536;
  s.ntasks = 1;
  EXPECT_FALSE(validate_job_request(s, {}));
}

TEST(JobValidation, EachPerTaskQuantityIsBounded) {
  JobSpec s = good();
  s.per_task = Resources{limits::kMaxMillicoresPerTask, limits::kMaxMemoryMbPerTask, limits::kMaxGpusPerTask};
  expect_ok(s);
  s = good();
  s.per_task.millicores = limits::kMaxMillicoresPerTask + 1;
  EXPECT_EQ(refusal(s),
            "a task may ask for at most 1073741.824 cpus; this one asks for 1073741.825 (--cpus-per-task)");
  s = good();
  s.per_task.memory_mb = limits::kMaxMemoryMbPerTask + 1;
  EXPECT_EQ(refusal(s),
            "a task may ask for at most 1048576T of memory; this one asks for 1099511627777M (--mem-per-task)");
  s = good();
  s.per_task.gpus = limits::kMaxGpusPerTask + 1;
  EXPECT_EQ(refusal(s), "a task may ask for at most " + std::to_string(limits::kMaxGpusPerTask) +
                            " GPUs; this one asks for " + std::to_string(limits::kMaxGpusPerTask + 1) +
                            " (--gpus-per-task)");
  s = good();
  s.per_task.memory_mb = -1;
  EXPECT_EQ(refusal(s), "resource requests must not be negative");
  s = good();
  s.per_task.millicores = 0;
  EXPECT_EQ(refusal(s), "each task needs some cpu (--cpus-per-task)");
}

TEST(JobValidation, TheTimeLimitIsBounded) {
  JobSpec s = good();
  s.time_limit_s = 0;
  expect_ok(s);
  s.time_limit_s = limits::kMaxTimeLimitS;
  expect_ok(s);
  s.time_limit_s += 1;
  EXPECT_EQ(refusal(s), "time limit is 36500-00:00:01; at most 36500-00:00:00 is allowed");
  s.time_limit_s = -1;
  EXPECT_EQ(refusal(s), "time limit must not be negative");
  s = good();
  s.switches_wait_s = limits::kMaxTimeLimitS;
  expect_ok(s);
  s.switches_wait_s += 1;
  EXPECT_EQ(refusal(s), "--switches-wait is 36500-00:00:01; at most 36500-00:00:00 is allowed");
  s.switches_wait_s = -1;
  EXPECT_EQ(refusal(s), "--switches-wait must not be negative");
}

TEST(JobValidation, PriorityStaysInRangeButWhoMayRaiseItIsTheMastersCall) {
  JobSpec s = good();
  for (int32_t p : {limits::kMinPriority, limits::kDefaultPriority, limits::kMaxPriority}) {
    s.priority = p;
    expect_ok(s);
  }
  s.priority = limits::kMaxPriority + 1;
  EXPECT_EQ(refusal(s), "priority 1000001 is out of range; give one from -1000000 to 1000000");
  s.priority = limits::kMinPriority - 1;
  EXPECT_EQ(refusal(s), "priority -1000001 is out of range; give one from -1000000 to 1000000");
}

TEST(JobValidation, TheUmaskIsAFileModeMaskOrUnset) {
  JobSpec s = good();
  for (int32_t m : {-1, 0, 022, 077, 0777}) {
    s.umask = m;
    expect_ok(s);
  }
  s.umask = 01000;
  EXPECT_EQ(refusal(s), "umask 1000 is not a file mode mask; give one from 0000 to 0777 (or -1 for the node's)");
  s.umask = -2;
  EXPECT_EQ(refusal(s), "umask -2 is not a file mode mask; give one from 0000 to 0777 (or -1 for the node's)");
}

TEST(JobValidation, TheEnvironmentIsBoundedInCountAndBytesAndHoldsNameValuePairs) {
  JobSpec s = good();
  s.environment = {"PATH=/usr/bin", "EMPTY=", "BASH_FUNC_module%%=() {  echo\n}"};
  expect_ok(s);
  s.environment.assign(limits::kMaxEnvVars, "A=1");
  expect_ok(s);
  s.environment.push_back("B=2");
  EXPECT_EQ(refusal(s), "the environment has 4097 variables; at most 4096 are allowed (export fewer: --export=NAME,...)");
  s.environment = {"BIG=" + std::string(limits::kMaxEnvBytes, 'x')};
  EXPECT_NE(refusal(s).find("the environment is 1048581 bytes; at most 1048576"), std::string::npos);
  s.environment = {"NOVALUE"};
  EXPECT_EQ(refusal(s), "the environment holds 'NOVALUE', which is not NAME=value");
  s.environment = {"=x"};
  EXPECT_EQ(refusal(s), "the environment holds '=x', which is not NAME=value");
  s.environment = {std::string("A=x\0y", 5)};
  EXPECT_NE(refusal(s).find("NUL"), std::string::npos);
  s.environment = {"A=\xff"};
  EXPECT_NE(refusal(s).find("not UTF-8"), std::string::npos);
  s.environment.clear();
  s.submit_host = std::string(limits::kMaxHostNameBytes + 1, 'h');
  EXPECT_NE(refusal(s).find("submit host"), std::string::npos);
}

}  // namespace
}  // namespace cadre
