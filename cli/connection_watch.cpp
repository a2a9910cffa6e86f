#include "cli/connection_watch.hpp"

#include <atomic>
#include <cstring>

namespace cadre::cli {

namespace {

constexpr int kEvents = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                        ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                        ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

std::string monitor_address() {
  static std::atomic<uint64_t> next{0};
  return "inproc://cadre-cli-monitor-" + std::to_string(++next);
}

}  // namespace

ConnectionWatch::ConnectionWatch(zmq::context_t& ctx, zmq::socket_t& socket)
    : watched_(socket), monitor_(ctx, zmq::socket_type::pair) {
  const std::string address = monitor_address();
  if (zmq_socket_monitor(watched_.handle(), address.c_str(), kEvents) != 0) throw zmq::error_t();
  monitor_.set(zmq::sockopt::linger, 0);
  // Connected before the watched socket connects: an event with no one on
  // the monitor's other end is dropped.
  monitor_.connect(address);
}

ConnectionWatch::~ConnectionWatch() {
  // Stops the monitor (its own socket inside libzmq) before either closes.
  zmq_socket_monitor(watched_.handle(), nullptr, 0);
}

ConnectionWatch::Problem ConnectionWatch::read_events() {
  while (true) {
    zmq::message_t head, address;
    if (!monitor_.recv(head, zmq::recv_flags::dontwait)) break;
    if (head.more()) (void)monitor_.recv(address, zmq::recv_flags::dontwait);
    if (head.size() < 6) continue;
    uint16_t event = 0;
    std::memcpy(&event, head.data(), sizeof event);
    switch (event) {
      case ZMQ_EVENT_CONNECTED:
        ever_connected_ = true;
        break;
      case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        // A retried handshake got in (a key enrolled a moment ago).
        problem_ = Problem::none;
        break;
      case ZMQ_EVENT_CONNECT_RETRIED:
        refused_ = true;
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        problem_ = Problem::key_refused;
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        if (problem_ == Problem::none) problem_ = Problem::handshake_failed;
        break;
      default:
        break;
    }
  }
  if (problem_ != Problem::none) return problem_;
  return refused_ && !ever_connected_ ? Problem::refused : Problem::none;
}

}  // namespace cadre::cli
