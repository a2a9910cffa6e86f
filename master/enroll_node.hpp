// One-command node install: `cadre-master enroll-agent NAME` with no key
// file makes a key pair for the node, enrolls its public half, and builds
// the one shell line an admin runs on the new node (install the package,
// `cadre-agent join TOKEN`, start the agent). The node's secret travels in
// the token only: the master never stores it. Not synchronised.
#pragma once

#include <string>

#include "common/result.hpp"

namespace cadre {

struct NodeEnrollment {
  std::string name;
  std::string agent_keys_dir;   // [security] agent_keys
  std::string master_key_file;  // [security] key: the master's key pair
  std::string endpoint;         // tcp://HOST:PORT agents connect to
  std::string package = "cadre-agent";  // or a path to a .deb
  std::string user_keys_dir{};  // [security] user_keys: one key is one identity across both
};

// Enrolls a fresh key for `e.name` (refusing a name that already has a key,
// and, through enroll_key, a key some agent or user already holds)
// and returns the shell line, which holds the node's secret key.
Result<std::string> enroll_new_node(const NodeEnrollment& e);

// The endpoint agents use for a master listening on `listen`: a wildcard
// host ("*", "0.0.0.0") becomes `host` (this machine's FQDN by default).
Result<std::string> agent_endpoint(const std::string& listen, const std::string& host);

// This machine's fully qualified name, else its host name.
std::string fqdn();

}  // namespace cadre
