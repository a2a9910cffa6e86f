// The master's state folder and database modes; see state_dir.hpp.
#include "master/state_dir.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "master/store/sqlite_store.hpp"

namespace cadre {
namespace {

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// A warning when `path` exists with group or other bits beyond `wanted`.
std::optional<std::string> loose(const std::string& path, mode_t wanted, const char* what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || (st.st_mode & 077) == 0) return std::nullopt;
  return path + " (" + what + ") has mode " + octal(st.st_mode) +
         ": other users may read the master's state; run chmod " + octal(wanted).substr(1) + " " + path;
}

}  // namespace

Status make_state_dir(const std::string& dir) {
  std::filesystem::path path = std::filesystem::path(dir).lexically_normal();
  if (!path.has_filename()) path = path.parent_path();  // "/var/lib/cadre/"
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return {};
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return make_error("cannot create state folder " + dir + ": " + ec.message());
  }
  // mkdir's mode passes through the umask; chmod then sets it exactly.
  if (::mkdir(path.c_str(), kStateDirMode) != 0) {
    if (errno == EEXIST && std::filesystem::is_directory(path, ec)) return {};  // made meanwhile: not ours
    return make_error("cannot create state folder " + dir + ": " + std::strerror(errno));
  }
  if (::chmod(path.c_str(), kStateDirMode) != 0)
    return make_error("cannot set the mode of state folder " + dir + ": " + std::strerror(errno));
  return {};
}

std::vector<std::string> loose_state_files(const std::string& dir, const std::string& db) {
  std::vector<std::string> out;
  if (auto w = loose(dir, kStateDirMode, "the state folder")) out.push_back(*w);
  for (const std::string& file : {db, db + "-wal", db + "-shm"})
    if (auto w = loose(file, SqliteStore::kFileMode, "the database")) out.push_back(*w);
  return out;
}

}  // namespace cadre
