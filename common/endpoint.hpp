// Endpoints: the addresses cadre's programs listen on (cadre-master
// --listen) and connect to (--master, CADRE_MASTER, an agent's [agent]
// master). One parser for all of them, so a bad address is refused at once
// with a message that names it, instead of reaching ZeroMQ (which aborts on
// some forms, wraps ports modulo 65536, or retries forever). Stateless;
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace cadre {

// What the address is for: a bind may use host '*' and port 0 (the kernel
// picks one); a connect needs a host and a port 1-65535.
enum class EndpointRole { connect, bind };

struct Endpoint {
  enum class Transport { tcp, ipc };
  Transport transport = Transport::tcp;
  std::string host;   // tcp: a host name, an IPv4 literal, an IPv6 literal (no brackets), or "*"
  uint16_t port = 0;  // tcp
  std::string path;   // ipc: a file path, or "@name" for Linux's abstract namespace

  bool is_tcp() const { return transport == Transport::tcp; }
  // An IPv6 literal: ZeroMQ needs its ipv6 option on to use it.
  bool is_ipv6() const { return is_tcp() && host.find(':') != std::string::npos; }
  // The ZeroMQ form: tcp://HOST:PORT, tcp://[V6]:PORT or ipc://PATH.
  std::string to_string() const;
};

// What every refusal says is expected.
inline constexpr const char* kEndpointForms = "expected tcp://HOST:PORT or ipc:///path";

// One endpoint. The error starts with the value, quoted and escaped, and
// ends with what is expected: "'tcp://127.0.0.1': no port (expected ...)";
// the caller puts the flag's name in front.
Result<Endpoint> parse_endpoint(std::string_view text, EndpointRole role = EndpointRole::connect);

// A comma-separated list of endpoints (at most limits::kMaxEndpoints), each
// checked as parse_endpoint does; an empty element is an error.
Result<std::vector<Endpoint>> parse_endpoint_list(std::string_view text, EndpointRole role = EndpointRole::connect);

// The master a client or an agent talks to: a list, for the day there are
// several masters, of which today exactly one is allowed.
Result<Endpoint> parse_master_endpoint(std::string_view text);

// Whether a tcp endpoint's host resolves now (literals, '*' and ipc always
// do); the error says why not. Blocks for a name lookup: for messages
// about a master that does not answer, not for every connection.
Status check_host_resolves(const Endpoint& endpoint);

}  // namespace cadre
