// NodeRequests: the master's handlers for agents (register, heartbeat,
// task status) and for what users and admins ask about nodes (listNodes,
// listPartitions, setNodeState) and the master itself (getStats). Agent
// messages are already authorized (Peers::authorize) when they get here.
//
// Not synchronised: runs on the master's event-loop thread.
#pragma once

#include "common/protocol.capnp.h"
#include "master/server/server_state.hpp"

namespace cadre {

class NodeRequests {
 public:
  explicit NodeRequests(ServerState& state) : s_(state) {}

  void register_node(const Request& r, Register::Reader m);
  void heartbeat(const Request& r, Heartbeat::Reader m);
  void task_status(const Request& r, TaskStatus::Reader m);
  void list_nodes(const Request& r);
  void list_partitions(const Request& r);
  void set_node_state(const Request& r, SetNodeState::Reader m);
  void get_stats(const Request& r);
  // Reservations: admins create and delete them; anyone lists them.
  void create_reservation(const Request& r, CreateReservation::Reader m);
  void delete_reservation(const Request& r, DeleteReservation::Reader m);
  void list_reservations(const Request& r);

 private:
  // An agent's message the master cannot use: counted, logged, answered.
  void malformed(const Request& r, const std::string& why);

  ServerState& s_;
};

}  // namespace cadre
