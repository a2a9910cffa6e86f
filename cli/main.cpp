// cadre: the user command line. See docs/user-guide.md.
#include <iostream>
#include <map>

#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/help_text.hpp"
#include "common/main_guard.hpp"
#include "common/version.hpp"

namespace cadre::cli {

int fail(const std::string& message, int status) { return print_error("cadre", message, status); }

}  // namespace cadre::cli

static int run_main(int argc, char** argv) {
  using namespace cadre::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  // Run as srun, sbatch, ... (a link of that name): Slurm's front ends.
  if (argc > 0) {
    std::string self = argv[0];
    self = self.substr(self.find_last_of('/') + 1);
    if (is_slurm_front(self)) {
      Global g;
      auto endpoint = resolve_master("", false);
      if (!endpoint) return fail(endpoint.error(), 2);
      g.master = *endpoint;
      auto ms = resolve_timeout_ms("", false);
      if (!ms) return fail(ms.error(), 2);
      g.timeout_ms = *ms;
      return slurm_front(self, g, args);
    }
  }
  // mpirun's command lines are passed on untouched: none of their words
  // (-h, --timeout, ...) are cadre's options.
  if (!args.empty() && args[0] == "rsh" && !(args.size() == 2 && (args[1] == "--help" || args[1] == "-h"))) {
    Global g;
    auto endpoint = resolve_master("", false);
    if (!endpoint) return fail(endpoint.error(), 2);
    g.master = *endpoint;
    auto ms = resolve_timeout_ms("", false);
    if (!ms) return fail(ms.error(), 2);
    g.timeout_ms = *ms;
    return cmd_rsh(g, Args(args.begin() + 1, args.end()));
  }
  std::string master, timeout, command;
  bool master_given = false, timeout_given = false;
  bool help = false;
  std::vector<std::string> rest;
  bool after_dash = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (after_dash) {
      rest.push_back(a);
      continue;
    }
    if (a == "--") {
      after_dash = true;
      rest.push_back(a);
      continue;
    }
    auto take = [&](const std::string& flag, std::string& into) -> int {
      if (a == flag) {
        if (i + 1 >= args.size()) return -1;
        into = args[++i];
        return 1;
      }
      if (a.starts_with(flag + "=")) {
        into = a.substr(flag.size() + 1);
        return 1;
      }
      return 0;
    };
    int t = take("--master", master);
    if (t > 0) master_given = true;
    if (t == 0 && (t = take("--timeout", timeout)) > 0) timeout_given = true;
    if (t < 0) return fail("option '" + a + "' needs a value", 2);
    if (t > 0) continue;
    // After queue, nodes or partitions, -h is squeue's and sinfo's --noheader.
    const bool lists = command == "queue" || command == "nodes" || command == "partitions";
    if (a == "--help" || (a == "-h" && !lists)) {
      help = true;
      continue;
    }
    if ((a == "--version" || a == "-V") && command.empty()) {
      std::cout << "cadre " << cadre::version() << "\n";
      return 0;
    }
    if (command.empty() && !a.starts_with("-")) {
      command = a;
      continue;
    }
    rest.push_back(a);
  }
  if (command.empty()) {
    if (help) {
      std::cout << kUsage;
      return 0;
    }
    std::cerr << kUsage;
    return 2;
  }
  auto helptext = kHelp.find(command);
  if (helptext == kHelp.end()) return fail("unknown command '" + command + "' (see cadre --help)", 2);
  if (help) {
    std::cout << helptext->second;
    return 0;
  }
  Global g;
  auto endpoint = resolve_master(master, master_given);
  if (!endpoint) return fail(endpoint.error(), 2);
  g.master = *endpoint;
  auto ms = resolve_timeout_ms(timeout, timeout_given);
  if (!ms) return fail(ms.error(), 2);
  g.timeout_ms = *ms;
  if (command == "submit") return cmd_submit(g, rest);
  if (command == "queue") return cmd_queue(g, rest);
  if (command == "show") return cmd_show(g, rest);
  if (command == "acct") return cmd_acct(g, rest);
  if (command == "cancel") return cmd_cancel(g, rest);
  if (command == "hold") return cmd_hold(g, rest);
  if (command == "release") return cmd_release(g, rest);
  if (command == "update") return cmd_update(g, rest);
  if (command == "requeue") return cmd_requeue(g, rest);
  if (command == "partitions") return cmd_partitions(g, rest);
  if (command == "qos") return cmd_qos(g, rest);
  if (command == "reservation") return cmd_reservation(g, rest);
  if (command == "run") return cmd_run(g, rest);
  if (command == "rsh") return cmd_rsh(g, rest);
  if (command == "keygen") return cmd_keygen(g, rest);
  if (command == "drain") return cmd_drain(g, rest);
  if (command == "resume") return cmd_resume(g, rest);
  if (command == "diag") return cmd_diag(g, rest);
  return cmd_nodes(g, rest);
}

// An exception nothing above caught: one line and exit 1, never an abort.
int main(int argc, char** argv) {
  return cadre::guarded_main("cadre", [&] { return run_main(argc, argv); });
}
