#include "common/curve_keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <zmq.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/bounded_file.hpp"

namespace cadre {
namespace {

// O_EXCL: never replaces a file that exists, even one made a moment ago.
Status write_new_file(const std::string& path, const std::string& text, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return make_error(path + " already exists; cadre never overwrites a key (remove it first)");
    return make_error("cannot create " + path + ": " + std::strerror(errno));
  }
  // The mode passed to open() is filtered by the umask; the files' modes
  // are part of their meaning.
  if (fchmod(fd, mode) != 0 || write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      fsync(fd) != 0) {
    int err = errno;
    close(fd);
    unlink(path.c_str());
    return make_error("cannot write " + path + ": " + std::strerror(err));
  }
  close(fd);
  return {};
}

}  // namespace

bool valid_z85_key(const std::string& text) {
  if (text.size() != 40) return false;
  uint8_t raw[32];
  return zmq_z85_decode(raw, text.c_str()) != nullptr;
}

Result<CurveKeyPair> generate_curve_keypair() {
  if (!zmq_has("curve")) return make_error("this libzmq was built without CURVE security (libsodium)");
  char pub[41] = {}, sec[41] = {};
  if (zmq_curve_keypair(pub, sec) != 0) return make_error(std::string("cannot make a key pair: ") + zmq_strerror(errno));
  return CurveKeyPair{pub, sec};
}

Status write_key_pair(const std::string& path, const CurveKeyPair& keys) {
  if (!valid_z85_key(keys.public_key) || !valid_z85_key(keys.secret_key)) return make_error("not a CURVE key pair");
  const std::string pub_path = path + ".pub";
  // Both are checked first so that a refusal leaves nothing half written.
  for (const std::string& p : {path, pub_path})
    if (access(p.c_str(), F_OK) == 0) return make_error(p + " already exists; cadre never overwrites a key (remove it first)");
  const std::string secret = "# cadre CURVE key pair. Keep this file secret.\npublic-key = \"" + keys.public_key +
                             "\"\nsecret-key = \"" + keys.secret_key + "\"\n";
  if (Status s = write_new_file(path, secret, 0600); !s) return s;
  const std::string pub = "# cadre CURVE public key. Give it to whoever enrolls you.\npublic-key = \"" +
                          keys.public_key + "\"\n";
  if (Status s = write_new_file(pub_path, pub, 0644); !s) {
    unlink(path.c_str());
    return s;
  }
  return {};
}

Result<CurveKeyPair> read_key_file(const std::string& path) {
  // Not a FIFO (whose open would block) nor a folder, nor an empty path.
  if (Status s = check_regular_file(path, "key file"); !s) return make_error(s.error());
  std::ifstream in(path);
  if (!in) return make_error("cannot read key file " + shown_path(path) + ": " + std::strerror(errno));
  CurveKeyPair keys;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find('=');
    std::string key = line.substr(0, eq), value = eq == std::string::npos ? "" : line.substr(eq + 1);
    auto trim = [](std::string& s) {
      s.erase(0, s.find_first_not_of(" \t"));
      s.erase(s.find_last_not_of(" \t\r") + 1);
    };
    trim(key);
    trim(value);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    const std::string where = path + ":" + std::to_string(n) + ": ";
    if (eq == std::string::npos || (key != "public-key" && key != "secret-key"))
      return make_error(where + "expected public-key = \"...\" or secret-key = \"...\"");
    if (!valid_z85_key(value)) return make_error(where + key + " is not a 40-character Z85 CURVE key");
    (key == "public-key" ? keys.public_key : keys.secret_key) = value;
  }
  if (keys.public_key.empty()) return make_error(path + ": no public-key");
  return keys;
}

}  // namespace cadre

namespace cadre {
namespace {

std::string hex(const uint8_t* bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

}  // namespace

Result<std::string> curve_routing_id(const std::string& own_secret, const std::string& their_public) {
  if (!valid_z85_key(own_secret) || !valid_z85_key(their_public))
    return make_error("a routing id needs two 40-character Z85 keys");
  if (sodium_init() < 0) return make_error("libsodium failed to start");
  uint8_t secret[32], peer[32], shared[crypto_scalarmult_BYTES], digest[16];
  zmq_z85_decode(secret, own_secret.c_str());
  zmq_z85_decode(peer, their_public.c_str());
  // A low-order public key gives an all-zero secret: refuse it.
  if (crypto_scalarmult(shared, secret, peer) != 0) return make_error("the peer's public key is not usable");
  static constexpr char kContext[] = "cadre routing id v1";
  crypto_generichash(digest, sizeof digest, shared, sizeof shared, reinterpret_cast<const uint8_t*>(kContext),
                     sizeof kContext - 1);
  sodium_memzero(shared, sizeof shared);
  sodium_memzero(secret, sizeof secret);
  return "k" + hex(digest, sizeof digest);
}

std::string random_routing_id() {
  uint8_t bytes[16];
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to start");
  randombytes_buf(bytes, sizeof bytes);
  return "r" + hex(bytes, sizeof bytes);
}

}  // namespace cadre
