// cadre-raw-client: a hostile peer for the end-to-end tests (tests/e2e/
// adversary.py drives it). It speaks the wire protocol with no checks of its
// own: any Envelope, any routing id, any CURVE key, so a test can send what
// the real CLI and agent never would and see exactly what the master sends
// back.
//
//   cadre-raw-client --endpoint EP [--key FILE --server-key FILE]
//                    [--routing-id ID] [--linger-ms N]
//
// stdin: one Envelope a line, in Cap'n Proto's JSON form (field names as in
// common/protocol.capnp; 64-bit numbers may be strings), e.g.
//   {"requestId": "7", "heartbeat": {"name": "n1"}}
// A missing (or 0) "version" is kProtocolVersion. Each line is sent as it arrives.
// stdout: one JSON object a line, flushed at once:
//   {"event": "ready"}                              the socket is connecting
//   {"event": "sent", "line": N, "bytes": B}
//   {"event": "bad_input", "line": N, "error": "..."}
//   {"event": "received", "envelope": {...}}         a decodable message
//   {"event": "undecodable", "bytes": B, "error": "..."}
// After stdin closes it keeps receiving for --linger-ms (default 500, at
// most an hour), then exits 0. A refused flag exits 2. Single-threaded.
#include <poll.h>
#include <unistd.h>

#include <capnp/compat/json.h>
#include <capnp/message.h>
#include <zmq.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "common/codec.hpp"
#include "common/curve_keys.hpp"
#include "common/endpoint.hpp"
#include "common/escape.hpp"
#include "common/main_guard.hpp"
#include "common/resources.hpp"

namespace {

constexpr int64_t kMaxLingerMs = 3'600'000;

struct Options {
  std::string endpoint;
  std::optional<std::string> key_file;  // unset: no CURVE
  std::optional<std::string> server_key_file;
  std::string routing_id;
  int linger_ms = 500;
};

// The reason is escaped: it may echo a hostile value.
int usage(const std::string& why) {
  std::cerr << "cadre-raw-client: " << cadre::escape_control(why)
            << "\nusage: cadre-raw-client --endpoint EP [--key FILE --server-key FILE] [--routing-id ID] "
               "[--linger-ms N]\n";
  return 2;
}

std::string json_string(const std::string& s) {
  capnp::JsonCodec codec;
  return codec.encode(capnp::Text::Reader(s.c_str(), s.size())).cStr();
}

void emit(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

class RawClient {
 public:
  RawClient(zmq::socket_t& socket) : socket_(socket) {}

  void send_line(const std::string& line) {
    ++line_number_;
    if (line.find_first_not_of(" \t\r") == std::string::npos) return;
    capnp::MallocMessageBuilder message;
    try {
      auto env = message.initRoot<::Envelope>();
      codec_.decode(kj::ArrayPtr<const char>(line.data(), line.size()), env);
      if (env.getVersion() == 0) env.setVersion(cadre::kProtocolVersion);
    } catch (const kj::Exception& e) {
      emit("{\"event\": \"bad_input\", \"line\": " + std::to_string(line_number_) +
           ", \"error\": " + json_string(e.getDescription().cStr()) + "}");
      return;
    }
    std::string bytes = cadre::encode(message);
    socket_.send(zmq::buffer(bytes), zmq::send_flags::none);
    emit("{\"event\": \"sent\", \"line\": " + std::to_string(line_number_) + ", \"bytes\": " +
         std::to_string(bytes.size()) + "}");
  }

  void receive_all() {
    while (true) {
      std::vector<zmq::message_t> frames;
      zmq::message_t frame;
      if (!socket_.recv(frame, zmq::recv_flags::dontwait)) return;
      std::string body = frame.to_string();
      while (frame.more()) {
        if (!socket_.recv(frame, zmq::recv_flags::none)) break;
        body = frame.to_string();  // a DEALER sees only the body; keep the last frame
      }
      auto decoded = cadre::decode(body);
      if (!decoded) {
        emit("{\"event\": \"undecodable\", \"bytes\": " + std::to_string(body.size()) +
             ", \"error\": " + json_string(decoded.error()) + "}");
        continue;
      }
      kj::String json = codec_.encode((*decoded)->envelope());
      emit("{\"event\": \"received\", \"envelope\": " + std::string(json.cStr()) + "}");
    }
  }

 private:
  zmq::socket_t& socket_;
  capnp::JsonCodec codec_;
  int line_number_ = 0;
};

int run(const Options& o) {
  zmq::context_t ctx(1);
  zmq::socket_t socket(ctx, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::maxmsgsize, int64_t{-1});  // see whatever the master sends, however big
  if (!o.routing_id.empty()) socket.set(zmq::sockopt::routing_id, o.routing_id);
  if (o.key_file) {
    auto mine = cadre::read_key_file(*o.key_file);
    if (!mine) return usage(mine.error());
    auto server = cadre::read_key_file(*o.server_key_file);
    if (!server) return usage(server.error());
    socket.set(zmq::sockopt::curve_serverkey, server->public_key);
    socket.set(zmq::sockopt::curve_publickey, mine->public_key);
    socket.set(zmq::sockopt::curve_secretkey, mine->secret_key);
  }
  socket.connect(o.endpoint);
  emit("{\"event\": \"ready\"}");

  RawClient client(socket);
  const int zmq_fd = socket.get(zmq::sockopt::fd);
  std::string pending;
  size_t scanned = 0;  // pending[0, scanned) holds no newline
  bool stdin_open = true;
  auto linger_end = std::chrono::steady_clock::time_point::max();
  char buffer[1 << 16];
  while (std::chrono::steady_clock::now() < linger_end) {
    client.receive_all();
    pollfd fds[2] = {{zmq_fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    // ZMQ_FD is edge-triggered: poll briefly and drain every time round.
    ::poll(fds, stdin_open ? 2 : 1, 20);
    if (stdin_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
      if (n <= 0) {
        stdin_open = false;
        if (!pending.empty()) client.send_line(pending);
        linger_end = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.linger_ms);
      } else {
        pending.append(buffer, static_cast<size_t>(n));
        size_t start = 0, nl;
        while ((nl = pending.find('\n', std::max(start, scanned))) != std::string::npos) {
          client.send_line(pending.substr(start, nl - start));
          start = nl + 1;
        }
        pending.erase(0, start);
        scanned = pending.size();
      }
    }
  }
  client.receive_all();
  return 0;
}

}  // namespace

static int run_main(int argc, char** argv) {
  Options o;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (i + 1 >= args.size()) return usage(a + " needs a value");
    const std::string& v = args[++i];
    if (a == "--endpoint") {
      o.endpoint = v;
    } else if (a == "--key") {
      o.key_file = v;
    } else if (a == "--server-key") {
      o.server_key_file = v;
    } else if (a == "--routing-id") {
      o.routing_id = v;
    } else if (a == "--linger-ms") {
      auto n = cadre::parse_count(v, kMaxLingerMs);
      if (!n) return usage("--linger-ms: " + n.error() + " (milliseconds, 0 to " + std::to_string(kMaxLingerMs) + ")");
      o.linger_ms = static_cast<int>(*n);
    } else {
      return usage("unknown flag " + a);
    }
  }
  if (o.endpoint.empty()) return usage("--endpoint is required");
  if (auto e = cadre::parse_master_endpoint(o.endpoint); !e) return usage("--endpoint " + e.error());
  for (const auto& [flag, file] : {std::pair{"--key", &o.key_file}, {"--server-key", &o.server_key_file}})
    if (*file && (*file)->empty()) return usage(std::string(flag) + ": empty (''); give a key file");
  if (o.key_file && !o.server_key_file) return usage("--key needs --server-key");
  if (o.server_key_file && !o.key_file) return usage("--server-key needs --key");
  try {
    return run(o);
  } catch (const std::exception& e) {
    return cadre::print_error("cadre-raw-client", e.what(), 1);
  }
}

// An exception nothing above caught: one line and exit 1, never an abort.
int main(int argc, char** argv) {
  return cadre::guarded_main("cadre-raw-client", [&] { return run_main(argc, argv); });
}
