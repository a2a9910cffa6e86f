// sinfo's output fields over cadre's nodes and partitions: the letters "-o"
// takes, the names "-O" takes, their headers, and how sinfo groups nodes
// into lines (nodes of one partition whose shown fields agree share a line;
// counts, node lists and cpu and memory sizes are summed or merged). A field
// Slurm defines but cadre keeps no data for prints sinfo's unset value.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/slurm_format.hpp"
#include "common/protocol.capnp.h"
#include "common/result.hpp"

namespace cadre::cli {

// sinfo's built-in layouts (its man page's), '#' sized to the widest value.
inline constexpr std::string_view kSinfoDefaultFormat = "%#P %.5a %.10l %.6D %.6t %N";
inline constexpr std::string_view kSinfoSummarizeFormat = "%#P %.5a %.10l %.16F  %N";
inline constexpr std::string_view kSinfoLongFormat = "%#P %.5a %.10l %.10s %.4r %.8h %.10g %.6D %.11T %.11i %N";
inline constexpr std::string_view kSinfoNodeFormat = "%#N %.6D %#P %6t";
inline constexpr std::string_view kSinfoNodeLongFormat = "%#N %.6D %#P %.11T %.4c %.8z %.6m %.8d %.6w %.8f %20E";

// Parses sinfo's "-o" form ("%all": every letter) or its "-O" form
// (`named`). `builtin`: one of the layouts above, where '#' is allowed.
Result<Format> parse_sinfo_format(std::string_view text, bool named, std::string_view option, bool builtin = false);

// Which nodes and partitions a listing covers; each list empty: all.
struct SinfoFilter {
  std::vector<std::string> partitions;
  std::vector<std::string> nodes;   // node names (a host list expanded)
  std::vector<std::string> states;  // sinfo state words, lower case ("idle", "drain")
};
// Checks -t's words against sinfo's node states; lower-cases them.
Result<std::vector<std::string>> parse_sinfo_states(std::string_view text);

// A node's state as sinfo prints it: "idle", "mix", "alloc", "drng",
// "drain", "down*" (compact), or "idle", "mixed", "allocated", "draining",
// "drained", "down*" (long).
std::string node_state(NodeInfo::Reader node, bool compact);

// The listing: a header line unless `header` is false, then one line per
// group of nodes (`per_node`: per node and partition, as sinfo -N).
std::string sinfo_listing(const Format& format, capnp::List<PartitionInfo>::Reader partitions,
                          capnp::List<NodeInfo>::Reader nodes, const SinfoFilter& filter, bool per_node,
                          bool header = true);

}  // namespace cadre::cli
