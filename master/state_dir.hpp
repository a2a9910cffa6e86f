// The master's private files: its state folder (0700) and its database
// with the -wal and -shm files beside it (0600, SqliteStore::kFileMode). The database holds every
// job's command, environment and user, so only the master's user may read
// it. What the master creates gets these modes whatever the umask; what
// exists already and is looser is reported (the admin chose it, or an
// older cadre made it), not changed. Pure file-system calls: thread-safe.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace cadre {

inline constexpr mode_t kStateDirMode = 0700;  // the database's: SqliteStore::kFileMode

// Creates `dir` (and any missing parent) as kStateDirMode. An existing
// folder is left as it is (see loose_state_files).
Status make_state_dir(const std::string& dir);

// One warning for each existing path of the state that group or others
// may use: `dir`, `db` and db's -wal and -shm. Each names the path, its
// mode and the chmod that fixes it.
std::vector<std::string> loose_state_files(const std::string& dir, const std::string& db);

}  // namespace cadre
