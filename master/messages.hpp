// Conversions between the master's model and protocol messages.
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "common/protocol.capnp.h"
#include "master/model.hpp"
#include "master/scheduler/priority.hpp"

namespace cadre {

// Base port for MASTER_PORT: rank 0's node gets kMasterPortBase + id % kMasterPortSpan.
inline constexpr uint16_t kMasterPortBase = 29500;
inline constexpr uint16_t kMasterPortSpan = 20000;
uint16_t master_port_for(JobId id);

void to_proto(const Resources& r, ::Resources::Builder out);
Resources from_proto(::Resources::Reader r);

void to_proto(const JobSpec& spec, JobRequest::Builder out);
JobSpec from_proto(JobRequest::Reader r);

// `weights` explain a pending job's priority.
void to_proto(const Job& job, JobInfo::Builder out, const sched::Weights& weights);
struct PartitionSummary;
void to_proto(const PartitionSummary& p, PartitionInfo::Builder out);
void to_proto(const Node& node, NodeInfo::Builder out);

// The Launch message for one rank of a placed job.
std::string encode_launch(const Job& job, const Task& task, const std::string& master_addr);
std::string encode_kill(JobId id, Attempt attempt, uint32_t rank);
std::string encode_please_register();
std::string encode_task_ack(JobId id, uint32_t rank, Attempt attempt);
std::string encode_register_reply(uint32_t heartbeat_interval_ms);

}  // namespace cadre
