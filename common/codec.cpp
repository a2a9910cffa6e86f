#include "common/codec.hpp"

#include <kj/exception.h>

#include <cstring>

namespace cadre {
namespace {
capnp::ReaderOptions reader_options(size_t words) {
  capnp::ReaderOptions options;
  // A message may be read once whole (the check in decode) and then by a
  // handler; allow a few passes over its own size, never more.
  options.traversalLimitInWords = words * 4 + 1024;
  options.nestingLimit = 32;
  return options;
}
}  // namespace

Decoded::Decoded(kj::Array<capnp::word> words) : words_(kj::mv(words)) {
  reader_ = std::make_unique<capnp::FlatArrayMessageReader>(words_.asPtr(), reader_options(words_.size()));
  root_ = reader_->getRoot<Envelope>();
}

std::string encode(capnp::MessageBuilder& message) {
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(message);
  auto bytes = flat.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

Result<std::unique_ptr<Decoded>> decode(std::string_view bytes) {
  if (bytes.empty()) return make_error("empty message");
  if (bytes.size() > kMaxMessageBytes)
    return make_error("message of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                      std::to_string(kMaxMessageBytes));
  if (bytes.size() % sizeof(capnp::word) != 0)
    return make_error("message size " + std::to_string(bytes.size()) + " is not a whole number of 8-byte words");
  auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  try {
    auto decoded = std::make_unique<Decoded>(kj::mv(words));
    auto root = decoded->envelope();
    // Walks every pointer in the message: bounds and limits fail here.
    (void)root.totalSize();
    if (root.getVersion() != kProtocolVersion)
      return make_error("protocol version " + std::to_string(root.getVersion()) + " is not supported (this build speaks " +
                        std::to_string(kProtocolVersion) + ")");
    return decoded;
  } catch (const kj::Exception& e) {
    return make_error(std::string("malformed message: ") + e.getDescription().cStr());
  }
}

Envelope::Builder start_envelope(capnp::MallocMessageBuilder& message, uint64_t request_id) {
  auto env = message.initRoot<Envelope>();
  env.setVersion(kProtocolVersion);
  env.setRequestId(request_id);
  return env;
}

std::string encode_error(uint64_t request_id, std::string_view text) {
  capnp::MallocMessageBuilder message;
  auto env = start_envelope(message, request_id);
  env.initError().setMessage(kj::StringPtr(std::string(text).c_str()));
  return encode(message);
}

}  // namespace cadre
