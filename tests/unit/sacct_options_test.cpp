// Specification of cli/sacct_options: sacct's options, its default time
// window and whose jobs it lists, and which jobs a query chooses.
#include "cli/sacct_options.hpp"

#include <capnp/message.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace cadre::cli {
namespace {

// 2026-12-07 10:30:00 UTC.
constexpr int64_t kNow = 1796639400;
constexpr int64_t kMidnight = kNow - 10 * 3600 - 30 * 60;

class SacctOptionsTest : public ::testing::Test {
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
  static SacctOptions parse(std::vector<std::string> args, bool root = false, std::string env_format = "") {
    auto r = parse_sacct_options(args, SacctContext{kNow, "ann", root, std::move(env_format)});
    EXPECT_TRUE(r) << r.error();
    return r ? *r : SacctOptions{};
  }
  static std::string error(std::vector<std::string> args) {
    auto r = parse_sacct_options(args, SacctContext{kNow, "ann", false, ""});
    EXPECT_FALSE(r);
    return r ? "" : r.error();
  }

 private:
  std::optional<std::string> saved_;
};

// A job of `user` submitted at `submit` that ran from `start` to `end` (0: not yet).
JobInfo::Reader job(capnp::MallocMessageBuilder& m, uint64_t id, const char* user, const char* state, int64_t submit,
                    int64_t start, int64_t end) {
  auto j = m.initRoot<JobInfo>();
  j.setId(id);
  j.setState(state);
  j.setSubmitTime(submit);
  j.setStartTime(start);
  j.setEndTime(end);
  auto r = j.initRequest();
  r.setUser(user);
  r.setName("job");
  r.setPartition("cpu");
  return j.asReader();
}

TEST_F(SacctOptionsTest, ByDefaultYourJobsSinceMidnightUntilNow) {
  const SacctOptions o = parse({});
  EXPECT_EQ(o.start, kMidnight);
  EXPECT_EQ(o.end, kNow);
  EXPECT_EQ(o.filter.users, std::vector<std::string>{"ann"});
  EXPECT_EQ(o.format, kSacctDefaultFormat);
  EXPECT_EQ(o.style.layout, SacctLayout::columns);
  EXPECT_TRUE(o.style.header);
  EXPECT_TRUE(parse({}, true).filter.users.empty()) << "root sees everyone's";
  EXPECT_TRUE(parse({"-a"}).filter.users.empty());
}

TEST_F(SacctOptionsTest, NamedJobsHaveNoDefaultStartNorUser) {
  const SacctOptions o = parse({"-j", "42,12_7,13_[1,3]"});
  EXPECT_EQ(o.start, 0);
  EXPECT_EQ(o.end, kNow);
  EXPECT_TRUE(o.filter.users.empty());
  EXPECT_EQ(o.ids, (std::vector<uint64_t>{42}));
  EXPECT_EQ(o.tasks, (std::vector<std::pair<uint64_t, int64_t>>{{12, 7}, {13, 1}, {13, 3}}));
  EXPECT_EQ(parse({"-j42"}).ids, std::vector<uint64_t>{42}) << "a short option's value may be attached";
  EXPECT_EQ(parse({"--jobs=42"}).ids, std::vector<uint64_t>{42});
}

TEST_F(SacctOptionsTest, StatesMoveTheWindowToNowUnlessAStartIsGiven) {
  SacctOptions o = parse({"-s", "cd,F"});
  EXPECT_EQ(o.start, kNow);
  EXPECT_EQ(o.end, kNow);
  EXPECT_EQ(o.filter.states, (std::vector<std::string>{"COMPLETED", "FAILED"}));
  o = parse({"-s", "R", "-S", "now-1hour"});
  EXPECT_EQ(o.start, kNow - 3600);
  EXPECT_EQ(o.end, kNow - 3600) << "sacct's end defaults to the start given with -s";
  o = parse({"--starttime=2026-12-01", "--endtime=2026-12-02T12:00"});
  EXPECT_EQ(o.start, kMidnight - 6 * 86400);
  EXPECT_EQ(o.end, kMidnight - 5 * 86400 + 12 * 3600);
}

TEST_F(SacctOptionsTest, FormatsComeFromOSacctFormatBriefLongOrTheDefault) {
  EXPECT_EQ(parse({"-o", "JobID,State"}).format, "JobID,State");
  EXPECT_EQ(parse({"--format=jobname%30"}).format, "jobname%30");
  EXPECT_EQ(parse({}, false, "jobid,user").format, "jobid,user");
  EXPECT_EQ(parse({"-o", "State"}, false, "jobid,user").format, "State") << "the option wins";
  EXPECT_EQ(parse({"-b"}).format, kSacctBriefFormat);
  EXPECT_EQ(parse({"--long"}).format, kSacctLongFormat);
  EXPECT_EQ(parse({"-P"}).style.layout, SacctLayout::parsable2);
  EXPECT_EQ(parse({"-p"}).style.layout, SacctLayout::parsable);
  EXPECT_EQ(parse({"-p", "--delimiter=,"}).style.delimiter, ",");
  EXPECT_FALSE(parse({"-n", "-X"}).style.header);
  EXPECT_TRUE(parse({"-e"}).help_format);
}

TEST_F(SacctOptionsTest, BadValuesAreRefusedNamingTheOption) {
  EXPECT_EQ(error({"-j", "42.batch"}).rfind("--jobs: '42.batch' names a step", 0), 0u);
  EXPECT_EQ(error({"-j", "42,,43"}).rfind("--jobs: an empty job id", 0), 0u);
  EXPECT_EQ(error({"-j", "abc"}).rfind("--jobs: ", 0), 0u);
  EXPECT_EQ(error({"-S", "soon"}).rfind("--starttime 'soon'", 0), 0u);
  EXPECT_EQ(error({"-S", "now", "-E", "now-1day"}).rfind("--starttime is after --endtime", 0), 0u);
  EXPECT_EQ(error({"-s", "bogus"}).rfind("--state", 0), 0u);
  EXPECT_EQ(error({"--me", "-u", "bob"}).rfind("--me and --user", 0), 0u);
  EXPECT_FALSE(error({"--bogus"}).empty());
  EXPECT_FALSE(error({"42"}).empty()) << "sacct takes no words but its options";
}

TEST_F(SacctOptionsTest, AJobIsChosenWhenEligibleInTheWindow) {
  const SacctOptions today = parse({"-a"});
  capnp::MallocMessageBuilder m1, m2, m3, m4;
  EXPECT_TRUE(sacct_selects(today, job(m1, 1, "bob", "COMPLETED", kNow - 600, kNow - 500, kNow - 100)));
  EXPECT_FALSE(sacct_selects(today, job(m2, 2, "bob", "COMPLETED", kMidnight - 900, kMidnight - 800, kMidnight - 1)))
      << "ended before midnight";
  EXPECT_TRUE(sacct_selects(today, job(m3, 3, "bob", "RUNNING", kMidnight - 900, kMidnight - 800, 0)))
      << "still running since yesterday";
  EXPECT_FALSE(sacct_selects(parse({"-a", "-S", "now-50"}), job(m4, 4, "bob", "COMPLETED", kNow - 600, kNow - 500,
                                                                      kNow - 100)));
}

TEST_F(SacctOptionsTest, FiltersAndIdsMustAllMatch) {
  capnp::MallocMessageBuilder m1, m2, m3;
  const auto mine = job(m1, 7, "ann", "FAILED", kNow - 60, kNow - 50, kNow - 10);
  const auto theirs = job(m2, 8, "bob", "COMPLETED", kNow - 60, kNow - 50, kNow - 10);
  EXPECT_TRUE(sacct_selects(parse({}), mine));
  EXPECT_FALSE(sacct_selects(parse({}), theirs)) << "only your own by default";
  EXPECT_TRUE(sacct_selects(parse({"-j", "8"}), theirs));
  EXPECT_FALSE(sacct_selects(parse({"-j", "7"}), theirs));
  EXPECT_FALSE(sacct_selects(parse({"-s", "CD", "-S", "midnight"}), mine));
  EXPECT_TRUE(sacct_selects(parse({"-s", "f", "-S", "midnight", "-E", "now"}), mine));
  EXPECT_FALSE(sacct_selects(parse({"-r", "gpu"}), mine));
  EXPECT_TRUE(sacct_selects(parse({"--name", "JOB", "-r", "cpu"}), mine));
  auto task = job(m3, 20, "ann", "COMPLETED", kNow - 60, kNow - 50, kNow - 10);
  auto b = m3.getRoot<JobInfo>().getRequest();
  b.setArrayJobId(12);
  b.setArrayTaskId(7);
  EXPECT_TRUE(sacct_selects(parse({"-j", "12_7"}), task));
  EXPECT_TRUE(sacct_selects(parse({"-j", "12"}), task)) << "an array's id names every task";
  EXPECT_TRUE(sacct_selects(parse({"-j", "20"}), task)) << "as does the task's own id (JobIDRaw)";
  EXPECT_FALSE(sacct_selects(parse({"-j", "12_8"}), task));
}

TEST_F(SacctOptionsTest, AHeldJobIsListedOnlyWhenNamed) {
  capnp::MallocMessageBuilder m;
  auto held = job(m, 9, "ann", "PENDING", kNow - 60, 0, 0);
  m.getRoot<JobInfo>().setReason("JobHeldUser");
  EXPECT_FALSE(sacct_selects(parse({}), held));
  EXPECT_TRUE(sacct_selects(parse({"-j", "9"}), held));
}

}  // namespace
}  // namespace cadre::cli
