// Conversions between the master's model and protocol messages.
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "common/protocol.capnp.h"
#include "master/model.hpp"
#include "master/stats.hpp"
#include "master/scheduler/priority.hpp"

namespace cadre {

// MASTER_PORT range: a job first tries kMasterPortBase + id % kMasterPortSpan
// and moves on past ports other jobs on rank 0's node hold.
inline constexpr uint16_t kMasterPortBase = 29500;
inline constexpr uint16_t kMasterPortSpan = 20000;
uint16_t master_port_for(JobId id);
void to_proto(const NodeGpu& gpu, ::GpuDevice::Builder out);
NodeGpu from_proto(::GpuDevice::Reader r);

void to_proto(const Resources& r, ::Resources::Builder out);
Resources from_proto(::Resources::Reader r);

void to_proto(const JobSpec& spec, JobRequest::Builder out, bool with_script = true);
JobSpec from_proto(JobRequest::Reader r);

// `weights` explain a pending job's priority.
void to_proto(const Job& job, JobInfo::Builder out, const sched::Weights& weights);
struct PartitionSummary;
void to_proto(const PartitionSummary& p, PartitionInfo::Builder out);
void to_proto(const Node& node, NodeInfo::Builder out);

// One process for an agent to start: a rank of the job, its batch script,
// or a rank of a step, with the layout it sees.
struct LaunchTarget {
  uint32_t step = 0;
  uint32_t rank = 0;
  uint32_t world_size = 1;
  uint32_t local_rank = 0;
  uint32_t local_world_size = 1;
  uint32_t node_rank = 0;
  std::vector<std::string> nodes;        // of the job, or of the step
  std::vector<uint32_t> tasks_per_node;  // parallel to nodes
  std::vector<uint32_t> gpus;
  Resources limits;                      // its cgroup's limits
  bool batch = false;
  std::vector<std::string> argv;
};

// How many of the job's ranks sit on each node of node_list().
std::vector<uint32_t> tasks_per_node(const Job& job);
// A rank of the job itself (step 0); for a batch job, rank 0 is its script,
// which may use the first node's whole share and sees all its GPUs.
LaunchTarget job_rank_target(const Job& job, const Task& task);
std::string encode_launch(const Job& job, const LaunchTarget& target, const std::string& master_addr);
std::string encode_kill(JobId id, Attempt attempt, uint32_t rank, uint32_t step = 0);
std::string encode_please_register();
std::string encode_task_ack(JobId id, uint32_t rank, Attempt attempt, uint32_t step = 0);
std::string encode_register_reply(uint32_t heartbeat_interval_ms);

// getStats: the report of `stats`, the cluster's jobs and nodes counted now,
// and this process's usage; and its reply.
class Cluster;
StatsReport make_stats_report(const MasterStats& stats, const Cluster& cluster, uint64_t malformed_messages,
                              int64_t now_ms);
std::string encode_stats_reply(uint64_t request_id, const StatsReport& report);

}  // namespace cadre
