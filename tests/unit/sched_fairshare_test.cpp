// Specification of master/scheduler/fairshare: decayed usage and the
// fair-share factor (Slurm's classic 2^(-usage_share / fair_share)).
#include "master/scheduler/fairshare.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace cadre::sched {
namespace {

TEST(FairShare, UsageHalvesEveryHalfLife) {
  FairShare fs(100);
  fs.advance(0);
  fs.charge("ann", "lab", 1000);
  fs.advance(100);
  EXPECT_NEAR(fs.user_usage("ann"), 500, 1e-9);
  EXPECT_NEAR(fs.account_usage("lab"), 500, 1e-9);
  fs.advance(300);
  EXPECT_NEAR(fs.user_usage("ann"), 125, 1e-9);
  fs.advance(350);  // half a half-life: 1/sqrt(2)
  EXPECT_NEAR(fs.user_usage("ann"), 125 / std::sqrt(2.0), 1e-9);
}

TEST(FairShare, TimeNeverRunsBackwards) {
  FairShare fs(100);
  fs.advance(1000);
  fs.charge("ann", "lab", 800);
  fs.advance(900);
  EXPECT_EQ(fs.as_of(), 1000);
  EXPECT_NEAR(fs.user_usage("ann"), 800, 1e-9);
}

TEST(FairShare, AUserWithoutUsageHasFactorOne) {
  FairShare fs(100);
  fs.advance(0);
  EXPECT_DOUBLE_EQ(fs.user_factor("nobody"), 1.0) << "nothing charged at all";
  fs.charge("ann", "lab", 100);
  fs.touch("bob", "lab");
  EXPECT_DOUBLE_EQ(fs.user_factor("bob"), 1.0) << "known, no usage";
  EXPECT_DOUBLE_EQ(fs.user_factor("carol"), 1.0) << "unknown";
}

TEST(FairShare, EqualUsageGivesOneHalf) {
  FairShare fs(100);
  fs.advance(0);
  fs.charge("ann", "lab", 300);
  fs.charge("bob", "lab", 300);
  EXPECT_NEAR(fs.user_factor("ann"), 0.5, 1e-12);
  EXPECT_NEAR(fs.user_factor("bob"), 0.5, 1e-12);
  // Decay is uniform, so it keeps the shares.
  fs.advance(250);
  EXPECT_NEAR(fs.user_factor("ann"), 0.5, 1e-12);
}

TEST(FairShare, TheHeavierUserHasTheLowerFactor) {
  FairShare fs(100);
  fs.advance(0);
  fs.charge("ann", "a", 900);
  fs.charge("bob", "b", 100);
  EXPECT_LT(fs.user_factor("ann"), fs.user_factor("bob"));
  EXPECT_LT(fs.account_factor("a"), fs.account_factor("b"));
  // ann has 0.9 of the usage against a fair share of 0.5.
  EXPECT_NEAR(fs.user_factor("ann"), std::exp2(-0.9 / 0.5), 1e-12);
  EXPECT_NEAR(fs.user_factor("bob"), std::exp2(-0.1 / 0.5), 1e-12);
}

TEST(FairShare, OldUsageWeighsLessThanNewUsage) {
  FairShare fs(100);
  fs.advance(0);
  fs.charge("ann", "lab", 1000);  // long ago
  fs.advance(400);                // ann's usage is 62.5 now
  fs.charge("bob", "lab", 500);   // recent
  EXPECT_GT(fs.user_factor("ann"), fs.user_factor("bob"));
}

TEST(FairShare, BillingCountsCpusAndWeightedGpus) {
  FairShare fs(100, 8.0);
  EXPECT_DOUBLE_EQ(fs.billing(Resources{2000, 4096, 0}), 2.0);
  EXPECT_DOUBLE_EQ(fs.billing(Resources{1500, 0, 2}), 17.5);
}

TEST(FairShare, RestoreResumesFromSavedUsage) {
  FairShare fs(100);
  fs.restore({{"ann", 400}, {"bob", 400}}, {{"lab", 800}}, 5000);
  EXPECT_EQ(fs.as_of(), 5000);
  EXPECT_NEAR(fs.user_factor("ann"), 0.5, 1e-12);
  fs.advance(5100);
  EXPECT_NEAR(fs.user_usage("ann"), 200, 1e-9);
  EXPECT_NEAR(fs.account_usage("lab"), 400, 1e-9);
}

}  // namespace
}  // namespace cadre::sched
