// sacct's output over cadre's JobInfo: its field names (--format, any
// case, "Name%30" for a width), their default widths, and its two layouts:
// columns (each value cut to its width with a '+' when longer, a header
// and a "----------" line) and parsable ("a|b|" with -p, "a|b" with -P).
// Fields Slurm records and cadre does not (MaxRSS, AveCPU, ...) print
// empty, as sacct prints a value it does not have; a name sacct does not
// define is refused when the format is parsed. One line per job or array
// task: cadre lists no steps (".batch", ".0"). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol.capnp.h"
#include "common/result.hpp"

namespace cadre::cli {

// sacct's own formats: the default, --brief's and --long's.
inline constexpr std::string_view kSacctDefaultFormat = "JobID,JobName,Partition,Account,AllocCPUS,State,ExitCode";
inline constexpr std::string_view kSacctBriefFormat = "JobID,State,ExitCode";
inline constexpr std::string_view kSacctLongFormat =
    "JobID,JobIDRaw,JobName,Partition,MaxVMSize,MaxVMSizeNode,MaxVMSizeTask,AveVMSize,MaxRSS,MaxRSSNode,"
    "MaxRSSTask,AveRSS,MaxPages,MaxPagesNode,MaxPagesTask,AvePages,MinCPU,MinCPUNode,MinCPUTask,AveCPU,NTasks,"
    "AllocCPUS,Elapsed,State,ExitCode,AveCPUFreq,ReqCPUFreqMin,ReqCPUFreqMax,ReqCPUFreqGov,ReqMem,ConsumedEnergy,"
    "MaxDiskRead,MaxDiskReadNode,MaxDiskReadTask,AveDiskRead,MaxDiskWrite,MaxDiskWriteNode,MaxDiskWriteTask,"
    "AveDiskWrite,ReqTRES,AllocTRES,TRESUsageInAve,TRESUsageInMax,TRESUsageInMaxNode,TRESUsageInMaxTask,"
    "TRESUsageInMin,TRESUsageInMinNode,TRESUsageInMinTask,TRESUsageInTot,TRESUsageOutMax,TRESUsageOutMaxNode,"
    "TRESUsageOutMaxTask,TRESUsageOutAve,TRESUsageOutTot";

// One column: a field of the table in cli/sacct_fields.cpp.
struct SacctColumn {
  int field = -1;
  size_t width = 0;  // always set: the field's default, or "%N"
  bool right = true;  // sacct right-justifies unless the width says "%-N" (JobID is left by default)
};

// Parses a --format list: comma-separated names, any case, each with an
// optional "%N" (right-justified) or "%-N" (left) width; "ALL" is every
// field. `option` names the flag (or SACCT_FORMAT) in errors.
Result<std::vector<SacctColumn>> parse_sacct_format(std::string_view text, std::string_view option);

enum class SacctLayout {
  columns,    // fixed widths, a header and its "---" line
  parsable,   // -p: every value followed by the delimiter
  parsable2,  // -P: values separated by it, none at the end
};

struct SacctStyle {
  SacctLayout layout = SacctLayout::columns;
  std::string delimiter = "|";
  bool header = true;
};

// The listing: the header lines (unless style.header is false), then one
// line per job. `now_unix` is what Elapsed counts up to for running jobs.
std::string sacct_listing(const std::vector<SacctColumn>& columns, const std::vector<JobInfo::Reader>& jobs,
                          int64_t now_unix, const SacctStyle& style);

// --helpformat: every field name, four to a line, as sacct lists them.
std::string sacct_field_names();

// sacct's forms of a few values, for the tests and cadre's own use.
// ExitCode: "code:signal" (a rank killed by signal 9 is "0:9").
std::string sacct_exit_code(JobInfo::Reader job);
// Elapsed and friends: [D-]HH:MM:SS.
std::string sacct_elapsed(int64_t seconds);

}  // namespace cadre::cli
