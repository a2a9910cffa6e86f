// Client: one connection from the CLI to the master, request and reply.
// Every call has a deadline, so a master that does not answer gives an
// error, never a hang. Not thread-safe.
#pragma once

#include <zmq.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cli/connection_watch.hpp"
#include "common/codec.hpp"
#include "common/curve_keys.hpp"
#include "common/result.hpp"

namespace cadre::cli {

inline constexpr const char* kDefaultMaster = "tcp://127.0.0.1:7700";

class Client {
 public:
  Client(std::string endpoint, int timeout_ms);

  // Builds a request with `fill`, sends it and waits for the reply with the
  // same request id. A reply of kind `error` becomes an Error. `extra_ms`
  // lengthens the wait past the timeout for a request whose answer takes
  // the master longer than the timeout allows for (a batch of many jobs).
  Result<std::unique_ptr<Decoded>> call(const std::function<void(Envelope::Builder)>& fill, int64_t extra_ms = 0);

  const std::string& endpoint() const { return endpoint_; }

 private:
  void reconnect();
  // The error for what the connection showed, or "" when it shows nothing
  // yet that warrants giving up before the deadline.
  std::string describe(ConnectionWatch::Problem problem, int64_t started_ms) const;

  std::string endpoint_;
  int timeout_ms_;
  zmq::context_t ctx_{1};
  std::unique_ptr<zmq::socket_t> socket_;
  std::unique_ptr<ConnectionWatch> watch_;  // after socket_: destroyed before it
  uint64_t next_request_id_;
  std::optional<CurveKeyPair> curve_;  // the master's public key, when CURVE is used
  CurveKeyPair keys_;                  // this user's pair
  std::string key_file_, master_key_file_;  // where they came from, for messages
  std::string key_error_;
};

// The master endpoint, checked (common/endpoint.hpp): --master's value when
// `flag_given` (even empty: an empty value is an error, not the default),
// else $CADRE_MASTER, else the master's local socket when this host has
// one, else kDefaultMaster. Errors name where the bad value came from.
Result<std::string> resolve_master(const std::string& flag_value, bool flag_given);
// Milliseconds from --timeout when `flag_given`, else $CADRE_TIMEOUT
// (seconds), default 10 s.
Result<int> resolve_timeout_ms(const std::string& flag_value, bool flag_given);

}  // namespace cadre::cli
