// Reads Alibaba's openb GPU-cluster trace (cluster-trace-gpu-v2023): the
// pod list as jobs and the node list as a cluster. CSV with a header row;
// columns are found by name. Thread-safe (no shared state).
#pragma once

#include <istream>

#include "common/result.hpp"
#include "sim/cluster.hpp"
#include "sim/trace.hpp"

namespace cadre::sim {

// Each pod is a single-rank job: cpu_milli, memory_mib and num_gpu whole
// GPUs (a GPU-sharing pod, gpu_milli < 1000, takes one whole GPU: shares are
// not modelled); gpu_spec lists the allowed models, '|'-separated. It is
// submitted at creation_time and runs deletion_time - creation_time; rows
// without a usable deletion_time are skipped. No limit is recorded, so it
// is limit_from_run(). Every pod belongs to user "u", account "a".
// An error when the header lacks a needed column.
Result<Trace> read_openb_pods(std::istream& in);

// Columns sn, cpu_milli, memory_mib, gpu, model (empty: unknown model).
Result<Cluster> read_openb_nodes(std::istream& in);

}  // namespace cadre::sim
