// cadre keygen: writes a CURVE key pair for a daemon or a user.
#include <iostream>

#include "cli/commands.hpp"
#include "common/curve_keys.hpp"
#include "common/escape.hpp"
#include "common/flags.hpp"

namespace cadre::cli {

int cmd_keygen(const Global&, const Args& args) {
  Flags f;
  if (Status s = f.parse(args, true); !s) return fail(s.error(), 2);
  if (f.positionals().size() != 1) return fail("keygen takes the path of the secret key file, e.g. cadre keygen ~/.cadre/key", 2);
  const std::string path = f.positionals()[0];
  auto keys = generate_curve_keypair();
  if (!keys) return fail(keys.error());
  if (Status s = write_key_pair(path, *keys); !s) return fail(s.error());
  std::cout << "wrote " << escape_control(path) << " (secret, mode 0600) and " << escape_control(path)
            << ".pub (public)\n"
            << "public key: " << keys->public_key << "\n";
  return 0;
}

}  // namespace cadre::cli
