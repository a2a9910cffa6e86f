// Specification of master/state/admission: which submitted jobs join the
// queue, with what defaults, and how refusals read; on a bare ClusterState.
#include "master/state/admission.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "common/job_validation.hpp"
#include "tests/unit/cluster_fixture.hpp"

namespace cadre {
namespace {

using namespace cluster_fixture;

class AdmissionTest : public StateFixture {
 protected:
  Result<JobId> submit_spec(JobSpec s) { return admission_.submit(s_, std::move(s), kT0); }
  JobId submit(JobSpec s) {
    auto id = submit_spec(std::move(s));
    EXPECT_TRUE(id) << id.error();
    return id ? *id : 0;
  }
  const Job& job(JobId id) {
    const Job* j = s_.find_job(id);
    if (!j) throw std::runtime_error("job " + std::to_string(id) + " is not in the cluster");
    return *j;
  }

  Admission admission_;
};

TEST_F(AdmissionTest, SubmitFillsInTheNameAndOutputPattern) {
  add_node("n1", 8, 0);
  const Job& j = job(submit(spec(1)));
  EXPECT_EQ(j.spec.name, "python3");
  EXPECT_EQ(j.spec.output_pattern, "cadre-%j.out") << "one file per job, as slurm-%j.out";
}

TEST_F(AdmissionTest, ADefaultNameFromALongCommandIsCutToTheBoundOfANameAtACharacterBoundary) {
  add_node("n1", 8, 0);
  JobSpec s = spec(1);
  // 255 ASCII bytes, then a two-byte character across the 256-byte bound.
  s.argv[0] = "/opt/" + std::string(255, 'a') + "\xc3\xa9" + std::string(40, 'b');
  const Job& j = job(submit(s));
  EXPECT_EQ(j.spec.name, std::string(255, 'a'));
  EXPECT_TRUE(validate_job_request(j.spec));
}

TEST_F(AdmissionTest, ADeadlineNeedsATimeLimitThatEndsByIt) {
  add_node("n1", 8, 0);
  JobSpec none = spec(1);
  none.deadline = kT0 + 3600;
  auto r = submit_spec(none);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("--deadline needs a time limit"), std::string::npos) << r.error();

  JobSpec late = spec(1);
  late.time_limit_s = 7200;
  late.deadline = kT0 + 3600;
  r = submit_spec(late);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("cannot end by its --deadline"), std::string::npos) << r.error();

  JobSpec begins_late = spec(1);
  begins_late.time_limit_s = 600;
  begins_late.begin_time = kT0 + 3300;
  begins_late.deadline = kT0 + 3600;
  r = submit_spec(begins_late);
  ASSERT_FALSE(r) << "from its --begin it would end after the deadline";
  EXPECT_NE(r.error().find("from its --begin"), std::string::npos) << r.error();

  JobSpec fits = spec(1);
  fits.time_limit_s = 600;
  fits.deadline = kT0 + 3600;
  EXPECT_EQ(job(submit(fits)).spec.deadline, kT0 + 3600);
}

TEST_F(AdmissionTest, SubmitRefusesAJobThatCanNeverFitWithAClearMessage) {
  add_node("n1", 8, 8);
  add_node("n2", 8, 8);
  auto r = submit_spec(gang(1, 8, Resources{1000, 1024, 2}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "job can never run: no node has 16 GPUs for 8 tasks; the largest has 8");
  auto many = submit_spec(gang(3, 1));
  ASSERT_FALSE(many);
  EXPECT_EQ(many.error(), "job can never run: the job asks for 3 nodes but the cluster has 2");
  EXPECT_TRUE(s_.jobs.empty());
  EXPECT_TRUE(s_.dirty_jobs.empty());
}

TEST_F(AdmissionTest, SubmitRefusesMalformedRequests) {
  add_node("n1", 8, 0);
  auto expect_refused = [&](JobSpec s, const std::string& words) {
    auto r = submit_spec(std::move(s));
    ASSERT_FALSE(r) << "accepted a request that should mention '" << words << "'";
    EXPECT_NE(r.error().find(words), std::string::npos) << r.error();
  };
  JobSpec s = spec(1);
  s.argv.clear();
  expect_refused(s, "no command given");
  s = spec(1);
  s.argv = {""};
  expect_refused(s, "no command given");
  s = spec(1);
  s.workdir = "relative/dir";
  expect_refused(s, "absolute path, got 'relative/dir'");
  expect_refused(spec(0), "at least one task");
  expect_refused(spec(100001), "at most 100000 tasks");
  // Quantities that would overflow when multiplied by the rank count.
  expect_refused(spec(2, Resources{1000, INT64_MAX, 0}), "at most");
  expect_refused(spec(2, Resources{INT64_MAX, 1024, 0}), "at most");
  expect_refused(spec(2, Resources{1000, 1024, 65}), "at most 64 GPUs");
  s = gang(2, 2);
  s.ntasks = 5;
  expect_refused(s, "does not make 5 tasks");
  s = gang(2, 0);
  s.ntasks = 2;
  expect_refused(s, "does not make 2 tasks");
  expect_refused(spec(1, Resources{1000, -1, 0}), "must not be negative");
  expect_refused(spec(1, Resources{0, 1024, 0}), "needs some cpu");
  s = spec(1);
  s.time_limit_s = -1;
  expect_refused(s, "time limit");
  EXPECT_TRUE(s_.jobs.empty());
}

TEST_F(AdmissionTest, SubmitBeforeAnyNodeRegistersIsAccepted) {
  // With no nodes the master cannot judge; the job waits.
  JobId id = submit(gang(4, 8));
  EXPECT_EQ(job(id).state, JobState::pending);
}

TEST_F(AdmissionTest, AnAcceptedJobIsQueuedPendingAndCounted) {
  add_node("n1", 8, 0);
  JobId id = submit(spec(1));
  EXPECT_EQ(id, 1u);
  EXPECT_EQ(job(id).state, JobState::pending);
  EXPECT_EQ(job(id).reason, "Priority");
  EXPECT_EQ(job(id).spec.partition, "default");
  EXPECT_EQ(job(id).spec.account, "ada");
  EXPECT_TRUE(s_.dirty_jobs.count(id));
  EXPECT_EQ(s_.pending_by_user["ada"], 1u);
  EXPECT_TRUE(s_.commands.empty());
}

TEST_F(AdmissionTest, AUserAtThePendingLimitIsRefused) {
  Limits limits;
  limits.max_pending_jobs_per_user = 1;
  admission_.set_limits(limits);
  submit(spec(1));
  auto r = submit_spec(spec(1));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("already has 1 pending jobs"), std::string::npos) << r.error();
}

}  // namespace
}  // namespace cadre
