// How the CLI shows jobs and nodes: stable JSON for scripts and aligned
// tables for people. The human forms escape control characters in every
// user-supplied string; the JSON forms keep them exact (the JSON writer
// escapes them). Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "common/protocol.capnp.h"

namespace cadre::cli {

nlohmann::json job_json(JobInfo::Reader job);
nlohmann::json node_json(NodeInfo::Reader node);

// Local time as 2026-12-07T10:00:00 ("" for 0 or less: not known).
std::string iso_time(int64_t unix_seconds);

// squeue-like table: JOBID NAME USER STATE TIME NODES NODELIST(REASON).
// A job's id as squeue shows it: "12", "12_7" (an array task), "12_[5-99%10]"
// (an array's tasks not started yet).
std::string display_id(JobInfo::Reader job);
std::string jobs_table(const std::vector<JobInfo::Reader>& jobs, int64_t now_unix);
// scontrol-show-like "Key=Value" block for one job.
// `master_mails`: the master has a mail program (JobsReply.mails).
std::string job_details(JobInfo::Reader job, int64_t now_unix, bool master_mails = true);
// sinfo-like table: NAME STATE CPUS MEMORY GPUS (free/total) ADDRESS LABELS.
std::string nodes_table(capnp::List<NodeInfo>::Reader nodes);

nlohmann::json partition_json(PartitionInfo::Reader partition);
// sinfo-like table of partitions; the default one is marked '*'.
std::string partitions_table(capnp::List<PartitionInfo>::Reader partitions);

// Pads columns to their widest cell. Every cell is printed through
// escape_control (common/escape.hpp): callers pass raw text.
std::string render_table(const std::vector<std::vector<std::string>>& rows);

}  // namespace cadre::cli
