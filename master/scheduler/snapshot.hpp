// What the scheduler sees: free capacity per node and the pending jobs.
// Built by the master from its state; plain values, no references into it,
// so decide() can run anywhere (master, simulator, tests). Not synchronised.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/ids.hpp"
#include "common/resources.hpp"

namespace cadre::sched {

struct NodeView {
  std::string name;
  bool schedulable = true;           // UP; DRAIN and DOWN nodes take no new work
  Resources total;
  Resources free;
  std::vector<uint32_t> free_gpus;   // exact indices, ascending
};

// The shape of a gang: `ntasks` ranks of `per_task` each. With nodes > 0
// the ranks go `tasks_per_node` to each of `nodes` distinct nodes.
struct GangShape {
  Resources per_task;
  uint32_t nodes = 0;
  uint32_t tasks_per_node = 0;
  uint32_t ntasks = 1;
};

struct PendingJob {
  JobId id = 0;
  int32_t priority = 0;
  int64_t submit_time = 0;
  GangShape shape;
};

struct Snapshot {
  std::vector<NodeView> nodes;
  std::vector<PendingJob> pending;
};

}  // namespace cadre::sched
