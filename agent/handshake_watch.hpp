// HandshakeWatch: ZeroMQ's socket monitor on the agent's connection to the
// master, for the one failure ZeroMQ does not retry by itself. When the
// master's authenticator refuses this node's key (not enrolled yet, a
// key file the master has not rescanned, a revoked key), libzmq 4.3 drops
// the connection for good; without a fresh connect the agent would wait
// forever with nothing in its log. The watch reports each failed and each
// successful handshake; the agent reconnects with backoff and says why.
#pragma once

#include "common/transport.hpp"

#include <functional>

namespace cadre::agent {

class HandshakeWatch {
 public:
  enum class Event {
    succeeded,
    key_refused,     // the master's authenticator said no (ZAP 400)
    failed_other,    // a protocol failure: a wrong master public key, or a master without CURVE
  };
  using Handler = std::function<void(Event)>;

  // Starts watching `watched`; call before it connects, so no event is lost.
  HandshakeWatch(boost::asio::io_context& io, zmq::context_t& ctx, zmq::socket_t& watched, Handler on_event);
  ~HandshakeWatch();
  HandshakeWatch(const HandshakeWatch&) = delete;
  HandshakeWatch& operator=(const HandshakeWatch&) = delete;

  // Stops the monitor; call before the watched socket closes.
  void stop();

 private:
  zmq::socket_t& watched_;
  ZmqChannel monitor_;
  Handler on_event_;
  bool stopped_ = false;
};

}  // namespace cadre::agent
