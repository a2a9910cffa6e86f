// Specification of cli/sacct_fields: sacct's field names print cadre's
// JobInfo as sacct prints a job's line, in its columns and parsable
// layouts; names sacct does not define are refused.
#include "cli/sacct_fields.hpp"

#include <capnp/message.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

namespace cadre::cli {
namespace {

// 2026-12-07 10:30:00 UTC.
constexpr int64_t kNow = 1796639400;

// A job that ran 1h01m05s on two nodes and failed with exit code 3.
JobInfo::Reader failed_job(capnp::MallocMessageBuilder& message) {
  auto job = message.initRoot<JobInfo>();
  job.setId(42);
  job.setState("FAILED");
  job.setReason("rank 0 on node1 exited with code 3");
  job.setExitCode(3);
  job.setAttempt(2);
  job.setSubmitTime(kNow - 4000);
  job.setStartTime(kNow - 3700);
  job.setEndTime(kNow - 3700 + 3665);
  auto r = job.initRequest();
  r.setName("train-resnet");
  r.setUser("ann");
  r.setUid(1001);
  r.setGid(1001);
  r.setPartition("gpu");
  r.setAccount("vision");
  r.setQos("high");
  r.setTimeLimitSec(2 * 86400 + 3600);
  r.setNtasks(4);
  r.setNodes(2);
  r.setTasksPerNode(2);
  r.getPerTask().setMillicores(2000);
  r.getPerTask().setMemoryMb(4096);
  r.getPerTask().setGpus(1);
  r.setWorkdir("/home/ann/run");
  r.setConstraint("a100");
  auto nodes = job.initNodes(2);
  nodes.set(0, "node1");
  nodes.set(1, "node2");
  return job.asReader();
}

// A held array's pending rest: never eligible, nothing allocated.
JobInfo::Reader held_task(capnp::MallocMessageBuilder& message) {
  auto job = message.initRoot<JobInfo>();
  job.setId(50);
  job.setState("PENDING");
  job.setReason("JobHeldUser");
  job.setSubmitTime(kNow - 60);
  job.setArrayLeft("3-9");
  auto r = job.initRequest();
  r.setName("sweep");
  r.setUser("bob");
  r.setArrayJobId(50);
  r.setArrayTaskId(-1);
  r.setNtasks(1);
  r.getPerTask().setMillicores(1000);
  r.getPerTask().setMemoryMb(1024);
  return job.asReader();
}

class SacctFields : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* tz = std::getenv("TZ")) saved_ = tz;
    setenv("TZ", "UTC", 1);
    tzset();
  }
  void TearDown() override {
    if (saved_) setenv("TZ", saved_->c_str(), 1);
    else unsetenv("TZ");
    tzset();
  }
  // One value, as -P prints it without a header.
  static std::string value(const char* field, JobInfo::Reader job) {
    auto columns = parse_sacct_format(field, "--format");
    EXPECT_TRUE(columns) << columns.error();
    if (!columns) return "";
    std::string out = sacct_listing(*columns, {job}, kNow, {SacctLayout::parsable2, "|", false});
    return out.substr(0, out.size() - 1);
  }

 private:
  std::optional<std::string> saved_;
};

TEST_F(SacctFields, TheDefaultLayoutIsSacctsColumnsHeaderAndDashes) {
  capnp::MallocMessageBuilder m;
  auto columns = parse_sacct_format(kSacctDefaultFormat, "sacct");
  ASSERT_TRUE(columns);
  EXPECT_EQ(sacct_listing(*columns, {failed_job(m)}, kNow, {}),
            "JobID           JobName  Partition    Account  AllocCPUS      State ExitCode \n"
            "------------ ---------- ---------- ---------- ---------- ---------- -------- \n"
            "42           train-res+        gpu     vision          8     FAILED      3:0 \n");
}

TEST_F(SacctFields, AWidthSuffixSetsTheColumnAndItsSide) {
  capnp::MallocMessageBuilder m;
  auto columns = parse_sacct_format("jobname%15,STATE%-8,jobid%4", "--format");
  ASSERT_TRUE(columns);
  EXPECT_EQ(sacct_listing(*columns, {failed_job(m)}, kNow, {SacctLayout::columns, "|", false}),
            "   train-resnet FAILED     42 \n");
}

TEST_F(SacctFields, ParsableEndsWithTheDelimiterAndParsable2DoesNot) {
  capnp::MallocMessageBuilder m;
  auto columns = parse_sacct_format("JobID,State,ExitCode", "--format");
  ASSERT_TRUE(columns);
  EXPECT_EQ(sacct_listing(*columns, {failed_job(m)}, kNow, {SacctLayout::parsable, "|", true}),
            "JobID|State|ExitCode|\n42|FAILED|3:0|\n");
  EXPECT_EQ(sacct_listing(*columns, {failed_job(m)}, kNow, {SacctLayout::parsable2, ",", true}),
            "JobID,State,ExitCode\n42,FAILED,3:0\n");
}

TEST_F(SacctFields, TimesAndDurationsAreSacctsForms) {
  capnp::MallocMessageBuilder m;
  const auto job = failed_job(m);
  EXPECT_EQ(value("Submit", job), "2026-12-07T09:23:20");
  EXPECT_EQ(value("Start", job), "2026-12-07T09:28:20");
  EXPECT_EQ(value("End", job), "2026-12-07T10:29:25");
  EXPECT_EQ(value("Eligible", job), "2026-12-07T09:23:20");
  EXPECT_EQ(value("Elapsed", job), "01:01:05");
  EXPECT_EQ(value("ElapsedRaw", job), "3665");
  EXPECT_EQ(value("Timelimit", job), "2-01:00:00");
  EXPECT_EQ(value("TimelimitRaw", job), "2940");
  EXPECT_EQ(value("CPUTimeRAW", job), std::to_string(3665 * 8));
  EXPECT_EQ(sacct_elapsed(59), "00:00:59");
}

TEST_F(SacctFields, WhatTheJobAskedForAndGot) {
  capnp::MallocMessageBuilder m;
  const auto job = failed_job(m);
  EXPECT_EQ(value("JobIDRaw,JobName,User,UID,GID,Account,Partition,QOS", job),
            "42|train-resnet|ann|1001|1001|vision|gpu|high");
  EXPECT_EQ(value("NNodes,NTasks,NCPUS,AllocCPUS,ReqCPUS,ReqMem,ReqNodes", job), "2|4|8|8|8|16G|2");
  EXPECT_EQ(value("AllocTRES", job), "cpu=8,mem=16G,node=2,billing=8,gres/gpu=4");
  EXPECT_EQ(value("NodeList,WorkDir,Constraints,Restarts", job), "node[1-2]|/home/ann/run|a100|1");
  EXPECT_EQ(value("Reason", job), "rank 0 on node1 exited with code 3");
  EXPECT_EQ(value("ExitCode,DerivedExitCode", job), "3:0|3:0");
}

TEST_F(SacctFields, ARankKilledBySignalIsZeroColonTheSignal) {
  capnp::MallocMessageBuilder m;
  auto job = failed_job(m);
  auto b = m.getRoot<JobInfo>();
  b.setExitCode(137);
  b.setReason("rank 0 on node1 killed by signal 9");
  EXPECT_EQ(sacct_exit_code(job), "0:9");
  b.setReason("rank 0 on node1 exited with code 137");
  EXPECT_EQ(sacct_exit_code(job), "137:0") << "exit(137) is not a signal";
}

TEST_F(SacctFields, AHeldArrayHasNoEligibleStartOrAllocation) {
  capnp::MallocMessageBuilder m;
  const auto job = held_task(m);
  EXPECT_EQ(value("JobID,ArrayJobID,ArrayTaskID", job), "50_[3-9]|50|3-9");
  EXPECT_EQ(value("Eligible,Start,End,Elapsed", job), "Unknown|Unknown|Unknown|00:00:00");
  EXPECT_EQ(value("AllocCPUS,AllocTRES,NodeList,Timelimit,QOS", job), "0||None assigned|UNLIMITED|normal");
}

TEST_F(SacctFields, FieldsCadreDoesNotRecordPrintEmpty) {
  capnp::MallocMessageBuilder m;
  EXPECT_EQ(value("MaxRSS,AveCPU,TotalCPU,ConsumedEnergy,Comment,Reservation", failed_job(m)), "|||||");
  auto columns = parse_sacct_format("JobID,MaxRSS%6", "--format");
  ASSERT_TRUE(columns);
  EXPECT_EQ(sacct_listing(*columns, {failed_job(m)}, kNow, {SacctLayout::columns, "|", false}),
            "42                  \n");
}

TEST_F(SacctFields, NamesSacctDoesNotDefineAreRefusedByName) {
  for (const char* bad : {"JobID,Bogus", "Stat", "jobid%", "jobid%x", "jobid%0", "jobid%1001", "JobID,,State", ""}) {
    auto r = parse_sacct_format(bad, "--format");
    EXPECT_FALSE(r) << bad;
  }
  auto r = parse_sacct_format("JobID,Bogus", "--format");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "--format: 'Bogus' is not a field sacct defines (sacct --helpformat lists them)");
}

TEST_F(SacctFields, AllAndTheLongFormsAbbreviationsAreKnown) {
  auto all = parse_sacct_format("ALL", "--format");
  ASSERT_TRUE(all);
  EXPECT_GT(all->size(), 100u);
  EXPECT_TRUE(parse_sacct_format(kSacctLongFormat, "--long"));
  EXPECT_TRUE(parse_sacct_format(kSacctBriefFormat, "--brief"));
  const std::string names = sacct_field_names();
  EXPECT_EQ(names.rfind("Account             AdminComment        AllocCPUS           AllocNodes\n", 0), 0u) << names;
  EXPECT_NE(names.find("WorkDir\n"), std::string::npos);
}

}  // namespace
}  // namespace cadre::cli
