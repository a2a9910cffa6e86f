// Specification of --deadline in the master (master/state/job_control's
// expire_deadlines, run by every scheduling pass): a pending job that could
// no longer end by its deadline ends DEADLINE; one that still can waits on,
// and one that started in time runs on.
#include <gtest/gtest.h>

#include "master/state/cluster.hpp"
#include "tests/unit/cluster_fixture.hpp"

namespace cadre {
namespace {

using namespace cluster_fixture;

class Deadline : public ClusterFixture {
 protected:
  Commands pass_at(int64_t now_unix) {
    cluster_.schedule(sched::Policy{}, now_unix);
    return take();
  }
};

TEST_F(Deadline, APendingJobEndsDeadlineOnceItCouldNoLongerEndInTime) {
  add_node("n1", 1, 0);
  JobSpec blocker = spec(1);
  blocker.time_limit_s = 3600;
  const JobId running = submit(blocker);
  JobSpec s = spec(1);
  s.time_limit_s = 600;
  s.deadline = kT0 + 1800;
  const JobId waiting = submit(s);
  pass_at(kT0 + 1);
  EXPECT_EQ(job(running).state, JobState::running);
  EXPECT_EQ(job(waiting).state, JobState::pending);
  pass_at(kT0 + 1200);  // 1200 + 600 = the deadline: still possible
  EXPECT_EQ(job(waiting).state, JobState::pending);
  pass_at(kT0 + 1201);
  EXPECT_EQ(job(waiting).state, JobState::deadline);
  EXPECT_NE(job(waiting).reason.find("DeadLine"), std::string::npos) << job(waiting).reason;
  EXPECT_EQ(job(running).state, JobState::running) << "a job without a deadline is untouched";
}

TEST_F(Deadline, AJobThatStartedInTimeRunsOnPastNothing) {
  add_node("n1", 1, 0);
  JobSpec s = spec(1);
  s.time_limit_s = 600;
  s.deadline = kT0 + 700;
  const JobId id = submit(s);
  pass_at(kT0 + 1);
  ASSERT_EQ(job(id).state, JobState::running);
  pass_at(kT0 + 650);
  EXPECT_EQ(job(id).state, JobState::running) << "it ends by its time limit, within the deadline";
}

TEST(DeadlineState, IsFinalAndNamedAsSlurm) {
  EXPECT_EQ(to_string(JobState::deadline), "DEADLINE");
  EXPECT_EQ(parse_job_state("DEADLINE"), JobState::deadline);
  EXPECT_TRUE(is_final(JobState::deadline));
}

}  // namespace
}  // namespace cadre
