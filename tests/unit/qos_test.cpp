// Specification of QOS (master/qos.hpp): how a job's --qos is resolved and
// bounded, who may use one, how [[qos]] tables are read, and what the
// scheduler does with a QOS (limits per user, priority factor, tier).
#include "master/qos.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "master/config.hpp"
#include "master/scheduler/decide.hpp"

namespace cadre {
namespace {

QosConfig qos(std::string name) {
  QosConfig q;
  q.name = std::move(name);
  return q;
}

JobSpec spec_with(std::string qos_name) {
  JobSpec s;
  s.qos = std::move(qos_name);
  s.per_task = Resources{1000, 1024, 1};
  s.ntasks = 2;
  return s;
}

TEST(QosResolve, WithNoneConfiguredAnyNameIsRecordedAndNoneIsNormal) {
  JobSpec named = spec_with("high");
  ASSERT_TRUE(apply_qos({}, named));
  EXPECT_EQ(named.qos, "high");
  JobSpec none = spec_with("");
  ASSERT_TRUE(apply_qos({}, none));
  EXPECT_EQ(none.qos, "normal");
}

TEST(QosResolve, TheDefaultIsTheMarkedOneElseNormalElseTheFirst) {
  std::vector<QosConfig> t = {qos("long"), qos("Normal"), qos("high")};
  EXPECT_EQ(default_qos_name(t), "Normal");
  t[2].is_default = true;
  EXPECT_EQ(default_qos_name(t), "high");
  EXPECT_EQ(default_qos_name({qos("long"), qos("short")}), "long");
  JobSpec s = spec_with("");
  ASSERT_TRUE(apply_qos(t, s));
  EXPECT_EQ(s.qos, "high");
}

TEST(QosResolve, NamesMatchInAnyCaseAndTakeTheConfiguredSpelling) {
  JobSpec s = spec_with("HIGH");
  ASSERT_TRUE(apply_qos({qos("normal"), qos("high")}, s));
  EXPECT_EQ(s.qos, "high");
}

TEST(QosResolve, AnUnknownNameIsRefusedWithTheDefinedOnes) {
  JobSpec s = spec_with("urgent");
  Status st = apply_qos({qos("normal"), qos("high")}, s);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("no QOS 'urgent'"), std::string::npos) << st.error();
  EXPECT_NE(st.error().find("normal, high"), std::string::npos) << st.error();
}

TEST(QosResolve, MaxTimeBoundsAJobWithoutTimeAndRefusesOneThatAsksForMore) {
  QosConfig q = qos("short");
  q.max_time_s = 3600;
  JobSpec none = spec_with("short");
  ASSERT_TRUE(apply_qos({q}, none));
  EXPECT_EQ(none.time_limit_s, 3600) << "no --time: MaxWall, as Slurm";
  JobSpec defaulted = spec_with("short");
  defaulted.time_limit_s = 7200;  // a partition default longer than MaxWall
  ASSERT_TRUE(apply_qos({q}, defaulted));
  EXPECT_EQ(defaulted.time_limit_s, 3600);
  JobSpec shorter = spec_with("short");
  shorter.time_limit_s = 600;
  shorter.time_limit_given = true;
  ASSERT_TRUE(apply_qos({q}, shorter));
  EXPECT_EQ(shorter.time_limit_s, 600);
  JobSpec longer = spec_with("short");
  longer.time_limit_s = 7200;
  longer.time_limit_given = true;
  Status st = apply_qos({q}, longer);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("QOS short allows at most"), std::string::npos) << st.error();
  JobSpec unlimited = spec_with("short");
  unlimited.time_limit_given = true;  // --time=UNLIMITED
  EXPECT_FALSE(apply_qos({q}, unlimited));
}

TEST(QosResolve, AJobAskingForMoreGpusThanTheQosAllowsOneUserIsRefused) {
  QosConfig q = qos("small");
  q.max_gpus_per_user = 1;
  JobSpec s = spec_with("small");  // 2 ranks of 1 GPU
  Status st = apply_qos({q}, s);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("at most 1 GPUs"), std::string::npos) << st.error();
}

TEST(QosAccess, ListedUsersOrAccountsOnlyAndAdminsAlways) {
  QosConfig q = qos("vip");
  q.users = {"alice"};
  q.accounts = {"physics"};
  std::vector<QosConfig> t = {qos("normal"), q};
  EXPECT_TRUE(may_use_qos(t, "vip", "alice", "alice", false));
  EXPECT_TRUE(may_use_qos(t, "VIP", "bob", "physics", false));
  Status st = may_use_qos(t, "vip", "bob", "bob", false);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("may not use QOS vip"), std::string::npos) << st.error();
  EXPECT_TRUE(may_use_qos(t, "vip", "bob", "bob", true));
  EXPECT_TRUE(may_use_qos(t, "normal", "bob", "bob", false)) << "no lists: everyone";
}

TEST(QosConfigFile, ReadsEveryKey) {
  auto c = parse_master_config(R"(
[scheduler.weights]
qos = 500.0

[[qos]]
name = "normal"
default = true

[[qos]]
name = "high"
priority = 100
tier = 3
preemptible = false
max_time = "2h"
max_running_jobs_per_user = 4
max_gpus_per_user = 16
users = ["alice"]
accounts = ["physics"]
)",
                               "cadre.toml");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->policy.weights.qos, 500.0);
  ASSERT_EQ(c->qos.size(), 2u);
  EXPECT_TRUE(c->qos[0].is_default);
  EXPECT_FALSE(c->qos[0].tier.has_value());
  const QosConfig& h = c->qos[1];
  EXPECT_EQ(h.priority, 100);
  EXPECT_EQ(h.tier, 3);
  EXPECT_FALSE(h.preemptible);
  EXPECT_EQ(h.max_time_s, 7200);
  EXPECT_EQ(h.max_running_jobs_per_user, 4u);
  EXPECT_EQ(h.max_gpus_per_user, 16);
  EXPECT_EQ(h.users, std::vector<std::string>{"alice"});
  EXPECT_EQ(h.accounts, std::vector<std::string>{"physics"});
}

TEST(QosConfigFile, RefusesDuplicatesTwoDefaultsUnknownKeysAndNoName) {
  auto dup = parse_master_config("[[qos]]\nname = \"high\"\n[[qos]]\nname = \"HIGH\"\n", "cadre.toml");
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().find("already the name of a QOS"), std::string::npos) << dup.error();
  auto two = parse_master_config("[[qos]]\nname = \"a\"\ndefault = true\n[[qos]]\nname = \"b\"\ndefault = true\n",
                                 "cadre.toml");
  ASSERT_FALSE(two);
  EXPECT_NE(two.error().find("both marked default"), std::string::npos) << two.error();
  auto unknown = parse_master_config("[[qos]]\nname = \"a\"\nmax_wall = \"1h\"\n", "cadre.toml");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().find("max_wall"), std::string::npos) << unknown.error();
  EXPECT_FALSE(parse_master_config("[[qos]]\npriority = 1\n", "cadre.toml"));
  EXPECT_FALSE(parse_master_config("[[qos]]\nname = \"a\"\npriority = -1\n", "cadre.toml"));
  EXPECT_FALSE(parse_master_config("[qos]\nname = \"a\"\n", "cadre.toml")) << "one bracket";
}

// ---- the scheduler ----

sched::NodeView node(std::string name, int64_t cpus, int64_t gpus) {
  sched::NodeView n;
  n.name = std::move(name);
  n.total = Resources{cpus * 1000, 64 * 1024, gpus};
  n.free = n.total;
  n.free_gpus.resize(static_cast<size_t>(gpus));
  std::iota(n.free_gpus.begin(), n.free_gpus.end(), 0u);
  return n;
}

sched::PendingJob one_gpu_job(JobId id, uint32_t qos_index, uint32_t user = 0) {
  sched::PendingJob j;
  j.id = id;
  j.qos = qos_index;
  j.user = user;
  j.submit_time = 100;
  j.shape = sched::GangShape{Resources{1000, 1024, 1}, 0, 0, 1};
  return j;
}

std::string reason_of(const sched::Decisions& d, JobId id) {
  for (const sched::Placement& p : d.placements)
    if (p.job == id) return "placed";
  for (const sched::Waiting& w : d.waiting)
    if (w.job == id) return std::string(sched::to_string(w.reason));
  return "missing";
}

sched::Snapshot qos_cluster() {
  sched::Snapshot s;
  s.nodes = {node("a", 8, 8)};
  s.partitions = {sched::PartitionView{"main"}};
  s.gpu_models = {""};
  sched::QosView limited;
  limited.name = "limited";
  limited.max_running_jobs_per_user = 2;
  limited.max_gpus_per_user = 3;
  s.qos = {sched::QosView{}, limited};
  return s;
}

TEST(QosScheduling, MaxRunningJobsPerUserHoldsTheRestWithSlurmsReason) {
  sched::Snapshot s = qos_cluster();
  s.pending = {one_gpu_job(1, 1), one_gpu_job(2, 1), one_gpu_job(3, 1), one_gpu_job(4, 1, /*user=*/1),
               one_gpu_job(5, 0)};
  sched::Decisions d = sched::decide(s, sched::Policy{}, 1000);
  EXPECT_EQ(reason_of(d, 1), "placed");
  EXPECT_EQ(reason_of(d, 2), "placed");
  EXPECT_EQ(reason_of(d, 3), "QOSMaxJobsPerUserLimit");
  EXPECT_EQ(reason_of(d, 4), "placed") << "another user's count";
  EXPECT_EQ(reason_of(d, 5), "placed") << "no QOS, no limit";
}

TEST(QosScheduling, MaxGpusPerUserCountsWhatTheUserRunsAlready) {
  sched::Snapshot s = qos_cluster();
  s.qos[1].max_running_jobs_per_user = 0;
  sched::RunningJob r;
  r.id = 9;
  r.qos = 1;
  r.start_time = 500;
  r.expected_end = 5000;
  r.per_task = Resources{1000, 1024, 1};
  r.ranks = {sched::RankUse{0, {0}}, sched::RankUse{0, {1}}};  // 2 GPUs under the QOS
  s.nodes[0].free = Resources{6000, 62 * 1024, 6};
  s.nodes[0].free_gpus = {2, 3, 4, 5, 6, 7};
  s.running = {r};
  s.pending = {one_gpu_job(1, 1), one_gpu_job(2, 1)};
  sched::Decisions d = sched::decide(s, sched::Policy{}, 1000);
  EXPECT_EQ(reason_of(d, 1), "placed");
  EXPECT_EQ(reason_of(d, 2), "QOSMaxGRESPerUser");
}

TEST(QosScheduling, TheQosPriorityFactorRanksJobsAndIsExplained) {
  sched::Snapshot s = qos_cluster();
  s.nodes = {node("a", 1, 0)};
  sched::QosView high;
  high.name = "high";
  high.priority = 1.0;
  s.qos.push_back(high);
  sched::PendingJob low = one_gpu_job(1, 0), top = one_gpu_job(2, 2);
  low.shape.per_task.gpus = top.shape.per_task.gpus = 0;
  s.pending = {low, top};
  sched::Decisions d = sched::decide(s, sched::Policy{}, 1000);
  EXPECT_EQ(reason_of(d, 2), "placed") << "the QOS's priority ranks it first, though submitted together";
  EXPECT_NE(reason_of(d, 1), "placed");
  for (const sched::Waiting& w : d.waiting) {
    if (w.job == 1) {
      EXPECT_EQ(w.priority.qos, 0.0);
    }
  }
}

TEST(QosScheduling, AQosTierPreemptsALowerTierAndANonPreemptibleQosIsSpared) {
  sched::Snapshot s = qos_cluster();
  s.nodes = {node("a", 4, 4)};
  sched::QosView urgent, guarded;
  urgent.name = "urgent";
  urgent.has_tier = true;
  urgent.tier = 5;
  guarded.name = "guarded";
  guarded.preemptible = false;
  s.qos = {sched::QosView{}, urgent, guarded};
  sched::RunningJob r;
  r.id = 9;
  r.qos = 0;
  r.start_time = 500;
  r.expected_end = 5000;
  r.per_task = Resources{4000, 1024, 4};
  r.ranks = {sched::RankUse{0, {0, 1, 2, 3}}};
  s.nodes[0].free = Resources{0, 63 * 1024, 0};
  s.nodes[0].free_gpus.clear();
  s.running = {r};
  sched::PendingJob j = one_gpu_job(1, 1);
  j.shape.per_task = Resources{4000, 1024, 4};
  s.pending = {j};
  sched::Decisions d = sched::decide(s, sched::Policy{}, 1000);
  ASSERT_EQ(d.preemptions.size(), 1u);
  EXPECT_EQ(d.preemptions[0].victims, std::vector<JobId>{9});

  s.running[0].qos = 2;  // the running job's QOS forbids preemption
  d = sched::decide(s, sched::Policy{}, 1000);
  EXPECT_TRUE(d.preemptions.empty());
}

}  // namespace
}  // namespace cadre
