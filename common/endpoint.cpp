#include "common/endpoint.hpp"

#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>

#include "common/escape.hpp"
#include "common/limits.hpp"

namespace cadre {

namespace {

Error refuse(std::string_view text, const std::string& why) {
  return Error{quoted(text) + ": " + why + " (" + kEndpointForms + ")"};
}

bool is_ipv4_shaped(std::string_view host) {
  for (char c : host)
    if (!(c >= '0' && c <= '9') && c != '.') return false;
  return true;
}

// A DNS name (or, for a bind, an interface name such as eth0): labels of
// letters, digits, '-' and '_' (some sites use it), none empty or over 63.
bool is_host_name(std::string_view host) {
  if (host.empty() || host.size() > limits::kMaxHostNameBytes) return false;
  if (host.back() == '.') host.remove_suffix(1);  // a fully qualified "node1."
  size_t label = 0;
  for (char c : host) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

Result<Endpoint> parse_tcp(std::string_view text, std::string_view rest, EndpointRole role) {
  Endpoint e;
  e.transport = Endpoint::Transport::tcp;
  if (rest.find(';') != std::string_view::npos)
    return refuse(text, "a source address (HOST;HOST:PORT) is not supported");
  std::string_view host, port;
  bool bracketed = false;
  if (rest.starts_with('[')) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return refuse(text, "'[' without its ']'");
    host = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
    if (rest.empty()) return refuse(text, "no port");
    if (rest[0] != ':') return refuse(text, "expected ':' and a port after ']'");
    port = rest.substr(1);
    bracketed = true;
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return refuse(text, "no port");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return refuse(text, "an IPv6 address goes in brackets, as in tcp://[::1]:7700");
  }
  if (host.empty()) return refuse(text, "no host");
  if (bracketed) {
    in6_addr a6{};
    const std::string h(host);
    if (inet_pton(AF_INET6, h.c_str(), &a6) != 1) return refuse(text, quoted(host) + " is not an IPv6 address");
  } else if (host == "*") {
    if (role == EndpointRole::connect) return refuse(text, "'*' is for listening; give the host to connect to");
  } else if (is_ipv4_shaped(host)) {
    in_addr a4{};
    const std::string h(host);
    if (inet_pton(AF_INET, h.c_str(), &a4) != 1) return refuse(text, quoted(host) + " is not an IPv4 address");
  } else if (!is_host_name(host)) {
    return refuse(text, quoted(host) + " is not a host name");
  }
  if (port.empty()) return refuse(text, "no port");
  if (port.find_first_not_of("0123456789") != std::string_view::npos)
    return refuse(text, "port " + quoted(port) + " is not a number from 1 to 65535");
  const size_t digits = port.size() - std::min(port.find_first_not_of('0'), port.size());
  const int value = digits > 5 ? 65536 : std::stoi(std::string(port));
  if (value > 65535) return refuse(text, "port " + quoted(port) + " is above 65535");
  if (value == 0 && role == EndpointRole::connect) return refuse(text, "port 0 is not a port to connect to");
  e.host = std::string(host);
  e.port = static_cast<uint16_t>(value);
  return e;
}

Result<Endpoint> parse_ipc(std::string_view text, std::string_view path) {
  if (path.empty()) return refuse(text, "no path");
  if (path.size() > limits::kMaxIpcPathBytes)
    return refuse(text, "the path is " + std::to_string(path.size()) + " bytes, and a unix socket's holds at most " +
                            std::to_string(limits::kMaxIpcPathBytes));
  Endpoint e;
  e.transport = Endpoint::Transport::ipc;
  e.path = std::string(path);
  return e;
}

}  // namespace

std::string Endpoint::to_string() const {
  if (transport == Transport::ipc) return "ipc://" + path;
  const bool v6 = host.find(':') != std::string::npos;
  return "tcp://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<Endpoint> parse_endpoint(std::string_view text, EndpointRole role) {
  if (text.empty()) return refuse(text, "empty");
  if (text.size() > limits::kMaxHostNameBytes + 64) return refuse(text, std::to_string(text.size()) + " bytes long");
  for (unsigned char c : text)
    if (c <= ' ' || c == 0x7f) return refuse(text, "a blank or control character");
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos) return refuse(text, "no transport");
  const std::string_view scheme = text.substr(0, sep), rest = text.substr(sep + 3);
  if (scheme == "tcp") {
    if (rest.empty()) return refuse(text, "no host and port");
    return parse_tcp(text, rest, role);
  }
  if (scheme == "ipc") return parse_ipc(text, rest);
  if (scheme == "inproc")
    return refuse(text, "inproc is inside one process, where no agent or user can reach it");
  return refuse(text, "transport " + quoted(scheme) + " is not one cadre uses");
}

Result<std::vector<Endpoint>> parse_endpoint_list(std::string_view text, EndpointRole role) {
  if (text.empty()) return refuse(text, "empty");
  std::vector<Endpoint> out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string_view one = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    if (out.size() == limits::kMaxEndpoints)
      return refuse(text, "more than " + std::to_string(limits::kMaxEndpoints) + " endpoints");
    if (one.empty()) return refuse(text, "endpoint " + std::to_string(out.size() + 1) + " of the list is empty");
    auto e = parse_endpoint(one, role);
    if (!e) {
      if (comma == std::string_view::npos && out.empty()) return make_error(e.error());
      return Error{quoted(text) + ": endpoint " + std::to_string(out.size() + 1) + " of the list: " + e.error()};
    }
    out.push_back(std::move(*e));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<Endpoint> parse_master_endpoint(std::string_view text) {
  auto list = parse_endpoint_list(text, EndpointRole::connect);
  if (!list) return make_error(list.error());
  if (list->size() > 1)
    return Error{quoted(text) + ": " + std::to_string(list->size()) +
                 " masters listed, and cadre talks to one master until controller high availability lands: give "
                 "one endpoint"};
  return std::move(list->front());
}

Status check_host_resolves(const Endpoint& endpoint) {
  if (!endpoint.is_tcp() || endpoint.host == "*") return {};
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(endpoint.host.c_str(), nullptr, &hints, &found);
  if (found) freeaddrinfo(found);
  if (rc == 0) return {};
  return make_error("the host '" + endpoint.host + "' does not resolve (" + gai_strerror(rc) + ")");
}

}  // namespace cadre
