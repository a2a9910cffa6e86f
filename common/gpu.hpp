// One GPU of a node as the agent discovered it (NVML, else nvidia-smi) and
// the master keeps it, and its one conversion to and from the protocol's
// GpuDevice. Plain values and pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/protocol.capnp.h"

namespace cadre {

struct NodeGpu {
  uint32_t index = 0;
  std::string uuid;                    // "GPU-..."
  std::string model;                   // "NVIDIA H100 80GB HBM3"
  int64_t memory_mb = 0;               // total memory in MiB; 0 if unknown
  std::vector<uint32_t> nvlink_peers;  // GPUs of the same node it has an active NVLink to (sorted, unique)
};

void to_proto(const NodeGpu& gpu, ::GpuDevice::Builder out);
NodeGpu from_proto(::GpuDevice::Reader r);

}  // namespace cadre
