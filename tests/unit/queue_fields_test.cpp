// Specification of cli/queue_fields: squeue's letters and names print
// cadre's JobInfo as squeue prints a job.
#include "cli/queue_fields.hpp"

#include <capnp/message.h>
#include <gtest/gtest.h>

#include <algorithm>

#include <string>

#include "common/codec.hpp"

namespace cadre::cli {
namespace {

constexpr int64_t kNow = 1'800'000'000;

// A running two-node job, 1h30m into a 2h limit.
JobInfo::Reader running_job(capnp::MallocMessageBuilder& message) {
  auto job = message.initRoot<JobInfo>();
  job.setId(42);
  job.setState("RUNNING");
  job.setSubmitTime(kNow - 6000);
  job.setStartTime(kNow - 5400);
  auto r = job.initRequest();
  r.setName("train-resnet");
  r.setUser("ann");
  r.setUid(1001);
  r.setPartition("gpu");
  r.setAccount("vision");
  r.setTimeLimitSec(7200);
  r.setNtasks(4);
  r.setNodes(2);
  r.setTasksPerNode(2);
  r.getPerTask().setMillicores(2000);
  r.getPerTask().setMemoryMb(4096);
  r.getPerTask().setGpus(1);
  r.setWorkdir("/home/ann/run");
  auto nodes = job.initNodes(2);
  nodes.set(0, "node1");
  nodes.set(1, "node2");
  return job.asReader();
}

JobInfo::Reader pending_job(capnp::MallocMessageBuilder& message) {
  auto job = message.initRoot<JobInfo>();
  job.setId(43);
  job.setState("PENDING");
  job.setReason("Resources");
  job.setExpectedStart(kNow + 60);
  auto r = job.initRequest();
  r.setName("wait");
  r.setUser("bob");
  r.setNtasks(1);
  r.getPerTask().setMillicores(1000);
  return job.asReader();
}

std::string listing(std::string_view format, JobInfo::Reader job, bool named = false, bool header = false) {
  auto f = parse_queue_format(format, named, "-o");
  EXPECT_TRUE(f) << f.error();
  return f ? queue_listing(*f, {job}, kNow, header) : "";
}

TEST(QueueFields, JobIdStateAndReasonListOfARunningJob) {
  capnp::MallocMessageBuilder m;
  EXPECT_EQ(listing("%i %T %t %R", running_job(m)), "42 RUNNING R node[1-2]\n");
}

TEST(QueueFields, PendingJobShowsItsReasonInParentheses) {
  capnp::MallocMessageBuilder m;
  EXPECT_EQ(listing("%.5i|%t|%R|%r|%N|", pending_job(m)), "   43|PD|(Resources)|Resources||\n");
}

TEST(QueueFields, AFailedJobShowsWhyItFailedAndADoneOneItsNodes) {
  capnp::MallocMessageBuilder m;
  auto job = m.initRoot<JobInfo>();
  job.setId(9);
  job.setState("FAILED");
  job.initNodes(1).set(0, "node4");
  EXPECT_EQ(listing("%R", job.asReader()), "(NonZeroExitCode)\n");
  job.setState("COMPLETED");
  EXPECT_EQ(listing("%R", job.asReader()), "node4\n");
}

TEST(QueueFields, TimesLimitsAndCounts) {
  capnp::MallocMessageBuilder m;
  auto job = running_job(m);
  EXPECT_EQ(listing("%M %l %L %D %C %c", job), "1:30:00 2:00:00 30:00 2 8 4\n");
}

TEST(QueueFields, NamesAreCutToTheirSize) {
  capnp::MallocMessageBuilder m;
  EXPECT_EQ(listing("%.8j|%4u|%a|%P", running_job(m)), "train-re|ann |vision|gpu\n");
}

TEST(QueueFields, QosIsTheJobsOrNormalForJobsStoredWithout) {
  capnp::MallocMessageBuilder m, n;
  auto job = running_job(m);
  EXPECT_EQ(listing("%q", job), "normal\n");
  auto builder = n.initRoot<JobInfo>();
  builder.setId(7);
  builder.setState("PENDING");
  builder.initRequest().setQos("high");
  EXPECT_EQ(listing("%q|qos", builder.asReader()), "high|qos\n");
  EXPECT_EQ(listing("QOS", builder.asReader(), true, true), "QOS" + std::string(17, ' ') + "\nhigh" + std::string(16, ' ') + "\n");
}

TEST(QueueFields, UnsetFieldsPrintSqueuesUnsetValues) {
  capnp::MallocMessageBuilder m;
  EXPECT_EQ(listing("%E %f %k %K %Y %z", pending_job(m)), "(null) (null) (null) N/A (null) *:*:*\n");
}

TEST(QueueFields, HeaderNamesTheColumnsAsSqueue) {
  capnp::MallocMessageBuilder m;
  EXPECT_EQ(listing("%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R", running_job(m), false, true),
            "             JOBID PARTITION     NAME     USER ST       TIME  NODES NODELIST(REASON)\n"
            "                42       gpu train-re      ann  R    1:30:00      2 node[1-2]\n");
}

TEST(QueueFields, LongNamesInAnyCaseWithTwentyWideColumns) {
  capnp::MallocMessageBuilder m;
  EXPECT_EQ(listing("JobID,state:.8,REASON:4", pending_job(m), true, true),
            "JOBID" + std::string(15, ' ') + "   STATEREAS\n" + "43" + std::string(18, ' ') + " PENDINGReso\n");
}

TEST(QueueFields, TresAndGpuFields) {
  capnp::MallocMessageBuilder m;
  EXPECT_EQ(listing("tres-per-node:0,tres-per-task:0", running_job(m), true), "gres/gpu:2gres/gpu:1\n");
  EXPECT_EQ(listing("%b", pending_job(m)), "N/A\n");
}

TEST(QueueFields, UnknownLettersAndNamesAreRefused) {
  EXPECT_FALSE(parse_queue_format("%i %@", false, "-o"));
  EXPECT_FALSE(parse_queue_format("JobID,NoSuchField", true, "-O"));
  auto e = parse_queue_format("JobID,NoSuchField", true, "-O");
  EXPECT_NE(e.error().find("NoSuchField"), std::string::npos) << e.error();
}

TEST(QueueFields, StartFormatShowsTheExpectedStart) {
  capnp::MallocMessageBuilder m;
  const std::string out = listing(kQueueStartFormat, pending_job(m), false, true);
  EXPECT_NE(out.find("START_TIME"), std::string::npos) << out;
  EXPECT_NE(out.find("SCHEDNODES"), std::string::npos) << out;
  EXPECT_EQ(out.find("N/A"), std::string::npos) << "a pending job with a reservation has a start time:\n" << out;
}

TEST(QueueFields, AllPrintsEveryLetterBarSeparated) {
  capnp::MallocMessageBuilder m;
  const std::string out = listing("%all", running_job(m), false, true);
  EXPECT_EQ(out.substr(0, 8), "ACCOUNT|") << out;
  EXPECT_NE(out.find("|RUNNING|"), std::string::npos) << out;
}

TEST(QueueFields, EveryFieldOfManyJobsReadsFromAReplyAsDecoded) {
  // A decoded reply may be read only a few times over its size; %all reads
  // each job's request dozens of times.
  capnp::MallocMessageBuilder message;
  auto jobs = start_envelope(message, 1).initJobsReply().initJobs(50);
  capnp::MallocMessageBuilder one;
  for (unsigned i = 0; i < jobs.size(); ++i) jobs.setWithCaveats(i, running_job(one));
  auto decoded = decode(encode(message));
  ASSERT_TRUE(decoded) << decoded.error();
  std::vector<JobInfo::Reader> listed;
  for (auto j : (*decoded)->envelope().getJobsReply().getJobs()) listed.push_back(j);
  auto format = parse_queue_format("%all", false, "-o");
  ASSERT_TRUE(format);
  std::string out;
  EXPECT_NO_THROW(out = queue_listing(*format, listed, kNow));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 51) << out;
}

}  // namespace
}  // namespace cadre::cli
