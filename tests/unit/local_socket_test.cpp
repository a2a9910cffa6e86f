// Specifies master/local_socket: the default place of the local socket.
#include "master/local_socket.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace cadre {
namespace {

class LocalSocket : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cadre-localsock-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::string root_;
};

TEST_F(LocalSocket, AShortStateFolderKeepsTheSocket) {
  auto place = default_local_socket("/var/lib/cadre", root_);
  ASSERT_TRUE(place.ok()) << place.error();
  EXPECT_EQ(place->path, "/var/lib/cadre/cadre.sock");
  EXPECT_EQ(place->moved_because, "");
}

TEST_F(LocalSocket, ALongStateFolderGetsAShortPrivatePlace) {
  const std::string state = "/srv/" + std::string(200, 's');
  auto place = default_local_socket(state, root_);
  ASSERT_TRUE(place.ok()) << place.error();
  EXPECT_LE(place->path.size(), 107u);
  EXPECT_TRUE(place->path.starts_with(root_ + "/cadre-master-")) << place->path;
  EXPECT_NE(place->moved_because.find("too long"), std::string::npos);
  struct stat st {};
  const std::string folder = place->path.substr(0, place->path.rfind('/'));
  ASSERT_EQ(stat(folder.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // The same state folder, the same place (a restart finds it again);
  // another state folder, another place.
  EXPECT_EQ(default_local_socket(state, root_)->path, place->path);
  EXPECT_NE(default_local_socket(state + "x", root_)->path, place->path);
}

TEST_F(LocalSocket, AFallbackFolderOthersMayUseIsRefused) {
  const std::string state = "/srv/" + std::string(200, 's');
  auto place = default_local_socket(state, root_);
  ASSERT_TRUE(place.ok());
  const std::string folder = place->path.substr(0, place->path.rfind('/'));
  ASSERT_EQ(chmod(folder.c_str(), 0777), 0);
  auto again = default_local_socket(state, root_);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().find("not a private folder"), std::string::npos) << again.error();
  // A link planted where the folder goes is refused too.
  std::filesystem::remove_all(folder);
  std::filesystem::create_directory_symlink(root_, folder);
  EXPECT_FALSE(default_local_socket(state, root_).ok());
}

TEST(LocalSocketPath, AConfiguredPathTooLongIsRefused) {
  EXPECT_TRUE(check_local_socket_path("/run/cadre/cadre.sock").ok());
  auto s = check_local_socket_path("/run/" + std::string(120, 'x'));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("at most 107"), std::string::npos) << s.error();
}

}  // namespace
}  // namespace cadre
