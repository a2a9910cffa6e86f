// The master's CURVE files, checked before it starts and by --check-config:
// the key file holds a key pair, and each key folder is a folder the master
// can read, or is not there yet (enroll-agent and enroll-user make it).
// Errors name where the path came from ("--key", "[security] key") and the
// path as shown_path shows it. File-system reads only; thread-safe.
#pragma once

#include <string>

#include "common/result.hpp"
#include "master/server/options.hpp"

namespace cadre {

// Where each path of SecurityOptions came from, for messages.
struct SecurityNames {
  std::string key = "[security] key";
  std::string agent_keys = "[security] agent_keys";
  std::string user_keys = "[security] user_keys";
};

// The master's key pair at `path`: readable, and with its secret half.
Status check_key_pair_file(const std::string& path, const std::string& name);

// A folder of enrolled keys: "" (none), a folder that can be listed, or a
// path that does not exist yet. A file, a FIFO, a path under a file, a
// name too long or a folder that cannot be read is refused.
Status check_key_folder(const std::string& dir, const std::string& name);

// Both checks for every path `sec` sets (an empty key_file: no CURVE).
Status check_security_files(const SecurityOptions& sec, const SecurityNames& names);

}  // namespace cadre
