// Specification of common/job_mail: sbatch's --mail-type and --mail-user.
#include "common/job_mail.hpp"

#include <gtest/gtest.h>

namespace cadre {
namespace {

TEST(JobMail, MailTypesAsSbatchReadsThem) {
  EXPECT_EQ(*parse_mail_type("END,FAIL"), kMailEnd | kMailFail);
  EXPECT_EQ(*parse_mail_type("begin"), kMailBegin) << "any case";
  EXPECT_EQ(*parse_mail_type("NONE"), 0u);
  EXPECT_EQ(*parse_mail_type("ALL"),
            kMailBegin | kMailEnd | kMailFail | kMailRequeue | kMailInvalidDepend | kMailStageOut);
  EXPECT_EQ(*parse_mail_type("TIME_LIMIT_80,ARRAY_TASKS,END"), kMailTimeLimit80 | kMailArrayTasks | kMailEnd);
  EXPECT_EQ(format_mail_type(kMailEnd | kMailBegin | kMailArrayTasks), "BEGIN,END,ARRAY_TASKS");
  EXPECT_EQ(format_mail_type(0), "");
  for (const char* bad : {"", "END,", "SOMETIMES", "END;FAIL", "END FAIL"}) {
    auto r = parse_mail_type(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error().find("is not a mail type"), std::string::npos) << r.error();
    }
  }
}

TEST(JobMail, MailUsersCannotBeOptionsOrCarryControlCharacters) {
  EXPECT_TRUE(check_mail_user("ada"));
  EXPECT_TRUE(check_mail_user("ada.lovelace+hpc@example.org"));
  for (const char* bad : {"", "-oQ/tmp/x", "a b", "ada;rm", "ada\nBcc: x", "a,b"}) EXPECT_FALSE(check_mail_user(bad)) << bad;
  EXPECT_FALSE(check_mail_user(std::string(255, 'a')));
}

}  // namespace
}  // namespace cadre
