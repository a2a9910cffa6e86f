// ServerState: everything the master's request handlers share, owned by
// MasterService and lent to the handlers by reference. Request: who sent
// the message being handled and how to answer it.
//
// Not synchronised: owned by the master's event-loop thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "master/server/key_store.hpp"
#include "master/limits.hpp"
#include "master/server/options.hpp"
#include "master/server/outbox.hpp"
#include "master/server/peers.hpp"
#include "master/state/accounts.hpp"
#include "master/state/cluster.hpp"
#include "master/stats.hpp"
#include "master/store/store.hpp"

namespace cadre {

struct ServerState {
  ServerState(MasterOptions opts, std::unique_ptr<Store> st)
      : options(std::move(opts)),
        store(std::move(st)),
        cluster(options.node_timeout_ms, options.max_retries),
        rate_limiter(options.limits.submit_rate, options.limits.submit_burst),
        accounts(options.accounts) {}

  // Why new work is refused while the store cannot be written.
  std::string store_failure_message() const {
    return "the master cannot write its database (" + store_error.value_or("unknown error") +
           "); it accepts no new work until it can. Nothing was changed; try again later";
  }
  // The same, to a request worked through over several turns (a long
  // cancel) that outlived a committed one: its earlier slices may be done.
  std::string store_failure_message_partly_done() const {
    return "the master cannot write its database (" + store_error.value_or("unknown error") +
           "); part of this request may have been done before: see what was (cadre queue) and try the rest later";
  }

  MasterOptions options;
  std::unique_ptr<Store> store;
  Cluster cluster;
  Outbox out;
  Peers peers;
  MasterCounters counters;
  MasterStats stats;
  SubmitRateLimiter rate_limiter;
  AccountTable accounts;
  // Set while the store cannot be written: no new work is accepted.
  std::optional<std::string> store_error;
  bool schedule_wanted = false;
};

struct Request {
  std::string peer;        // the routing id to answer (local-socket peers carry a prefix)
  uint64_t id = 0;         // the request id to answer with
  std::optional<Peer> who; // who sent it, when known for sure (CURVE key or the kernel)
};

}  // namespace cadre
