// Specification of common/bounded_file: reading a file a user names without
// trusting what it is.
#include "common/bounded_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

namespace cadre {
namespace {

namespace fs = std::filesystem;

class BoundedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cadre-bounded-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return (dir_ / name).string();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

TEST_F(BoundedFileTest, ReadsARegularFileWhole) {
  auto r = read_bounded_file(write("a.sh", "#!/bin/sh\necho hi\n"), 100, "batch script");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(*r, "#!/bin/sh\necho hi\n");
}

TEST_F(BoundedFileTest, ReadsAnEmptyFile) {
  auto r = read_bounded_file(write("empty", ""), 100, "list");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(*r, "");
}

TEST_F(BoundedFileTest, AFifoIsRefusedAtOnceNotWaitedOn) {
  const std::string fifo = path("pipe");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto started = std::chrono::steady_clock::now();
  auto r = read_bounded_file(fifo, 100, "batch script");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(),
            "batch script " + fifo + " is not a regular file (a FIFO, device or directory cannot be submitted)");
}

TEST_F(BoundedFileTest, ADirectoryIsRefused) {
  auto r = read_bounded_file(dir_.string(), 100, "batch script");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "batch script " + dir_.string() +
                           " is not a regular file (a FIFO, device or directory cannot be submitted)");
}

TEST_F(BoundedFileTest, ADeviceIsRefusedNotReadWithoutEnd) {
  auto r = read_bounded_file("/dev/zero", 100, "job list");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "job list /dev/zero is not a regular file (a FIFO, device or directory cannot be submitted)");
}

TEST_F(BoundedFileTest, AFileOfExactlyTheLimitIsRead) {
  auto r = read_bounded_file(write("full", std::string(64, 'x')), 64, "batch script");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->size(), 64u);
}

TEST_F(BoundedFileTest, AFileOneByteOverTheLimitIsRefusedSayingSizeAndLimit) {
  const std::string p = write("over", std::string(65, 'x'));
  auto r = read_bounded_file(p, 64, "batch script");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "batch script " + p + " is 65 bytes, over the limit of 64 bytes");
}

TEST_F(BoundedFileTest, ANulByteMarksTheFileAsBinary) {
  const std::string p = write("bin", std::string("#!/x\n\0\1", 7));
  auto r = read_bounded_file(p, 100, "batch script");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "batch script " + p + " contains a NUL byte at offset 5: it is binary, not a script");
}

TEST_F(BoundedFileTest, AMissingFileSaysWhyItCannotBeOpened) {
  auto r = read_bounded_file(path("nope"), 100, "batch script");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "cannot open batch script " + path("nope") + ": No such file or directory");
}

}  // namespace
}  // namespace cadre
