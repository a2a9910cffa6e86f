// Specification of master/security_files: the master's key file and key
// folders are checked before it starts, each error naming where the path
// came from.
#include "master/security_files.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/curve_keys.hpp"

namespace cadre {
namespace {

class SecurityFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cadre-security-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto keys = generate_curve_keypair();
    ASSERT_TRUE(keys.ok());
    ASSERT_TRUE(write_key_pair(dir_ + "/master.key", *keys).ok());
    std::ofstream(dir_ + "/file") << "not a folder\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }

  static SecurityOptions security(const std::string& key, const std::string& agents, const std::string& users) {
    SecurityOptions sec;
    sec.key_file = key;
    sec.agent_keys_dir = agents;
    sec.user_keys_dir = users;
    return sec;
  }

  std::string dir_;
};

TEST_F(SecurityFiles, AKeyPairAndFoldersThereOrNotYetPass) {
  EXPECT_TRUE(check_key_pair_file(dir_ + "/master.key", "--key").ok());
  EXPECT_TRUE(check_key_folder(dir_, "--agent-keys").ok());
  EXPECT_TRUE(check_key_folder(dir_ + "/not-yet/there", "--agent-keys").ok());
  EXPECT_TRUE(check_key_folder("", "--agent-keys").ok());  // none
  EXPECT_TRUE(check_security_files(security(dir_ + "/master.key", dir_, dir_ + "/users"), {}).ok());
  EXPECT_TRUE(check_security_files(SecurityOptions{}, {}).ok());  // no CURVE
}

TEST_F(SecurityFiles, AKeyFileMustHoldTheSecretHalf) {
  Status pub = check_key_pair_file(dir_ + "/master.key.pub", "--key");
  ASSERT_FALSE(pub.ok());
  EXPECT_TRUE(contains(pub.error(), "--key: ")) << pub.error();
  EXPECT_TRUE(contains(pub.error(), "holds no secret key")) << pub.error();
  Status missing = check_key_pair_file(dir_ + "/missing", "[security] key");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(contains(missing.error(), "[security] key: cannot read key file")) << missing.error();
}

TEST_F(SecurityFiles, AKeyFolderThatIsNoFolderIsRefusedWithoutBlocking) {
  ASSERT_EQ(mkfifo((dir_ + "/fifo").c_str(), 0600), 0);
  for (const std::string& path :
       {dir_ + "/file", dir_ + "/file/below", dir_ + "/fifo", dir_ + "/" + std::string(300, 'a')}) {
    Status s = check_key_folder(path, "--user-keys");
    ASSERT_FALSE(s.ok()) << path;
    EXPECT_TRUE(contains(s.error(), "--user-keys: cannot read the key folder ")) << s.error();
  }
}

TEST_F(SecurityFiles, ErrorsNameTheFlagOrTheConfigKey) {
  SecurityNames flags{"--key", "--agent-keys", "--user-keys"};
  Status s = check_security_files(security("", dir_, dir_ + "/file"), flags);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.error().starts_with("--user-keys: ")) << s.error();
  s = check_security_files(security("", dir_ + "/file", dir_), {});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.error().starts_with("[security] agent_keys: ")) << s.error();
}

}  // namespace
}  // namespace cadre
