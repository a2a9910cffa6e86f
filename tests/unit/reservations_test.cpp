// Specification of admin reservations (master/reservations.hpp and
// master/state/reservation_table.hpp): what a new one must be, who may use
// it, and how the scheduler keeps other jobs off its nodes while it runs
// the jobs inside it there and then.
#include "master/reservations.hpp"

#include <gtest/gtest.h>

#include "master/state/cluster.hpp"
#include "tests/unit/cluster_fixture.hpp"

namespace cadre {
namespace {

using namespace cluster_fixture;

Reservation res(std::string name, std::vector<std::string> nodes, int64_t start, int64_t end) {
  return Reservation{std::move(name), std::move(nodes), start, end, {"ada"}, {}};
}

TEST(ReservationRules, ANewOneNeedsNodesAWindowAndSomeoneToUseIt) {
  const int64_t now = 1000;
  EXPECT_TRUE(check_new_reservation(res("m", {"n1"}, 1000, 2000), {}, now));
  EXPECT_FALSE(check_new_reservation(res("", {"n1"}, 1000, 2000), {}, now));
  EXPECT_FALSE(check_new_reservation(res("a b", {"n1"}, 1000, 2000), {}, now));
  EXPECT_FALSE(check_new_reservation(res("m", {}, 1000, 2000), {}, now));
  EXPECT_FALSE(check_new_reservation(res("m", {"n1"}, 2000, 2000), {}, now));
  EXPECT_FALSE(check_new_reservation(res("m", {"n1"}, 100, 900), {}, now)) << "over before now";
  Reservation nobody = res("m", {"n1"}, 1000, 2000);
  nobody.users.clear();
  Status st = check_new_reservation(nobody, {}, now);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("--users or --accounts"), std::string::npos) << st.error();
}

TEST(ReservationRules, ANodeIsInOneReservationAtATime) {
  Reservations existing{{"first", res("first", {"n1", "n2"}, 1000, 2000)}};
  Status st = check_new_reservation(res("second", {"n2"}, 1500, 2500), existing, 1000);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("node n2 is already in reservation first"), std::string::npos) << st.error();
  EXPECT_TRUE(check_new_reservation(res("second", {"n2"}, 2000, 2500), existing, 1000)) << "after it ends";
  EXPECT_TRUE(check_new_reservation(res("second", {"n3"}, 1500, 2500), existing, 1000)) << "other nodes";
  EXPECT_FALSE(check_new_reservation(res("first", {"n3"}, 3000, 4000), existing, 1000)) << "name taken";
}

TEST(ReservationRules, ListedUsersAndAccountsAndAdminsMayUseIt) {
  Reservation r = res("m", {"n1"}, 1000, 2000);
  r.accounts = {"physics"};
  EXPECT_TRUE(may_use_reservation(r, "ada", "ada", false));
  EXPECT_TRUE(may_use_reservation(r, "bob", "physics", false));
  EXPECT_TRUE(may_use_reservation(r, "bob", "bob", true));
  Status st = may_use_reservation(r, "bob", "bob", false);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("may not use reservation m"), std::string::npos) << st.error();
}

class ReservationScheduling : public ClusterFixture {
 protected:
  void SetUp() override {
    ClusterFixture::SetUp();
    add_node("n1", 1, 0);
    add_node("n2", 1, 0);
  }
  Commands pass_at(int64_t now) {
    cluster_.schedule(sched::Policy{}, now);
    return take();
  }
  JobSpec one(int64_t limit, std::string reservation = "") {
    JobSpec s = spec(1);
    s.time_limit_s = limit;
    s.time_limit_given = true;
    s.reservation = std::move(reservation);
    return s;
  }
  std::string node_of(JobId id) { return job(id).tasks.empty() ? "" : job(id).tasks[0].node; }
};

TEST_F(ReservationScheduling, OtherJobsStayOffItsNodesUnlessTheyEndBeforeItOpens) {
  // n1 is reserved from kT0+1000 to kT0+2000.
  auto made = cluster_.create_reservation(res("maint", {"n1"}, kT0 + 1000, kT0 + 2000), 0, "", kT0);
  ASSERT_TRUE(made) << made.error();
  const JobId short_one = submit(one(600));   // ends before it opens: may use n1
  const JobId long_one = submit(one(3600));   // would still run then: n2 only
  const JobId long_two = submit(one(3600));   // n2 is taken: waits
  pass_at(kT0 + 1);
  EXPECT_EQ(job(short_one).state, JobState::running);
  EXPECT_EQ(job(long_one).state, JobState::running);
  EXPECT_EQ(node_of(long_one), "n2");
  EXPECT_EQ(node_of(short_one), "n1");
  EXPECT_EQ(job(long_two).state, JobState::pending) << "n1 is free but reserved for its window";
}

TEST_F(ReservationScheduling, AJobInsideRunsOnlyOnItsNodesAndOnlyOnceItOpens) {
  auto made = cluster_.create_reservation(res("maint", {"n2"}, kT0 + 100, kT0 + 2000), 0, "", kT0);
  ASSERT_TRUE(made) << made.error();
  const JobId inside = submit(one(600, "maint"));
  pass_at(kT0 + 1);
  EXPECT_EQ(job(inside).state, JobState::pending);
  EXPECT_EQ(job(inside).reason, "Reservation");
  pass_at(kT0 + 100);
  ASSERT_EQ(job(inside).state, JobState::running) << job(inside).reason;
  EXPECT_EQ(node_of(inside), "n2");
}

TEST_F(ReservationScheduling, AJobMustFitItsWindowAndOneWithoutALimitGetsWhatIsLeft) {
  ASSERT_TRUE(cluster_.create_reservation(res("maint", {"n2"}, kT0, kT0 + 1000), 0, "", kT0));
  auto too_long = cluster_.submit(one(2000, "maint"), kT0);
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().find("has 16:40 left"), std::string::npos) << too_long.error();
  JobSpec unlimited = spec(1);
  unlimited.reservation = "maint";
  EXPECT_EQ(job(submit(unlimited)).spec.time_limit_s, 1000);
  auto missing = cluster_.submit(one(60, "nope"), kT0);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("no reservation 'nope'"), std::string::npos) << missing.error();
}

TEST_F(ReservationScheduling, DeletedOrEndedReservationsLeaveAndTheirJobsSaySo) {
  ASSERT_TRUE(cluster_.create_reservation(res("maint", {"n2"}, kT0 + 500, kT0 + 2000), 0, "", kT0));
  const JobId inside = submit(one(60, "maint"));
  ASSERT_TRUE(cluster_.delete_reservation("maint"));
  pass_at(kT0 + 600);
  EXPECT_EQ(job(inside).reason, "ReservationDeleted");
  EXPECT_FALSE(cluster_.delete_reservation("maint"));

  ASSERT_TRUE(cluster_.create_reservation(res("short", {"n1"}, kT0, kT0 + 700), 0, "", kT0));
  EXPECT_EQ(cluster_.reservations().size(), 1u);
  (void)cluster_.take_dirty_reservations();
  pass_at(kT0 + 700);
  EXPECT_TRUE(cluster_.reservations().empty()) << "gone once its window is over";
  EXPECT_EQ(cluster_.take_dirty_reservations(), (std::set<std::string>{"short"})) << "and deleted from the store";
}

TEST_F(ReservationScheduling, ACountPicksFreeNodesAndABusyNodeIsRefused) {
  const JobId busy = submit(one(3600));
  pass_at(kT0 + 1);
  ASSERT_EQ(job(busy).state, JobState::running);
  const std::string taken = node_of(busy);
  auto counted = cluster_.create_reservation(res("one", {}, kT0 + 10, kT0 + 100), 1, "", kT0 + 1);
  ASSERT_TRUE(counted) << counted.error();
  ASSERT_EQ(counted->nodes.size(), 1u);
  EXPECT_NE(counted->nodes[0], taken) << "the other node is free at the start";
  auto two = cluster_.create_reservation(res("two", {}, kT0 + 10, kT0 + 100), 1, "", kT0 + 1);
  ASSERT_FALSE(two) << "no node is left";
  auto named = cluster_.create_reservation(res("named", {taken}, kT0 + 10, kT0 + 100), 0, "", kT0 + 1);
  ASSERT_FALSE(named);
  EXPECT_NE(named.error().find("runs a job expected to last past"), std::string::npos) << named.error();
}

}  // namespace
}  // namespace cadre
