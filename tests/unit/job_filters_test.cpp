// Specification of cli/job_filters: which jobs `cadre queue` lists and
// `cadre cancel` acts on, as squeue's and scancel's filters choose them.
#include "cli/job_filters.hpp"

#include <gtest/gtest.h>

#include <string>

#include "common/limits.hpp"

namespace cadre::cli {
namespace {

JobFacts job(uint64_t id, std::string_view user, std::string_view state, std::string_view name = "train",
             std::string_view partition = "gpu", std::string_view account = "physics", uint32_t uid = 1000) {
  return JobFacts{id, user, uid, state, name, partition, account};
}

TEST(JobFilter, WithNoFiltersMatchesEveryJob) {
  JobFilter f;
  EXPECT_FALSE(f.any());
  EXPECT_TRUE(matches(f, job(1, "alice", "PENDING")));
  EXPECT_TRUE(matches(f, job(2, "bob", "COMPLETED", "", "", "")));
}

TEST(JobFilter, ValuesOfOneKindAreAlternatives) {
  JobFilter f;
  f.users = {"alice", "carol"};
  EXPECT_TRUE(f.any());
  EXPECT_TRUE(matches(f, job(1, "alice", "PENDING")));
  EXPECT_TRUE(matches(f, job(2, "carol", "RUNNING")));
  EXPECT_FALSE(matches(f, job(3, "bob", "RUNNING")));
}

TEST(JobFilter, KindsMustAllMatch) {
  JobFilter f;
  f.users = {"alice"};
  f.states = {"PENDING"};
  f.partitions = {"gpu"};
  EXPECT_TRUE(matches(f, job(1, "alice", "PENDING")));
  EXPECT_FALSE(matches(f, job(2, "alice", "RUNNING")));
  EXPECT_FALSE(matches(f, job(3, "bob", "PENDING")));
  EXPECT_FALSE(matches(f, job(4, "alice", "PENDING", "train", "cpu")));
}

TEST(JobFilter, APendingJobsPartitionListMatchesAnyOfItsPartitions) {
  JobFilter f;
  f.partitions = {"b"};
  EXPECT_TRUE(matches(f, job(1, "alice", "PENDING", "x", "a,b")));
  EXPECT_TRUE(matches(f, job(2, "alice", "PENDING", "x", "b,c")));
  EXPECT_FALSE(matches(f, job(3, "alice", "PENDING", "x", "a,bb")));
  EXPECT_FALSE(matches(f, job(4, "alice", "PENDING", "x", "ab")));
}

TEST(JobFilter, AUserIsANameOrAUidNumber) {
  JobFilter f;
  f.users = {"1000"};
  EXPECT_TRUE(matches(f, job(1, "alice", "PENDING", "x", "p", "a", 1000)));
  EXPECT_FALSE(matches(f, job(2, "bob", "PENDING", "x", "p", "a", 1001)));
  f.users = {"99999999999999999999"};  // no uid is that large: a name no one has
  EXPECT_FALSE(matches(f, job(3, "alice", "PENDING")));
}

TEST(JobFilter, IdsNameExactJobs) {
  JobFilter f;
  f.ids = {4, 9};
  EXPECT_TRUE(matches(f, job(4, "alice", "PENDING")));
  EXPECT_TRUE(matches(f, job(9, "alice", "PENDING")));
  EXPECT_FALSE(matches(f, job(5, "alice", "PENDING")));
}

TEST(JobFilter, QueueComparesNamesAndAccountsInAnyCaseButCancelExactly) {
  JobFilter f;
  f.names = {"Train"};
  f.accounts = {"PHYSICS"};
  EXPECT_FALSE(matches(f, job(1, "alice", "PENDING", "train", "gpu", "physics")));
  f.fold_case = true;
  EXPECT_TRUE(matches(f, job(1, "alice", "PENDING", "train", "gpu", "physics")));
  EXPECT_FALSE(matches(f, job(2, "alice", "PENDING", "trains", "gpu", "physics")));
  // Partitions are always exact, as in squeue.
  f.partitions = {"GPU"};
  EXPECT_FALSE(matches(f, job(1, "alice", "PENDING", "train", "gpu", "physics")));
}

TEST(JobFilter, AJobWithoutAnAccountIsChargedToItsUser) {
  JobFilter f;
  f.accounts = {"alice"};
  EXPECT_TRUE(matches(f, job(1, "alice", "PENDING", "x", "p", "")));
  EXPECT_FALSE(matches(f, job(2, "bob", "PENDING", "x", "p", "")));
}

TEST(JobFilter, AllStatesMatchesWhateverTheState) {
  JobFilter f;
  ASSERT_TRUE(parse_queue_states("--states", "all", f));
  EXPECT_TRUE(f.all_states);
  EXPECT_TRUE(f.any());
  EXPECT_TRUE(f.wants_ended());
  EXPECT_TRUE(matches(f, job(1, "alice", "TIMEOUT")));
}

TEST(QueueStates, TakeLongAndShortNamesInAnyCase) {
  JobFilter f;
  Status s = parse_queue_states("--states", "pd,Running,CD,f,ca,TO,nf,oom", f);
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ(f.states, (std::vector<std::string>{"PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT",
                                                "NODE_FAIL", "OUT_OF_MEMORY"}));
  EXPECT_TRUE(matches(f, job(1, "alice", "OUT_OF_MEMORY")));
}

TEST(QueueStates, OnlyPendingAndRunningNeedNoEndedJobs) {
  JobFilter f;
  ASSERT_TRUE(parse_queue_states("--states", "PD,R", f));
  EXPECT_FALSE(f.wants_ended());
  EXPECT_TRUE(matches(f, job(1, "alice", "RUNNING")));
  EXPECT_FALSE(matches(f, job(2, "alice", "COMPLETED")));
  ASSERT_TRUE(parse_queue_states("--states", "R,CD", f));
  EXPECT_TRUE(f.wants_ended());
  EXPECT_FALSE(matches(f, job(3, "alice", "PENDING")));
}

TEST(QueueStates, SlurmStatesCadreNeverEntersMatchNoJob) {
  JobFilter f;
  ASSERT_TRUE(parse_queue_states("--states", "S,cg,SUSPENDED", f));
  EXPECT_FALSE(f.wants_ended());
  for (const char* state : {"PENDING", "RUNNING", "COMPLETED"}) EXPECT_FALSE(matches(f, job(1, "alice", state)));
}

TEST(QueueStates, AnUnknownStateListsTheValidOnes) {
  for (const char* bad : {"BOGUS", "", "PD,", ",R", "PD,,R", "PENDINGX"}) {
    JobFilter f;
    Status s = parse_queue_states("--states", bad, f);
    ASSERT_FALSE(s) << "accepted '" << bad << "'";
    EXPECT_NE(s.error().find("--states: "), std::string::npos) << s.error();
    EXPECT_NE(s.error().find("is not a job state"), std::string::npos) << s.error();
    EXPECT_NE(s.error().find("PENDING (PD), RUNNING (R), COMPLETED (CD)"), std::string::npos) << s.error();
    EXPECT_NE(s.error().find("OUT_OF_MEMORY (OOM), DEADLINE (DL), or all"), std::string::npos) << s.error();
  }
  JobFilter f;
  EXPECT_EQ(parse_queue_states("--states", "x\x01y", f).error().substr(0, 22), "--states: 'x\\x01y' is ");
}

TEST(CancelState, IsPendingOrRunningInAnyCase) {
  for (auto [text, want] : {std::pair{"PENDING", "PENDING"}, {"pd", "PENDING"}, {"R", "RUNNING"},
                            {"running", "RUNNING"}}) {
    auto s = parse_cancel_state("--state", text);
    ASSERT_TRUE(s) << s.error();
    EXPECT_EQ(*s, want);
  }
}

TEST(CancelState, RefusesOtherStatesSayingWhichItTakes) {
  EXPECT_EQ(parse_cancel_state("--state", "SUSPENDED").error(),
            "--state: cadre never suspends jobs; give PENDING (PD) or RUNNING (R)");
  EXPECT_EQ(parse_cancel_state("--state", "cd").error(),
            "--state: only active jobs can be cancelled, not COMPLETED; give PENDING (PD) or RUNNING (R)");
  EXPECT_EQ(parse_cancel_state("--state", "PD,R").error(),
            "--state: 'PD,R' is not a job state; give PENDING (PD) or RUNNING (R)");
  EXPECT_EQ(parse_cancel_state("--state", "").error(),
            "--state: '' is not a job state; give PENDING (PD) or RUNNING (R)");
}

TEST(FilterWords, AreCheckedForWhatTheyName) {
  auto ok = parse_filter_word("--user", FilterText::user, "alice");
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ(*ok, "alice");
  EXPECT_EQ(parse_filter_word("--user", FilterText::user, "").error(),
            "--user: the user name is empty; give one, e.g. --user alice");
  EXPECT_EQ(parse_filter_word("--partition", FilterText::partition, "a\x1b[2Jb").error(),
            "--partition: the partition name 'a\\e[2Jb' holds a control character, which no partition name has");
  EXPECT_EQ(parse_filter_word("--account", FilterText::account, "x\xffy").error(),
            "--account: the account name 'x\\xffy' is not UTF-8");
  auto long_name = parse_filter_word("--name", FilterText::job_name, std::string(limits::kMaxJobNameBytes + 1, 'a'));
  ASSERT_FALSE(long_name);
  EXPECT_NE(long_name.error().find("--name: the job name '"), std::string::npos) << long_name.error();
  EXPECT_NE(long_name.error().find("is 257 bytes; at most 256 are allowed"), std::string::npos) << long_name.error();
  EXPECT_TRUE(parse_filter_word("--name", FilterText::job_name, std::string(limits::kMaxJobNameBytes, 'a')));
  EXPECT_FALSE(parse_filter_word("--user", FilterText::user, std::string(limits::kMaxUserNameBytes + 1, 'a')));
}

TEST(FilterWords, AJobNameMayHoldAnyText) {
  // cadre submit takes such names, so the filter must be able to name them.
  auto r = parse_filter_word("--name", FilterText::job_name, "x\x01y z");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(*r, "x\x01y z");
}

TEST(FilterLists, SplitAtCommasAndRefuseEmptyItems) {
  auto r = parse_filter_list("--user", FilterText::user, "alice,bob");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(*r, (std::vector<std::string>{"alice", "bob"}));
  for (const char* bad : {"alice,", ",alice", "alice,,bob", ","}) {
    auto e = parse_filter_list("--user", FilterText::user, bad);
    ASSERT_FALSE(e) << "accepted '" << bad << "'";
    EXPECT_EQ(e.error(), "--user: '" + std::string(bad) + "' has an empty item; separate values by single commas");
  }
  EXPECT_EQ(parse_filter_list("--user", FilterText::user, "").error(),
            "--user: the user name is empty; give one, e.g. --user alice");
  EXPECT_EQ(parse_filter_list("--account", FilterText::account, "ok,x\ny").error(),
            "--account: the account name 'x\\ny' holds a control character, which no account name has");
}

TEST(JobIdLists, AreCommaSeparatedJobIds) {
  auto r = parse_job_id_list("--jobs", "4,9,12");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(*r, (std::vector<uint64_t>{4, 9, 12}));
  EXPECT_EQ(parse_job_id_list("--jobs", "").error(), "--jobs: give job ids, e.g. --jobs 42,43");
  EXPECT_EQ(parse_job_id_list("--jobs", "4,x").error(), "--jobs: 'x' is not a job id (a positive whole number)");
  EXPECT_EQ(parse_job_id_list("--jobs", "4,").error(), "--jobs: '' is not a job id (a positive whole number)");
  EXPECT_EQ(parse_job_id_list("--jobs", "0").error(), "--jobs: '0' is not a job id (a positive whole number)");
}

}  // namespace
}  // namespace cadre::cli
