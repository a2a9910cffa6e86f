// The master's key file and key folders; see security_files.hpp.
#include "master/security_files.hpp"

#include <filesystem>
#include <system_error>

#include "common/bounded_file.hpp"
#include "common/curve_keys.hpp"

namespace cadre {

Status check_key_pair_file(const std::string& path, const std::string& name) {
  auto keys = read_key_file(path);
  if (!keys) return make_error(name + ": " + keys.error());
  if (keys->secret_key.empty())
    return make_error(name + ": " + shown_path(path) +
                      " holds no secret key (give the file cadre keygen wrote, not the .pub)");
  return {};
}

Status check_key_folder(const std::string& dir, const std::string& name) {
  if (dir.empty()) return {};
  // Opening it as a folder is the one test that covers them all: a file or
  // a FIFO (ENOTDIR, without blocking), a name too long, no permission.
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (!ec || ec == std::errc::no_such_file_or_directory) return {};
  return make_error(name + ": cannot read the key folder " + shown_path(dir) + ": " + ec.message() +
                    "; give a folder (or a path not made yet)");
}

Status check_security_files(const SecurityOptions& sec, const SecurityNames& names) {
  if (!sec.key_file.empty())
    if (Status s = check_key_pair_file(sec.key_file, names.key); !s) return s;
  if (Status s = check_key_folder(sec.agent_keys_dir, names.agent_keys); !s) return s;
  return check_key_folder(sec.user_keys_dir, names.user_keys);
}

}  // namespace cadre
