// Encoding and decoding of protocol Envelopes (common/protocol.capnp).
// decode() is the only way bytes from the network become a message: it
// checks the size, copies into aligned memory, applies Cap'n Proto's
// traversal and nesting limits, and walks the whole message once so that
// out-of-bounds pointers and runaway nesting are found here. A pointer of
// the wrong kind (a list where a struct belongs) is only found when a
// handler reads that field, as a kj::Exception: every handler of decoded
// messages catches it. Thread-safe (no shared state).
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/limits.hpp"
#include "common/protocol.capnp.h"
#include "common/result.hpp"

namespace cadre {

inline constexpr uint16_t kProtocolVersion = 1;
// Largest message any peer accepts. A job listing of ~50k jobs fits.
inline constexpr size_t kMaxMessageBytes = limits::kMaxMessageBytes;

// A decoded message and the memory that backs it.
class Decoded {
 public:
  Decoded(kj::Array<capnp::word> words);
  Envelope::Reader envelope() const { return root_; }

 private:
  kj::Array<capnp::word> words_;
  std::unique_ptr<capnp::FlatArrayMessageReader> reader_;
  Envelope::Reader root_;
};

// Bytes of one complete Envelope, ready for a socket.
std::string encode(capnp::MessageBuilder& message);

// Decodes bytes from the network. Never throws; garbage gets an Error whose
// message says what was wrong.
Result<std::unique_ptr<Decoded>> decode(std::string_view bytes);

// Starts a message: sets version and request id and returns the root.
Envelope::Builder start_envelope(capnp::MallocMessageBuilder& message, uint64_t request_id);

// Builds an error reply.
std::string encode_error(uint64_t request_id, std::string_view text);

}  // namespace cadre
