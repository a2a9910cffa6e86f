// Outbox: what the master says in one loop turn, held until the turn's
// changes are committed (commit before observe), and the promise that
// every client request gets exactly one reply.
//
// A request is opened when it is dispatched and closed by its answer. At
// the end of a turn every request still open is answered with an error
// (a handler that failed on a malformed field, say), unless it was
// deferred: a long request worked through in slices over several turns
// answers when its last slice is done. When the turn's commit fails,
// every queued answer is replaced by the same error, so a client never
// sees a change the store does not hold, and never waits for nothing;
// a deferred request that outlived a committed turn is told instead that
// part of it may be done (its earlier slices are in the store).
//
// Not synchronised: owned by the master's event-loop thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/transport.hpp"

namespace cadre {

class Outbox {
 public:
  // `peer` is the routing id the request came from (the local socket's
  // peers carry a prefix the server strips when sending).
  void open(const std::string& peer, uint64_t request_id);
  // The one answer to an open request (or to a message that needs none).
  void answer(const std::string& peer, uint64_t request_id, std::string bytes);
  // A message to a peer that is no request's answer (register replies,
  // acks to agents).
  void send(const std::string& peer, std::string bytes);
  // The request stays open past this turn; answer() closes it later.
  void defer(const std::string& peer, uint64_t request_id);

  // End of a committed turn: the frames to send. Open requests that were
  // neither answered nor deferred are answered with `unanswered_error`.
  std::vector<Frames> take(const std::string& unanswered_error);
  // End of a failed turn: queued answers are dropped, and every request of
  // the turn is answered with `error` instead; a deferred request that
  // outlived a committed turn, with `partly_done_error`.
  std::vector<Frames> fail(const std::string& error, const std::string& partly_done_error);

  // Requests a handler left without an answer (each got the error).
  uint64_t unanswered() const { return unanswered_; }

 private:
  // under_way: deferred, and a turn has been committed since.
  enum class Stage { open, answered, deferred, under_way };
  using Key = std::pair<std::string, uint64_t>;
  std::map<Key, Stage> requests_;  // this turn's, and deferred ones
  std::vector<Frames> queued_;
  uint64_t unanswered_ = 0;
};

}  // namespace cadre
