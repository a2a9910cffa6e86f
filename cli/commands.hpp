// The `cadre` subcommands. Each returns the process exit status and prints
// errors as one line on stderr. Not thread-safe (they own the terminal).
#pragma once

#include <string>
#include <vector>

namespace cadre::cli {

struct Global {
  std::string master;
  int timeout_ms = 10000;
  bool slurm_words = false;  // run as sbatch, squeue, ...: Slurm's wording ("Submitted batch job 42")
};

using Args = std::vector<std::string>;

int cmd_submit(const Global& g, const Args& args);
int cmd_queue(const Global& g, const Args& args);
int cmd_show(const Global& g, const Args& args);
int cmd_cancel(const Global& g, const Args& args);
int cmd_hold(const Global& g, const Args& args);
int cmd_release(const Global& g, const Args& args);
int cmd_update(const Global& g, const Args& args);
int cmd_requeue(const Global& g, const Args& args);
int cmd_nodes(const Global& g, const Args& args);
int cmd_partitions(const Global& g, const Args& args);
int cmd_qos(const Global& g, const Args& args);
int cmd_reservation(const Global& g, const Args& args);
int cmd_run(const Global& g, const Args& args);
int cmd_rsh(const Global& g, const Args& args);
int cmd_keygen(const Global& g, const Args& args);
int cmd_drain(const Global& g, const Args& args);
int cmd_resume(const Global& g, const Args& args);
int cmd_diag(const Global& g, const Args& args);
// sinfo's options and layout over nodes and partitions (cli/cmd_sinfo.cpp).
int cmd_sinfo(const Global& g, const Args& args);
// sacct's options, fields and layouts over every job the master lists
// (cli/cmd_sacct.cpp).
int cmd_acct(const Global& g, const Args& args);
// Slurm's command names (srun, sbatch, squeue, scancel, scontrol, sinfo, sacct)
// over the commands above: see cli/slurm_front.cpp.
bool is_slurm_front(const std::string& name);
int slurm_front(const std::string& name, const Global& g, const Args& args);

// Prints "cadre: <message>" on stderr and returns `status`.
int fail(const std::string& message, int status = 1);

}  // namespace cadre::cli
