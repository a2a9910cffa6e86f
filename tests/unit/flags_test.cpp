// Specification of common/flags: the command-line parser of every binary.
#include "common/flags.hpp"

#include <gtest/gtest.h>

namespace cadre {
namespace {

Flags example() {
  Flags f;
  f.value("--nodes", {"-N"}).value("--name").toggle("--wait", {"-W"});
  return f;
}

TEST(Flags, ReadsValueAsTheNextWord) {
  Flags f = example();
  ASSERT_TRUE(f.parse({"--nodes", "4"}));
  EXPECT_TRUE(f.has("--nodes"));
  EXPECT_EQ(f.get("--nodes"), "4");
}

TEST(Flags, ReadsValueAfterEqualsSign) {
  Flags f = example();
  ASSERT_TRUE(f.parse({"--name=a=b"}));
  EXPECT_EQ(f.get("--name"), "a=b");  // only the first '=' separates
}

TEST(Flags, AcceptsAnEmptyValueAfterEquals) {
  Flags f = example();
  ASSERT_TRUE(f.parse({"--name="}));
  EXPECT_EQ(f.get("--name"), "");
}

TEST(Flags, ShortAliasStoresUnderTheLongName) {
  Flags f = example();
  ASSERT_TRUE(f.parse({"-N", "2", "-W"}));
  EXPECT_EQ(f.get("--nodes"), "2");
  EXPECT_EQ(f.get("--wait"), "true");
  EXPECT_FALSE(f.has("-N"));
}

TEST(Flags, ToggleIsAbsentUntilGiven) {
  Flags f = example();
  ASSERT_TRUE(f.parse({}));
  EXPECT_FALSE(f.has("--wait"));
  EXPECT_EQ(f.get("--wait"), std::nullopt);
  EXPECT_EQ(f.get_or("--name", "fallback"), "fallback");
}

TEST(Flags, LaterValueWins) {
  Flags f = example();
  ASSERT_TRUE(f.parse({"--nodes", "1", "-N", "3"}));
  EXPECT_EQ(f.get("--nodes"), "3");
}

TEST(Flags, ValueMayStartWithADash) {
  Flags f = example();
  ASSERT_TRUE(f.parse({"--name", "-x"}));
  EXPECT_EQ(f.get("--name"), "-x");
}

TEST(Flags, UnknownFlagIsAnErrorNamingIt) {
  Flags f = example();
  Status s = f.parse({"--nodes", "1", "--bogus", "x"});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), "unknown option '--bogus' (see --help)");
}

TEST(Flags, UnknownFlagWithEqualsNamesOnlyTheFlag) {
  Flags f = example();
  Status s = f.parse({"--bogus=1"});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().find("'--bogus'"), std::string::npos) << s.error();
  EXPECT_EQ(s.error().find("=1"), std::string::npos) << s.error();
}

TEST(Flags, MissingValueIsAnError) {
  Flags f = example();
  Status s = f.parse({"--nodes"});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), "option '--nodes' needs a value");
}

TEST(Flags, ToggleRejectsAValue) {
  Flags f = example();
  Status s = f.parse({"--wait=yes"});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), "option '--wait' takes no value");
}

TEST(Flags, StrayWordIsRejectedUnlessPositionalsAreAllowed) {
  Flags strict = example();
  Status s = strict.parse({"hostname"});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), "unexpected argument 'hostname'");

  Flags loose = example();
  ASSERT_TRUE(loose.parse({"a", "--nodes", "1", "b", "-"}, true));
  EXPECT_EQ(loose.positionals(), (std::vector<std::string>{"a", "b", "-"}));
  EXPECT_EQ(loose.get("--nodes"), "1");
}

TEST(Flags, DoubleDashEndsFlagsAndKeepsTheRestVerbatim) {
  Flags f = example();
  ASSERT_TRUE(f.parse({"-N", "2", "--", "python", "--nodes", "9", "--"}));
  EXPECT_TRUE(f.saw_double_dash());
  EXPECT_EQ(f.get("--nodes"), "2");
  EXPECT_EQ(f.rest(), (std::vector<std::string>{"python", "--nodes", "9", "--"}));
  EXPECT_TRUE(f.positionals().empty());
}

TEST(Flags, NoDoubleDashMeansNoRest) {
  Flags f = example();
  ASSERT_TRUE(f.parse({"-N", "2"}));
  EXPECT_FALSE(f.saw_double_dash());
  EXPECT_TRUE(f.rest().empty());
}

TEST(Flags, EqualsFormIsOnlyForLongFlags) {
  Flags f = example();
  Status s = f.parse({"-N=2"});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().find("unknown option '-N=2'"), std::string::npos) << s.error();
}

}  // namespace
TEST(Flags, AnUnknownOptionCloseToAKnownOneSaysWhichItMayBe) {
  Flags f;
  f.value("--nodes", {"-N"}).value("--partition", {"-p"}).toggle("--wait", {"-W"});
  Status s = f.parse({"--ndoes", "2"});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), "unknown option '--ndoes' (did you mean --nodes? see --help)");
  Flags g;
  g.value("--partition");
  EXPECT_EQ(g.parse({"--parti=x"}).error(), "unknown option '--parti' (did you mean --partition? see --help)")
      << "a prefix of five or more characters";
  Flags h;
  h.value("--nodes");
  EXPECT_EQ(h.parse({"--zzzzzz"}).error(), "unknown option '--zzzzzz' (see --help)") << "nothing close: no guess";
  EXPECT_EQ(h.parse({"-x"}).error(), "unknown option '-x' (see --help)") << "short options are not guessed";
}

}  // namespace cadre
