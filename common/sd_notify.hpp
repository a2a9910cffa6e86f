// sd_notify: tells systemd (Type=notify) how the daemon is doing, by
// sending one datagram such as "READY=1" to the AF_UNIX socket named in
// $NOTIFY_SOCKET (a path, or "@name" for an abstract socket). Written
// here over a plain socket so cadre needs no libsystemd. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace cadre {

// Sends `state` ("READY=1", "STOPPING=1", "STATUS=...") to `socket_name`.
// An empty name (not started by systemd) sends nothing and is no error.
Status sd_notify_to(const std::string& socket_name, std::string_view state);

// As sd_notify_to with $NOTIFY_SOCKET.
Status sd_notify(std::string_view state);

}  // namespace cadre
