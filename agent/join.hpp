// `cadre-agent join TOKEN`: makes this host a node of the cluster the join
// token (common/join_token.hpp) names, by writing into the config folder
//   node.key, node.key.pub          this node's CURVE key pair (0600, 0644)
//   master.pub                      the master's public key (0644)
//   cadre.toml.d/50-join.toml       [agent] master, name, key, master_key
// Never touches cadre.toml itself (a dpkg conffile). Running it again with
// the same token changes nothing; a different node key or master key is
// replaced only with `force`. Not synchronised: one caller at a time.
#pragma once

#include <string>

#include "common/result.hpp"

namespace cadre::agent {

struct JoinOptions {
  std::string token;
  std::string config_dir = "/etc/cadre";
  bool force = false;  // replace a different node key or master key
};

// Returns what was written, for the admin to read.
Result<std::string> join_cluster(const JoinOptions& options);

// The drop-in join writes, under `config_dir`.
std::string join_drop_in_path(const std::string& config_dir);

}  // namespace cadre::agent
