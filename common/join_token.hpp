// JoinToken: everything a new node needs to join a cluster, as the one
// opaque word `cadre-master enroll-agent NAME` prints and `cadre-agent join`
// reads. Pure functions; thread-safe.
//
//   cadre1:<base64url, no padding, of>
//     endpoint=tcp://head.example.org:7700
//     master-key=<the master's public key, Z85>
//     name=node9
//     secret-key=<the node's secret key, Z85>
//     check=<16 hex digits: FNV-1a 64 of the lines above>
//
// The token holds the node's SECRET key: whoever has it can act as that
// node. It is not signed (a node has nothing to check a signature with);
// the check line only catches a token damaged in copying.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace cadre {

struct JoinToken {
  std::string endpoint;       // tcp://HOST:PORT the agent connects to
  std::string master_public;  // Z85
  std::string name;           // the node's name, as enrolled
  std::string node_secret;    // Z85
};

constexpr std::string_view kJoinTokenPrefix = "cadre1:";

std::string encode_join_token(const JoinToken& token);

// Every field present and well formed, the check matching; otherwise an
// error that says what is wrong with the token.
Result<JoinToken> decode_join_token(std::string_view text);

}  // namespace cadre
