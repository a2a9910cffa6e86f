// Specification of common/begin_time: sbatch's --begin forms, read in the
// local time zone (UTC here, so the expected values are plain arithmetic).
#include "common/begin_time.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

namespace cadre {
namespace {

// 2026-12-07 10:30:00 UTC, a Monday.
constexpr int64_t kNow = 1796639400;
constexpr int64_t kDay = 86400;
constexpr int64_t kMidnight = kNow - 10 * 3600 - 30 * 60;  // 2026-12-07 00:00:00

class BeginTime : public ::testing::Test {
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
  static int64_t at(const char* text) {
    auto r = parse_begin_time(text, kNow);
    EXPECT_TRUE(r) << text << ": " << r.error();
    return r ? *r : -1;
  }
  static std::string error(const char* text) {
    auto r = parse_begin_time(text, kNow);
    EXPECT_FALSE(r) << text << " was read as " << (r ? *r : 0);
    return r ? "" : r.error();
  }

 private:
  std::optional<std::string> saved_;
};

TEST_F(BeginTime, TheTestClockIsWhatItSays) { EXPECT_EQ(format_local_time(kNow), "2026-12-07T10:30:00"); }

TEST_F(BeginTime, NowWithACountAndAUnit) {
  EXPECT_EQ(at("now"), kNow);
  EXPECT_EQ(at("now+60"), kNow + 60) << "seconds by default";
  EXPECT_EQ(at("now+1hour"), kNow + 3600);
  EXPECT_EQ(at("now + 2 hours"), kNow + 7200);
  EXPECT_EQ(at("now+30minutes"), kNow + 1800);
  EXPECT_EQ(at("NOW+3DAYS"), kNow + 3 * kDay);
  EXPECT_EQ(at("now+1week"), kNow + 7 * kDay);
  EXPECT_EQ(at("now-10seconds"), kNow - 10);
}

TEST_F(BeginTime, ATimeOfDayIsTodayOrTomorrowOncePast) {
  EXPECT_EQ(at("16:00"), kMidnight + 16 * 3600);
  EXPECT_EQ(at("16:00:30"), kMidnight + 16 * 3600 + 30);
  EXPECT_EQ(at("9:15"), kMidnight + kDay + 9 * 3600 + 15 * 60) << "9:15 has passed today";
  EXPECT_EQ(at("10:30"), kMidnight + kDay + 10 * 3600 + 30 * 60) << "this very minute has passed too";
  EXPECT_EQ(at("4:00 PM"), kMidnight + 16 * 3600);
  EXPECT_EQ(at("11:00am"), kMidnight + 11 * 3600);
  EXPECT_EQ(at("12:00am"), kMidnight + kDay);
  EXPECT_EQ(at("teatime"), kMidnight + 16 * 3600);
  EXPECT_EQ(at("fika"), kMidnight + 15 * 3600);
  EXPECT_EQ(at("elevenses"), kMidnight + 11 * 3600);
  EXPECT_EQ(at("noon"), kMidnight + 12 * 3600);
  EXPECT_EQ(at("midnight"), kMidnight + kDay);
}

TEST_F(BeginTime, DatesAloneAreTheirMidnight) {
  EXPECT_EQ(at("today"), kMidnight);
  EXPECT_EQ(at("tomorrow"), kMidnight + kDay);
  EXPECT_EQ(at("tomorrow 08:00"), kMidnight + kDay + 8 * 3600);
  EXPECT_EQ(at("2026-12-25"), kMidnight + 18 * kDay);
  EXPECT_EQ(at("2026-12-25T12:34:56"), kMidnight + 18 * kDay + 12 * 3600 + 34 * 60 + 56);
  EXPECT_EQ(at("2026-12-25T12:34"), kMidnight + 18 * kDay + 12 * 3600 + 34 * 60);
  EXPECT_EQ(at("12/25"), kMidnight + 18 * kDay);
  EXPECT_EQ(at("12.25.26"), kMidnight + 18 * kDay);
  EXPECT_EQ(at("122526"), kMidnight + 18 * kDay);
  EXPECT_EQ(at("1225"), kMidnight + 18 * kDay);
  EXPECT_EQ(at("12/25-18:00"), kMidnight + 18 * kDay + 18 * 3600);
  EXPECT_EQ(at("01/02"), at("2027-01-02")) << "a date already past this year is next year's";
  EXPECT_EQ(at("uts1800000000"), 1800000000);
}

TEST_F(BeginTime, WhatIsNotATimeIsRefusedWithTheForms) {
  for (const char* text : {"soon", "25:00", "12:60", "13:00pm", "2026-13-01", "2026-02-30", "02/31", "now+",
                           "now+1fortnight", "now*2", "12/25/2", "16:0", "uts", "uts12x", "1-2-3"}) {
    const std::string e = error(text);
    EXPECT_NE(e.find("expected HH:MM[:SS]"), std::string::npos) << text << ": " << e;
  }
  EXPECT_EQ(error(""), error("").substr(0, 0) + "--begin: give a time (" +
                           error("soon").substr(error("soon").find("expected")) + ")");
}

// sacct's --starttime and --endtime read the same forms toward the past.
TEST_F(BeginTime, PastTimesFillInWhatIsLeftOutBackwards) {
  auto past = [](const char* text) {
    auto r = parse_past_time(text, kNow, "--starttime");
    EXPECT_TRUE(r) << text << ": " << r.error();
    return r ? *r : -1;
  };
  EXPECT_EQ(past("midnight"), kMidnight) << "today's, not tomorrow's";
  EXPECT_EQ(past("9:15"), kMidnight + 9 * 3600 + 15 * 60) << "already past today: today";
  EXPECT_EQ(past("16:00"), kMidnight - kDay + 16 * 3600) << "still ahead today: yesterday";
  EXPECT_EQ(past("now-1day"), kNow - kDay);
  EXPECT_EQ(past("now-2hours"), kNow - 7200);
  EXPECT_EQ(past("2026-12-01"), kMidnight - 6 * kDay);
  EXPECT_EQ(past("2026-12-07T10:00:00"), kMidnight + 10 * 3600);
  EXPECT_EQ(past("1201"), kMidnight - 6 * kDay);
  EXPECT_EQ(past("12/25"), past("2025-12-25")) << "a date still ahead this year is last year's";
  EXPECT_EQ(past("today"), kMidnight);
}

TEST_F(BeginTime, PastTimeErrorsNameTheOption) {
  auto r = parse_past_time("yesterday-ish", kNow, "--endtime");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().rfind("--endtime 'yesterday-ish': expected HH:MM[:SS]", 0), 0u) << r.error();
}

}  // namespace
}  // namespace cadre
