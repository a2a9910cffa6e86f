// Reading a small text file a user names (a batch script, a --from list)
// without trusting what the path is: a FIFO or device never blocks the open,
// only a regular file is read, never more than a stated bound, and a NUL
// byte marks it as binary. Stateless; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace cadre {

// The whole text of the regular file at `path`, at most `max_bytes` long.
// `what` names the file in errors ("batch script" -> "batch script job.sh is
// not a regular file ..."). Refuses FIFOs, devices, directories, files over
// `max_bytes` and files with a NUL byte.
Result<std::string> read_bounded_file(const std::string& path, size_t max_bytes, std::string_view what);

// Refuses a path that is empty or names no regular file (a FIFO, whose open
// would block, a device, a folder), naming `what` and the path. For files
// read by other means than read_bounded_file: a TOML parser, a key file,
// dlopen. Follows symbolic links; the later open still reports its own
// errors (a file replaced in between is the reader's to catch).
Status check_regular_file(const std::string& path, std::string_view what);

// A path as messages show it: as it is when it is plain, else quoted with
// its control characters escaped ('' for an empty one, ' ' for a blank).
std::string shown_path(std::string_view path);

}  // namespace cadre
