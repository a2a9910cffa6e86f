// Specification of cli/slurm_format: squeue's and sinfo's format strings
// parse as Slurm reads them, and values pad and cut as Slurm prints them.
#include "cli/slurm_format.hpp"

#include <gtest/gtest.h>

#include <string>

namespace cadre::cli {
namespace {

// A table of three letters (i, T, N) and their long names; N is a node list (not cut).
std::optional<FieldRef> letters(std::string_view key) {
  if (key == "i") return FieldRef{0, true};
  if (key == "T") return FieldRef{1, true};
  if (key == "N") return FieldRef{2, false};
  return std::nullopt;
}
std::optional<FieldRef> names(std::string_view key) {
  if (key == "jobid") return FieldRef{0, true};
  if (key == "state") return FieldRef{1, true};
  return std::nullopt;
}

TEST(LetterFormat, ReadsSizeSideLetterAndTheTextAround) {
  auto f = parse_letter_format("[%.18i|%T] %5N", letters, "-o");
  ASSERT_TRUE(f) << f.error();
  EXPECT_EQ(f->prefix, "[");
  ASSERT_EQ(f->items.size(), 3u);
  EXPECT_EQ(f->items[0].field.index, 0);
  EXPECT_EQ(f->items[0].width, 18u);
  EXPECT_TRUE(f->items[0].right);
  EXPECT_EQ(f->items[0].suffix, "|");
  EXPECT_EQ(f->items[1].width, 0u);
  EXPECT_FALSE(f->items[1].right);
  EXPECT_EQ(f->items[1].suffix, "] ");
  EXPECT_EQ(f->items[2].width, 5u);
  EXPECT_FALSE(f->items[2].field.cut);
}

TEST(LetterFormat, DoublePercentIsAPercentSign) {
  auto f = parse_letter_format("%%%i%%", letters, "-o");
  ASSERT_TRUE(f) << f.error();
  EXPECT_EQ(f->prefix, "%");
  ASSERT_EQ(f->items.size(), 1u);
  EXPECT_EQ(f->items[0].suffix, "%");
}

TEST(LetterFormat, RefusesALetterTheTableLacksNamingIt) {
  auto f = parse_letter_format("%i %q", letters, "squeue -o");
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().find("%q"), std::string::npos) << f.error();
  EXPECT_NE(f.error().find("squeue -o"), std::string::npos) << f.error();
}

TEST(LetterFormat, RefusesNoFieldsATrailingPercentAndHugeSizes) {
  EXPECT_FALSE(parse_letter_format("", letters, "-o"));
  EXPECT_FALSE(parse_letter_format("just text", letters, "-o"));
  EXPECT_FALSE(parse_letter_format("%i %", letters, "-o"));
  EXPECT_FALSE(parse_letter_format("%.", letters, "-o"));
  EXPECT_FALSE(parse_letter_format("%99999999999999999999i", letters, "-o"));
  EXPECT_TRUE(parse_letter_format("%1000i", letters, "-o"));
}

TEST(LetterFormat, HashSizeOnlyForBuiltInLayouts) {
  EXPECT_FALSE(parse_letter_format("%#N", letters, "-o"));
  auto f = parse_letter_format("%#N", letters, "sinfo", true);
  ASSERT_TRUE(f) << f.error();
  EXPECT_TRUE(f->items[0].fit);
}

TEST(NamedFormat, NamesInAnyCaseWithTwentyWideDefault) {
  auto f = parse_named_format("JobID,STATE:.10,state:5|", names, "-O");
  ASSERT_TRUE(f) << f.error();
  ASSERT_EQ(f->items.size(), 3u);
  EXPECT_EQ(f->items[0].width, kNamedFieldWidth);
  EXPECT_EQ(f->items[1].field.index, 1);
  EXPECT_EQ(f->items[1].width, 10u);
  EXPECT_TRUE(f->items[1].right);
  EXPECT_EQ(f->items[2].width, 5u);
  EXPECT_EQ(f->items[2].suffix, "|");
}

TEST(NamedFormat, RefusesUnknownNamesAndEmptyOnes) {
  auto f = parse_named_format("JobID,Bogus", names, "--Format");
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().find("Bogus"), std::string::npos) << f.error();
  EXPECT_FALSE(parse_named_format("JobID,,State", names, "-O"));
  EXPECT_FALSE(parse_named_format("", names, "-O"));
  EXPECT_FALSE(parse_named_format("JobID,", names, "-O"));
}

TEST(FitValue, CutsPadsAndRightJustifiesAsSqueue) {
  EXPECT_EQ(fit_value("abc", 5, false, true), "abc  ");
  EXPECT_EQ(fit_value("abc", 5, true, true), "  abc");
  EXPECT_EQ(fit_value("abcdefgh", 3, false, true), "abc");
  EXPECT_EQ(fit_value("abcdefgh", 3, true, true), "abc");
  EXPECT_EQ(fit_value("abcdefgh", 3, false, false), "abcdefgh") << "node lists are never cut";
  EXPECT_EQ(fit_value("abc", 0, true, true), "abc");
}

TEST(RenderFormat, FitColumnsTakeTheWidestCellAndValuesAreEscaped) {
  auto f = parse_letter_format("%#i|%.3T", letters, "-o", true);
  ASSERT_TRUE(f) << f.error();
  const std::string out = render_format(*f, {{"JOBID", "STATE"}, {"1", "R"}, {"123456", "x\x1b"}});
  EXPECT_EQ(out, "JOBID |STA\n1     |  R\n123456|x\\e\n");
}

TEST(SplitAttached, SplitsShortValuedOptionsOnly) {
  const std::vector<std::string> in{"-o%i", "-j42", "-h", "--format=%T", "-x", "--", "-ofoo"};
  const std::vector<std::string> want{"-o", "%i", "-j", "42", "-h", "--format=%T", "-x", "--", "-ofoo"};
  EXPECT_EQ(split_attached(in, {"-o", "-j"}), want);
}

}  // namespace
}  // namespace cadre::cli
