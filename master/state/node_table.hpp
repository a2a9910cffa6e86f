// Node table: nodes registering (and the reconciliation of the ranks their
// agents still run), heartbeats, silent nodes going DOWN, revoked keys, and
// admins draining and resuming nodes. Free functions over the shared
// ClusterState; not thread-safe (the event-loop thread's).
#pragma once

#include <cstdint>
#include <string>

#include "common/result.hpp"
#include "master/state/agent_reports.hpp"
#include "master/state/cluster_state.hpp"

namespace cadre::state {

// A node's agent registered: the node is UP, ends it kept are recorded, and
// its ranks are reconciled with what the master expects there.
void register_node(ClusterState& s, const NodeRegistration& reg, int64_t now_ms, int64_t now_unix);
// False when the node is not registered with this master: it must register.
bool heartbeat(ClusterState& s, const std::string& name, int64_t now_ms, int64_t now_unix);
// Marks silent nodes DOWN.
void check_node_timeouts(ClusterState& s, int64_t now_ms, int64_t now_unix);
// The node's agent key was revoked: it is DOWN at once.
void node_revoked(ClusterState& s, const std::string& name, int64_t now_unix);
Status drain_node(ClusterState& s, const std::string& name, const std::string& reason);
Status resume_node(ClusterState& s, const std::string& name);
// DOWN: its ranks count as lost, their gangs fail or are requeued.
void mark_node_down(ClusterState& s, Node& n, const std::string& why, int64_t now_unix);

}  // namespace cadre::state
