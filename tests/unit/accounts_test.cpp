// Specification of master/state/accounts: who may charge which account,
// and who may raise a job's priority.
#include "master/state/accounts.hpp"

#include <gtest/gtest.h>

#include <string>

#include "common/job_validation.hpp"
#include "common/limits.hpp"

namespace cadre {
namespace {

AccountTable physics_and_chem() {
  return AccountTable(AccountTable::Members{{"physics", {"bob", "alice"}}, {"chem", {"carol"}}, {"empty", {}}});
}

TEST(AccountTable, AUserAlwaysChargesTheirOwnNameWhichIsTheDefault) {
  AccountTable none;
  EXPECT_TRUE(none.may_charge("alice", "alice", false));
  EXPECT_TRUE(none.may_charge("alice", "", false));
  EXPECT_TRUE(physics_and_chem().may_charge("carol", "carol", false));
}

TEST(AccountTable, MembersChargeTheirAccountsAndNoOthers) {
  AccountTable t = physics_and_chem();
  EXPECT_TRUE(t.may_charge("alice", "physics", false));
  EXPECT_TRUE(t.may_charge("bob", "physics", false));
  EXPECT_TRUE(t.may_charge("carol", "chem", false));
  EXPECT_FALSE(t.may_charge("carol", "physics", false));
  EXPECT_FALSE(t.may_charge("alice", "chem", false));
  EXPECT_FALSE(t.may_charge("alice", "empty", false));
  EXPECT_FALSE(t.may_charge("alice", "bob", false)) << "another user's own account is theirs alone";
}

TEST(AccountTable, ARefusalNamesTheMembersAndWhatToDo) {
  Status s = AccountTable(AccountTable::Members{{"physics", {"bob"}}}).may_charge("alice", "physics", false);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(),
            "user alice is not a member of account physics (members: bob); ask an admin to add you under "
            "[accounts] in cadre.toml");
}

TEST(AccountTable, AnUnknownAccountIsRefusedWithTheUsersOwnAccounts) {
  Status s = physics_and_chem().may_charge("alice", "phsyics", false);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(),
            "account phsyics does not exist (yours: alice, physics); ask an admin to add you under [accounts] in "
            "cadre.toml");
}

TEST(AccountTable, ALongMemberListIsCutShort) {
  std::vector<std::string> many;
  for (int i = 0; i < 25; ++i) many.push_back("u" + std::to_string(100 + i));
  Status s = AccountTable(AccountTable::Members{{"big", many}}).may_charge("alice", "big", false);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().find("u109 and 15 more)"), std::string::npos) << s.error();
  EXPECT_EQ(s.error().find("u110"), std::string::npos) << s.error();
}

TEST(AccountTable, AdminsChargeAnyAccount) {
  AccountTable t = physics_and_chem();
  EXPECT_TRUE(t.may_charge("root", "physics", true));
  EXPECT_TRUE(t.may_charge("ops", "chem", true));
  EXPECT_TRUE(t.may_charge("ops", "alice", true)) << "a user's own account is not listed, yet an admin may charge it";
}

TEST(AccountTable, AccountsOfAUserAreTheirNameThenTheirListedAccounts) {
  AccountTable t(AccountTable::Members{{"zoo", {"alice"}}, {"physics", {"alice", "bob"}}, {"alice", {"alice", "carol"}}});
  EXPECT_EQ(t.accounts_of("alice"), (std::vector<std::string>{"alice", "physics", "zoo"}));
  EXPECT_EQ(t.accounts_of("carol"), (std::vector<std::string>{"carol", "alice"}));
  EXPECT_EQ(t.accounts_of("nobody"), (std::vector<std::string>{"nobody"}));
}

TEST(AccountNames, AreUserNamesOfAtMostTheUserNameLimit) {
  EXPECT_TRUE(check_account_name("physics", "account"));
  EXPECT_TRUE(check_account_name("Lab_2.b-c", "account"));
  EXPECT_TRUE(check_account_name(std::string(limits::kMaxUserNameBytes, 'a'), "account"));
  EXPECT_FALSE(check_account_name(std::string(limits::kMaxUserNameBytes + 1, 'a'), "account"));
  EXPECT_FALSE(check_account_name("", "account"));
  EXPECT_FALSE(check_account_name("-rf", "user"));
  EXPECT_FALSE(check_account_name(".hidden", "user"));
  EXPECT_FALSE(check_account_name("a b", "user"));
  EXPECT_FALSE(check_account_name("a/b", "user"));
  EXPECT_NE(check_account_name("a b", "user").error().find("not a usable user name"), std::string::npos);
}

TEST(JobPriority, OnlyAdminsRaiseItAboveTheDefault) {
  EXPECT_TRUE(may_set_priority(limits::kDefaultPriority, false));
  EXPECT_TRUE(may_set_priority(limits::kDefaultPriority - 100, false)) << "anyone may lower their own job";
  EXPECT_TRUE(may_set_priority(limits::kMaxPriority, true));
  Status s = may_set_priority(limits::kDefaultPriority + 5, false);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().find("only admins may raise a job's priority above 0 (asked for 5)"), std::string::npos)
      << s.error();
}

}  // namespace
}  // namespace cadre
