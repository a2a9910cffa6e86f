// The ports the master hands out as MASTER_PORT (torch.distributed's and
// other launchers' rendezvous port on rank 0's node). Configurable because a
// site may already use 29500 and up, and because two clusters on one host
// (test clusters, a staging master beside production) must not hand the
// same port to jobs that start on the same machine. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.hpp"

namespace cadre {

struct PortRange {
  uint16_t first = 29500;
  // first .. first + count - 1. The default ends where Linux's default
  // ephemeral range (ip_local_port_range, 32768-60999) begins: a port in
  // that range can be held by any outgoing connection on the node, and a
  // rank 0 that cannot bind its MASTER_PORT fails the whole gang.
  uint16_t count = 3268;

  uint16_t last() const { return static_cast<uint16_t>(first + count - 1); }
  // The port `offset` places after `from` (a port of the range), wrapping
  // within the range.
  uint16_t advance(uint16_t from, uint32_t offset) const {
    return static_cast<uint16_t>(first + (static_cast<uint32_t>(from - first) + offset) % count);
  }
  bool operator==(const PortRange&) const = default;
};

// "FIRST-LAST" (inclusive, as in 29500-32767) with 1024 <= FIRST <= LAST <=
// 65535: ports under 1024 are privileged, and a job's ranks run as its user.
// Errors say what was expected.
Result<PortRange> parse_port_range(const std::string& text);
std::string to_string(const PortRange& range);

}  // namespace cadre
