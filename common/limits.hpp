// Every bound on what a peer may send or ask for, named once. The CLI
// checks them early (friendly errors), the master enforces them
// (authoritative), the agent keeps to them. docs/security.md lists each
// one with its default and, for the few an admin may change, its config
// key ([limits] in cadre.toml). Constants only; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cadre::limits {

// ---- the wire ----
// Largest message any peer accepts (ZeroMQ drops bigger ones unread).
inline constexpr size_t kMaxMessageBytes = 64 * 1024 * 1024;
// Largest reply the master builds: listings are paged by bytes as well as
// by count, so no reply comes near kMaxMessageBytes.
inline constexpr size_t kMaxReplyBytes = 8 * 1024 * 1024;
// Jobs in one page of listJobs (the count bound; kMaxReplyBytes the other).
inline constexpr size_t kJobsPerPage = 10000;
// Ended jobs `cadre queue --all` reads from the store.
inline constexpr size_t kMaxEndedJobsListed = 10000;

// ---- text fields of a job request ----
inline constexpr size_t kMaxJobNameBytes = 256;
inline constexpr size_t kMaxUserNameBytes = 64;     // also an account name
inline constexpr size_t kMaxPartitionNameBytes = 64;
// -p a,b,...: at most this many bytes of names and commas.
inline constexpr size_t kMaxPartitionListBytes = 1024;
inline constexpr size_t kMaxPathBytes = 4096;       // workdir, output and error patterns (PATH_MAX)
inline constexpr size_t kMaxGpuTypeBytes = 64;
// A job's command: words and all words together (a config key may lower
// or raise the byte bound: limits.max_command_bytes).
inline constexpr size_t kMaxArgvWords = 4096;
inline constexpr size_t kMaxCommandBytes = 256 * 1024;
// A batch script (limits.max_script_bytes may change it).
inline constexpr size_t kMaxScriptBytes = 1024 * 1024;
// Environment a job carries: variables and bytes all together.
inline constexpr size_t kMaxEnvVars = 4096;
inline constexpr size_t kMaxEnvBytes = 1024 * 1024;
// Advisory options recorded with a job (--hint, --comment, --mail-type...).
inline constexpr size_t kMaxHints = 64;
inline constexpr size_t kMaxHintBytes = 1024;

// ---- quantities of a job request ----
inline constexpr uint32_t kMaxTasksPerJob = 100000;
// Far enough from int64 overflow: 100000 ranks x 2^40 MiB < 2^63.
inline constexpr int64_t kMaxMillicoresPerTask = int64_t{1} << 30;
inline constexpr int64_t kMaxMemoryMbPerTask = int64_t{1} << 40;
inline constexpr int64_t kMaxGpusPerTask = 64;  // a task runs on one node (kMaxGpusPerNode)
inline constexpr int64_t kMaxTimeLimitS = int64_t{100} * 365 * 86400;
// Users may lower their job's priority; only admins raise it above this.
inline constexpr int32_t kDefaultPriority = 0;
inline constexpr int32_t kMinPriority = -1000000;
inline constexpr int32_t kMaxPriority = 1000000;

// ---- requests ----
inline constexpr size_t kMaxIdsPerRequest = 10000;          // cancel, show
inline constexpr size_t kMaxJobsPerSubmitMany = 10000;      // the CLI splits --from files into such batches
inline constexpr size_t kMaxNodesPerRequest = 10000;
inline constexpr size_t kMaxHostlistBytes = 65536;           // -w and -x host lists        // drain, resume
inline constexpr size_t kMaxReasonBytes = 1024;             // a drain reason
inline constexpr uint32_t kMaxStepsPerJob = 100000;         // steps (cadre run, cadre rsh) in one job's life
// Cancels handled in one slice of the event loop: a cancel of many ids is
// worked through in slices, so no request holds the loop for long.
inline constexpr size_t kCancelsPerSlice = 200;

// ---- nodes (agent registration) ----
inline constexpr size_t kMaxNodeNameBytes = 200;
inline constexpr size_t kMaxAddressBytes = 256;
inline constexpr size_t kMaxLabels = 64;
inline constexpr size_t kMaxLabelBytes = 256;                // a key or a value
// GPUs of one node: the scheduler tracks each by its index, below this.
inline constexpr size_t kMaxGpusPerNode = 64;
inline constexpr int64_t kMaxMillicoresPerNode = int64_t{1} << 30;
inline constexpr int64_t kMaxMemoryMbPerNode = int64_t{1} << 40;
inline constexpr size_t kMaxTasksPerRegistration = 1 << 20;  // ranks an agent reports it runs
inline constexpr size_t kMaxMessageTextBytes = 4096;         // a task status's message, an isolation note

// ---- endpoints (common/endpoint.hpp) ----
inline constexpr size_t kMaxEndpoints = 16;             // in one comma-separated list
inline constexpr size_t kMaxHostNameBytes = 253;        // DNS's limit on a name
inline constexpr size_t kMaxIpcPathBytes = 107;         // sockaddr_un's sun_path, less its NUL

// ---- files the CLI reads ----
inline constexpr size_t kMaxSubmitFromBytes = 64 * 1024 * 1024;  // `cadre submit --from FILE`

}  // namespace cadre::limits
