// Discovery of what this node has: cpus, memory, GPUs, and the address
// other nodes reach it at. Reads the kernel's view; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "common/resources.hpp"

namespace cadre::agent {

// CPUs this process may run on (its affinity mask), in millicores.
int64_t discover_millicores();
// MemTotal from /proc/meminfo (or `meminfo_path`), in MiB; 0 if unreadable.
int64_t discover_memory_mb(const std::string& meminfo_path = "/proc/meminfo");
// The cadre CLI next to this agent binary (the build tree's cli/ or an
// installed bin/), else "cadre" to be found on PATH. Ranks use it as Open
// MPI's launcher.
std::string find_cli();
// The folder of Slurm's front ends that goes with `cli`: slurm-bin beside it
// (a build tree), or PREFIX/lib/cadre/slurm-bin for PREFIX/bin/cadre; "" when
// neither holds srun.
std::string find_slurm_bin(const std::string& cli);

// The address this node uses to reach `master_endpoint` ("tcp://host:port"):
// 127.0.0.1 for loopback and ipc endpoints, else the source address the
// kernel picks for that route, else the host name.
std::string discover_address(const std::string& master_endpoint);

}  // namespace cadre::agent
