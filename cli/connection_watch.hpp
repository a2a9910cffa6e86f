// ConnectionWatch: what ZeroMQ's socket monitor says about the CLI's
// connection to the master, so that a wrong address, a key the master
// refuses and a master that wants keys each fail at once with their own
// message, instead of all three waiting out --timeout in silence.
// One per socket; not thread-safe.
#pragma once

#include <zmq.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace cadre::cli {

class ConnectionWatch {
 public:
  // What the connection has shown so far.
  enum class Problem {
    none,
    refused,            // connections refused, none ever made: nothing listens there
    key_refused,        // the master's authenticator refused this key (not enrolled, or revoked)
    handshake_failed,   // the handshake failed otherwise: the master speaks CURVE and this
                        // client does not, or the master's public key is not the one given
  };

  // Starts watching `socket`; call before it connects, so no event is lost.
  ConnectionWatch(zmq::context_t& ctx, zmq::socket_t& socket);
  ~ConnectionWatch();
  ConnectionWatch(const ConnectionWatch&) = delete;
  ConnectionWatch& operator=(const ConnectionWatch&) = delete;

  // The monitor socket, to poll beside the watched one.
  void* handle() { return monitor_.handle(); }

  // Reads every event waiting; returns what they show so far (a later
  // successful handshake clears an earlier failed one).
  Problem read_events();

 private:
  zmq::socket_t& watched_;
  zmq::socket_t monitor_;
  bool ever_connected_ = false;
  bool refused_ = false;
  Problem problem_ = Problem::none;
};

}  // namespace cadre::cli
