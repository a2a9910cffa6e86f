// Specification of holding and releasing pending jobs (cadre hold and
// release, sbatch --hold): master/state/jobs' hold_job and release_job, and
// the scheduler passing held jobs over.
#include <gtest/gtest.h>

#include "master/state/cluster.hpp"
#include "tests/unit/cluster_fixture.hpp"

namespace cadre {
namespace {

using namespace cluster_fixture;

class Hold : public ClusterFixture {};

TEST_F(Hold, AJobSubmittedHeldWaitsUntilReleased) {
  add_node("n1", 8, 0);
  JobSpec s = spec(1);
  s.hold = true;
  JobId id = submit(s);
  EXPECT_EQ(job(id).hold, Job::Hold::user);
  EXPECT_EQ(job(id).reason, "JobHeldUser");
  EXPECT_EQ(schedule().launches.size(), 0u);
  EXPECT_EQ(job(id).state, JobState::pending);
  EXPECT_EQ(job(id).reason, "JobHeldUser") << "a pass leaves the hold as the reason";

  CancelOutcome o = cluster_.release(id, /*by_admin=*/false);
  EXPECT_TRUE(o.ok) << o.message;
  EXPECT_EQ(job(id).hold, Job::Hold::none);
  EXPECT_EQ(schedule().launches.size(), 1u);
  EXPECT_EQ(job(id).state, JobState::running);
}

TEST_F(Hold, AHeldJobIsPassedOverAndTheNextOneStarts) {
  add_node("n1", 1, 0);
  JobId first = submit(spec(1));
  JobId second = submit(spec(1));
  ASSERT_TRUE(cluster_.hold(first, false).ok);
  Commands c = schedule();
  ASSERT_EQ(c.launches.size(), 1u);
  EXPECT_EQ(c.launches[0].job, second) << "the held job keeps no place in line";
  EXPECT_EQ(job(first).state, JobState::pending);
}

TEST_F(Hold, OnlyAPendingJobCanBeHeldOrReleased) {
  add_node("n1", 8, 0);
  JobId id = submit(spec(1));
  schedule();
  ASSERT_EQ(job(id).state, JobState::running);
  CancelOutcome o = cluster_.hold(id, false);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.message, "job " + std::to_string(id) + " is RUNNING: only a pending job can be held");
  EXPECT_EQ(cluster_.release(id, false).message, "job " + std::to_string(id) + " is not held");
  EXPECT_EQ(cluster_.hold(999, false).message, "no active job 999");
  JobId waiting = submit(spec(8));  // waits: n1 is full
  EXPECT_EQ(cluster_.release(waiting, false).message, "job " + std::to_string(waiting) + " is not held");
}

TEST_F(Hold, AnAdminsHoldIsReleasedByAnAdminOnly) {
  JobId id = submit(spec(1));
  ASSERT_TRUE(cluster_.hold(id, /*by_admin=*/true).ok);
  EXPECT_EQ(job(id).reason, "JobHeldAdmin");
  CancelOutcome o = cluster_.release(id, false);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.message, "job " + std::to_string(id) + " was held by an admin; only an admin may release it");
  EXPECT_FALSE(cluster_.hold(id, false).ok) << "a user's hold does not replace an admin's";
  EXPECT_EQ(job(id).hold, Job::Hold::admin);
  EXPECT_TRUE(cluster_.release(id, true).ok);
  EXPECT_EQ(job(id).hold, Job::Hold::none);
}

TEST_F(Hold, HoldingAndReleasingMarkTheJobForTheStore) {
  JobId id = submit(spec(1));
  cluster_.take_dirty_jobs();
  ASSERT_TRUE(cluster_.hold(id, false).ok);
  EXPECT_EQ(cluster_.take_dirty_jobs(), std::set<JobId>{id});
  ASSERT_TRUE(cluster_.release(id, false).ok);
  EXPECT_EQ(cluster_.take_dirty_jobs(), std::set<JobId>{id});
}

}  // namespace
}  // namespace cadre
