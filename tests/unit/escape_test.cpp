// Specification of common/escape: user-supplied text printed on a terminal
// cannot drive the terminal.
#include "common/escape.hpp"

#include <gtest/gtest.h>

namespace cadre {
namespace {

TEST(EscapeControl, PlainTextPassesThroughUnchanged) {
  EXPECT_EQ(escape_control(""), "");
  EXPECT_EQ(escape_control("train-resnet50 /home/ann/job.sh --lr=0.1"), "train-resnet50 /home/ann/job.sh --lr=0.1");
}

TEST(EscapeControl, ABackslashStaysAsIs) {
  EXPECT_EQ(escape_control("C:\\path\\e"), "C:\\path\\e");
}

TEST(EscapeControl, CommonControlsBecomeTheirShortEscapes) {
  EXPECT_EQ(escape_control("a\x1b[2Jb"), "a\\e[2Jb");
  EXPECT_EQ(escape_control("a\rb\nc\td"), "a\\rb\\nc\\td");
}

TEST(EscapeControl, OtherC0ControlsAndDelBecomeHexEscapes) {
  EXPECT_EQ(escape_control(std::string("\0\x01\x07\x08\x1f\x7f", 6)), "\\x00\\x01\\x07\\x08\\x1f\\x7f");
}

TEST(EscapeControl, C1ControlsInUtf8BecomeUnicodeEscapes) {
  EXPECT_EQ(escape_control("a\xc2\x9b" "2Jb"), "a\\u009b2Jb");  // CSI
  EXPECT_EQ(escape_control("\xc2\x80\xc2\x9f"), "\\u0080\\u009f");
}

TEST(EscapeControl, PrintableUtf8PassesThrough) {
  EXPECT_EQ(escape_control("caf\xc3\xa9 \xc2\xa0 \xe2\x82\xac \xf0\x9f\x9a\x80"),
            "caf\xc3\xa9 \xc2\xa0 \xe2\x82\xac \xf0\x9f\x9a\x80");
}

TEST(EscapeControl, BytesThatAreNotUtf8BecomeHexEscapes) {
  EXPECT_EQ(escape_control("a\x9b" "b"), "a\\x9bb");          // a lone C1 byte: CSI on an 8-bit terminal
  EXPECT_EQ(escape_control("\xc3"), "\\xc3");                  // truncated sequence
  EXPECT_EQ(escape_control("\xc0\x9b"), "\\xc0\\x9b");         // overlong
  EXPECT_EQ(escape_control("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
  EXPECT_EQ(escape_control("\xff"), "\\xff");
}

TEST(EscapeControl, TheResultHasNoControlByteLeft) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  std::string out = escape_control(all);
  for (unsigned char b : out) EXPECT_TRUE(b >= 0x20 && b < 0x7f) << int(b);
}

TEST(Quoted, QuotesEscapesAndBoundsWhatItShows) {
  EXPECT_EQ(quoted("tcp://h"), "'tcp://h'");
  EXPECT_EQ(quoted(""), "''");
  EXPECT_EQ(quoted("a\x01" "b"), "'a\\x01b'");
  EXPECT_EQ(quoted(std::string(5000, 'a'), 40), "'" + std::string(40, 'a') + "...'");
  // Escapes count: 300 bytes that each escape to four characters stay cut.
  const std::string shown = quoted(std::string(300, '\xff'), 120);
  EXPECT_LE(shown.size(), 120u + 5);
  EXPECT_TRUE(shown.ends_with("...'")) << shown;
  // Never inside a UTF-8 character.
  const std::string e_acute = "\xc3\xa9";
  std::string many;
  for (int i = 0; i < 100; ++i) many += e_acute;
  const std::string cut = quoted(many, 41);
  EXPECT_EQ(cut, "'" + many.substr(0, 40) + "...'");
  // Nor inside an escape: a lone lead byte shows whole as \xc3, or not at all.
  EXPECT_EQ(quoted(many.substr(0, 40) + "\xc3" + "x", 42), "'" + many.substr(0, 40) + "...'");
}

}  // namespace
}  // namespace cadre
