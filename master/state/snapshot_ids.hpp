// SnapshotIds: what schedule.cpp's snapshot builder keeps while it walks
// the jobs: dense ids of users, accounts, partitions and QOS, node indices,
// and the node sets -w / -x / -C / reservations allow, each worked out once
// per pass. Internal to master/state's scheduling; not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/constraint.hpp"
#include "common/hostlist.hpp"
#include "master/qos.hpp"
#include "master/reservations.hpp"
#include "master/state/cluster_state.hpp"
#include "master/state/partitions.hpp"

namespace cadre::state {

// Dense ids of the strings a snapshot names, as hashed views of strings
// that outlive the snapshot (node names, job specs): one lookup per job and
// no copies, for queues of 100,000 jobs.
struct SnapshotIds {
  const ClusterState& s;
  std::unordered_map<std::string_view, uint32_t> node_index, users, accounts, partition_ids, qos_ids;
  // -w / -x host lists as node indices, by "nodelist\nexclude".
  std::unordered_map<std::string, std::vector<uint32_t>> allowed;
  // -C: the nodes each choice allows (within -w / -x), by
  // "nodelist\nexclude\nconstraint".
  std::unordered_map<std::string, std::vector<std::vector<uint32_t>>> featured;
  std::vector<const Node*> node_at;  // by index, for their features
  // Reservations: the pass's time and how long a job with no limit is
  // planned for; the nodes each reservation holds, and the nodes a job
  // outside every reservation must stay off, by which ones overlap it.
  int64_t now = 0;
  int64_t unlimited_as = 0;
  std::unordered_map<std::string, std::vector<uint32_t>> reserved_nodes;
  std::map<std::vector<std::string>, std::vector<uint32_t>> blocked;

  const std::vector<uint32_t>& nodes_of(const Reservation& r) {
    auto [it, fresh] = reserved_nodes.try_emplace(r.name);
    if (fresh) {
      for (const std::string& n : r.nodes)
        if (auto at = node_index.find(n); at != node_index.end()) it->second.push_back(at->second);
      std::sort(it->second.begin(), it->second.end());
    }
    return it->second;
  }

  const std::vector<std::vector<uint32_t>>& feature_sets(const JobSpec& spec) {
    auto [it, fresh] = featured.try_emplace(spec.nodelist + "\n" + spec.exclude + "\n" + spec.constraint);
    if (!fresh) return it->second;
    auto c = parse_constraint(spec.constraint);
    if (!c) {
      // Validated at submit: only a row from a newer or broken master gets
      // here. No node qualifies, rather than any.
      it->second.emplace_back();
      return it->second;
    }
    const bool restricted = !spec.nodelist.empty() || !spec.exclude.empty();
    std::vector<uint32_t> candidates;
    if (restricted) {
      candidates = allowed_nodes(spec);
    } else {
      for (uint32_t i = 0; i < node_at.size(); ++i) candidates.push_back(i);
    }
    for (size_t choice = 0; choice < c->choices(); ++choice) {
      std::vector<uint32_t>& set = it->second.emplace_back();
      for (uint32_t i : candidates)
        if (node_at[i] && c->matches(choice, node_at[i]->features)) set.push_back(i);
    }
    return it->second;
  }

  const std::vector<uint32_t>& allowed_nodes(const JobSpec& spec) {
    auto [it, fresh] = allowed.try_emplace(spec.nodelist + "\n" + spec.exclude);
    if (!fresh) return it->second;
    std::vector<uint32_t>& out = it->second;
    auto listed = expand_hostlist(spec.nodelist);
    auto excluded = expand_hostlist(spec.exclude);
    std::unordered_set<std::string> skip;
    if (!spec.exclude.empty() && excluded) skip.insert(excluded->begin(), excluded->end());
    if (!spec.nodelist.empty()) {
      if (listed)
        for (const std::string& n : *listed)
          if (auto at = node_index.find(n); at != node_index.end() && !skip.count(n)) out.push_back(at->second);
    } else {
      for (const auto& [name, i] : node_index)
        if (!skip.count(std::string(name))) out.push_back(i);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  uint32_t user(const std::string& u) {
    return users.try_emplace(u, static_cast<uint32_t>(users.size())).first->second;
  }
  uint32_t account(const std::string& a) {
    return accounts.try_emplace(a, static_cast<uint32_t>(accounts.size())).first->second;
  }
  uint32_t partition(const std::string& p) {
    auto [it, fresh] = partition_ids.try_emplace(p, 0);
    if (fresh) {
      int32_t i = partition_index(s, p);
      // A partition removed from the config since the job was queued.
      it->second = i < 0 ? static_cast<uint32_t>(s.partitions.size()) : static_cast<uint32_t>(i);
    }
    return it->second;
  }
  // Index into Snapshot::qos (1 + the QOS's place in s.qos); 0 when none
  // is configured or the job's was removed from the config since.
  uint32_t qos(const std::string& name) {
    if (s.qos.empty()) return 0;
    auto [it, fresh] = qos_ids.try_emplace(name, 0);
    if (fresh)
      if (const QosConfig* q = find_qos(s.qos, name)) it->second = static_cast<uint32_t>(q - s.qos.data()) + 1;
    return it->second;
  }
};

}  // namespace cadre::state
