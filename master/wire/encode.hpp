// The master's values onto the wire: replies to clients, commands and
// acknowledgements to agents, and what getStats reports. Every message is
// one Envelope (common/protocol.capnp). Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/protocol.capnp.h"
#include "master/model.hpp"
#include "master/scheduler/priority.hpp"
#include "master/state/cluster.hpp"
#include "master/state/commands.hpp"
#include "master/stats.hpp"

namespace cadre::wire {

// ---- to agents ----
// A command the state emitted; "" when its job is gone (nothing to send).
std::string encode_command(const AgentCommand& command, const Cluster& cluster);
std::string encode_launch(const Job& job, const LaunchCommand& command);
std::string encode_kill(const KillCommand& command);
std::string encode_please_register();
std::string encode_task_ack(JobId id, uint32_t rank, Attempt attempt, uint32_t step = 0);
std::string encode_register_reply(uint32_t heartbeat_interval_ms);

// ---- to clients ----
std::string encode_submit_reply(uint64_t request_id, JobId id);
std::string encode_submit_many_reply(uint64_t request_id, const std::vector<JobId>& ids);
// `weights` explain a pending job's priority; `more`: the listing goes on.
// `mails`: the master has a mail program, so --mail-type is acted on.
std::string encode_jobs_reply(uint64_t request_id, const std::vector<const Job*>& jobs, bool more,
                              const sched::Weights& weights, bool mails = false);
// About what `job` adds to a jobs reply, for paging by bytes.
size_t approx_wire_bytes(const Job& job);
std::string encode_cancel_reply(uint64_t request_id, const std::vector<CancelOutcome>& outcomes);
std::string encode_step_reply(uint64_t request_id, JobId job, uint32_t step_id, const Step& step);
std::string encode_nodes_reply(uint64_t request_id, const std::vector<const Node*>& nodes);
std::string encode_reservations_reply(uint64_t request_id, const std::vector<const Reservation*>& reservations);
std::string encode_partitions_reply(uint64_t request_id, const std::vector<PartitionSummary>& partitions,
                                    const std::vector<QosConfig>& qos = {});

// getStats: the report of `stats`, the cluster's jobs and nodes counted
// now, and this process's usage; and its reply.
StatsReport make_stats_report(const MasterStats& stats, const Cluster& cluster, int64_t now_ms);
std::string encode_stats_reply(uint64_t request_id, const StatsReport& report);

// The pieces of the replies above, for tests and tools.
void to_proto(const Job& job, JobInfo::Builder out, const sched::Weights& weights);
void to_proto(const Node& node, NodeInfo::Builder out);
void to_proto(const PartitionSummary& p, PartitionInfo::Builder out);

}  // namespace cadre::wire
