#include "agent/handshake_watch.hpp"

#include <zmq.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>

namespace cadre::agent {

namespace {

constexpr int kEvents = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                        ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

std::string monitor_address() {
  static std::atomic<uint64_t> next{0};
  return "inproc://cadre-agent-monitor-" + std::to_string(++next);
}

}  // namespace

HandshakeWatch::HandshakeWatch(boost::asio::io_context& io, zmq::context_t& ctx, zmq::socket_t& watched,
                               Handler on_event)
    : watched_(watched), monitor_(io, ctx, zmq::socket_type::pair), on_event_(std::move(on_event)) {
  const std::string address = monitor_address();
  if (zmq_socket_monitor(watched_.handle(), address.c_str(), kEvents) != 0) throw zmq::error_t();
  // Connected before the watched socket connects: an event with no one on
  // the monitor's other end is dropped.
  monitor_.socket().connect(address);
  monitor_.start([this](Frames&& frames) {
    // Each event is two frames: 2 bytes of event and 4 of value, then the address.
    if (frames.empty() || frames[0].size() < 6) return;
    uint16_t event = 0;
    std::memcpy(&event, frames[0].data(), sizeof event);
    switch (event) {
      case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        on_event_(Event::succeeded);
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        on_event_(Event::key_refused);
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        on_event_(Event::failed_other);
        break;
      default:
        break;
    }
  });
}

HandshakeWatch::~HandshakeWatch() { stop(); }

void HandshakeWatch::stop() {
  if (stopped_) return;
  stopped_ = true;
  // Stops libzmq's monitor (its own socket inside libzmq) before either closes.
  zmq_socket_monitor(watched_.handle(), nullptr, 0);
  monitor_.close();
}

}  // namespace cadre::agent
