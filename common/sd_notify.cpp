// One datagram to systemd's notify socket; see sd_notify.hpp.
#include "common/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace cadre {

Status sd_notify_to(const std::string& socket_name, std::string_view state) {
  if (socket_name.empty()) return {};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_name.size() >= sizeof addr.sun_path)
    return make_error("NOTIFY_SOCKET is too long for a socket address: " + socket_name);
  if (socket_name[0] != '/' && socket_name[0] != '@')
    return make_error("NOTIFY_SOCKET is neither a path nor an abstract '@' name: " + socket_name);
  std::memcpy(addr.sun_path, socket_name.data(), socket_name.size());
  // An abstract address starts with a NUL byte and has no terminating one.
  if (socket_name[0] == '@') addr.sun_path[0] = '\0';
  const socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_name.size() +
                                                  (socket_name[0] == '/' ? 1 : 0));
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(std::string("cannot make a socket for sd_notify: ") + std::strerror(errno));
  const ssize_t sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr),
                              length);
  const int err = errno;
  close(fd);
  if (sent < 0) return make_error("cannot notify systemd at " + socket_name + ": " + std::strerror(err));
  return {};
}

Status sd_notify(std::string_view state) {
  const char* name = std::getenv("NOTIFY_SOCKET");
  return sd_notify_to(name ? name : "", state);
}

}  // namespace cadre
