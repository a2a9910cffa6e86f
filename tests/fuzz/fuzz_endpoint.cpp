// libFuzzer target for common/endpoint: the input is one string given to
// parse_endpoint (as a connect and as a bind) and to parse_endpoint_list.
// None may crash or throw; what they accept must print as a string that
// parses back to the same endpoint, with a port a connect can use; what they
// refuse must say so in one bounded line with no raw control character. A
// violation traps.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/endpoint.hpp"
#include "common/limits.hpp"

namespace {

using cadre::Endpoint;
using cadre::EndpointRole;

// The parser shows at most 120 characters of a value, escapes included; a
// list's refusal quotes the list, then the element's refusal, which quotes
// the element and may quote a part of it (a host, a port). 1 KiB holds that.
constexpr size_t kMaxErrorBytes = 1024;

bool same(const Endpoint& a, const Endpoint& b) {
  return a.transport == b.transport && a.host == b.host && a.port == b.port && a.path == b.path;
}

void check_error(const std::string& error) {
  if (error.empty() || error.size() >= kMaxErrorBytes) __builtin_trap();
  for (unsigned char c : error)
    if (c < 0x20 || c == 0x7f) __builtin_trap();
}

void check_accepted(const Endpoint& e, EndpointRole role) {
  if (e.is_tcp()) {
    if (e.host.empty() || !e.path.empty()) __builtin_trap();
    if (role == EndpointRole::connect && (e.port == 0 || e.host == "*")) __builtin_trap();
  } else if (e.path.empty() || e.path.size() > cadre::limits::kMaxIpcPathBytes || !e.host.empty()) {
    __builtin_trap();
  }
  auto again = cadre::parse_endpoint(e.to_string(), role);
  if (!again || !same(*again, e)) __builtin_trap();
}

void check_one(std::string_view text, EndpointRole role) {
  auto e = cadre::parse_endpoint(text, role);
  if (e)
    check_accepted(*e, role);
  else
    check_error(e.error());
}

void check_list(std::string_view text, EndpointRole role) {
  auto list = cadre::parse_endpoint_list(text, role);
  if (!list) return check_error(list.error());
  if (list->empty() || list->size() > cadre::limits::kMaxEndpoints) __builtin_trap();
  // Each element of an accepted list is an endpoint on its own, in order.
  size_t start = 0;
  for (const Endpoint& e : *list) {
    const size_t comma = text.find(',', start);
    auto alone = cadre::parse_endpoint(text.substr(start, comma == text.npos ? text.npos : comma - start), role);
    if (!alone || !same(*alone, e)) __builtin_trap();
    check_accepted(e, role);
    start = comma == text.npos ? text.size() : comma + 1;
  }
  if (start != text.size()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (EndpointRole role : {EndpointRole::connect, EndpointRole::bind}) {
    check_one(text, role);
    check_list(text, role);
  }
  auto master = cadre::parse_master_endpoint(text);
  if (master)
    check_accepted(*master, EndpointRole::connect);
  else
    check_error(master.error());
  return 0;
}
