#include "master/server/peers.hpp"

#include <grp.h>
#include <pwd.h>

#include "common/curve_keys.hpp"
#include "common/resources.hpp"

namespace cadre {

void Peers::enable_curve(std::string master_secret, KeyStore keys) {
  curve_ = true;
  master_secret_ = std::move(master_secret);
  keys_ = std::move(keys);
}

std::vector<std::string> Peers::reload_keys(std::vector<std::string>* problems) {
  std::vector<std::string> revoked = keys_.reload(problems);
  // A replaced key derives another routing id.
  derived_.clear();
  return revoked;
}

std::optional<Peer> Peers::from_user_id(const std::string& user_id) const {
  std::optional<Peer> peer = keys_.check(user_id);
  if (peer && peer->kind == PeerKind::user) {
    if (const passwd* pw = getpwnam(peer->name.c_str())) {
      peer->has_account = true;
      peer->uid = pw->pw_uid;
      peer->gid = pw->pw_gid;
    }
  }
  return peer;
}

std::optional<Peer> Peers::from_local_address(const std::string& address) {
  const size_t pid_colon = address.rfind(':');
  const size_t gid_colon =
      pid_colon == std::string::npos || pid_colon == 0 ? std::string::npos : address.rfind(':', pid_colon - 1);
  const size_t uid_colon =
      gid_colon == std::string::npos || gid_colon == 0 ? std::string::npos : address.rfind(':', gid_colon - 1);
  if (uid_colon == std::string::npos) return std::nullopt;
  auto uid = parse_count(std::string_view(address).substr(uid_colon + 1, gid_colon - uid_colon - 1), UINT32_MAX);
  if (!uid) return std::nullopt;
  const passwd* pw = getpwuid(static_cast<uid_t>(*uid));
  if (!pw) return std::nullopt;
  return Peer{PeerKind::user, pw->pw_name, "", true, pw->pw_uid, pw->pw_gid};
}

Status Peers::authorize(const std::optional<Peer>& peer, const std::string& routing_id, Envelope::Reader env) {
  // Without an identity (tcp without CURVE) the request's claims stand.
  if (!peer) return {};
  const Peer& p = *peer;
  auto as_agent = [&](capnp::Text::Reader claimed) -> Status {
    if (p.kind != PeerKind::agent) return make_error("only enrolled agents may send this");
    if (std::string_view(claimed.cStr(), claimed.size()) != p.name)
      return make_error("agent " + p.name + " may speak only for itself, not for " + std::string(claimed.cStr()));
    // The key proves who is speaking; the routing id must be the one the
    // master sends this node's commands to, or another connection could
    // hold that id and receive them.
    std::optional<std::string> expected = derived_route(p.key);
    if (!expected || *expected != routing_id)
      return make_error("agent " + p.name +
                        " connected under a routing id not derived from its key (upgrade cadre-agent to this "
                        "master's version)");
    return {};
  };
  switch (env.which()) {
    case Envelope::REGISTER: return as_agent(env.getRegister().getName());
    case Envelope::HEARTBEAT: return as_agent(env.getHeartbeat().getName());
    case Envelope::TASK_STATUS: return as_agent(env.getTaskStatus().getNode());
    default:
      if (p.kind != PeerKind::user) return make_error("agent keys may not be used for client requests");
      return {};
  }
}

bool Peers::is_admin(const std::optional<Peer>& peer) const {
  if (!peer) return true;
  if (peer->kind != PeerKind::user) return false;
  if (peer->name == "root") return true;
  if (admin_group_.empty()) return false;
  const struct group* g = getgrnam(admin_group_.c_str());
  if (!g) return false;
  for (char** m = g->gr_mem; m && *m; ++m)
    if (peer->name == *m) return true;
  return peer->has_account && peer->gid == g->gr_gid;
}

std::optional<std::string> Peers::route_to(const std::string& node) const {
  if (!curve_) {
    auto it = learned_.find(node);
    if (it == learned_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> key = keys_.agent_key(node);
  if (!key) return std::nullopt;
  return derived_route(*key);
}

void Peers::learn_route(const std::string& node, const std::string& routing_id) {
  if (!curve_) learned_[node] = routing_id;
}

std::optional<std::string> Peers::derived_route(const std::string& z85) const {
  if (auto it = derived_.find(z85); it != derived_.end()) return it->second;
  auto route = curve_routing_id(master_secret_, z85);
  if (!route) return std::nullopt;
  return derived_[z85] = *route;
}

}  // namespace cadre
