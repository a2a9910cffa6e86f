// GPU discovery for the node agent: which NVIDIA GPUs this node has (model,
// memory, UUID) and which of them are joined by NVLink. Asks NVML first
// (dlopen'd, so the agent runs on nodes without a driver), then nvidia-smi.
// Thread-safe, but slow (NVML start-up, a child process): call it at
// start-up, never from the event loop. Nothing here throws.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/gpu.hpp"
#include "common/result.hpp"

namespace cadre::agent {

// A GPU as discovered: the node's GPU, as the master keeps it too.
using GpuInfo = NodeGpu;

struct GpuInventory {
  std::vector<GpuInfo> gpus;  // in index order
  std::string source;         // "nvml", "nvidia-smi", or "none"
  std::string note;           // why a source was not used; empty when NVML worked
};

// The library discover_gpu_inventory() opens: $CADRE_NVML_LIB if set and
// non-empty, else "libnvidia-ml.so.1".
std::string default_nvml_lib();

// Loads `nvml_lib` with dlopen and asks it. On any failure: source "none"
// and a note that names the library and the failing call. A path that is
// not a regular file (a FIFO, a folder, nothing) is refused before dlopen. GPUs joined
// through an NVSwitch count as peers of each other.
GpuInventory discover_gpus_nvml(const std::string& nvml_lib);

// Parses what nvidia_smi_command() prints: one "index, uuid, name,
// memory.total" row per GPU. Tolerates blank lines, trailing whitespace and
// CRLF; "[N/A]" memory is 0. The error names the offending line.
Result<std::vector<GpuInfo>> parse_nvidia_smi_csv(const std::string& text);

// The query discover_gpus_nvidia_smi() runs, as a shell would show it.
std::string nvidia_smi_command();

// Runs `nvidia_smi` (a path, or a name looked up on PATH) with the query
// arguments and parses its output. Source "none" and a note if it is
// missing, fails, prints something unparsable, or runs past 30 seconds.
// nvidia-smi knows nothing of NVLink peers in this form: they are empty.
GpuInventory discover_gpus_nvidia_smi(const std::string& nvidia_smi = "nvidia-smi");

// The whole chain: NVML (default_nvml_lib()), else nvidia-smi on PATH, else
// source "none". The note says why each skipped source was skipped.
GpuInventory discover_gpu_inventory();

}  // namespace cadre::agent
