// Specification of master/state_dir: the master's state folder and
// database are private whatever the umask, and looser modes are reported.
#include "master/state_dir.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "master/store/sqlite_store.hpp"

namespace cadre {
namespace {

namespace fs = std::filesystem;

class StateDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cadre-statedir-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    old_umask_ = umask(022);  // the usual umask: files 0644, folders 0755
  }
  void TearDown() override {
    umask(old_umask_);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static unsigned mode_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }

  std::string dir_;
  mode_t old_umask_ = 0;
};

TEST_F(StateDirTest, AFreshStateFolderIs0700AndItsDatabase0600WhateverTheUmask) {
  const std::string state = dir_ + "/var/lib/cadre";
  ASSERT_TRUE(make_state_dir(state));
  EXPECT_EQ(mode_of(state), 0700u);
  const std::string db = state + "/cadre.db";
  {
    auto store = SqliteStore::open(db);
    ASSERT_TRUE(store) << store.error();
    ASSERT_TRUE((*store)->begin());
    ASSERT_TRUE((*store)->commit());
    EXPECT_EQ(mode_of(db), 0600u);
    EXPECT_EQ(mode_of(db + "-wal"), 0600u) << "SQLite gives the WAL the database's mode";
    EXPECT_EQ(mode_of(db + "-shm"), 0600u);
  }
  EXPECT_TRUE(loose_state_files(state, db).empty());

  umask(0);
  const std::string other = dir_ + "/other/";
  ASSERT_TRUE(make_state_dir(other));
  EXPECT_EQ(mode_of(dir_ + "/other"), 0700u);
}

TEST_F(StateDirTest, AnExistingFolderKeepsItsModeAndALooseOneIsReportedWithTheFix) {
  const std::string state = dir_ + "/state";
  fs::create_directories(state);
  ::chmod(state.c_str(), 0755);
  ASSERT_TRUE(make_state_dir(state));
  EXPECT_EQ(mode_of(state), 0755u) << "the admin's choice is reported, not changed";

  const std::string db = state + "/cadre.db";
  ASSERT_TRUE(SqliteStore::open(db));
  ::chmod(db.c_str(), 0644);
  std::vector<std::string> warnings = loose_state_files(state, db);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0], state + " (the state folder) has mode 0755: other users may read the master's state; "
                                 "run chmod 700 " + state);
  EXPECT_NE(warnings[1].find(db + " (the database) has mode 0644"), std::string::npos) << warnings[1];
  EXPECT_NE(warnings[1].find("run chmod 600 " + db), std::string::npos) << warnings[1];

  ::chmod(state.c_str(), 0700);
  ::chmod(db.c_str(), 0600);
  EXPECT_TRUE(loose_state_files(state, db).empty());
  EXPECT_TRUE(loose_state_files(dir_ + "/missing", dir_ + "/missing/cadre.db").empty());
}

TEST_F(StateDirTest, AStateFolderThatIsAFileIsAnError) {
  const std::string file = dir_ + "/file";
  ASSERT_TRUE(SqliteStore::open(file));
  Status s = make_state_dir(file);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().find("cannot create state folder " + file), std::string::npos) << s.error();
}

}  // namespace
}  // namespace cadre
