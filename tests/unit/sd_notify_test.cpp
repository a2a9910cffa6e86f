// Specification of common/sd_notify: one datagram to $NOTIFY_SOCKET.
#include "common/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace cadre {
namespace {

// A datagram socket bound where systemd would listen: a path, or an
// abstract name (the leading '@' stands for a NUL byte).
class NotifyListener {
 public:
  explicit NotifyListener(const std::string& name) : name_(name) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    if (name[0] == '@') addr.sun_path[0] = '\0';
    else unlink(name.c_str());
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + (name[0] == '@' ? 0 : 1));
    bound_ = bind(fd_, reinterpret_cast<const sockaddr*>(&addr), length) == 0;
    timeval timeout{10, 0};  // against a hang only
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~NotifyListener() {
    close(fd_);
    if (name_[0] == '/') unlink(name_.c_str());
  }
  bool bound() const { return bound_; }
  std::string receive() {
    char buf[512];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    return n < 0 ? std::string("<nothing>") : std::string(buf, static_cast<size_t>(n));
  }

 private:
  std::string name_;
  int fd_ = -1;
  bool bound_ = false;
};

TEST(SdNotify, SendsReadyToAPathSocket) {
  const std::string path = testing::TempDir() + "/sd_notify_test_" + std::to_string(getpid()) + ".sock";
  NotifyListener systemd(path);
  ASSERT_TRUE(systemd.bound());
  Status s = sd_notify_to(path, "READY=1");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(systemd.receive(), "READY=1");
}

TEST(SdNotify, SendsToAnAbstractSocketNamedWithAt) {
  const std::string name = "@cadre-sd-notify-test-" + std::to_string(getpid());
  NotifyListener systemd(name);
  ASSERT_TRUE(systemd.bound());
  ASSERT_TRUE(sd_notify_to(name, "STOPPING=1").ok());
  EXPECT_EQ(systemd.receive(), "STOPPING=1");
}

TEST(SdNotify, ReadsNotifySocketFromTheEnvironment) {
  const std::string path = testing::TempDir() + "/sd_notify_env_test_" + std::to_string(getpid()) + ".sock";
  NotifyListener systemd(path);
  ASSERT_TRUE(systemd.bound());
  setenv("NOTIFY_SOCKET", path.c_str(), 1);
  Status s = sd_notify("READY=1");
  unsetenv("NOTIFY_SOCKET");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(systemd.receive(), "READY=1");
}

TEST(SdNotify, WithoutSystemdNothingIsSentAndNothingFails) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(sd_notify("READY=1").ok());
}

TEST(SdNotify, BadSocketNamesAreErrors) {
  EXPECT_FALSE(sd_notify_to("relative/path", "READY=1").ok());
  EXPECT_FALSE(sd_notify_to("/" + std::string(200, 'x'), "READY=1").ok());
  auto s = sd_notify_to(testing::TempDir() + "/no-such-socket", "READY=1");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("cannot notify systemd"), std::string::npos) << s.error();
}

}  // namespace
}  // namespace cadre
