#include "master/local_socket.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "common/bounded_file.hpp"
#include "common/limits.hpp"

namespace cadre {

namespace {

constexpr const char* kSocketName = "/cadre.sock";

// FNV-1a: a stable name per state folder, not a secret.
std::string folder_tag(const std::string& state_dir) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : state_dir) h = (h ^ c) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

}  // namespace

Status check_local_socket_path(const std::string& path) {
  if (path.size() > limits::kMaxIpcPathBytes)
    return make_error("the local socket path " + shown_path(path) + " is " + std::to_string(path.size()) +
                      " bytes, and a unix socket's holds at most " + std::to_string(limits::kMaxIpcPathBytes) +
                      ": give a shorter [security] local_socket (or --local-socket)");
  return {};
}

Result<LocalSocketPlace> default_local_socket(const std::string& state_dir, const std::string& short_root) {
  const std::string natural = state_dir + kSocketName;
  if (natural.size() <= limits::kMaxIpcPathBytes) return LocalSocketPlace{natural, ""};

  const std::string folder = short_root + "/cadre-master-" + folder_tag(state_dir);
  if (::mkdir(folder.c_str(), 0700) != 0 && errno != EEXIST)
    return make_error("cannot make " + folder + " for the local socket: " + std::strerror(errno));
  // Anyone may create names in /tmp: use the folder only if it is ours alone.
  struct stat st {};
  if (::lstat(folder.c_str(), &st) != 0)
    return make_error("cannot use " + folder + " for the local socket: " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0)
    return make_error(folder + " (for the local socket) is not a private folder of this user's: remove it, or set "
                      "[security] local_socket");
  return LocalSocketPlace{folder + kSocketName, "the state folder's path is too long for a unix socket (" +
                                                    std::to_string(natural.size()) + " bytes, at most " +
                                                    std::to_string(limits::kMaxIpcPathBytes) + ")"};
}

}  // namespace cadre
