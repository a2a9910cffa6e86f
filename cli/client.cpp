#include "cli/client.hpp"

#include <capnp/message.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "common/curve_keys.hpp"
#include "common/endpoint.hpp"
#include "common/escape.hpp"
#include "common/ids.hpp"
#include "common/resources.hpp"

namespace cadre::cli {

namespace {

// $NAME, else ~/.cadre/<file> when it exists; "" when neither.
std::string key_path(const char* env_name, const char* file) {
  if (const char* v = getenv(env_name); v && *v) return v;
  const char* home = getenv("HOME");
  if (!home || !*home) return "";
  std::string p = std::string(home) + "/.cadre/" + file;
  return access(p.c_str(), F_OK) == 0 ? p : "";
}

}  // namespace

Client::Client(std::string endpoint, int timeout_ms)
    : endpoint_(std::move(endpoint)),
      timeout_ms_(timeout_ms),
      next_request_id_((static_cast<uint64_t>(getpid()) << 32) ^ static_cast<uint64_t>(steady_now_ms())) {
  // Over tcp with a key pair and the master's public key, the connection
  // is CURVE: encrypted, and the master knows who this is by the key.
  const std::string mine = key_path("CADRE_KEY", "key"), master = key_path("CADRE_MASTER_KEY", "master.pub");
  if (endpoint_.starts_with("tcp://") && !mine.empty() && !master.empty()) {
    auto keys = read_key_file(mine);
    auto server = read_key_file(master);
    if (!keys) key_error_ = keys.error();
    else if (keys->secret_key.empty()) key_error_ = mine + " holds no secret key (give the file cadre keygen wrote)";
    else if (!server) key_error_ = server.error();
    else curve_ = CurveKeyPair{server->public_key, ""}, keys_ = *keys;
    key_file_ = mine;
    master_key_file_ = master;
  }
  reconnect();
}

void Client::reconnect() {
  watch_.reset();
  socket_ = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
  socket_->set(zmq::sockopt::linger, 0);
  // An unguessable routing id: libzmq's own are a counter, which another
  // client could claim to receive this one's replies.
  socket_->set(zmq::sockopt::routing_id, random_routing_id());
  if (curve_) {
    socket_->set(zmq::sockopt::curve_serverkey, curve_->public_key);
    socket_->set(zmq::sockopt::curve_publickey, keys_.public_key);
    socket_->set(zmq::sockopt::curve_secretkey, keys_.secret_key);
  }
  // resolve_master checked the endpoint; an IPv6 literal needs ZeroMQ's ipv6 option.
  if (auto e = parse_endpoint(endpoint_); e && e->is_ipv6()) socket_->set(zmq::sockopt::ipv6, 1);
  watch_ = std::make_unique<ConnectionWatch>(ctx_, *socket_);
  socket_->connect(endpoint_);
}

std::string Client::describe(ConnectionWatch::Problem problem, int64_t started_ms) const {
  // A short grace first, while ZeroMQ retries: it covers a master that is
  // just binding (and call() retries a refused key once). A refused
  // connection on a socket that was connected once is a master restart:
  // that waits out the timeout.
  constexpr int64_t kGraceMs = 2000;
  if (problem == ConnectionWatch::Problem::none || steady_now_ms() - started_ms < kGraceMs) return "";
  switch (problem) {
    case ConnectionWatch::Problem::none:
      return "";
    case ConnectionWatch::Problem::refused:
      return "no answer from the master at " + endpoint_ +
             ": the connection is refused, nothing listens there; is cadre-master running, and is this its "
             "address? (set --master or CADRE_MASTER)";
    case ConnectionWatch::Problem::key_refused:
      return "the master at " + endpoint_ + " refused the key in " + key_file_ +
             ": it is not enrolled there (or was revoked); ask an admin to enroll " + key_file_ +
             ".pub under your user name (cadre-master enroll-user NAME FILE; see docs/security.md)";
    case ConnectionWatch::Problem::handshake_failed:
      if (!curve_)
        return "the master at " + endpoint_ +
               " requires a key, and this cadre has none: make one with 'cadre keygen ~/.cadre/key', have an "
               "admin enroll ~/.cadre/key.pub, and put the master's public key in ~/.cadre/master.pub (or set "
               "CADRE_KEY and CADRE_MASTER_KEY; see docs/security.md)";
      return "the encrypted handshake with the master at " + endpoint_ + " failed: is " + master_key_file_ +
             " the public key of this master? (CADRE_MASTER_KEY; see docs/security.md)";
  }
  return "";
}

Result<std::unique_ptr<Decoded>> Client::call(const std::function<void(Envelope::Builder)>& fill, int64_t extra_ms) {
  if (!key_error_.empty()) return make_error("cannot use the CURVE keys: " + key_error_);
  const uint64_t rid = ++next_request_id_;
  capnp::MallocMessageBuilder message;
  fill(start_envelope(message, rid));
  std::string bytes = encode(message);
  try {
    // A send that finds no connection ready (a handshake still failing,
    // a loaded machine) is tried again below until the deadline, so the
    // error says why (an unenrolled key, nobody there) rather than only
    // that it could not be sent.
    bool sent = socket_->send(zmq::buffer(bytes), zmq::send_flags::dontwait).has_value();
    const int64_t started = steady_now_ms(), deadline = started + timeout_ms_ + std::max<int64_t>(extra_ms, 0);
    bool key_retried = false;
    while (true) {
      if (!sent) sent = socket_->send(zmq::buffer(bytes), zmq::send_flags::dontwait).has_value();
      int64_t left = deadline - steady_now_ms();
      zmq::pollitem_t items[2] = {{socket_->handle(), 0, ZMQ_POLLIN, 0}, {watch_->handle(), 0, ZMQ_POLLIN, 0}};
      if (left > 0) zmq::poll(items, 2, std::chrono::milliseconds(std::min<int64_t>(left, 250)));
      if (!(items[0].revents & ZMQ_POLLIN)) {
        const ConnectionWatch::Problem seen = watch_->read_events();
        // A key enrolled a moment ago: the refusal made the master reread
        // its key folders, but ZeroMQ does not retry a refused handshake
        // soon. A fresh connection does; the request never got in, so it
        // is sent again (once, past the master's 200 ms between rereads).
        constexpr int64_t kKeyRetryMs = 300;
        if (seen == ConnectionWatch::Problem::key_refused && !key_retried &&
            steady_now_ms() - started >= kKeyRetryMs) {
          key_retried = true;
          reconnect();
          sent = socket_->send(zmq::buffer(bytes), zmq::send_flags::dontwait).has_value();
          continue;
        }
        if (std::string problem = describe(seen, started); !problem.empty()) {
          reconnect();
          return make_error(problem);
        }
        if (steady_now_ms() < deadline) continue;
        // A fresh socket next time, so a late reply cannot be mistaken.
        reconnect();
        std::string hint = curve_ ? "; if the master does not know this key, ask an admin to enroll " +
                                        key_file_ + ".pub (cadre-master enroll-user)"
                           : endpoint_.starts_with("tcp://")
                               ? "; if the master requires keys, make one with 'cadre keygen ~/.cadre/key', have "
                                 "an admin enroll ~/.cadre/key.pub, and put the master's public key in "
                                 "~/.cadre/master.pub (see docs/security.md)"
                               : "";
        // A name that does not resolve is the likelier cause: say so.
        if (auto e = parse_endpoint(endpoint_); e)
          if (Status resolves = check_host_resolves(*e); !resolves)
            return make_error("no answer from the master at " + endpoint_ + ": " + resolves.error() +
                              " (set --master or CADRE_MASTER)");
        return make_error("no answer from the master at " + endpoint_ + " within " +
                          std::to_string((deadline - started) / 1000) +
                          " s; is cadre-master running there? (set --master or CADRE_MASTER)" + hint);
      }
      zmq::message_t reply;
      if (!socket_->recv(reply, zmq::recv_flags::dontwait)) continue;
      auto decoded = decode(std::string_view(static_cast<const char*>(reply.data()), reply.size()));
      if (!decoded) return make_error("bad reply from the master: " + decoded.error());
      auto env = (*decoded)->envelope();
      if (env.getRequestId() != rid && env.getRequestId() != 0) continue;  // a stale reply
      if (env.isError()) return make_error(env.getError().getMessage().cStr());
      return decoded;
    }
  } catch (const zmq::error_t& e) {
    return make_error("cannot talk to the master at " + endpoint_ + ": " + e.what());
  } catch (const kj::Exception& e) {
    return make_error(std::string("bad reply from the master: ") + e.getDescription().cStr());
  }
}

Result<std::string> resolve_master(const std::string& flag_value, bool flag_given) {
  // Checked here, before ZeroMQ sees it: libzmq aborts on some malformed
  // forms, wraps a port above 65535, and waits out the timeout on others.
  auto checked = [](const std::string& text, const char* source) -> Result<std::string> {
    auto e = parse_master_endpoint(text);
    if (!e) return make_error(std::string(source) + " " + e.error());
    return e->to_string();
  };
  if (flag_given) return checked(flag_value, "--master");
  if (const char* env = getenv("CADRE_MASTER"); env && *env) return checked(env, "CADRE_MASTER");
  // On the master's own host, its local socket: no keys needed there.
  for (const char* path : {"/run/cadre/cadre.sock", "/var/lib/cadre/cadre.sock"})
    if (access(path, W_OK) == 0) return std::string("ipc://") + path;
  return std::string(kDefaultMaster);
}

Result<int> resolve_timeout_ms(const std::string& flag_value, bool flag_given) {
  std::string text = flag_value;
  const char* source = "--timeout";
  if (!flag_given) {
    const char* env = getenv("CADRE_TIMEOUT");
    if (!env || !*env) return 10000;
    text = env;
    source = "CADRE_TIMEOUT";
  }
  auto s = parse_count(text, 3600);
  if (!s || *s == 0)
    return make_error(std::string(source) + ": expected whole seconds from 1 to 3600, got " + quoted(text, 64));
  return static_cast<int>(*s * 1000);
}

}  // namespace cadre::cli
