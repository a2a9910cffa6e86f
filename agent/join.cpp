// Writes a node's keys and its join drop-in from a join token; see join.hpp.
#include "agent/join.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <toml++/toml.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "common/curve_keys.hpp"
#include "common/join_token.hpp"

namespace cadre::agent {
namespace {

namespace fs = std::filesystem;

// Written to a temporary name, synced, then renamed: a crash leaves the old
// file or the new one, never half of one.
Status write_file_atomically(const std::string& path, const std::string& text, mode_t mode) {
  const std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return make_error("cannot create " + tmp + ": " + std::strerror(errno));
  const bool ok = fchmod(fd, mode) == 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  fsync(fd) == 0;
  const int err = errno;
  close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int why = ok ? errno : err;
    unlink(tmp.c_str());
    return make_error("cannot write " + path + ": " + std::strerror(why));
  }
  return {};
}

// The node key pair: written when missing, kept when it is the token's,
// replaced only with --force.
// With `dry`, only checks: join refuses before it writes anything.
Status install_node_key(const std::string& path, const CurveKeyPair& keys, bool force, bool dry, std::string& report) {
  std::error_code ec;
  if (fs::exists(path, ec) || fs::exists(path + ".pub", ec)) {
    auto existing = read_key_file(path);
    if (existing && existing->secret_key == keys.secret_key && existing->public_key == keys.public_key) {
      if (!dry) report += "  " + path + " already holds this node's key\n";
      return {};
    }
    if (!force)
      return make_error(path + " already holds another node key; this node may belong to a cluster already. "
                        "Give --force to replace it (the old key stops working)");
    if (dry) return {};
    fs::remove(path, ec);
    fs::remove(path + ".pub", ec);
  }
  if (dry) return {};
  if (Status s = write_key_pair(path, keys); !s) return s;
  report += "  wrote " + path + " and " + path + ".pub (this node's key pair)\n";
  return {};
}

Status install_master_key(const std::string& path, const std::string& public_key, bool force, bool dry,
                          std::string& report) {
  std::error_code ec;
  if (fs::exists(path, ec)) {
    auto existing = read_key_file(path);
    if (existing && existing->public_key == public_key) {
      if (!dry) report += "  " + path + " already holds this master's key\n";
      return {};
    }
    if (!force)
      return make_error(path + " already holds another master's key. Give --force to point this node at the new master");
  }
  if (dry) return {};
  const std::string text = "# cadre CURVE public key of the master (written by cadre-agent join)\npublic-key = \"" +
                           public_key + "\"\n";
  if (Status s = write_file_atomically(path, text, 0644); !s) return s;
  report += "  wrote " + path + " (the master's public key)\n";
  return {};
}

std::string drop_in_text(const JoinToken& token, const std::string& key_path, const std::string& master_key_path) {
  // toml++ writes the strings, so any path is quoted correctly.
  toml::table agent{{"master", token.endpoint}, {"name", token.name}, {"key", key_path}, {"master_key", master_key_path}};
  toml::table root{{"agent", std::move(agent)}};
  std::ostringstream out;
  out << "# Written by cadre-agent join: the cluster this node belongs to.\n"
         "# Settings in cadre.toml.d/ override cadre.toml; files later in name order win.\n"
      << root << "\n";
  return out.str();
}

}  // namespace

std::string join_drop_in_path(const std::string& config_dir) { return config_dir + "/cadre.toml.d/50-join.toml"; }

Result<std::string> join_cluster(const JoinOptions& options) {
  auto token = decode_join_token(options.token);
  if (!token) return make_error(token.error());
  char public_key[41] = {};
  if (zmq_curve_public(public_key, token->node_secret.c_str()) != 0)
    return make_error(std::string("cannot derive the node's public key: ") + zmq_strerror(errno));
  const CurveKeyPair node{public_key, token->node_secret};

  std::error_code ec;
  // Absolute, so the drop-in means the same whatever folder the agent starts in.
  const std::string dir = fs::absolute(options.config_dir, ec).lexically_normal().string();
  if (ec) return make_error("cannot resolve " + options.config_dir + ": " + ec.message());
  fs::create_directories(dir + "/cadre.toml.d", ec);
  if (ec) return make_error("cannot create " + dir + "/cadre.toml.d: " + ec.message());

  std::string report = "joined the cluster at " + token->endpoint + " as node " + token->name + ":\n";
  const std::string key_path = dir + "/node.key", master_key_path = dir + "/master.pub";
  for (bool dry : {true, false}) {
    if (Status s = install_node_key(key_path, node, options.force, dry, report); !s) return make_error(s.error());
    if (Status s = install_master_key(master_key_path, token->master_public, options.force, dry, report); !s)
      return make_error(s.error());
  }
  const std::string drop_in = join_drop_in_path(dir);
  if (Status s = write_file_atomically(drop_in, drop_in_text(*token, key_path, master_key_path), 0644); !s)
    return make_error(s.error());
  report += "  wrote " + drop_in + " ([agent] master, name, key, master_key)\n";
  report += "start the agent with: cadre-agent --config " + dir + "/cadre.toml\n";
  return report;
}

}  // namespace cadre::agent
