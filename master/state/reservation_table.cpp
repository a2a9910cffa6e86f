#include "master/state/reservation_table.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "master/state/partitions.hpp"

namespace cadre::state {
namespace {

// When the running jobs on `node` are expected to be gone (start plus
// limit; a job with no limit never is).
int64_t busy_until(const ClusterState& s, const std::string& node) {
  int64_t until = 0;
  for (const auto& [id, j] : s.jobs) {
    if (!j.holds_resources()) continue;
    const bool here = std::any_of(j.tasks.begin(), j.tasks.end(), [&](const Task& t) {
      return t.node == node && holds_resources(t.state);
    });
    if (!here) continue;
    const int64_t end = j.spec.time_limit_s > 0 ? j.start_time + j.spec.time_limit_s : INT64_MAX;
    until = std::max(until, end);
  }
  return until;
}

bool reserved_then(const ClusterState& s, const std::string& node, int64_t from, int64_t to) {
  for (const auto& [name, r] : s.reservations)
    if (overlaps(r, from, to) && std::binary_search(r.nodes.begin(), r.nodes.end(), node)) return true;
  return false;
}

}  // namespace

Result<Reservation> create_reservation(ClusterState& s, Reservation r, uint32_t node_count,
                                       const std::string& partition, int64_t now_unix) {
  if (r.start == 0 || r.start < now_unix) r.start = now_unix;
  if (!r.nodes.empty()) {
    for (const std::string& n : r.nodes)
      if (!s.nodes.count(n)) return make_error("no node " + n + " (cadre nodes lists them)");
    for (const std::string& n : r.nodes)
      if (busy_until(s, n) > r.start)
        return make_error("node " + n + " runs a job expected to last past the reservation's start; give other "
                          "nodes or a later --start");
  } else {
    if (node_count == 0) return make_error("a reservation needs nodes: give --nodes or --node-count");
    int32_t part = -1;
    if (!partition.empty()) {
      part = partition_index(s, partition);
      if (part < 0) return make_error("no partition '" + partition + "'");
    }
    for (const auto& [name, n] : s.nodes) {
      if (r.nodes.size() == node_count) break;
      if (n.state != NodeState::up || (part >= 0 && !((n.partitions >> part) & 1u))) continue;
      if (reserved_then(s, name, r.start, r.end) || busy_until(s, name) > r.start) continue;
      r.nodes.push_back(name);
    }
    if (r.nodes.size() < node_count)
      return make_error("only " + std::to_string(r.nodes.size()) + " node(s)" +
                        (partition.empty() ? "" : " of partition " + partition) +
                        " are UP, free at the start and in no other reservation then; asked for " +
                        std::to_string(node_count));
  }
  std::sort(r.nodes.begin(), r.nodes.end());
  r.nodes.erase(std::unique(r.nodes.begin(), r.nodes.end()), r.nodes.end());
  if (Status ok = check_new_reservation(r, s.reservations, now_unix); !ok) return make_error(ok.error());
  s.reservations[r.name] = r;
  s.dirty_reservations.insert(r.name);
  CADRE_LOG(info) << "reservation " << r.name << " created: " << r.nodes.size() << " node(s) from " << r.start
                  << " to " << r.end;
  return r;
}

Status delete_reservation(ClusterState& s, const std::string& name) {
  if (!s.reservations.erase(name)) return make_error("no reservation " + name);
  s.dirty_reservations.insert(name);
  CADRE_LOG(info) << "reservation " << name << " deleted";
  return {};
}

void expire_reservations(ClusterState& s, int64_t now_unix) {
  for (auto it = s.reservations.begin(); it != s.reservations.end();) {
    if (it->second.end > now_unix) {
      ++it;
      continue;
    }
    CADRE_LOG(info) << "reservation " << it->first << " ended";
    s.dirty_reservations.insert(it->first);
    it = s.reservations.erase(it);
  }
}

}  // namespace cadre::state
