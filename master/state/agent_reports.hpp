// What agents report to the cluster state: a registration (with the ranks
// the agent still runs or saw end) and task events. Plain values, decoded
// by the server; not synchronised.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/ids.hpp"
#include "common/resources.hpp"
#include "master/model.hpp"

namespace cadre {

// A rank an agent reports at registration: still running, or ended with
// an exit the master has not acknowledged yet.
struct RunningTaskRef {
  JobId job = 0;
  uint32_t step = 0;
  uint32_t rank = 0;
  Attempt attempt = 0;
  bool exited = false;
  bool launch_failed = false;
  bool lost = false;
  int32_t exit_code = 0;
  int32_t signal = 0;
  std::string message;
  bool oom_killed = false;
};

struct NodeRegistration {
  std::string name;
  std::string address;
  Resources total;
  std::map<std::string, std::string> labels;
  std::vector<std::string> features;
  std::vector<RunningTaskRef> running;
  std::vector<NodeGpu> gpus;
  std::string isolation;
};

// lost: the agent no longer knows how the rank ended (its supervisor
// vanished, e.g. the node rebooted); treated as a node failure.
enum class TaskEventKind { started, exited, launch_failed, lost };

struct TaskEvent {
  std::string node;
  JobId job = 0;
  uint32_t step = 0;  // 0: a rank of the job (or its batch script); n: a rank of step n
  uint32_t rank = 0;
  Attempt attempt = 0;
  TaskEventKind kind = TaskEventKind::started;
  int32_t exit_code = 0;
  int32_t signal = 0;
  std::string message;
  bool oom_killed = false;  // the kernel killed it for exceeding its memory limit
};

}  // namespace cadre
