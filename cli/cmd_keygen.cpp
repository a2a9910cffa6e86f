// cadre keygen: writes a CURVE key pair for a daemon or a user.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "cli/commands.hpp"
#include "common/curve_keys.hpp"
#include "common/escape.hpp"
#include "common/flags.hpp"

namespace cadre::cli {

namespace {

// Makes each missing folder above `path`, mode 0700 (less the umask).
Status make_parent_folders(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    const std::string folder = path.substr(0, slash);
    if (mkdir(folder.c_str(), 0700) == 0) {
      std::cout << "made the folder " << escape_control(folder) << " (mode 0700)\n";
    } else if (errno != EEXIST) {
      return make_error("cannot make the folder " + folder + ": " + std::strerror(errno));
    }
  }
  return {};
}

}  // namespace

int cmd_keygen(const Global&, const Args& args) {
  Flags f;
  if (Status s = f.parse(args, true); !s) return fail(s.error(), 2);
  if (f.positionals().size() != 1) return fail("keygen takes the path of the secret key file, e.g. cadre keygen ~/.cadre/key", 2);
  const std::string path = f.positionals()[0];
  if (path.empty()) return fail("keygen: the key file path is empty (''); give one, e.g. cadre keygen ~/.cadre/key", 2);
  // The folder too when it is missing (~/.cadre on a first run): private,
  // as the secret key in it.
  if (Status s = make_parent_folders(path); !s) return fail(s.error());
  auto keys = generate_curve_keypair();
  if (!keys) return fail(keys.error());
  if (Status s = write_key_pair(path, *keys); !s) return fail(s.error());
  std::cout << "wrote " << escape_control(path) << " (secret, mode 0600) and " << escape_control(path)
            << ".pub (public)\n"
            << "public key: " << keys->public_key << "\n";
  return 0;
}

}  // namespace cadre::cli
