// Slurm's command names over the cadre CLI: when this binary runs as srun,
// sbatch, squeue, scancel, scontrol, sinfo or sacct (a link of that name), it
// reads Slurm's flags and answers in Slurm's words, so batch scripts that
// call them run as written on nodes without Slurm. The links live in their
// own folder (slurm-bin) that the agent puts last on a job's PATH: a real
// Slurm installed on the node comes first and wins.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string_view>

#include "cli/commands.hpp"
#include "cli/names.hpp"
#include "common/hostlist.hpp"
#include "common/resources.hpp"

namespace cadre::cli {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// srun options that take a value, as srun reads them: the first word
// that is neither one of these, a flag, nor a value is the command.
const std::set<std::string> kSrunValued = {
    "-n", "--ntasks", "-N", "--nodes", "-c", "--cpus-per-task", "--ntasks-per-node", "--tasks-per-node",
    "--gpus-per-task", "--gpus-per-node", "--gres", "--mem", "--mem-per-cpu", "-t", "--time", "-J", "--job-name",
    "-o", "--output", "-e", "--error", "-p", "--partition", "-A", "--account", "--mpi", "--cpu-bind",
    "--cpu_bind", "--gpu-bind", "-m", "--distribution", "--export", "-w", "--nodelist", "-x", "--exclude",
    "-D", "--chdir", "--hint", "--comment", "-K", "--kill-on-bad-exit", "--gpus", "-G", "--cpus-per-gpu",
    "--mem-per-gpu", "--ntasks-per-gpu", "-b", "--begin", "-C",
    "--constraint", "-q", "--qos", "--deadline", "--reservation"};

// Options a step inside a job may carry that only advise, or that cadre's
// steps do anyway (every rank's output is kept; ranks run in the job's
// slots): read and left alone.
const std::set<std::string> kSrunStepAdvisory = {
    "--mpi", "--cpu-bind", "--cpu_bind", "--gpu-bind", "-m", "--distribution", "--export", "--hint", "--comment",
    "-l", "--label", "-u", "--unbuffered", "-K", "--kill-on-bad-exit", "--exclusive", "--overlap", "-c",
    "--cpus-per-task", "--gpus-per-task", "--gpus-per-node", "--gres", "--mem", "--mem-per-cpu", "-J",
    "--job-name", "--gpus", "-G", "--cpus-per-gpu", "--mem-per-gpu", "-o", "--output", "-e", "--error", "--wait", "-W", "-Q", "--quiet",
    "-v", "--verbose", "--input", "-i", "-q", "--qos", "--reservation"};

struct Split {
  std::vector<std::pair<std::string, std::string>> options;  // name, value ("" for a flag)
  std::vector<std::string> command;
};

Split split_srun(const Args& args) {
  Split out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      out.command.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      return out;
    }
    if (a.size() < 2 || a[0] != '-') {
      out.command.assign(args.begin() + static_cast<long>(i), args.end());
      return out;
    }
    std::string name = a, value;
    if (a.starts_with("--") && a.find('=') != std::string::npos) {
      name = a.substr(0, a.find('='));
      value = a.substr(a.find('=') + 1);
    } else if (!a.starts_with("--") && a.size() > 2 && kSrunValued.count(a.substr(0, 2))) {
      name = a.substr(0, 2);  // -n4
      value = a.substr(2);
    } else if (kSrunValued.count(a) && name != "-K" && name != "--kill-on-bad-exit") {
      if (i + 1 < args.size()) value = args[++i];
    }
    out.options.emplace_back(name, value);
  }
  return out;
}

int srun(const Global& g, const Args& args) {
  Split s = split_srun(args);
  if (s.command.empty()) return fail("srun: no command given (srun [OPTIONS] COMMAND [ARGS])", 2);
  const bool in_job = std::getenv("CADRE_JOB_ID") && *std::getenv("CADRE_JOB_ID");
  Args cadre;
  if (in_job) {
    // A step: cadre run takes the task and node counts; the rest advises.
    std::string ntasks, nnodes, per_node;
    for (const auto& [name, value] : s.options) {
      if (name == "-n" || name == "--ntasks") ntasks = value;
      else if (name == "-N" || name == "--nodes") nnodes = value;
      else if (name == "--ntasks-per-node" || name == "--tasks-per-node") per_node = value;
      else if (!kSrunStepAdvisory.count(name))
        return fail("srun: " + name + " is not supported inside a job by cadre's srun (it takes -n, -N and "
                    "--ntasks-per-node; cpu, memory and GPU options come from the job)", 2);
    }
    if (ntasks.empty() && !per_node.empty()) {
      auto per = parse_count(per_node, 1 << 20);
      auto nodes = parse_count(nnodes.empty() ? env_or("SLURM_JOB_NUM_NODES", "1") : nnodes, 1 << 20);
      if (!per || !nodes) return fail("srun: --ntasks-per-node and -N must be whole numbers", 2);
      ntasks = std::to_string(*per * *nodes);
    }
    if (!ntasks.empty()) cadre.insert(cadre.end(), {"--ntasks", ntasks});
    if (!nnodes.empty()) cadre.insert(cadre.end(), {"--nodes", nnodes});
  } else {
    // Outside a job: a job of its own, as srun allocates one.
    for (const auto& [name, value] : s.options) {
      if (name == "-l" || name == "--label" || name == "-u" || name == "--unbuffered" || name == "--mpi" ||
          name == "-K" || name == "--kill-on-bad-exit" || name == "--overlap" || name == "-Q" || name == "--quiet")
        continue;
      if (value.empty()) cadre.push_back(name);
      else if (name.starts_with("--")) cadre.push_back(name + "=" + value);
      else cadre.insert(cadre.end(), {name, value});
    }
  }
  cadre.push_back("--");
  cadre.insert(cadre.end(), s.command.begin(), s.command.end());
  return cmd_run(g, cadre);
}

int scontrol(const Global& g, const Args& args) {
  if (args.empty()) return fail("scontrol: give a command (show hostnames, show job ID, hold, release, requeue, update)", 2);
  // The command and its object in any case ("show", "SHOW job").
  Args words(args.begin(), args.begin() + static_cast<long>(std::min<size_t>(args.size(), 2)));
  for (std::string& w : words)
    for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string& verb = words[0];
  // Comma-separated ids, as scontrol takes them.
  auto ids_from = [&](size_t first) {
    Args ids;
    for (size_t i = first; i < args.size(); ++i) {
      std::string_view rest = args[i];
      while (!rest.empty()) {
        auto comma = rest.find(',');
        // An array task list "12_[1,3]" keeps its commas.
        if (auto bracket = rest.find('['); bracket != std::string_view::npos && bracket < comma)
          comma = rest.find(']') == std::string_view::npos ? std::string_view::npos : rest.find(',', rest.find(']'));
        ids.emplace_back(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    }
    return ids;
  };
  if (verb == "show" && words.size() >= 2) {
    const std::string& what = words[1];
    if (what == "hostnames" || what == "hostname") {
      const std::string list = args.size() > 2 ? args[2] : env_or("SLURM_JOB_NODELIST", "");
      if (list.empty()) return fail("scontrol show hostnames: give a host list (or run inside a job)", 2);
      auto names = expand_hostlist(list);
      if (!names) return fail("scontrol: " + names.error(), 1);
      for (const std::string& n : *names) std::cout << n << "\n";
      return 0;
    }
    if (what == "hostlist" || what == "hostlistsorted") {
      if (args.size() < 3) return fail("scontrol show hostlist: give names, e.g. n1,n2,n3", 2);
      auto names = expand_hostlist(args[2]);
      if (!names) return fail("scontrol: " + names.error(), 1);
      if (what == "hostlistsorted") std::sort(names->begin(), names->end());
      std::cout << compress_hostlist(*names) << "\n";
      return 0;
    }
    if (what == "job" || what == "jobid") {
      const std::string id = args.size() > 2 ? args[2] : env_or("SLURM_JOB_ID", "");
      if (id.empty()) return fail("scontrol show job: give a job id", 2);
      return cmd_show(g, {id});
    }
    if (what == "partition" || what == "partitions") return cmd_partitions(g, {});
    if (what == "reservation" || what == "reservations" || what == "res") return cmd_reservation(g, {"list"});
    if (what == "node" || what == "nodes") return cmd_nodes(g, {});
    return fail("scontrol show " + what + " is not supported by cadre (hostnames, hostlist, job, partition, node)", 2);
  }
  if (verb == "hold" || verb == "uhold") return cmd_hold(g, ids_from(1));
  if (verb == "release") return cmd_release(g, ids_from(1));
  if (verb == "requeue") return cmd_requeue(g, ids_from(1));
  if (verb == "requeuehold") {
    Args a = ids_from(1);
    a.insert(a.begin(), "--hold");
    return cmd_requeue(g, a);
  }
  if (verb == "update") {
    Args a;
    for (size_t i = 1; i < args.size(); ++i) {
      // "update job 42 TimeLimit=..." and "update JobId=42 ...".
      if (i == 1 && (words[1] == "job" || words[1] == "jobid") && i + 1 < args.size()) {
        a.push_back(args[++i]);
        continue;
      }
      a.push_back(args[i]);
    }
    return cmd_update(g, a);
  }
  if ((verb == "create" || verb == "delete") && words.size() >= 2 &&
      (words[1] == "reservation" || words[1] == "res" || words[1].starts_with("reservationname="))) {
    // scontrol create reservation ReservationName=x Nodes=... StartTime=... Duration=... Users=...
    // scontrol delete ReservationName=x
    Args a{verb};
    std::string name;
    for (size_t i = 1; i < args.size(); ++i) {
      const std::string& w = args[i];
      const size_t eq = w.find('=');
      if (eq == std::string::npos) {
        if (i == 1) continue;  // "reservation"
        return fail("scontrol " + verb + " reservation: expected KEY=VALUE, got '" + w + "'", 2);
      }
      std::string key = w.substr(0, eq);
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const std::string value = w.substr(eq + 1);
      if (key == "reservationname" || key == "reservation") name = value;
      else if (key == "nodes") a.insert(a.end(), {"--nodes", value});
      else if (key == "nodecnt" || key == "nodecount") a.insert(a.end(), {"--node-count", value});
      else if (key == "partitionname" || key == "partition") a.insert(a.end(), {"--partition", value});
      else if (key == "starttime") a.insert(a.end(), {"--start", value});
      else if (key == "endtime") a.insert(a.end(), {"--end", value});
      else if (key == "duration") a.insert(a.end(), {"--duration", value});
      else if (key == "users") a.insert(a.end(), {"--users", value});
      else if (key == "accounts") a.insert(a.end(), {"--accounts", value});
      else
        return fail("scontrol " + verb + " reservation: cadre does not take " + w.substr(0, eq) +
                        " (ReservationName, Nodes, NodeCnt, PartitionName, StartTime, EndTime, Duration, Users, Accounts)",
                    2);
    }
    if (name.empty()) return fail("scontrol " + verb + " reservation: give ReservationName=NAME", 2);
    a.push_back(name);
    return cmd_reservation(g, a);
  }
  return fail("scontrol " + verb + " is not supported by cadre (show, hold, release, requeue, requeuehold, update, "
              "create/delete reservation; see cadre --help)", 2);
}

}  // namespace

bool is_slurm_front(const std::string& name) {
  return name == "srun" || name == "sbatch" || name == "squeue" || name == "scancel" || name == "scontrol" ||
         name == "sinfo" || name == "sacct";
}

int slurm_front(const std::string& name, const Global& base, const Args& args) {
  Global g = base;
  g.slurm_words = true;
  for (const std::string& a : args)
    // sacct's -h is its help (its --noheader is -n).
    if (a == "--help" || a == "--usage" || (name == "sacct" && a == "-h")) {
      std::cout << name << ": cadre's front end for Slurm's " << name
                << ". It reads Slurm's options and runs the matching cadre command; see 'cadre --help' and "
                   "docs/user-guide.md (Slurm's commands inside jobs).\n";
      return 0;
    }
  if (name == "srun") return srun(g, args);
  if (name == "sbatch") return cmd_submit(g, args);
  if (name == "scancel") return cmd_cancel(g, args);
  if (name == "scontrol") return scontrol(g, args);
  if (name == "sinfo") return cmd_sinfo(g, args);
  if (name == "sacct") return cmd_acct(g, args);
  // squeue: cadre queue reads its options; -l only widens squeue's own default.
  Args rest;
  for (const std::string& a : args)
    if (a != "-l" && a != "--long") rest.push_back(a);
  return cmd_queue(g, rest);
}

}  // namespace cadre::cli
