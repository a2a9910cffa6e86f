// Specification of common/hostlist: Slurm-style host lists, both ways.
#include "common/hostlist.hpp"

#include <gtest/gtest.h>

namespace cadre {
namespace {

using Names = std::vector<std::string>;

Names expand_ok(std::string_view text) {
  auto r = expand_hostlist(text);
  EXPECT_TRUE(r) << r.error();
  return r ? *r : Names{};
}

std::string expand_error(std::string_view text) {
  auto r = expand_hostlist(text);
  EXPECT_FALSE(r) << "accepted";
  return r ? "" : r.error();
}

TEST(Hostlist, CompressesConsecutiveNumbersIntoRanges) {
  EXPECT_EQ(compress_hostlist({"n1", "n2", "n3", "gpu07", "gpu08"}), "n[1-3],gpu[07-08]");
  EXPECT_EQ(compress_hostlist({"n1", "n2", "n3", "n5", "n7", "n8"}), "n[1-3,5,7-8]");
}

TEST(Hostlist, ASingleNameHasNoBrackets) {
  EXPECT_EQ(compress_hostlist({"n1"}), "n1");
  EXPECT_EQ(compress_hostlist({"login", "n4"}), "login,n4");
  EXPECT_EQ(compress_hostlist({}), "");
}

TEST(Hostlist, GroupsByPrefixInTheOrderFirstSeen) {
  EXPECT_EQ(compress_hostlist({"b1", "a1", "b2", "a2"}), "b[1-2],a[1-2]");
  EXPECT_EQ(compress_hostlist({"n3", "n1", "n2"}), "n[3,1-2]") << "input order within a group is kept";
  EXPECT_EQ(compress_hostlist({"rack1-n1", "rack1-n2", "rack2-n1"}), "rack1-n[1-2],rack2-n1");
}

TEST(Hostlist, KeepsZeroPadding) {
  EXPECT_EQ(compress_hostlist({"gpu007", "gpu008", "gpu009", "gpu010"}), "gpu[007-010]");
  EXPECT_EQ(compress_hostlist({"n9", "n10", "n11"}), "n[9-11]") << "unpadded numbers grow a digit";
  EXPECT_EQ(compress_hostlist({"n09", "n10"}), "n[09-10]");
  EXPECT_EQ(compress_hostlist({"n8", "n09"}), "n[8,09]") << "different widths do not join";
  EXPECT_EQ(compress_hostlist({"n1", "n01"}), "n[1,01]");
}

TEST(Hostlist, NamesWithoutNumbersAndDuplicatesAreKept) {
  EXPECT_EQ(compress_hostlist({"login", "head", "login"}), "login,head,login");
  EXPECT_EQ(compress_hostlist({"n1", "n1"}), "n[1,1]");
  EXPECT_EQ(compress_hostlist({"12", "13"}), "[12-13]");
}

TEST(Hostlist, ExpandsRangesListsAndPlainNames) {
  EXPECT_EQ(expand_ok("n[1-3,5],a"), (Names{"n1", "n2", "n3", "n5", "a"}));
  EXPECT_EQ(expand_ok("gpu[07-10]"), (Names{"gpu07", "gpu08", "gpu09", "gpu10"}));
  EXPECT_EQ(expand_ok("n[9-10]"), (Names{"n9", "n10"}));
  EXPECT_EQ(expand_ok("solo"), (Names{"solo"}));
  EXPECT_EQ(expand_ok(""), Names{});
}

TEST(Hostlist, ExpandsSeveralBracketsInOneName) {
  EXPECT_EQ(expand_ok("rack[1-2]-n[01-02]"), (Names{"rack1-n01", "rack1-n02", "rack2-n01", "rack2-n02"}));
  EXPECT_EQ(expand_ok("n[1-2]-ib"), (Names{"n1-ib", "n2-ib"}));
}

TEST(Hostlist, RefusesMalformedLists) {
  EXPECT_EQ(expand_error("n[1-3"), "invalid host list 'n[1-3': unbalanced '[' in 'n[1-3'");
  EXPECT_EQ(expand_error("n1-3]"), "invalid host list 'n1-3]': unbalanced ']' in 'n1-3]'");
  EXPECT_EQ(expand_error("n[3-1]"), "invalid host list 'n[3-1]': bad range '3-1': the first number is larger in 'n[3-1]'");
  EXPECT_EQ(expand_error("n[a]"),
            "invalid host list 'n[a]': bad range 'a': use N, N-M or a list of them, e.g. [1-3,5] in 'n[a]'");
  EXPECT_EQ(expand_error("n[1,]"),
            "invalid host list 'n[1,]': bad range '': use N, N-M or a list of them, e.g. [1-3,5] in 'n[1,]'");
  EXPECT_EQ(expand_error("a,,b"), "invalid host list 'a,,b': empty name");
  EXPECT_EQ(expand_error("a,"), "invalid host list 'a,': empty name");
  EXPECT_EQ(expand_error("n[0-99999999]"), "invalid host list 'n[0-99999999]': range '0-99999999' is too long in 'n[0-99999999]'");
  EXPECT_EQ(expand_error("a[0-1023]b[0-1024]"), "invalid host list 'a[0-1023]b[0-1024]': more than 1048576 names");
}

TEST(Hostlist, RoundTrips) {
  const std::vector<Names> cases = {
      {"n1", "n2", "n3", "gpu07", "gpu08"},
      {"node001", "node002", "node004", "node005", "node006", "login", "gpu9", "gpu10", "gpu11"},
      {"n9", "n10", "n09"},
      {"a"},
      {},
      {"rack1-n1", "rack1-n2", "x-ib0", "x-ib1"},
      {"n5", "n3", "n4", "n4"},
  };
  for (const Names& names : cases) {
    std::string text = compress_hostlist(names);
    EXPECT_EQ(expand_ok(text), names) << text;
    EXPECT_EQ(compress_hostlist(expand_ok(text)), text);
  }
  for (std::string text : {"n[1-3,5],a", "gpu[007-010,012],login", "c[0-1023]"})
    EXPECT_EQ(compress_hostlist(expand_ok(text)), text);
}

}  // namespace
}  // namespace cadre
