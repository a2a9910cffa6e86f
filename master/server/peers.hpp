// Peers: who sent a message, and where an agent's commands go.
//
// A peer is what authenticated it, never what it says about itself: on
// tcp with CURVE, the enrolled key ZAP accepted for its connection (ZeroMQ
// attaches it to every message as "User-Id"); on the local socket, the
// kernel's SO_PEERCRED. An agent's messages must also arrive under the
// routing id derived from its key and the master's (curve_routing_id), and
// its commands are sent there alone: the master computes the destination
// from the enrolled key, so no other connection can receive them or speak
// for that node. Without CURVE (an open tcp endpoint, for tests and
// trusted networks) requests' claims stand and routes are learned.
//
// Not synchronised: owned by the master's event-loop thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/protocol.capnp.h"
#include "common/result.hpp"
#include "master/server/key_store.hpp"

namespace cadre {

class Peers {
 public:
  Peers() = default;
  // CURVE: the master's secret key and the enrolled-key folders.
  void enable_curve(std::string master_secret, KeyStore keys);
  bool curve() const { return curve_; }
  // Besides root, members of this group are admins ("" = root alone).
  void set_admin_group(std::string group) { admin_group_ = std::move(group); }

  // Rescans the key folders; returns the agents whose key was revoked.
  std::vector<std::string> reload_keys(std::vector<std::string>* problems);
  const KeyStore& keys() const { return keys_; }

  // The peer behind a tcp message's ZAP user id; empty when its key is no
  // longer enrolled. A user's account on this host is looked up here.
  std::optional<Peer> from_user_id(const std::string& user_id) const;
  // The peer behind a local-socket message's "Peer-Address" (libzmq ends
  // it with ":uid:gid:pid"); empty when that uid has no account here.
  static std::optional<Peer> from_local_address(const std::string& address);

  // Whether `peer` (empty: unauthenticated tcp) may send `env` under
  // `routing_id`. Agents speak only for their own node and only under
  // their derived routing id; agent keys make no client requests.
  Status authorize(const std::optional<Peer>& peer, const std::string& routing_id, Envelope::Reader env);
  // Root, or a member of the admin group; everyone when unauthenticated.
  bool is_admin(const std::optional<Peer>& peer) const;

  // Where `node`'s commands go: with CURVE, the routing id derived from
  // its enrolled key (none when it has no key); without, the routing id of
  // its last registration or heartbeat.
  std::optional<std::string> route_to(const std::string& node) const;
  // Without CURVE: remember where `node` spoke from.
  void learn_route(const std::string& node, const std::string& routing_id);

 private:
  // The routing id of the agent key `z85`, computed once per key.
  std::optional<std::string> derived_route(const std::string& z85) const;

  bool curve_ = false;
  std::string master_secret_;
  KeyStore keys_;
  std::string admin_group_;
  mutable std::map<std::string, std::string> derived_;  // agent key -> routing id
  std::map<std::string, std::string> learned_;          // node -> routing id (without CURVE)
};

}  // namespace cadre
