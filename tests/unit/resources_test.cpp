// Specification of common/resources: integer quantities, sizes and Slurm times.
#include "common/resources.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace cadre {
namespace {

// ---- Resources arithmetic ----

TEST(Resources, AddAndSubtractQuantityByQuantity) {
  Resources a{2000, 4096, 1};
  Resources b{500, 1024, 1};
  EXPECT_EQ(a + b, (Resources{2500, 5120, 2}));
  EXPECT_EQ(a - b, (Resources{1500, 3072, 0}));
  Resources c = a;
  c += b;
  c -= b;
  EXPECT_EQ(c, a);
}

TEST(Resources, TimesMultipliesEveryQuantity) {
  EXPECT_EQ((Resources{1500, 512, 2}).times(4), (Resources{6000, 2048, 8}));
  EXPECT_TRUE((Resources{1500, 512, 2}).times(0).is_zero());
}

TEST(Resources, NonNegativeIsFalseWhenAnyQuantityIsBelowZero) {
  EXPECT_TRUE((Resources{0, 0, 0}).non_negative());
  EXPECT_FALSE((Resources{-1, 0, 0}).non_negative());
  EXPECT_FALSE((Resources{0, -1, 0}).non_negative());
  EXPECT_FALSE((Resources{0, 0, -1}).non_negative());
}

TEST(Resources, ToStringReadsLikeTheCli) {
  EXPECT_EQ((Resources{2000, 4096, 1}).to_string(), "cpus=2 mem=4G gpus=1");
  EXPECT_EQ((Resources{1500, 1536, 0}).to_string(), "cpus=1.5 mem=1536M gpus=0");
}

TEST(Resources, FormatCpusDropsTrailingZeros) {
  EXPECT_EQ(format_cpus(0), "0");
  EXPECT_EQ(format_cpus(2000), "2");
  EXPECT_EQ(format_cpus(1500), "1.5");
  EXPECT_EQ(format_cpus(1250), "1.25");
  EXPECT_EQ(format_cpus(1005), "1.005");
}

TEST(Resources, FitsChecksEveryQuantity) {
  Resources free{4000, 8192, 2};
  EXPECT_TRUE(fits(Resources{4000, 8192, 2}, free));
  EXPECT_TRUE(fits(Resources{}, free));
  EXPECT_FALSE(fits(Resources{4001, 1, 0}, free));
  EXPECT_FALSE(fits(Resources{1, 8193, 0}, free));
  EXPECT_FALSE(fits(Resources{1, 1, 3}, free));
}

TEST(Resources, CountFitsIsLimitedByTheScarcestQuantity) {
  Resources free{8000, 16384, 4};
  EXPECT_EQ(count_fits(Resources{1000, 1024, 0}, free, 100), 8);   // cpus
  EXPECT_EQ(count_fits(Resources{1000, 8192, 0}, free, 100), 2);   // memory
  EXPECT_EQ(count_fits(Resources{1000, 1024, 3}, free, 100), 1);   // gpus
  EXPECT_EQ(count_fits(Resources{1000, 1024, 5}, free, 100), 0);
}

TEST(Resources, CountFitsIsCapped) {
  EXPECT_EQ(count_fits(Resources{1000, 0, 0}, Resources{8000, 0, 0}, 3), 3);
}

TEST(Resources, CountFitsOfAnAllZeroRequestIsTheCap) {
  EXPECT_EQ(count_fits(Resources{}, Resources{}, 7), 7);
}

TEST(Resources, CountFitsIsZeroWhenFreeIsNegative) {
  EXPECT_EQ(count_fits(Resources{1000, 0, 0}, Resources{-5000, 0, 0}, 10), 0);
}

// ---- parse_size_mb ----

TEST(Resources, ParseSizeBareNumberIsMebibytes) {
  auto r = parse_size_mb("4096");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(*r, 4096);
  EXPECT_EQ(*parse_size_mb("0"), 0);
}

TEST(Resources, ParseSizeUnitsKMGT) {
  EXPECT_EQ(*parse_size_mb("1024K"), 1);
  EXPECT_EQ(*parse_size_mb("512M"), 512);
  EXPECT_EQ(*parse_size_mb("32G"), 32 * 1024);
  EXPECT_EQ(*parse_size_mb("1T"), 1024 * 1024);
}

TEST(Resources, ParseSizeUnitsAreCaseInsensitiveAndMayEndInBOrIB) {
  EXPECT_EQ(*parse_size_mb("2g"), 2048);
  EXPECT_EQ(*parse_size_mb("2GB"), 2048);
  EXPECT_EQ(*parse_size_mb("2GiB"), 2048);
  EXPECT_EQ(*parse_size_mb("2gib"), 2048);
  EXPECT_EQ(*parse_size_mb("512mb"), 512);
  EXPECT_EQ(*parse_size_mb("1tb"), 1024 * 1024);
}

TEST(Resources, ParseSizeKibibytesRoundUpToWholeMebibytes) {
  EXPECT_EQ(*parse_size_mb("1K"), 1);
  EXPECT_EQ(*parse_size_mb("1025K"), 2);
  EXPECT_EQ(*parse_size_mb("2048K"), 2);
  EXPECT_EQ(*parse_size_mb("0K"), 0);
}

TEST(Resources, ParseSizeRejectsMalformedInputWithAnExample) {
  for (const char* bad : {"", "G", "B", "iB", "-1G", "-1", "1.5G", "12Q", "G1", "1 G", " 1G", "1GG", "0x10", "+1G"}) {
    auto r = parse_size_mb(bad);
    EXPECT_FALSE(r) << "accepted '" << bad << "' as " << (r ? *r : 0);
    if (!r) {
      EXPECT_NE(r.error().find("invalid size '" + std::string(bad) + "'"), std::string::npos) << r.error();
      EXPECT_NE(r.error().find("32G"), std::string::npos) << r.error();
    }
  }
}

TEST(Resources, ParseSizeRejectsOverflowInsteadOfWrapping) {
  for (const char* big : {"9223372036854775807T", "9007199254740992G", "99999999999999999999", "99999999999999999999K"}) {
    auto r = parse_size_mb(big);
    ASSERT_FALSE(r) << "accepted '" << big << "' as " << *r;
    EXPECT_NE(r.error().find("too large"), std::string::npos) << r.error();
  }
}

TEST(Resources, ParseSizeRoundsTheLargestKibibyteCountUpWithoutOverflow) {
  // INT64_MAX KiB is accepted; rounding it up to MiB must not wrap negative.
  auto r = parse_size_mb(std::to_string(std::numeric_limits<int64_t>::max()) + "K");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(*r, int64_t{1} << 53);
}

TEST(Resources, ParseSizeLargestRepresentableTebibytesStillParse) {
  // 2^63-1 KiB / 2^30 KiB per TiB, rounded down.
  const int64_t max_t = std::numeric_limits<int64_t>::max() / (int64_t{1024} * 1024 * 1024);
  auto r = parse_size_mb(std::to_string(max_t) + "T");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(*r, max_t * 1024 * 1024);
  EXPECT_GT(*r, 0);
}

// ---- format_size_mb ----

TEST(Resources, FormatSizeUsesTheLargestWholeUnit) {
  EXPECT_EQ(format_size_mb(0), "0M");
  EXPECT_EQ(format_size_mb(512), "512M");
  EXPECT_EQ(format_size_mb(1536), "1536M");
  EXPECT_EQ(format_size_mb(1024), "1G");
  EXPECT_EQ(format_size_mb(32768), "32G");
  EXPECT_EQ(format_size_mb(1024 * 1024), "1T");
  EXPECT_EQ(format_size_mb(3 * 1024 * 1024 + 1024), "3073G");
}

TEST(Resources, FormatSizeRoundTripsThroughParse) {
  for (int64_t mb : {int64_t{1}, int64_t{1000}, int64_t{1024}, int64_t{1536}, int64_t{1} << 20, int64_t{5} << 30}) {
    auto r = parse_size_mb(format_size_mb(mb));
    ASSERT_TRUE(r) << format_size_mb(mb);
    EXPECT_EQ(*r, mb);
  }
}

// ---- parse_duration_s ----

TEST(Resources, ParseDurationMinutesAlone) {
  EXPECT_EQ(*parse_duration_s("30"), 30 * 60);
  EXPECT_EQ(*parse_duration_s("90"), 90 * 60);  // the leading field may exceed 59
}

TEST(Resources, ParseDurationMinutesAndSeconds) {
  EXPECT_EQ(*parse_duration_s("1:30"), 90);
  EXPECT_EQ(*parse_duration_s("120:05"), 120 * 60 + 5);
}

TEST(Resources, ParseDurationHoursMinutesSeconds) {
  EXPECT_EQ(*parse_duration_s("1:30:00"), 5400);
  EXPECT_EQ(*parse_duration_s("48:00:01"), 48 * 3600 + 1);
}

TEST(Resources, ParseDurationDaysAndHours) { EXPECT_EQ(*parse_duration_s("2-03"), (2 * 24 + 3) * 3600); }

TEST(Resources, ParseDurationDaysHoursMinutes) { EXPECT_EQ(*parse_duration_s("1-02:03"), 86400 + 2 * 3600 + 3 * 60); }

TEST(Resources, ParseDurationDaysHoursMinutesSeconds) {
  EXPECT_EQ(*parse_duration_s("1-02:03:04"), 86400 + 2 * 3600 + 3 * 60 + 4);
  EXPECT_EQ(*parse_duration_s("2-00:00:00"), 2 * 86400);
}

TEST(Resources, ParseDurationUnlimitedAndZeroMeanNoLimit) {
  for (const char* none : {"UNLIMITED", "INFINITE", "unlimited", "infinite", "Unlimited", "0"}) {
    auto r = parse_duration_s(none);
    ASSERT_TRUE(r) << none << ": " << r.error();
    EXPECT_EQ(*r, 0) << none;
  }
}

TEST(Resources, ParseDurationRejectsMalformedTimesWithTheFormsItAccepts) {
  for (const char* bad : {"", "1:60", "1:2:3:4", "abc", "-5", "1:60:00", "1:00:60", "1-24", "1-00:60", "1-00:00:60",
                          "1:", ":30", "1::2", "1.5", "1-", "-", "a-1", "1-2-3", "5m", " 5"}) {
    auto r = parse_duration_s(bad);
    EXPECT_FALSE(r) << "accepted '" << bad << "' as " << (r ? *r : 0);
    if (!r) {
      EXPECT_NE(r.error().find("invalid time '" + std::string(bad) + "'"), std::string::npos) << r.error();
      EXPECT_NE(r.error().find("D-HH:MM:SS"), std::string::npos) << r.error();
    }
  }
}

TEST(Resources, ParseDurationStopsAtTheDaysItsOutputCanSay) {
  // format_duration_s prints "D-HH:MM:SS" and D may be at most 100000, so a
  // longer time in hours or minutes would not parse back (found by fuzz_parse).
  EXPECT_EQ(*parse_duration_s("2400023:59:59"), int64_t{100000} * 86400 + 86399);
  for (const char* too_long : {"2400024:00:00", "144001440", "303060060"}) {
    auto r = parse_duration_s(too_long);
    EXPECT_FALSE(r) << "accepted '" << too_long << "' as " << (r ? *r : 0);
  }
}

// ---- format_duration_s ----

TEST(Resources, FormatDurationPrintsAsSlurmDoes) {
  EXPECT_EQ(format_duration_s(0), "0:00");
  EXPECT_EQ(format_duration_s(5), "0:05");
  EXPECT_EQ(format_duration_s(90), "1:30");
  EXPECT_EQ(format_duration_s(3599), "59:59");
  EXPECT_EQ(format_duration_s(3600), "1:00:00");
  EXPECT_EQ(format_duration_s(5400), "1:30:00");
  EXPECT_EQ(format_duration_s(86399), "23:59:59");
  EXPECT_EQ(format_duration_s(86400), "1-00:00:00");
  EXPECT_EQ(format_duration_s(2 * 86400 + 3 * 3600 + 4 * 60 + 5), "2-03:04:05");
}

TEST(Resources, FormatDurationNegativeIsZero) { EXPECT_EQ(format_duration_s(-10), "0:00"); }

TEST(Resources, FormatDurationOutputParsesBackToTheSameSeconds) {
  for (int64_t s : {int64_t{61}, int64_t{3600}, int64_t{5400}, int64_t{86400}, int64_t{200000}}) {
    auto r = parse_duration_s(format_duration_s(s));
    ASSERT_TRUE(r) << format_duration_s(s);
    EXPECT_EQ(*r, s) << format_duration_s(s);
  }
}

// ---- parse_count ----

TEST(Resources, ParseCountAcceptsWholeNumbersUpToMax) {
  EXPECT_EQ(*parse_count("0", 10), 0);
  EXPECT_EQ(*parse_count("10", 10), 10);
}

TEST(Resources, ParseCountRejectsTooLargeAndNonNumbers) {
  auto big = parse_count("11", 10);
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().find("too large (at most 10)"), std::string::npos) << big.error();
  for (const char* bad : {"", "-1", "1x", "x", "1.0"}) EXPECT_FALSE(parse_count(bad, 10)) << bad;
  EXPECT_FALSE(parse_count("99999999999999999999999", std::numeric_limits<int64_t>::max()));
}

}  // namespace
}  // namespace cadre
