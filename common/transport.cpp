#include "common/transport.hpp"

#include "common/log.hpp"

namespace cadre {

// Upper bound on messages handled per wake-up so timers and signals still
// run under a flood; the rest is picked up on the next turn.
static constexpr int kMaxBatch = 4096;

ZmqChannel::ZmqChannel(boost::asio::io_context& io, zmq::context_t& ctx, zmq::socket_type type)
    : socket_(ctx, type), fd_(io) {
  socket_.set(zmq::sockopt::linger, 0);
}

ZmqChannel::~ZmqChannel() { close(); }

void ZmqChannel::close() {
  if (closed_) return;
  closed_ = true;
  // The fd belongs to ZeroMQ; asio must not close it.
  if (fd_.is_open()) {
    boost::system::error_code ignored;
    fd_.cancel(ignored);
    (void)fd_.release();
  }
  socket_.close();
}

void ZmqChannel::start(MessageHandler on_message, BatchEndHandler on_batch_end) {
  on_message_ = std::move(on_message);
  on_batch_end_ = std::move(on_batch_end);
  fd_.assign(socket_.get(zmq::sockopt::fd));
  drain();
}

bool ZmqChannel::send(const Frames& frames) {
  if (closed_) return false;
  bool ok = true;
  try {
    for (size_t i = 0; i < frames.size(); ++i) {
      auto flags = zmq::send_flags::dontwait;
      if (i + 1 < frames.size()) flags = flags | zmq::send_flags::sndmore;
      if (!socket_.send(zmq::const_buffer(frames[i].data(), frames[i].size()), flags)) {
        ok = false;
        break;
      }
    }
  } catch (const zmq::error_t& e) {
    // EHOSTUNREACH with ROUTER_MANDATORY, or a closed socket.
    CADRE_LOG(debug) << "send failed: " << e.what();
    ok = false;
  }
  // A send can swallow the read edge; check for input after it.
  if (!drain_posted_ && on_message_) {
    drain_posted_ = true;
    boost::asio::post(fd_.get_executor(), [this] {
      drain_posted_ = false;
      if (!closed_) drain();
    });
  }
  return ok;
}

void ZmqChannel::arm() {
  if (armed_ || closed_) return;
  armed_ = true;
  fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    armed_ = false;
    if (ec || closed_) return;
    drain();
  });
}

void ZmqChannel::drain() {
  int handled = 0;
  while (!closed_ && handled < kMaxBatch) {
    Frames frames;
    bool got = false;
    try {
      while (true) {
        zmq::message_t part;
        auto r = socket_.recv(part, zmq::recv_flags::dontwait);
        if (!r) break;
        got = true;
        frames.emplace_back(static_cast<const char*>(part.data()), part.size());
        if (!part.more()) {
          if (!property_.empty()) {
            // zmq_msg_gets, not cppzmq's gets(): a missing property is "".
            const char* value = zmq_msg_gets(part.handle(), property_.c_str());
            peer_property_ = value ? value : "";
          }
          break;
        }
      }
    } catch (const zmq::error_t& e) {
      CADRE_LOG(warning) << "receive failed: " << e.what();
      break;
    }
    if (!got) break;
    ++handled;
    on_message_(std::move(frames));
  }
  if (handled > 0 && on_batch_end_ && !closed_) on_batch_end_();
  if (closed_) return;
  if (handled >= kMaxBatch) {
    // More may be waiting; yield to other handlers, then continue.
    boost::asio::post(fd_.get_executor(), [this] {
      if (!closed_) drain();
    });
    return;
  }
  // Edge-triggered: only sleep on the fd when ZeroMQ says nothing is queued.
  if (socket_.get(zmq::sockopt::events) & ZMQ_POLLIN) {
    boost::asio::post(fd_.get_executor(), [this] {
      if (!closed_) drain();
    });
    return;
  }
  arm();
}

}  // namespace cadre
