// The join token's text and encoding; see join_token.hpp.
#include "common/join_token.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <map>

#include "common/curve_keys.hpp"
#include "common/endpoint.hpp"
#include "common/limits.hpp"

namespace cadre {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(std::string_view bytes) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (unsigned char c : bytes) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out += kAlphabet[(bits >> count) & 63];
    }
  }
  if (count > 0) out += kAlphabet[(bits << (6 - count)) & 63];
  return out;
}

Result<std::string> unbase64url(std::string_view text) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    const size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos)
      return make_error(std::string("the token has a character that does not belong: '") + c + "'");
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  // A whole token leaves fewer than 8 spare bits, all zero.
  if (count >= 6 || (bits & ((1u << count) - 1)) != 0) return make_error("the token is cut short");
  return out;
}

// FNV-1a, 64 bits: enough to catch a damaged copy, not meant to resist forgery.
std::string check_of(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

bool valid_name(const std::string& name) {
  return !name.empty() && name.size() <= limits::kMaxNodeNameBytes && name[0] != '.' &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
         });
}

std::string body_of(const JoinToken& t) {
  return "endpoint=" + t.endpoint + "\nmaster-key=" + t.master_public + "\nname=" + t.name +
         "\nsecret-key=" + t.node_secret + "\n";
}

}  // namespace

std::string encode_join_token(const JoinToken& token) {
  const std::string body = body_of(token);
  return std::string(kJoinTokenPrefix) + base64url(body + "check=" + check_of(body) + "\n");
}

Result<JoinToken> decode_join_token(std::string_view text) {
  const std::string bad = "not a usable join token: ";
  if (!text.starts_with(kJoinTokenPrefix))
    return make_error(bad + "it does not start with '" + std::string(kJoinTokenPrefix) +
                      "' (copy the whole word cadre-master enroll-agent printed)");
  auto raw = unbase64url(text.substr(kJoinTokenPrefix.size()));
  if (!raw) return make_error(bad + raw.error());
  const std::string& body = *raw;
  // Every line ends in a newline: a token without the last one was cut.
  if (body.empty() || body.back() != '\n') return make_error(bad + "the token is cut short");
  const size_t check_at = body.rfind("check=");
  if (check_at == std::string::npos || (check_at != 0 && body[check_at - 1] != '\n'))
    return make_error(bad + "it has no check line (damaged in copying?)");
  std::string check = body.substr(check_at + 6);
  if (!check.empty() && check.back() == '\n') check.pop_back();
  if (check != check_of(std::string_view(body).substr(0, check_at)))
    return make_error(bad + "its check does not match (damaged in copying? ask for it again)");

  std::map<std::string, std::string> fields;
  size_t start = 0;
  while (start < check_at) {
    const size_t end = body.find('\n', start);
    const std::string line = body.substr(start, end - start);
    const size_t eq = line.find('=');
    if (eq == std::string::npos) return make_error(bad + "a line without '='");
    fields[line.substr(0, eq)] = line.substr(eq + 1);
    start = end + 1;
  }
  JoinToken t{fields["endpoint"], fields["master-key"], fields["name"], fields["secret-key"]};
  auto endpoint = parse_master_endpoint(t.endpoint);
  if (!endpoint) return make_error(bad + "its endpoint " + endpoint.error());
  if (!endpoint->is_tcp()) return make_error(bad + "its endpoint '" + t.endpoint + "' is not tcp://HOST:PORT");
  if (!valid_z85_key(t.master_public)) return make_error(bad + "its master key is not a CURVE key");
  if (!valid_z85_key(t.node_secret)) return make_error(bad + "its node key is not a CURVE key");
  if (!valid_name(t.name)) return make_error(bad + "its node name '" + t.name + "' is not usable");
  if (body_of(t) != std::string_view(body).substr(0, check_at))
    return make_error(bad + "it holds lines this version does not know");
  return t;
}

}  // namespace cadre
