// Where the master's local socket (the ipc endpoint for users on its host,
// who are known by their uid) goes when the config names none:
// STATE_DIR/cadre.sock, or, when that path is longer than a unix socket's
// address can hold (107 bytes), a short one in a private folder of the
// master's own, so that any state folder path works. Pure file-system
// calls: thread-safe.
#pragma once

#include <string>

#include "common/result.hpp"

namespace cadre {

struct LocalSocketPlace {
  std::string path;
  std::string moved_because;  // why the socket is not in the state folder; "" when it is
};

// The default place for `state_dir`. The fallback is
// SHORT_ROOT/cadre-master-<16 hex digits from the state folder's path>/cadre.sock,
// its folder made mode 0700 if missing, and refused unless it is a real
// folder (not a link) of this user's that no one else may use.
Result<LocalSocketPlace> default_local_socket(const std::string& state_dir, const std::string& short_root = "/tmp");

// A configured path ([security] local_socket, --local-socket): refused
// when it is longer than a unix socket's address holds.
Status check_local_socket_path(const std::string& path);

}  // namespace cadre
