// squeue's output fields over cadre's JobInfo: the letters "-o" takes, the
// names "-O" takes, their headers, and what each prints for one job. A field
// Slurm defines but cadre keeps no data for prints what squeue prints when
// the value is unset ("N/A", "(null)", "*"); a letter or name squeue does not
// define is refused when the format is parsed. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/slurm_format.hpp"
#include "common/protocol.capnp.h"
#include "common/result.hpp"

namespace cadre::cli {

// What squeue --start prints (its documented format).
inline constexpr std::string_view kQueueStartFormat = "%.18i %.9P %.8j %.8u %.2t  %.19S %.6D %20Y %R";

// Parses squeue's "-o" form (`named` false; "%all" means every letter) or
// its "-O" form (`named` true). `option` names the flag in errors.
Result<Format> parse_queue_format(std::string_view text, bool named, std::string_view option);

// The listing: a header line (unless `header` is false), then one line per
// job. `now_unix` is what TIME and TIME_LEFT count up to.
std::string queue_listing(const Format& format, const std::vector<JobInfo::Reader>& jobs, int64_t now_unix,
                          bool header = true);

// Facts of one job that squeue's fields print and sacct's print too
// (cli/sacct_fields.cpp).
// Allocated nodes as a host list ("node[1-3]"); "" before it starts.
std::string job_nodelist(JobInfo::Reader job);
// Allocated nodes, else the count asked for; at least one, as squeue counts.
uint32_t job_node_count(JobInfo::Reader job);
// Whole cpus over all ranks (millicores rounded up).
int64_t job_cpus(JobInfo::Reader job);
// The submitter's group name, else its gid.
std::string job_group_name(JobInfo::Reader job);
// Slurm's TRES string: "cpu=4,mem=8G,node=1,billing=4[,gres/gpu=2]".
std::string job_tres_alloc(JobInfo::Reader job);

}  // namespace cadre::cli
