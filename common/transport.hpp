// ZmqChannel: a ZeroMQ socket driven by a Boost.Asio io_context.
//
// The socket's ZMQ_FD is wrapped in an asio descriptor. ZeroMQ signals that
// fd edge-triggered, so after every wake-up (and after every send, which can
// consume the edge) the channel drains while ZMQ_EVENTS has ZMQ_POLLIN.
// Frames of one multipart message arrive together as one vector.
//
// Not thread-safe: use from the thread that runs the io_context.
#pragma once

#include "common/asio.hpp"

#include <zmq.hpp>

#include <functional>
#include <string>
#include <vector>

namespace cadre {

using Frames = std::vector<std::string>;

class ZmqChannel {
 public:
  // Called once per received multipart message. A batch of messages is
  // followed by one call of the batch-end handler, so the owner can commit
  // and flush replies once per loop turn (group commit).
  using MessageHandler = std::function<void(Frames&&)>;
  using BatchEndHandler = std::function<void()>;

  ZmqChannel(boost::asio::io_context& io, zmq::context_t& ctx, zmq::socket_type type);
  ~ZmqChannel();
  ZmqChannel(const ZmqChannel&) = delete;
  ZmqChannel& operator=(const ZmqChannel&) = delete;

  zmq::socket_t& socket() { return socket_; }

  // ZeroMQ attaches properties to each message of a connection: "User-Id"
  // (what a ZAP handler said, with CURVE), "Peer-Address" (for ipc on
  // Linux, ":uid:gid:pid" from the kernel). When a name is set, that
  // property of the message being delivered is in peer_property() during
  // the message handler ("" when the message has none).
  void read_property(std::string name) { property_ = std::move(name); }
  const std::string& peer_property() const { return peer_property_; }

  // Starts reading. Messages are delivered from io_context callbacks.
  void start(MessageHandler on_message, BatchEndHandler on_batch_end = {});
  // Sends one multipart message without blocking. Returns false when ZeroMQ
  // would block or drops it (peer gone, queue full); the caller decides.
  bool send(const Frames& frames);
  void close();

 private:
  void arm();
  void drain();

  zmq::socket_t socket_;
  boost::asio::posix::stream_descriptor fd_;
  MessageHandler on_message_;
  BatchEndHandler on_batch_end_;
  bool armed_ = false;
  bool drain_posted_ = false;
  bool closed_ = false;
  std::string property_;
  std::string peer_property_;
};

}  // namespace cadre
