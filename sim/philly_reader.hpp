// Reads the Microsoft Philly GPU job trace as converted by RFold
// (philly_jobs_rfold.csv) and Philly's machine list. Thread-safe (no
// shared state).
#pragma once

#include <istream>

#include "common/result.hpp"
#include "sim/cluster.hpp"
#include "sim/trace.hpp"

namespace cadre::sim {

// Columns: job id, arrival time (sec), topology, shape, size, duration
// (sec); a header line starting with '#'. A job of shape "8+8" is a gang of
// `size` ranks of {1 cpu, 1 GPU}, tasks_per_node = the GPUs of one part, on
// as many nodes as there are parts. Durations of 0 are kept (they run 0 s).
// No limit is recorded, so it is limit_from_run(). Every job belongs to
// user "u", account "a". Rows whose parts differ or do not add up to the
// size are skipped.
Result<Trace> read_philly_jobs(std::istream& in);

// Columns machineId, number of GPUs, single GPU mem (values may have
// leading spaces). Philly records no cpus or memory, so each machine gets
// 4 cpus per GPU (a Philly job asks 1 per GPU) and no memory, which is
// enough because its tasks ask none; the GPU memory ("12GB") is the model.
Result<Cluster> read_philly_machines(std::istream& in);

}  // namespace cadre::sim
