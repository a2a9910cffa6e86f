#include "common/dependency.hpp"

#include <gtest/gtest.h>

namespace cadre {
namespace {

TEST(Dependency, ParsesSbatchForms) {
  auto d = parse_dependency("afterok:12:13_2,afternotok:9,singleton");
  ASSERT_TRUE(d) << d.error();
  EXPECT_FALSE(d->any);
  ASSERT_EQ(d->items.size(), 3u);
  EXPECT_EQ(d->items[0].kind, DepKind::afterok);
  ASSERT_EQ(d->items[0].targets.size(), 2u);
  EXPECT_EQ(d->items[0].targets[1].job, 13u);
  EXPECT_EQ(d->items[0].targets[1].task, 2);
  EXPECT_EQ(d->items[2].kind, DepKind::singleton);
  EXPECT_EQ(format_dependency(*d), "afterok:12:13_2,afternotok:9,singleton");

  auto any = parse_dependency("afterany:4?after:5+10");
  ASSERT_TRUE(any);
  EXPECT_TRUE(any->any);
  EXPECT_EQ(any->items[1].targets[0].delay_min, 10);
  EXPECT_EQ(format_dependency(*any), "afterany:4?after:5+10");
}

TEST(Dependency, RefusesWithWhatIsWrong) {
  auto expect = [](const char* text, const char* part) {
    auto d = parse_dependency(text);
    ASSERT_FALSE(d) << text;
    EXPECT_NE(d.error().find(part), std::string::npos) << d.error();
  };
  expect("afterok:1,afterany:2?afterok:3", "cannot be mixed");
  expect("afterok", "needs job ids");
  expect("afterok:x", "'x' is not a job id");
  expect("afterok:0", "'0' is not a job id");
  expect("afterok:5+3", "only after takes +MINUTES");
  expect("singleton:4", "singleton takes no job ids");
  expect("before:4", "unknown dependency type 'before'");
  expect("aftercorr:4", "aftercorr is not supported yet");
  expect("afterok:4_", "not an array task");
  expect("", "give a dependency");
  std::string many = "afterok";
  for (int i = 1; i <= 200; ++i) many += ":" + std::to_string(i);
  expect(many.c_str(), "at most 128 job ids");
}

}  // namespace
}  // namespace cadre
