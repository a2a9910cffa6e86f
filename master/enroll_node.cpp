// Enrolling a node that has no key yet; see enroll_node.hpp.
#include "master/enroll_node.hpp"

#include <netdb.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/curve_keys.hpp"
#include "common/endpoint.hpp"
#include "common/join_token.hpp"
#include "master/server/key_store.hpp"

namespace cadre {
namespace {

// The package goes into a single-quoted shell word: no quotes, no spaces.
Status check_package(const std::string& spec) {
  const bool plain = !spec.empty() && std::all_of(spec.begin(), spec.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("._+-:=~/").find(c) != std::string_view::npos;
  });
  if (!plain) return make_error("--package: '" + spec + "' is neither a package name nor a path to a .deb");
  return {};
}

// Enrolls through key_store's enroll_key (which refuses a name that has
// another key, and a key another agent or user holds) from a .pub file in
// a private temporary folder; the secret half is never written to disk.
Status enroll_public_key(const KeyFolders& folders, const std::string& name, const std::string& public_key) {
  std::string tmp = (std::filesystem::temp_directory_path() / "cadre-enroll-XXXXXX").string();
  if (!mkdtemp(tmp.data())) return make_error("cannot make a temporary folder: " + std::string(std::strerror(errno)));
  const std::string pub = tmp + "/" + name + ".pub";
  Status s;
  {
    std::ofstream out(pub);
    out << "public-key = \"" << public_key << "\"\n";
    if (!out.flush()) s = make_error("cannot write " + pub);
  }
  if (s) s = enroll_key(folders, PeerKind::agent, name, pub);
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
  return s;
}

}  // namespace

std::string fqdn() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  addrinfo hints{};
  hints.ai_flags = AI_CANONNAME;
  addrinfo* found = nullptr;
  std::string name = host;
  if (getaddrinfo(host, nullptr, &hints, &found) == 0) {
    if (found && found->ai_canonname && *found->ai_canonname) name = found->ai_canonname;
    freeaddrinfo(found);
  }
  return name;
}

Result<std::string> agent_endpoint(const std::string& listen, const std::string& host) {
  auto endpoints = parse_endpoint_list(listen, EndpointRole::bind);
  if (!endpoints) return make_error("[master] listen " + endpoints.error());
  // The first tcp endpoint: nodes cannot reach an ipc one.
  auto tcp = std::find_if(endpoints->begin(), endpoints->end(), [](const Endpoint& e) { return e.is_tcp(); });
  if (tcp == endpoints->end())
    return make_error("the master listens on '" + listen + "', which a node cannot reach; give --endpoint tcp://HOST:PORT");
  if (tcp->port == 0)
    return make_error("the master listens on a port the kernel chooses (" + tcp->to_string() +
                      "); give --endpoint tcp://HOST:PORT");
  Endpoint reach = *tcp;
  if (reach.host == "*" || reach.host == "0.0.0.0" || reach.host == "::") reach.host = host;
  return reach.to_string();
}

Result<std::string> enroll_new_node(const NodeEnrollment& e) {
  if (Status s = check_key_name(e.name); !s) return make_error(s.error());
  if (Status s = check_package(e.package); !s) return make_error(s.error());
  auto endpoint = parse_master_endpoint(e.endpoint);
  if (!endpoint) return make_error("--endpoint " + endpoint.error());
  if (!endpoint->is_tcp()) return make_error("--endpoint: a node reaches the master over tcp: give tcp://HOST:PORT");
  if (e.master_key_file.empty())
    return make_error("enroll-agent NAME without a key file needs the master's key pair ([security] key in --config, "
                      "or --key FILE): the join token carries its public half");
  auto master = read_key_file(e.master_key_file);
  if (!master) return make_error(master.error());
  auto node = generate_curve_keypair();
  if (!node) return make_error(node.error());
  const KeyFolders folders{e.agent_keys_dir, e.user_keys_dir};
  if (Status s = enroll_public_key(folders, e.name, node->public_key); !s) return make_error(s.error());

  const std::string token = encode_join_token({e.endpoint, master->public_key, e.name, node->secret_key});
  // apt-get installs a local .deb only when given as a path.
  std::string package = e.package;
  if (package.ends_with(".deb") && package.find('/') == std::string::npos) package = "./" + package;
  // No sudo in front: a Debian installed with a root password has none.
  // The line is for a root shell (an admin with sudo puts it in front).
  return "sh -c 'apt-get install -y " + package + " && cadre-agent join " + token +
         " && systemctl enable --now cadre-agent'";
}

}  // namespace cadre
