// KeyStore: the CURVE public keys the master trusts, one file per agent
// or user (`<folder>/<name>.pub`, as `cadre keygen` writes them). Folders
// are rescanned now and then, so enrolling or revoking needs no restart,
// and a revoked key loses its connection at the next rescan.
//
// ZAP (ZeroMQ's authentication protocol): answer_zap() decides on one
// handshake. A trusted key gets the user id "agent:<name> <key>" or
// "user:<name> <key>", which ZeroMQ then attaches to every message of
// that connection; check() tells whether such an id is still trusted.
//
// One key is one identity: a public key is enrolled under one name, in
// one of the two folders. enroll_key refuses a key held by any other name
// of either kind; a key found in two files (copied there by hand) is kept
// in the first met (agents before users, then by name) and skipped in the
// other, so a user's key can never act as an agent.
// Not synchronised: owned by the master's event-loop thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/transport.hpp"

namespace cadre {

enum class PeerKind { agent, user };

struct Peer {
  PeerKind kind = PeerKind::user;
  std::string name;
  std::string key;  // Z85
  // A user's account on the master's host (looked up once per message).
  bool has_account = false;
  uint32_t uid = 0, gid = 0;
};

class KeyStore {
 public:
  KeyStore() = default;
  KeyStore(std::string agents_dir, std::string users_dir)
      : agents_dir_(std::move(agents_dir)), users_dir_(std::move(users_dir)) {}

  // Rescans both folders. Returns the agents whose key was removed or
  // replaced since the last scan. Unreadable or malformed files, and files
  // whose key an earlier file (agents first, then users, each by name)
  // already holds, are skipped and reported once in `problems`.
  std::vector<std::string> reload(std::vector<std::string>* problems = nullptr);

  std::optional<Peer> find(const std::string& z85_key) const;
  // The peer a ZAP user id names, if its key is still the one enrolled.
  std::optional<Peer> check(const std::string& user_id) const;
  // The key enrolled for agent `name`, if any.
  std::optional<std::string> agent_key(const std::string& name) const {
    auto it = agents_.find(name);
    if (it == agents_.end()) return std::nullopt;
    return it->second;
  }
  size_t agents() const { return agents_.size(); }
  size_t users() const { return users_.size(); }

 private:
  std::string agents_dir_, users_dir_;
  std::map<std::string, std::string> agents_, users_;  // name -> Z85 key
  std::map<std::string, std::string> reported_;        // file -> problem already reported
};

std::string user_id_of(const Peer& p);

struct ZapAnswer {
  Frames reply;          // the frames to send back on the ZAP socket
  bool accepted = false;
  std::string who;       // for the log: "agent node1", "an unknown key ..."
};

// Answers one ZAP request (RFC 27): version, request id, domain, address,
// identity, mechanism, then the mechanism's credentials (CURVE: the
// client's 32-byte public key). Anything but CURVE with a trusted key is
// refused.
ZapAnswer answer_zap(const Frames& request, const KeyStore& keys);

// Checks a name for a key file: [A-Za-z0-9_.-], 1-200 characters.
Status check_key_name(const std::string& name);

// The two folders of enrolled keys ([security] agent_keys, user_keys).
struct KeyFolders {
  std::string agents, users;
  const std::string& of(PeerKind kind) const { return kind == PeerKind::agent ? agents : users; }
};

// Copies the public key in `pub_file` into the folder of `kind` as
// <name>.pub. Refuses a name that has another key (revoke it first) and a
// key already enrolled under any other name, agent or user: "this key is
// already enrolled as agent n1 (DIR/n1.pub); one key is one identity".
// Enrolling the same key under the same name again is a no-op. For
// `cadre-master enroll-agent` and friends.
Status enroll_key(const KeyFolders& folders, PeerKind kind, const std::string& name, const std::string& pub_file);
// Removes `folder`/`name`.pub.
Status revoke_key(const std::string& folder, const std::string& name);

}  // namespace cadre
