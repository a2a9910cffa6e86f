// The master's reservations (master/reservations.hpp) in its ClusterState:
// created and deleted by admins, dropped once their window is over, and
// what the scheduler must keep off their nodes. Free functions over the
// shared ClusterState; not thread-safe (the event-loop thread's).
#pragma once

#include <cstdint>
#include <string>

#include "common/result.hpp"
#include "master/reservations.hpp"
#include "master/state/cluster_state.hpp"

namespace cadre::state {

// Adds `r` (its nodes given, or `node_count` picked: UP nodes of
// `partition` ("" any), in no overlapping reservation and with no running
// job expected to last past its start, by name). Refuses a node that a
// running job holds past the start, as Slurm does without IGNORE_JOBS.
Result<Reservation> create_reservation(ClusterState& s, Reservation r, uint32_t node_count,
                                       const std::string& partition, int64_t now_unix);
Status delete_reservation(ClusterState& s, const std::string& name);
// Drops reservations whose window is over (Slurm deletes them at their end).
void expire_reservations(ClusterState& s, int64_t now_unix);

}  // namespace cadre::state
