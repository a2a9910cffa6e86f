// Specification of -p a,b (a partition list): at submit the master keeps
// the partitions that can take the job (higher tiers first, then as
// listed) and refuses an unknown name; each pass the job goes to the first
// of them where it fits now, and runs there.
#include <gtest/gtest.h>

#include "master/state/cluster.hpp"
#include "tests/unit/cluster_fixture.hpp"

namespace cadre {
namespace {

using namespace cluster_fixture;

class PartitionList : public ClusterFixture {
 protected:
  // "a" is n1 (the default, at most 1 hour), "b" is n2, "hi" is n2 at tier 2.
  void SetUp() override {
    ClusterFixture::SetUp();
    PartitionConfig a, b, hi;
    a.name = "a";
    a.nodes = {"n1"};
    a.is_default = true;
    a.max_time_s = 3600;
    b.name = "b";
    b.nodes = {"n2"};
    hi.name = "hi";
    hi.nodes = {"n2"};
    hi.tier = 2;
    SchedulerConfig config;
    config.partitions = {a, b, hi};
    cluster_.configure(config);
    add_node("n1", 4, 0);
    add_node("n2", 8, 0);
  }
  JobSpec to(const std::string& partitions, uint32_t cpus = 1) {
    JobSpec s = spec(1);
    s.per_task.millicores = cpus * 1000;
    s.time_limit_s = 600;
    s.time_limit_given = true;
    s.partition = partitions;
    return s;
  }
};

TEST_F(PartitionList, TheJobRunsInTheFirstListedPartitionWhereItFitsNow) {
  const JobId blocker = submit(to("a", 4));
  schedule();
  EXPECT_EQ(job(blocker).state, JobState::running);
  const JobId listed = submit(to("a,b"));
  EXPECT_EQ(job(listed).spec.partition, "a");
  EXPECT_EQ(job(listed).spec.partition_list, "a,b");
  schedule();
  ASSERT_EQ(job(listed).state, JobState::running) << job(listed).reason;
  EXPECT_EQ(job(listed).spec.partition, "b") << "a is full: b offers the earliest start";
  ASSERT_EQ(job(listed).tasks.size(), 1u);
  EXPECT_EQ(job(listed).tasks[0].node, "n2");
}

TEST_F(PartitionList, AJobPassedOverWhereItWasSentIsSentElsewhereByTheNextPass) {
  // Both pending: the pass judges the list by what is free as it starts
  // (n1), the blocker takes n1 first, so the listed job waits one pass.
  const JobId blocker = submit(to("a", 4));
  const JobId listed = submit(to("a,b"));
  schedule();
  EXPECT_EQ(job(blocker).state, JobState::running);
  EXPECT_EQ(job(listed).state, JobState::pending);
  schedule();
  EXPECT_EQ(job(listed).state, JobState::running);
  EXPECT_EQ(job(listed).spec.partition, "b");
}

TEST_F(PartitionList, HigherTiersComeFirstAndDuplicatesGo) {
  const JobId id = submit(to("b,hi,b"));
  EXPECT_EQ(job(id).spec.partition_list, "hi,b");
  EXPECT_EQ(job(id).spec.partition, "hi");
}

TEST_F(PartitionList, AnUnknownNameIsRefusedAndOnesThatCanNeverTakeItAreDropped) {
  auto unknown = cluster_.submit(to("a,zz"), kT0);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().find("no partition 'zz'"), std::string::npos) << unknown.error();
  // 6 cpus: n1 (a) has 4, so only b can ever run it.
  const JobId wide = submit(to("a,b", 6));
  EXPECT_EQ(job(wide).spec.partition, "b");
  EXPECT_EQ(job(wide).spec.partition_list, "") << "one partition left: no list";
  // 2 hours: a allows 1.
  JobSpec long_one = to("a,b");
  long_one.time_limit_s = 7200;
  EXPECT_EQ(job(submit(long_one)).spec.partition, "b");
  // None can take it: the first refusal says why.
  auto never = cluster_.submit(to("a,b", 16), kT0);
  ASSERT_FALSE(never);
  EXPECT_NE(never.error().find("job can never run in partition a"), std::string::npos) << never.error();
}

}  // namespace
}  // namespace cadre
