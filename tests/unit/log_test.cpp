// Specification of common/log's line formats, plain and for the journal.
#include "common/log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

namespace cadre::log {
namespace {

TEST(LogFormat, PlainLinesCarryTimeProgramAndLevel) {
  EXPECT_EQ(format_record(Level::warning, "node n1 is DOWN", false, "cadre-master", "2024-05-01T12:00:00.123Z"),
            "2024-05-01T12:00:00.123Z cadre-master warning: node n1 is DOWN\n");
}

TEST(LogFormat, JournalLinesStartWithTheSyslogPriorityAndHaveNoTime) {
  EXPECT_EQ(format_record(Level::error, "x", true, "cadre-master", ""), "<3>error: x\n");
  EXPECT_EQ(format_record(Level::warning, "x", true, "cadre-master", ""), "<4>warning: x\n");
  EXPECT_EQ(format_record(Level::info, "x", true, "cadre-master", ""), "<6>info: x\n");
  EXPECT_EQ(format_record(Level::debug, "x", true, "cadre-master", ""), "<7>debug: x\n");
}

TEST(LogFormat, ARecordIsOneLineWhateverItsMessageHolds) {
  EXPECT_EQ(format_record(Level::error, "first\nsecond", true, "p", ""), "<3>error: first\\nsecond\n");
  EXPECT_EQ(format_record(Level::info, "node a\x01\x1b[2J", false, "p", "T"), "T p info: node a\\x01\\e[2J\n");
}

TEST(LogJournal, JournalStreamMustNameTheFileOfTheDescriptor) {
  const std::string path = testing::TempDir() + "/log_test_stream_" + std::to_string(getpid());
  int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  struct stat st {};
  ASSERT_EQ(fstat(fd, &st), 0);
  const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  EXPECT_TRUE(is_journal_stream(mine.c_str(), fd));
  const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
  EXPECT_FALSE(is_journal_stream(other.c_str(), fd));
  EXPECT_FALSE(is_journal_stream(nullptr, fd));
  EXPECT_FALSE(is_journal_stream("", fd));
  EXPECT_FALSE(is_journal_stream((mine + "x").c_str(), fd));
  EXPECT_FALSE(is_journal_stream("garbage", fd));
  close(fd);
  unlink(path.c_str());
}

TEST(LogLevel, ParsesTheFourLevels) {
  Level l{};
  EXPECT_TRUE(parse_level("debug", &l));
  EXPECT_EQ(l, Level::debug);
  EXPECT_TRUE(parse_level("warn", &l));
  EXPECT_EQ(l, Level::warning);
  EXPECT_FALSE(parse_level("loud", &l));
}

}  // namespace
}  // namespace cadre::log
