#include "common/job_array.hpp"

#include <gtest/gtest.h>

namespace cadre {
namespace {

TEST(JobArray, ParsesSbatchForms) {
  auto a = parse_array_spec("0-99");
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->indices.count(), 100u);
  EXPECT_EQ(a->throttle, 0u);
  EXPECT_EQ(a->indices.format(), "0-99");

  auto b = parse_array_spec("1,3,7");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->indices.count(), 3u);
  EXPECT_TRUE(b->indices.contains(3));
  EXPECT_FALSE(b->indices.contains(2));

  auto c = parse_array_spec("0-15:4");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->indices.count(), 4u);
  EXPECT_EQ(c->indices.max(), 12u);  // the last index on the step
  EXPECT_EQ(c->indices.format(), "0-12:4");
  EXPECT_EQ(array_facts(*c).step, 4u);

  auto d = parse_array_spec("5-99%10");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->throttle, 10u);
  EXPECT_EQ(array_facts(*d).min, 5u);
  EXPECT_EQ(array_facts(*d).max, 99u);
  EXPECT_EQ(array_facts(*d).count, 95u);
}

TEST(JobArray, OverlapsAreMergedEachIndexOnce) {
  auto a = parse_array_spec("1-10,5,3-20:2");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->indices.count(), 15u);  // 1..10 and 11,13,15,17,19
  EXPECT_EQ(a->indices.format(), "1-11,13,15,17,19");
}

TEST(JobArray, RefusesWhatSbatchRefuses) {
  for (const char* bad : {"", "a", "5-3", "1-", "-4", "1,,2", "0-15:0", "3:2", "1-9%0", "1-9%", "4000001",
                          "0-4000001", "1-9%x"}) {
    auto r = parse_array_spec(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error().find("--array="), std::string::npos) << r.error();
    }
  }
  EXPECT_TRUE(parse_array_spec("4000000"));
}

TEST(JobArray, TakesTheLowestAndRemovesOne) {
  auto a = parse_array_spec("0-9:3,20");
  ASSERT_TRUE(a);
  IndexSet s = a->indices;
  EXPECT_EQ(s.take_lowest(), 0u);
  EXPECT_EQ(s.format(), "3-9:3,20");
  EXPECT_TRUE(s.remove(6));
  EXPECT_FALSE(s.remove(6));
  EXPECT_FALSE(s.remove(7));
  EXPECT_EQ(s.format(), "3,9,20");
  EXPECT_EQ(s.take_lowest(), 3u);
  EXPECT_EQ(s.take_lowest(), 9u);
  EXPECT_EQ(s.take_lowest(), 20u);
  EXPECT_TRUE(s.empty());
}

TEST(JobArray, FormatRoundTrips) {
  for (const char* text : {"0-99", "1,3,7", "0-12:4", "5-9,20", "7"}) {
    auto s = IndexSet::parse(text);
    ASSERT_TRUE(s) << text;
    EXPECT_EQ(s->format(), text);
    EXPECT_EQ(*IndexSet::parse(s->format()), *s);
  }
}

TEST(JobArray, AHundredThousandTasksAreOneRange) {
  auto a = parse_array_spec("0-99999%50");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->indices.ranges().size(), 1u);
  EXPECT_EQ(a->indices.count(), 100000u);
}

TEST(JobArray, JobRefs) {
  auto a = parse_job_ref("12");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->job, 12u);
  EXPECT_EQ(a->task, -1);
  auto b = parse_job_ref("12_7");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->job, 12u);
  EXPECT_EQ(b->task, 7);
  for (const char* bad : {"", "0", "x", "12_", "_7", "12_x", "12_[1-3]", "12_7_1"}) EXPECT_FALSE(parse_job_ref(bad)) << bad;
}

}  // namespace
}  // namespace cadre
