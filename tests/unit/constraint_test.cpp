// Specification of common/constraint: node features and -C/--constraint.
#include "common/constraint.hpp"

#include <gtest/gtest.h>

namespace cadre {
namespace {

using Features = std::set<std::string, std::less<>>;

bool matches(const char* text, const Features& f, size_t choice = 0) {
  auto c = parse_constraint(text);
  EXPECT_TRUE(c) << text << ": " << c.error();
  return c && c->matches(choice, f);
}

std::string error(const char* text) {
  auto c = parse_constraint(text);
  EXPECT_FALSE(c) << text;
  return c ? "" : c.error();
}

TEST(Constraint, AndOrAndParenthesesAsSlurmReadsThem) {
  const Features a100_ib{"a100", "ib", "rack=r1"};
  EXPECT_TRUE(matches("a100", a100_ib));
  EXPECT_FALSE(matches("v100", a100_ib));
  EXPECT_TRUE(matches("a100&ib", a100_ib));
  EXPECT_FALSE(matches("a100&bigmem", a100_ib));
  EXPECT_TRUE(matches("v100|a100", a100_ib));
  EXPECT_TRUE(matches("bigmem|a100&ib", a100_ib)) << "& binds tighter than |";
  EXPECT_FALSE(matches("(bigmem|a100)&nvme", a100_ib));
  EXPECT_TRUE(matches("(bigmem|a100)&(ib|eth)", a100_ib));
  EXPECT_TRUE(matches("rack=r1", a100_ib)) << "a key=value label reads as one feature";
  EXPECT_TRUE(matches("a100,ib", a100_ib)) << "',' is AND";
}

TEST(Constraint, MatchingOrGivesOneChoicePerBracketedAlternative) {
  auto c = parse_constraint("[rack1|rack2|rack3&ib]");
  ASSERT_TRUE(c) << c.error();
  ASSERT_EQ(c->choices(), 3u);
  EXPECT_TRUE(c->matches(0, {"rack1"}));
  EXPECT_FALSE(c->matches(0, {"rack2"}));
  EXPECT_TRUE(c->matches(1, {"rack2"}));
  EXPECT_FALSE(c->matches(2, {"rack3"}));
  EXPECT_TRUE(c->matches(2, {"rack3", "ib"}));
  EXPECT_EQ(c->names(), (Features{"rack1", "rack2", "rack3", "ib"}));
  auto plain = parse_constraint("a|b");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->choices(), 1u) << "a plain OR lets nodes differ";
}

TEST(Constraint, WhatCannotBeHonouredOrReadIsRefusedSayingWhere) {
  EXPECT_NE(error("gpu*2").find("node counts (gpu*N) are not supported"), std::string::npos);
  EXPECT_NE(error("[rack1*2&rack2*4]").find("node counts"), std::string::npos);
  EXPECT_NE(error("(a|b").find("a '(' is not closed"), std::string::npos);
  EXPECT_NE(error("a|b)").find("a ')' closes nothing"), std::string::npos);
  EXPECT_NE(error("a&").find("a feature name is missing at the end"), std::string::npos);
  EXPECT_NE(error("[a|b").find("a '[' is not closed"), std::string::npos);
  EXPECT_NE(error("a&[b|c]").find("brackets go around the whole constraint"), std::string::npos);
  EXPECT_NE(error("a b").find("unexpected text"), std::string::npos);
  EXPECT_NE(error("").find("give a feature name"), std::string::npos);
  EXPECT_NE(error(std::string(70, 'x').c_str()).find("over 64 bytes"), std::string::npos);
  const std::string deep = std::string(40, '(') + "a" + std::string(40, ')');
  EXPECT_NE(error(deep.c_str()).find("nested too deep"), std::string::npos);
  const std::string e = error("a&!b");
  EXPECT_NE(e.find("-C/--constraint 'a&!b': expected a feature name (at character 3;"), std::string::npos) << e;
}

TEST(Constraint, FeatureListsOfAnAgent) {
  auto f = parse_feature_list("a100, ib,nvme,ib");
  ASSERT_TRUE(f) << f.error();
  EXPECT_EQ(*f, (std::vector<std::string>{"a100", "ib", "nvme"}));
  auto none = parse_feature_list("");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  EXPECT_FALSE(parse_feature_list("a,,b"));
  EXPECT_FALSE(parse_feature_list("a b"));
  EXPECT_FALSE(parse_feature_list("a|b"));
  std::string many;
  for (int i = 0; i < 65; ++i) many += "f" + std::to_string(i) + ",";
  EXPECT_FALSE(parse_feature_list(many));
}

}  // namespace
}  // namespace cadre
