// CURVE key pairs (ZeroMQ's CurveZMQ, on libsodium) for the daemons and
// users: generated here, stored as two small text files. Thread-safe.
//
//   PATH       the secret key file, mode 0600:
//                # cadre CURVE key pair. Keep this file secret.
//                public-key = "<40 Z85 characters>"
//                secret-key = "<40 Z85 characters>"
//   PATH.pub   the public key alone, mode 0644, for enrolling elsewhere
#pragma once

#include <string>

#include "common/result.hpp"

namespace cadre {

struct CurveKeyPair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters; empty when read from a .pub file
};

// A fresh key pair; an error when this libzmq was built without CURVE.
Result<CurveKeyPair> generate_curve_keypair();

// Writes PATH and PATH.pub. Refuses to overwrite either file (a lost
// secret key cannot be told from a replaced one), and leaves neither
// behind when it fails.
Status write_key_pair(const std::string& path, const CurveKeyPair& keys);

// Reads a key file written by write_key_pair: a secret file gives both
// keys, a .pub file the public key only. Errors name the file and line.
Result<CurveKeyPair> read_key_file(const std::string& path);

// True for 40 Z85 characters that decode to a 32-byte key.
bool valid_z85_key(const std::string& text);

}  // namespace cadre

namespace cadre {

// The ZeroMQ routing id a peer holding the secret key `own_secret` uses
// towards the peer whose public key is `their_public` (both Z85). Both
// ends compute the same value (X25519: a.secret x B.public equals
// b.secret x A.public), hashed to 16 bytes; no one without one of the two
// secret keys can. The master thus knows, from an enrolled key alone,
// where that key's commands go, and refuses a message that arrives under
// any other routing id: an impostor can neither guess nor take over an
// agent's connection. "k" + 32 hex digits.
Result<std::string> curve_routing_id(const std::string& own_secret, const std::string& their_public);

// A random routing id ("r" + 32 hex digits) for a client that may run many
// times at once under one key: unguessable, so no other peer can claim it.
std::string random_routing_id();

}  // namespace cadre
