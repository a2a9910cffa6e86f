// Specification of cli/names: the job ids and node names the CLI takes,
// checked before anything is sent.
#include "cli/names.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "common/limits.hpp"

namespace cadre::cli {
namespace {

TEST(JobId, IsAPositiveDecimalWholeNumber) {
  auto id = parse_job_id("42");
  ASSERT_TRUE(id) << id.error();
  EXPECT_EQ(*id, 42u);
  EXPECT_TRUE(parse_job_id("9223372036854775807"));
  for (const char* bad : {"", " ", "0", "-1", "abc", "1.5", "1e3", "0x10", "1 2", " 1", "4294967297x",
                          "9223372036854775808", "99999999999999999999"}) {
    auto r = parse_job_id(bad);
    ASSERT_FALSE(r) << "accepted '" << bad << "'";
    EXPECT_EQ(r.error(), "'" + std::string(bad) + "' is not a job id (a positive whole number)");
  }
}

TEST(JobId, ErrorsShowTheWordEscapedAndCutShort) {
  EXPECT_EQ(parse_job_id("x\x01y\nz").error(), "'x\\x01y\\nz' is not a job id (a positive whole number)");
  auto r = parse_job_id(std::string(5000, 'a'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "'" + std::string(40, 'a') + "...' (5000 bytes) is not a job id (a positive whole number)");
}

// Sets CADRE_JOB_ID (or unsets it, for nullptr) for one test's span.
class JobIdVariable {
 public:
  explicit JobIdVariable(const char* value) {
    if (const char* old = std::getenv("CADRE_JOB_ID")) old_ = old;
    if (value) ::setenv("CADRE_JOB_ID", value, 1);
    else ::unsetenv("CADRE_JOB_ID");
  }
  ~JobIdVariable() {
    if (old_.empty()) ::unsetenv("CADRE_JOB_ID");
    else ::setenv("CADRE_JOB_ID", old_.c_str(), 1);
  }

 private:
  std::string old_;
};

TEST(JobFromEnvironment, UnsetOrEmptyIsNoJob) {
  for (const char* value : {static_cast<const char*>(nullptr), ""}) {
    JobIdVariable v(value);
    auto job = job_from_environment();
    ASSERT_TRUE(job) << job.error();
    EXPECT_FALSE(job->has_value());
  }
}

TEST(JobFromEnvironment, IsTheJobItNames) {
  JobIdVariable v("17");
  auto job = job_from_environment();
  ASSERT_TRUE(job) << job.error();
  EXPECT_EQ(*job, std::optional<uint64_t>(17));
}

TEST(JobFromEnvironment, AnythingElseIsAnErrorNotANewJob) {
  for (const char* value : {" ", "0", "-1", "abc", "1 2", "99999999999999999999"}) {
    JobIdVariable v(value);
    auto job = job_from_environment();
    ASSERT_FALSE(job) << "took CADRE_JOB_ID='" << value << "'";
    EXPECT_EQ(job.error().rfind("CADRE_JOB_ID: '" + std::string(value) + "' is not a job id", 0), 0u) << job.error();
  }
}

TEST(NodeName, TakesNamesAsNodesHaveThem) {
  for (const char* good : {"n1", "gpu-node.07", "node_3", "a b", "n[1-4]"})
    EXPECT_TRUE(check_node_name(good)) << good;
  EXPECT_TRUE(check_node_name(std::string(limits::kMaxNodeNameBytes, 'n')));
}

TEST(NodeName, RefusesEmptyLongSlashedAndControlNames) {
  EXPECT_EQ(check_node_name("").error(), "a node name is empty (''); give a name as `cadre nodes` lists it");
  EXPECT_EQ(check_node_name(std::string(limits::kMaxNodeNameBytes + 1, 'n')).error(),
            "node name '" + std::string(40, 'n') + "...' (201 bytes) is too long (at most 200 bytes)");
  EXPECT_EQ(check_node_name("../etc").error(),
            "node name '../etc' holds a '/'; give a name as `cadre nodes` lists it");
  EXPECT_EQ(check_node_name("x\x1b[2Jy").error(),
            "node name 'x\\e[2Jy' holds a control character; give a name as `cadre nodes` lists it");
}

}  // namespace
}  // namespace cadre::cli
