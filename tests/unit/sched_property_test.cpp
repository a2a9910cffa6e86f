// Properties of decide() over thousands of random snapshots: whatever the
// cluster, the queue and the policy, a decision never double-books a cpu,
// a MiB or a GPU, places gangs whole on their own partition, keeps the
// partition limits, preempts only whole lower-tier preemptible gangs and
// only the ones it needs, accounts for every pending job once, reserves
// for the first blocked job at the earliest time its gang fits, never lets
// a backfilled job delay that reservation or promise a node more than it
// has, and is the same every time it is made, whatever order the jobs are
// listed in. Seeded, so a failure names the seed that reproduces it.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "master/scheduler/decide.hpp"

namespace cadre::sched {
namespace {

constexpr int64_t kNow = 100000;
constexpr int kSnapshots = 4000;  // per test: ~3 s in a Debug build

class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}
  int64_t range(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <typename T>
  T pick(std::initializer_list<T> options) {
    return *(options.begin() + range(0, static_cast<int64_t>(options.size()) - 1));
  }

 private:
  std::mt19937 rng_;
};

GangShape random_shape(Gen& g) {
  GangShape s;
  s.per_task = Resources{g.pick<int64_t>({500, 1000, 2000, 4000}), g.pick<int64_t>({0, 512, 2048, 8192}),
                         g.pick<int64_t>({0, 0, 0, 1, 2})};
  if (g.chance(0.5)) {
    s.nodes = static_cast<uint32_t>(g.range(1, 3));
    s.tasks_per_node = static_cast<uint32_t>(g.range(1, 2));
    s.ntasks = s.nodes * s.tasks_per_node;
  } else {
    s.ntasks = static_cast<uint32_t>(g.range(1, 6));
  }
  return s;
}

// A snapshot whose running jobs were placed for real, so free capacity and
// free GPU indices are exactly what they leave.
Snapshot random_snapshot(Gen& g, bool racks_per_node) {
  Snapshot s;
  s.gpu_models = {"", "a100", "h100"};
  const int num_partitions = static_cast<int>(g.range(1, 3));
  for (int p = 0; p < num_partitions; ++p) {
    PartitionView v;
    v.name = "p" + std::to_string(p);
    v.tier = static_cast<int32_t>(g.range(0, 2));
    v.preemptible = g.chance(0.7);
    if (g.chance(0.3)) v.max_running_jobs_per_user = static_cast<uint32_t>(g.range(1, 3));
    if (g.chance(0.3)) v.max_gpus_per_user = g.range(1, 6);
    s.partitions.push_back(v);
  }
  const int num_switches = static_cast<int>(g.range(1, 4));
  const int num_nodes = static_cast<int>(g.range(1, 10));
  for (int i = 0; i < num_nodes; ++i) {
    NodeView n;
    n.name = "n" + std::to_string(10 + i);
    n.total = Resources{g.pick<int64_t>({2000, 4000, 8000, 16000}), g.pick<int64_t>({4096, 16384, 65536}),
                        g.pick<int64_t>({0, 0, 1, 2, 4, 8})};
    n.free = n.total;
    n.free_gpus.resize(static_cast<size_t>(n.total.gpus));
    std::iota(n.free_gpus.begin(), n.free_gpus.end(), 0u);
    n.gpu_model = n.total.gpus > 0 ? static_cast<uint32_t>(g.range(1, 2)) : 0;
    n.switch_id = static_cast<uint32_t>(g.range(0, num_switches - 1));
    // A tidy cluster has racks of whole switches; labels typed per agent
    // may also disagree within a switch.
    n.rack_id = racks_per_node ? static_cast<uint32_t>(g.range(0, 2)) : n.switch_id / 2;
    if (g.chance(0.6)) {
      n.partitions = 0;
      for (int p = 0; p < num_partitions; ++p)
        if (g.chance(0.7)) n.partitions |= uint64_t{1} << p;
    }
    s.nodes.push_back(std::move(n));
  }

  JobId next_id = static_cast<JobId>(g.range(1, 50));
  const int num_running = static_cast<int>(g.range(0, 14));
  for (int i = 0; i < num_running; ++i) {
    GangShape shape = random_shape(g);
    auto placed = place_gang(shape, s.nodes);
    if (!placed) continue;
    reserve(shape, *placed, s.nodes);
    RunningJob r;
    r.id = next_id++;
    r.partition = static_cast<uint32_t>(g.range(0, num_partitions - 1));
    r.user = static_cast<uint32_t>(g.range(0, 3));
    r.start_time = kNow - g.range(0, 5000);
    // Callers plan a job without a limit as Policy::unlimited_as_s; kNever
    // (RunningJob's default) must be handled too.
    if (g.chance(0.06)) {
      r.expected_end = g.pick<int64_t>({kNever, kNow + Policy{}.unlimited_as_s});
    } else {
      r.expected_end = kNow + g.range(-200, 3000);
    }
    r.ending = g.chance(0.1);
    r.per_task = shape.per_task;
    for (const RankSlot& slot : placed->ranks) r.ranks.push_back(RankUse{slot.node, slot.gpus});
    s.running.push_back(std::move(r));
  }
  for (NodeView& n : s.nodes) n.schedulable = !g.chance(0.1);

  const int num_pending = static_cast<int>(g.range(0, 14));
  for (int i = 0; i < num_pending; ++i) {
    PendingJob j;
    j.id = next_id + static_cast<JobId>(g.range(1, 3));  // ids not in submit order
    next_id = j.id + 1;
    j.partition = g.chance(0.03) ? static_cast<uint32_t>(num_partitions)
                                 : static_cast<uint32_t>(g.range(0, num_partitions - 1));
    j.user = static_cast<uint32_t>(g.range(0, 3));
    j.account = static_cast<uint32_t>(g.range(0, 2));
    j.priority = static_cast<int32_t>(g.range(-1, 2));
    j.submit_time = kNow - g.range(0, 2000);
    j.time_limit_s = g.chance(0.3) ? 0 : g.range(10, 3000);
    j.shape = random_shape(g);
    if (g.chance(0.2)) j.gpu_models = g.pick<std::vector<uint32_t>>({{1}, {2}, {1, 2}});
    if (g.chance(0.2)) {
      j.max_switches = static_cast<uint32_t>(g.range(1, 2));
      j.switches_wait_s = g.pick<int64_t>({0, 300, 5000});
    }
    s.pending.push_back(std::move(j));
  }
  s.user_fairshare.resize(static_cast<size_t>(g.range(0, 4)));
  for (double& f : s.user_fairshare) f = static_cast<double>(g.range(0, 100)) / 100.0;
  s.account_fairshare.resize(static_cast<size_t>(g.range(0, 3)));
  for (double& f : s.account_fairshare) f = static_cast<double>(g.range(0, 100)) / 100.0;
  return s;
}

Policy random_policy(Gen& g) {
  Policy p;
  p.backfill = g.pick({Backfill::fcfs, Backfill::greedy, Backfill::easy, Backfill::conservative});
  p.preemption = g.chance(0.5);
  p.reservation_depth = g.pick<uint32_t>({1, 2, 1000});
  return p;
}

// ---- what the checks need to know about the input ----

struct Facts {
  const Snapshot& s;
  const Policy& p;
  std::map<JobId, const PendingJob*> pending;
  std::map<JobId, const RunningJob*> running;
  std::map<JobId, size_t> rank;  // position in the queue

  Facts(const Snapshot& snap, const Policy& policy) : s(snap), p(policy) {
    for (const PendingJob& j : s.pending) pending[j.id] = &j;
    for (const RunningJob& r : s.running) running[r.id] = &r;
    const ClusterTotals totals = cluster_totals(s);
    std::vector<std::tuple<int32_t, double, int64_t, JobId>> order;
    for (const PendingJob& j : s.pending)
      order.emplace_back(-tier(j.partition), -priority_of(j, s, totals, p.weights, kNow).total, j.submit_time, j.id);
    std::sort(order.begin(), order.end());
    for (size_t i = 0; i < order.size(); ++i) rank[std::get<3>(order[i])] = i;
  }

  int32_t tier(uint32_t partition) const {
    return partition < s.partitions.size() ? s.partitions[partition].tier : 0;
  }
  int64_t limit(const PendingJob& j) const { return j.time_limit_s > 0 ? j.time_limit_s : p.unlimited_as_s; }
  bool switches_held(const PendingJob& j) const {
    return j.max_switches > 0 && (j.switches_wait_s == 0 || kNow - j.submit_time < j.switches_wait_s);
  }
};

std::string describe(const Snapshot& s, const Policy& p) {
  std::ostringstream o;
  o << "policy " << to_string(p.backfill) << (p.preemption ? " +preemption" : "") << " depth " << p.reservation_depth
    << "; " << s.nodes.size() << " nodes, " << s.running.size() << " running, " << s.pending.size() << " pending";
  return o.str();
}

// ---- the properties ----

// How often each kind of decision and each check came up: a property that
// was never exercised proves nothing.
struct Coverage {
  int placed = 0, preempted = 0, reserved = 0, waited = 0;
  int rechecked = 0;  // first reservations recomputed with the backfill running
  int earliest = 0;   // first blocked jobs whose earliest start was worked out
};

void check_placements(const Facts& f, const Decisions& d) {
  const Snapshot& s = f.s;
  std::vector<Resources> used(s.nodes.size());
  std::vector<std::set<uint32_t>> gpus(s.nodes.size());
  for (const Placement& p : d.placements) {
    auto it = f.pending.find(p.job);
    ASSERT_NE(it, f.pending.end()) << "placed job " << p.job << " is not pending";
    const PendingJob& j = *it->second;
    ASSERT_LT(j.partition, s.partitions.size()) << "job " << j.id;
    ASSERT_EQ(p.gang.ranks.size(), j.shape.ntasks) << "job " << j.id << " placed in part";
    std::map<uint32_t, uint32_t> per_node;
    std::vector<uint32_t> node_sequence;
    for (size_t r = 0; r < p.gang.ranks.size(); ++r) {
      const RankSlot& slot = p.gang.ranks[r];
      EXPECT_EQ(slot.rank, r) << "job " << j.id;
      ASSERT_LT(slot.node, s.nodes.size()) << "job " << j.id;
      const NodeView& n = s.nodes[slot.node];
      EXPECT_TRUE(n.schedulable) << "job " << j.id << " on unschedulable " << n.name;
      EXPECT_TRUE((n.partitions >> j.partition) & 1u) << "job " << j.id << " on " << n.name << " outside partition "
                                                      << j.partition;
      if (!j.gpu_models.empty()) {
        EXPECT_NE(std::find(j.gpu_models.begin(), j.gpu_models.end(), n.gpu_model), j.gpu_models.end())
            << "job " << j.id << " on a GPU model it did not ask for";
      }
      ASSERT_EQ(static_cast<int64_t>(slot.gpus.size()), j.shape.per_task.gpus) << "job " << j.id << " rank " << r;
      for (uint32_t g : slot.gpus) {
        EXPECT_TRUE(std::binary_search(n.free_gpus.begin(), n.free_gpus.end(), g))
            << "job " << j.id << " got GPU " << g << " of " << n.name << ", which is not free";
        EXPECT_TRUE(gpus[slot.node].insert(g).second) << "GPU " << g << " of " << n.name << " given twice";
      }
      used[slot.node] += j.shape.per_task;
      per_node[slot.node] += 1;
      if (node_sequence.empty() || node_sequence.back() != slot.node) node_sequence.push_back(slot.node);
    }
    EXPECT_EQ(node_sequence.size(), per_node.size()) << "job " << j.id << ": ranks of a node are not contiguous";
    if (j.shape.nodes > 0) {
      EXPECT_EQ(per_node.size(), j.shape.nodes) << "job " << j.id;
      for (auto& [n, count] : per_node) EXPECT_EQ(count, j.shape.tasks_per_node) << "job " << j.id << " node " << n;
    }
    if (f.switches_held(j)) {
      std::set<uint32_t> switches;
      for (auto& [n, count] : per_node) switches.insert(s.nodes[n].switch_id);
      EXPECT_LE(switches.size(), j.max_switches) << "job " << j.id;
    }
  }
  for (size_t n = 0; n < s.nodes.size(); ++n) {
    const Resources left = s.nodes[n].free - used[n];
    EXPECT_TRUE(left.non_negative()) << s.nodes[n].name << " over-booked: free " << s.nodes[n].free.to_string()
                                     << ", placed " << used[n].to_string();
  }
}

// Every pending job is placed or waits, exactly once, and both lists
// follow the queue's order.
void check_accounting(const Facts& f, const Decisions& d) {
  std::map<JobId, int> seen;
  for (const Placement& p : d.placements) seen[p.job] += 1;
  for (const Waiting& w : d.waiting) {
    EXPECT_TRUE(f.pending.count(w.job)) << "waiting job " << w.job << " is not pending";
    seen[w.job] += 1;
  }
  for (const PendingJob& j : f.s.pending) EXPECT_EQ(seen[j.id], 1) << "job " << j.id;
  auto in_order = [&](auto begin, auto end) {
    size_t last = 0;
    bool first = true;
    for (auto it = begin; it != end; ++it) {
      size_t r = f.rank.at(it->job);
      if (!first && r < last) return false;
      last = r;
      first = false;
    }
    return true;
  };
  EXPECT_TRUE(in_order(d.placements.begin(), d.placements.end())) << "placements out of rank order";
  EXPECT_TRUE(in_order(d.waiting.begin(), d.waiting.end())) << "waiting out of rank order";

  if (f.p.backfill == Backfill::fcfs) {
    // Nothing starts behind a job that could neither start nor preempt.
    size_t first_blocked = f.s.pending.size();
    for (const Waiting& w : d.waiting)
      if (w.reason != WaitReason::partition_limit && w.reason != WaitReason::partition_down &&
          w.reason != WaitReason::preempting)
        first_blocked = std::min(first_blocked, f.rank.at(w.job));
    for (const Placement& p : d.placements)
      EXPECT_LT(f.rank.at(p.job), first_blocked) << "fcfs: job " << p.job << " passed a blocked job";
  }
}

std::set<JobId> all_victims(const Decisions& d) {
  std::set<JobId> out;
  for (const Preemption& p : d.preemptions) out.insert(p.victims.begin(), p.victims.end());
  return out;
}

void check_limits(const Facts& f, const Decisions& d) {
  struct Use {
    int64_t jobs = 0, gpus = 0;
    bool added = false;
  };
  std::map<std::pair<uint32_t, uint32_t>, Use> use;
  const std::set<JobId> victims = all_victims(d);
  for (const RunningJob& r : f.s.running) {
    if (r.ending || victims.count(r.id)) continue;
    Use& u = use[{r.partition, r.user}];
    u.jobs += 1;
    u.gpus += r.per_task.gpus * static_cast<int64_t>(r.ranks.size());
  }
  auto add = [&](JobId id) {
    const PendingJob& j = *f.pending.at(id);
    Use& u = use[{j.partition, j.user}];
    u.jobs += 1;
    u.gpus += j.shape.total().gpus;
    u.added = true;
  };
  for (const Placement& p : d.placements) add(p.job);
  for (const Preemption& p : d.preemptions) add(p.preemptor);
  for (auto& [key, u] : use) {
    if (!u.added || key.first >= f.s.partitions.size()) continue;
    const PartitionView& part = f.s.partitions[key.first];
    if (part.max_running_jobs_per_user > 0) {
      EXPECT_LE(u.jobs, part.max_running_jobs_per_user) << "partition " << key.first << " user " << key.second;
    }
    if (part.max_gpus_per_user > 0) {
      EXPECT_LE(u.gpus, part.max_gpus_per_user) << "partition " << key.first << " user " << key.second;
    }
  }
}

// The free view one instant from now: every victim and every job being
// killed or past its expected end has let go; every placement holds on.
std::vector<NodeView> view_next_instant(const Facts& f, const Decisions& d) {
  std::vector<NodeView> nodes = f.s.nodes;
  const std::set<JobId> victims = all_victims(d);
  for (const RunningJob& r : f.s.running) {
    if (!(r.ending || victims.count(r.id) || r.expected_end <= kNow + 1)) continue;
    for (const RankUse& u : r.ranks) {
      nodes[u.node].free += r.per_task;
      nodes[u.node].free_gpus.insert(nodes[u.node].free_gpus.end(), u.gpus.begin(), u.gpus.end());
    }
  }
  for (NodeView& n : nodes) std::sort(n.free_gpus.begin(), n.free_gpus.end());
  for (const Placement& p : d.placements) {
    const PendingJob& j = *f.pending.at(p.job);
    for (const RankSlot& slot : p.gang.ranks) {
      nodes[slot.node].free -= j.shape.per_task;
      for (uint32_t g : slot.gpus) std::erase(nodes[slot.node].free_gpus, g);
    }
  }
  return nodes;
}

const Reservation* reservation_of(const Decisions& d, JobId id) {
  for (const Reservation& r : d.reservations)
    if (r.job == id) return &r;
  return nullptr;
}

const Waiting* waiting_of(const Decisions& d, JobId id) {
  for (const Waiting& w : d.waiting)
    if (w.job == id) return &w;
  return nullptr;
}

void check_preemptions(const Facts& f, const Decisions& d) {
  std::set<JobId> seen_victims, preemptors;
  for (const Preemption& p : d.preemptions) {
    auto it = f.pending.find(p.preemptor);
    ASSERT_NE(it, f.pending.end()) << "preemptor " << p.preemptor << " is not pending";
    const PendingJob& j = *it->second;
    EXPECT_TRUE(f.p.preemption) << "preempted with preemption off";
    EXPECT_TRUE(preemptors.insert(j.id).second) << "job " << j.id << " preempts twice";
    EXPECT_FALSE(p.victims.empty());
    EXPECT_TRUE(std::is_sorted(p.victims.begin(), p.victims.end()));
    for (JobId v : p.victims) {
      auto r = f.running.find(v);
      ASSERT_NE(r, f.running.end()) << "victim " << v << " is not running";
      EXPECT_TRUE(seen_victims.insert(v).second) << "victim " << v << " taken twice";
      EXPECT_FALSE(r->second->ending) << "victim " << v << " was already ending";
      ASSERT_LT(r->second->partition, f.s.partitions.size());
      const PartitionView& vp = f.s.partitions[r->second->partition];
      EXPECT_TRUE(vp.preemptible) << "victim " << v << " of a non-preemptible partition";
      EXPECT_LT(vp.tier, f.tier(j.partition)) << "victim " << v << " not of a lower tier";
    }
    const Waiting* w = waiting_of(d, j.id);
    ASSERT_TRUE(w) << "preemptor " << j.id << " does not wait";
    EXPECT_EQ(w->reason, WaitReason::preempting);
    EXPECT_EQ(w->expected_start, kNow + 1);
    const Reservation* res = reservation_of(d, j.id);
    ASSERT_TRUE(res) << "preemptor " << j.id << " holds no reservation";
    EXPECT_EQ(res->start_time, kNow + 1);

    // Once its victims are gone, the preemptor fits on its reserved nodes
    // next to everything placed now.
    std::vector<NodeView> view = view_next_instant(f, d);
    for (uint32_t n = 0; n < view.size(); ++n)
      if (std::find(res->nodes.begin(), res->nodes.end(), n) == res->nodes.end()) view[n].schedulable = false;
    PlaceConstraints c;
    c.partition = static_cast<int32_t>(j.partition);
    c.gpu_models = &j.gpu_models;
    c.max_switches = f.switches_held(j) ? j.max_switches : 0;
    EXPECT_TRUE(place_gang(j.shape, view, c)) << "preemptor " << j.id << " does not fit what its victims free";
  }
}

// Reservations: for pending jobs, in the future, on nodes the job may use;
// and at every reservation's start no node is promised more than it has.
void check_reservations(const Facts& f, const Decisions& d) {
  const Snapshot& s = f.s;
  size_t plain = 0;
  for (const Reservation& r : d.reservations) {
    auto it = f.pending.find(r.job);
    ASSERT_NE(it, f.pending.end()) << "reservation for job " << r.job << ", which is not pending";
    const PendingJob& j = *it->second;
    EXPECT_GT(r.start_time, kNow);
    EXPECT_FALSE(r.nodes.empty());
    for (uint32_t n : r.nodes) {
      ASSERT_LT(n, s.nodes.size());
      EXPECT_TRUE(s.nodes[n].schedulable) << "job " << j.id << " reserved on unschedulable " << s.nodes[n].name;
      EXPECT_TRUE((s.nodes[n].partitions >> j.partition) & 1u) << "job " << j.id << " reserved outside partition";
    }
    if (j.shape.nodes > 0) {
      EXPECT_EQ(r.nodes.size(), j.shape.nodes) << "job " << j.id;
    }
    const Waiting* w = waiting_of(d, j.id);
    ASSERT_TRUE(w) << "reserved job " << j.id << " does not wait";
    EXPECT_TRUE(w->reason == WaitReason::reservation || w->reason == WaitReason::preempting) << to_string(w->reason);
    EXPECT_EQ(w->expected_start, r.start_time) << "job " << j.id;
    if (w->reason == WaitReason::reservation) plain += 1;
  }
  switch (f.p.backfill) {
    case Backfill::greedy: EXPECT_EQ(plain, 0u); break;
    case Backfill::fcfs:
    case Backfill::easy: EXPECT_LE(plain, 1u); break;
    case Backfill::conservative: EXPECT_LE(plain, f.p.reservation_depth); break;
  }

  // Capacity at each reservation's start: what still runs then, what was
  // placed now and still runs, and every reservation active then (at
  // least its per-node share: exact for --nodes shapes, one rank for
  // --ntasks shapes) fit each node's total.
  const std::set<JobId> victims = all_victims(d);
  for (const Reservation& at : d.reservations) {
    const int64_t t = at.start_time;
    std::vector<Resources> held(s.nodes.size());
    for (const RunningJob& r : s.running) {
      const int64_t end = r.ending || victims.count(r.id) ? kNow + 1 : std::max(r.expected_end, kNow + 1);
      if (end <= t) continue;
      for (const RankUse& u : r.ranks) held[u.node] += r.per_task;
    }
    for (const Placement& p : d.placements) {
      const PendingJob& j = *f.pending.at(p.job);
      if (std::min(kNever, kNow + f.limit(j)) <= t) continue;
      for (const RankSlot& slot : p.gang.ranks) held[slot.node] += j.shape.per_task;
    }
    for (const Reservation& r : d.reservations) {
      const PendingJob& j = *f.pending.at(r.job);
      if (!(r.start_time <= t && t < r.start_time + f.limit(j))) continue;
      const int64_t per_node = j.shape.nodes > 0 ? j.shape.tasks_per_node : 1;
      for (uint32_t n : r.nodes) held[n] += j.shape.per_task.times(per_node);
    }
    for (size_t n = 0; n < s.nodes.size(); ++n)
      EXPECT_TRUE((s.nodes[n].total - held[n]).non_negative())
          << "at " << t << " (reservation of job " << at.job << ") " << s.nodes[n].name << " is promised "
          << held[n].to_string() << " of " << s.nodes[n].total.to_string();
  }
}

// The snapshot once the placements run: they hold what they were given
// until their time limit.
Snapshot after_placements(const Facts& f, const Decisions& d) {
  Snapshot next = f.s;
  for (const Placement& p : d.placements) {
    const PendingJob& j = *f.pending.at(p.job);
    RunningJob r;
    r.id = j.id;
    r.partition = j.partition;
    r.user = j.user;
    r.start_time = kNow;
    r.expected_end = kNow + f.limit(j);
    r.per_task = j.shape.per_task;
    for (const RankSlot& slot : p.gang.ranks) {
      next.nodes[slot.node].free -= j.shape.per_task;
      std::erase_if(next.nodes[slot.node].free_gpus,
                    [&](uint32_t g) { return std::find(slot.gpus.begin(), slot.gpus.end(), g) != slot.gpus.end(); });
      r.ranks.push_back(RankUse{slot.node, slot.gpus});
    }
    next.running.push_back(std::move(r));
    std::erase_if(next.pending, [&](const PendingJob& x) { return x.id == j.id; });
  }
  return next;
}

// Backfill never delays the first reservation: with every placement of
// this pass running, the job holding it can still start by then.
void check_first_reservation_not_delayed(const Facts& f, const Decisions& d, Coverage& cov) {
  if (f.p.preemption) return;  // preemption reshuffles what runs; checked above
  const Reservation* first = nullptr;
  for (const Reservation& r : d.reservations)
    if (const Waiting* w = waiting_of(d, r.job); w && w->reason == WaitReason::reservation) {
      first = &r;
      break;
    }
  if (!first) return;
  Decisions again = decide(after_placements(f, d), f.p, kNow);
  cov.rechecked += d.placements.empty() ? 0 : 1;
  const Waiting* w = waiting_of(again, first->job);
  ASSERT_TRUE(w) << "job " << first->job << " was placed on a fuller cluster";
  if (w->reason == WaitReason::partition_limit) return;  // a later job of its user took the slot
  ASSERT_EQ(w->reason, WaitReason::reservation)
      << "job " << first->job << " lost its reservation (reserved for " << first->start_time << ")";
  EXPECT_LE(w->expected_start, first->start_time) << "backfill delayed job " << first->job;
}

PlaceConstraints constraints_of(const Facts& f, const PendingJob& j) {
  PlaceConstraints c;
  c.partition = static_cast<int32_t>(j.partition);
  c.gpu_models = &j.gpu_models;
  c.max_switches = f.switches_held(j) ? j.max_switches : 0;
  return c;
}

// When a pass makes no preemptions, the first job that can neither start
// nor is held back by its partition's limits gets its reservation at the
// earliest time its gang fits, counting what ends by then: running jobs at
// their expected end, and the jobs started ahead of it at their limit
// (nothing else is reserved yet). Worked out here from scratch.
void check_first_blocked_reserved_at_earliest(const Facts& f, const Decisions& d, Coverage& cov) {
  if (f.p.preemption || f.p.backfill == Backfill::greedy) return;
  const Waiting* first = nullptr;
  for (const Waiting& w : d.waiting)
    if (w.reason != WaitReason::partition_limit && w.reason != WaitReason::partition_down) {
      first = &w;
      break;
    }
  if (!first) return;
  const PendingJob& j = *f.pending.at(first->job);
  const size_t rank = f.rank.at(j.id);

  struct Release {
    int64_t time;
    uint32_t node;
    Resources r;
    std::vector<uint32_t> gpus;
  };
  std::vector<Release> releases;
  std::vector<NodeView> view = f.s.nodes;
  for (const RunningJob& r : f.s.running) {
    const int64_t end = r.ending ? kNow + 1 : std::max(r.expected_end, kNow + 1);
    for (const RankUse& u : r.ranks) releases.push_back({end, u.node, r.per_task, u.gpus});
  }
  for (const Placement& p : d.placements) {
    if (f.rank.at(p.job) > rank) continue;  // started after the reservation was made
    const PendingJob& ahead = *f.pending.at(p.job);
    for (const RankSlot& slot : p.gang.ranks) {
      view[slot.node].free -= ahead.shape.per_task;
      for (uint32_t g : slot.gpus) std::erase(view[slot.node].free_gpus, g);
      releases.push_back({kNow + f.limit(ahead), slot.node, ahead.shape.per_task, slot.gpus});
    }
  }
  std::sort(releases.begin(), releases.end(), [](const Release& a, const Release& b) { return a.time < b.time; });
  const PlaceConstraints c = constraints_of(f, j);
  std::optional<int64_t> earliest;
  for (size_t i = 0; i < releases.size() && !earliest;) {
    const int64_t t = releases[i].time;
    if (t >= kNever) break;  // nothing is promised after "never"
    for (; i < releases.size() && releases[i].time == t; ++i) {
      NodeView& n = view[releases[i].node];
      n.free += releases[i].r;
      n.free_gpus.insert(n.free_gpus.end(), releases[i].gpus.begin(), releases[i].gpus.end());
      std::sort(n.free_gpus.begin(), n.free_gpus.end());
    }
    if (place_gang(j.shape, view, c)) earliest = t;
  }
  cov.earliest += 1;
  if (earliest) {
    EXPECT_EQ(first->reason, WaitReason::reservation) << "job " << j.id << " fits at " << *earliest;
    EXPECT_EQ(first->expected_start, *earliest) << "job " << j.id;
    const Reservation* r = reservation_of(d, j.id);
    ASSERT_TRUE(r) << "job " << j.id;
    EXPECT_EQ(r->start_time, *earliest);
  } else {
    EXPECT_FALSE(reservation_of(d, j.id)) << "job " << j.id << " never fits, yet holds a reservation";
  }
}

// A job that waits for Resources does not fit what the pass leaves free
// now (free capacity only shrinks during a pass).
void check_resources_means_no_room(const Facts& f, const Decisions& d) {
  std::vector<NodeView> view = f.s.nodes;
  for (const Placement& p : d.placements) {
    const PendingJob& j = *f.pending.at(p.job);
    for (const RankSlot& slot : p.gang.ranks) {
      view[slot.node].free -= j.shape.per_task;
      for (uint32_t g : slot.gpus) std::erase(view[slot.node].free_gpus, g);
    }
  }
  for (const Waiting& w : d.waiting) {
    if (w.reason != WaitReason::resources) continue;
    const PendingJob& j = *f.pending.at(w.job);
    PlaceConstraints c = constraints_of(f, j);
    c.max_switches = 0;
    EXPECT_FALSE(place_gang(j.shape, view, c)) << "job " << j.id << " waits for Resources but fits now";
  }
}

// Each victim is needed: in the view the preemptor chose from (free now,
// less the jobs started ahead of it, with every node already reserved off
// limits), its gang fits with all its victims gone and with any one of
// them back.
void check_victims_needed(const Facts& f, const Decisions& d) {
  for (const Preemption& pre : d.preemptions) {
    const PendingJob& j = *f.pending.at(pre.preemptor);
    const size_t rank = f.rank.at(j.id);
    std::vector<NodeView> view = f.s.nodes;
    for (const Placement& p : d.placements) {
      if (f.rank.at(p.job) > rank) continue;
      const PendingJob& ahead = *f.pending.at(p.job);
      for (const RankSlot& slot : p.gang.ranks) {
        view[slot.node].free -= ahead.shape.per_task;
        for (uint32_t g : slot.gpus) std::erase(view[slot.node].free_gpus, g);
      }
    }
    for (const Reservation& r : d.reservations) {
      if (r.job == j.id) break;
      for (uint32_t n : r.nodes) view[n].schedulable = false;
    }
    auto without = [&](JobId kept) {
      std::vector<NodeView> v = view;
      for (JobId id : pre.victims) {
        if (id == kept) continue;
        const RunningJob& r = *f.running.at(id);
        for (const RankUse& u : r.ranks) {
          v[u.node].free += r.per_task;
          v[u.node].free_gpus.insert(v[u.node].free_gpus.end(), u.gpus.begin(), u.gpus.end());
          std::sort(v[u.node].free_gpus.begin(), v[u.node].free_gpus.end());
        }
      }
      return v;
    };
    const PlaceConstraints c = constraints_of(f, j);
    EXPECT_TRUE(place_gang(j.shape, without(0), c)) << "preemptor " << j.id << " does not fit after its victims";
    for (JobId kept : pre.victims)
      EXPECT_FALSE(place_gang(j.shape, without(kept), c))
          << "preemptor " << j.id << " did not need to stop job " << kept;
  }
}

void expect_same(const Decisions& a, const Decisions& b) {
  ASSERT_EQ(a.placements.size(), b.placements.size());
  for (size_t i = 0; i < a.placements.size(); ++i) {
    EXPECT_EQ(a.placements[i].job, b.placements[i].job);
    ASSERT_EQ(a.placements[i].gang.ranks.size(), b.placements[i].gang.ranks.size());
    for (size_t r = 0; r < a.placements[i].gang.ranks.size(); ++r) {
      const RankSlot& x = a.placements[i].gang.ranks[r];
      const RankSlot& y = b.placements[i].gang.ranks[r];
      EXPECT_EQ(x.rank, y.rank);
      EXPECT_EQ(x.node, y.node);
      EXPECT_EQ(x.gpus, y.gpus);
    }
  }
  ASSERT_EQ(a.preemptions.size(), b.preemptions.size());
  for (size_t i = 0; i < a.preemptions.size(); ++i) {
    EXPECT_EQ(a.preemptions[i].preemptor, b.preemptions[i].preemptor);
    EXPECT_EQ(a.preemptions[i].victims, b.preemptions[i].victims);
  }
  ASSERT_EQ(a.reservations.size(), b.reservations.size());
  for (size_t i = 0; i < a.reservations.size(); ++i) {
    EXPECT_EQ(a.reservations[i].job, b.reservations[i].job);
    EXPECT_EQ(a.reservations[i].start_time, b.reservations[i].start_time);
    EXPECT_EQ(a.reservations[i].nodes, b.reservations[i].nodes);
  }
  ASSERT_EQ(a.waiting.size(), b.waiting.size());
  for (size_t i = 0; i < a.waiting.size(); ++i) {
    EXPECT_EQ(a.waiting[i].job, b.waiting[i].job);
    EXPECT_EQ(a.waiting[i].reason, b.waiting[i].reason);
    EXPECT_EQ(a.waiting[i].expected_start, b.waiting[i].expected_start);
  }
}

void check_random_snapshots(bool racks_per_node) {
  Coverage cov;
  for (uint32_t seed = 1; seed <= kSnapshots; ++seed) {
    Gen g(seed);
    const Snapshot s = random_snapshot(g, racks_per_node);
    const Policy p = random_policy(g);
    SCOPED_TRACE("seed " + std::to_string(seed) + ": " + describe(s, p));
    const Facts f(s, p);
    const Decisions d = decide(s, p, kNow);
    check_placements(f, d);
    check_accounting(f, d);
    check_limits(f, d);
    check_preemptions(f, d);
    check_reservations(f, d);
    check_first_reservation_not_delayed(f, d, cov);
    check_first_blocked_reserved_at_earliest(f, d, cov);
    check_resources_means_no_room(f, d);
    check_victims_needed(f, d);
    expect_same(d, decide(s, p, kNow));
    // Nor does the order the jobs are listed in.
    Snapshot shuffled = s;
    std::shuffle(shuffled.pending.begin(), shuffled.pending.end(), std::mt19937(seed));
    std::shuffle(shuffled.running.begin(), shuffled.running.end(), std::mt19937(seed + 1));
    expect_same(d, decide(shuffled, p, kNow));
    if (::testing::Test::HasFailure()) return;  // the first failing seed is the one to read
    cov.placed += static_cast<int>(d.placements.size());
    cov.preempted += static_cast<int>(d.preemptions.size());
    cov.reserved += static_cast<int>(d.reservations.size());
    cov.waited += static_cast<int>(d.waiting.size());
  }
  // Every kind of decision was exercised, or the test proves little.
  EXPECT_GT(cov.placed, kSnapshots);
  EXPECT_GT(cov.preempted, kSnapshots / 50);
  EXPECT_GT(cov.reserved, kSnapshots / 2);
  EXPECT_GT(cov.waited, kSnapshots);
  EXPECT_GT(cov.rechecked, kSnapshots / 20);
  EXPECT_GT(cov.earliest, kSnapshots / 10);
}

TEST(SchedProperty, RandomSnapshotsGiveSoundDecisions) { check_random_snapshots(false); }

TEST(SchedProperty, RandomSnapshotsWithRacksLabelledPerNodeGiveSoundDecisions) { check_random_snapshots(true); }

}  // namespace
}  // namespace cadre::sched
