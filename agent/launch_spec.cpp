#include "agent/launch_spec.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <type_traits>

#include "common/hostlist.hpp"
#include "common/output_pattern.hpp"

namespace cadre::agent {

std::string expand_pattern(const LaunchSpec& spec, const std::string& pattern, const std::string& node_name) {
  PatternFields f;
  f.job = spec.job;
  f.rank = spec.rank;
  f.attempt = spec.attempt;
  f.node = node_name;
  // %n counts nodes of the job, not of a step.
  const std::vector<std::string>& nodes = spec.job_nodelist.empty() ? spec.nodelist : spec.job_nodelist;
  f.node_index = static_cast<uint32_t>(std::find(nodes.begin(), nodes.end(), node_name) - nodes.begin());
  if (f.node_index == nodes.size()) f.node_index = spec.node_rank;
  f.job_name = spec.job_name;
  f.user = spec.user;
  f.step = spec.step;
  f.batch = spec.batch;
  if (spec.array_job != 0) {
    f.array_job = spec.array_job;
    f.array_task = spec.array_task;
  }
  return expand_output_pattern(pattern, f, spec.workdir);
}

std::string output_path(const LaunchSpec& spec, const std::string& node_name) {
  return expand_pattern(spec, spec.output_pattern, node_name);
}

std::string umask_octal(int32_t umask) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(umask) & 07777u);
  return buf;
}

std::string slurm_tasks_per_node(const std::vector<uint32_t>& counts) {
  std::string out;
  for (size_t i = 0; i < counts.size();) {
    size_t run = 1;
    while (i + run < counts.size() && counts[i + run] == counts[i]) ++run;
    out += (out.empty() ? "" : ",") + std::to_string(counts[i]) + (run > 1 ? "(x" + std::to_string(run) + ")" : "");
    i += run;
  }
  return out;
}

std::vector<std::string> rank_environment(const LaunchSpec& spec, const AgentContext& agent,
                                          const std::string& hostfile, const std::vector<std::string>& base) {
  std::vector<std::string> env;
  auto set = [&env](const std::string& k, const std::string& v) { env.push_back(k + "=" + v); };
  auto join = [](const auto& items) {
    std::string out;
    for (const auto& item : items) {
      if (!out.empty()) out += ',';
      if constexpr (std::is_same_v<std::decay_t<decltype(item)>, std::string>) out += item;
      else out += std::to_string(item);
    }
    return out;
  };
  const std::vector<std::string>& job_nodes = spec.job_nodelist.empty() ? spec.nodelist : spec.job_nodelist;
  const std::vector<uint32_t>& job_tpn = spec.job_nodelist.empty() ? spec.tasks_per_node : spec.job_tasks_per_node;
  const std::string node_name = agent.node_name;

  set("CADRE_JOB_ID", std::to_string(spec.job));
  set("CADRE_JOB_NAME", spec.job_name);
  set("CADRE_ATTEMPT", std::to_string(spec.attempt));
  set("CADRE_STEP_ID", std::to_string(spec.step));
  set("CADRE_RANK", std::to_string(spec.rank));
  set("CADRE_WORLD_SIZE", std::to_string(spec.world_size));
  set("CADRE_LOCAL_RANK", std::to_string(spec.local_rank));
  set("CADRE_LOCAL_WORLD_SIZE", std::to_string(spec.local_world_size));
  set("CADRE_NODE_RANK", std::to_string(spec.node_rank));
  set("CADRE_NNODES", std::to_string(job_nodes.size()));
  set("CADRE_NODE_NAME", node_name);
  set("CADRE_NODELIST", join(job_nodes));
  set("CADRE_HOSTFILE", hostfile);
  set("CADRE_NTASKS", std::to_string(spec.ntasks));
  if (!agent.master.empty()) set("CADRE_MASTER", agent.master);
  // An empty list hides every GPU from CUDA, which is right for a rank
  // that was given none.
  set("CUDA_VISIBLE_DEVICES", join(spec.gpus));

  // torch.distributed's env:// rendezvous (and torchrun's names).
  set("RANK", std::to_string(spec.rank));
  set("WORLD_SIZE", std::to_string(spec.world_size));
  set("LOCAL_RANK", std::to_string(spec.local_rank));
  set("LOCAL_WORLD_SIZE", std::to_string(spec.local_world_size));
  set("GROUP_RANK", std::to_string(spec.node_rank));
  // A script that chose its own rendezvous (export MASTER_ADDR=... before
  // srun) keeps it in its steps, as under Slurm, which sets neither.
  auto exported = [&](std::string_view name) {
    return spec.step > 0 && std::any_of(spec.environment.begin(), spec.environment.end(), [&](const std::string& e) {
             return e.size() > name.size() && e.starts_with(name) && e[name.size()] == '=';
           });
  };
  if (!exported("MASTER_ADDR")) set("MASTER_ADDR", spec.master_addr);
  if (!exported("MASTER_PORT")) set("MASTER_PORT", std::to_string(spec.master_port));

  // What Slurm batch scripts and tools read. Names a Slurm step would
  // carry for this process (SLURM_PROCID, SLURM_NTASKS, SLURM_NNODES,
  // SLURM_NODELIST, ...) describe the step, as srun sets them; SLURM_JOB_*
  // the allocation.
  const std::string hostlist = compress_hostlist(job_nodes);
  const bool in_step = spec.step > 0;
  const std::string step_hostlist = in_step ? compress_hostlist(spec.nodelist) : hostlist;
  const std::string step_ntasks = std::to_string(in_step ? spec.world_size : spec.ntasks);
  set("SLURM_JOB_ID", std::to_string(spec.job));
  set("SLURM_JOBID", std::to_string(spec.job));
  set("SLURM_JOB_NAME", spec.job_name);
  set("SLURM_JOB_USER", spec.user);
  set("SLURM_JOB_UID", std::to_string(spec.uid));
  set("SLURM_JOB_NUM_NODES", std::to_string(job_nodes.size()));
  set("SLURM_NNODES", std::to_string(in_step ? spec.nodelist.size() : job_nodes.size()));
  set("SLURM_JOB_NODELIST", hostlist);
  set("SLURM_NODELIST", step_hostlist);
  set("SLURM_NTASKS", step_ntasks);
  set("SLURM_NPROCS", step_ntasks);
  const std::vector<uint32_t>& tpn = in_step ? spec.tasks_per_node : job_tpn;
  set("SLURM_TASKS_PER_NODE", slurm_tasks_per_node(tpn));
  if (!tpn.empty() && std::all_of(tpn.begin(), tpn.end(), [&](uint32_t n) { return n == tpn[0]; }))
    set("SLURM_NTASKS_PER_NODE", std::to_string(tpn[0]));
  if (!spec.batch) {
    // A rank of a step (a job without a script is its own step 0).
    set("SLURM_STEP_NUM_TASKS", step_ntasks);
    set("SLURM_STEP_NUM_NODES", std::to_string(in_step ? spec.nodelist.size() : job_nodes.size()));
    set("SLURM_STEP_NODELIST", step_hostlist);
    set("SLURM_STEP_TASKS_PER_NODE", slurm_tasks_per_node(tpn));
  }
  // Restarts (requeues, preemptions, node failures): set once there was one.
  if (spec.attempt > 1) set("SLURM_RESTART_COUNT", std::to_string(spec.attempt - 1));
  set("SLURM_CPUS_PER_TASK", std::to_string(spec.cpus_per_task));
  set("SLURM_SUBMIT_DIR", spec.workdir);
  if (!spec.submit_host.empty()) set("SLURM_SUBMIT_HOST", spec.submit_host);
  if (!spec.partition.empty()) set("SLURM_JOB_PARTITION", spec.partition);
  if (!spec.account.empty()) set("SLURM_JOB_ACCOUNT", spec.account);
  if (!spec.qos.empty()) set("SLURM_JOB_QOS", spec.qos);
  if (!spec.export_mode.empty()) set("SLURM_EXPORT_ENV", spec.export_mode);
  set("SLURM_CLUSTER_NAME", "cadre");
  if (spec.array_job != 0) {
    set("SLURM_ARRAY_JOB_ID", std::to_string(spec.array_job));
    set("SLURM_ARRAY_TASK_ID", std::to_string(spec.array_task));
    set("SLURM_ARRAY_TASK_COUNT", std::to_string(spec.array.count));
    set("SLURM_ARRAY_TASK_MIN", std::to_string(spec.array.min));
    set("SLURM_ARRAY_TASK_MAX", std::to_string(spec.array.max));
    set("SLURM_ARRAY_TASK_STEP", std::to_string(spec.array.step));
    set("CADRE_ARRAY_JOB_ID", std::to_string(spec.array_job));
    set("CADRE_ARRAY_TASK_ID", std::to_string(spec.array_task));
  }
  {
    // This node's share of the allocation, as Slurm counts it.
    const int64_t cpus_per_task = std::max<uint32_t>(1, spec.cpus_per_task);
    const auto here = std::find(job_nodes.begin(), job_nodes.end(), node_name);
    const size_t at = static_cast<size_t>(here - job_nodes.begin());
    const int64_t tasks_here = at < job_tpn.size() ? job_tpn[at] : 1;
    set("SLURM_CPUS_ON_NODE", std::to_string(cpus_per_task * tasks_here));
    set("SLURM_MEM_PER_NODE", std::to_string(spec.per_task.memory_mb * tasks_here));
    if (spec.per_task.gpus > 0) {
      // torchrun's --nproc_per_node=$SLURM_GPUS_PER_NODE, whichever GPU
      // option the job was given.
      set("SLURM_GPUS_PER_NODE", std::to_string(spec.per_task.gpus * tasks_here));
      set("SLURM_GPUS_PER_TASK", std::to_string(spec.per_task.gpus));
    }
    std::vector<uint32_t> cpus;
    for (uint32_t t : job_tpn) cpus.push_back(static_cast<uint32_t>(cpus_per_task * t));
    set("SLURM_JOB_CPUS_PER_NODE", slurm_tasks_per_node(cpus));
  }
  set("SLURMD_NODENAME", node_name);
  set("SLURM_PROCID", std::to_string(spec.rank));
  set("SLURM_LOCALID", std::to_string(spec.local_rank));
  set("SLURM_NODEID", std::to_string(spec.node_rank));
  set("SLURM_STEP_ID", spec.batch ? "batch" : std::to_string(spec.step));
  set("SLURM_GPUS_ON_NODE", std::to_string(spec.gpus.size()));
  // The batch script holds its node's share of the allocation's GPUs.
  if (spec.batch && !spec.gpus.empty()) set("SLURM_JOB_GPUS", join(spec.gpus));
  if (spec.umask >= 0) set("SLURM_UMASK", umask_octal(spec.umask));

  // Open MPI's mpirun starts its daemons on other nodes through cadre
  // (`cadre rsh NODE CMD`), so they run inside this job's allocation.
  // The Slurm names above would make it pick its srun launcher and Slurm
  // allocation reader instead: those are switched off.
  if (!agent.cli.empty()) {
    set("OMPI_MCA_plm", "rsh");
    set("OMPI_MCA_plm_rsh_agent", agent.cli + " rsh");
    set("OMPI_MCA_ras", "^slurm");
    set("OMPI_MCA_ess", "^slurm");
    set("PRTE_MCA_plm", "ssh");
    set("PRTE_MCA_plm_ssh_agent", agent.cli + " rsh");
    set("PRTE_MCA_ras", "^slurm");
  }
  // Then what the submitter exported (--export), then the agent's base
  // for what neither set: cadre's own names win, as Slurm's SLURM_* do.
  std::set<std::string> names;
  for (const std::string& e : env) names.insert(e.substr(0, e.find('=')));
  for (const auto* list : {&spec.environment, &base})
    for (const std::string& entry : *list)
      if (names.insert(entry.substr(0, entry.find('='))).second) env.push_back(entry);
  // `cadre run` must work in any job: the CLI's folder goes last on PATH
  // (a no-op where it is installed in /usr/bin).
  if (auto slash = agent.cli.rfind('/'); slash != std::string::npos && slash > 0) {
    const std::string dir = agent.cli.substr(0, slash);
    auto path = std::find_if(env.begin(), env.end(), [](const std::string& e) { return e.starts_with("PATH="); });
    if (path == env.end()) {
      env.push_back("PATH=/usr/local/bin:/usr/bin:/bin:" + dir);
    } else if ((":" + path->substr(5) + ":").find(":" + dir + ":") == std::string::npos) {
      *path += ":" + dir;
    }
  }
  // srun, sbatch, scontrol ... for scripts written for Slurm: last, so a
  // real Slurm on the node's PATH comes first.
  if (!agent.slurm_bin.empty())
    if (auto path = std::find_if(env.begin(), env.end(), [](const std::string& e) { return e.starts_with("PATH="); });
        path != env.end() && (":" + path->substr(5) + ":").find(":" + agent.slurm_bin + ":") == std::string::npos)
      *path += ":" + agent.slurm_bin;
  return env;
}

std::string hostfile_text(const LaunchSpec& spec) {
  const std::vector<std::string>& nodes = spec.job_nodelist.empty() ? spec.nodelist : spec.job_nodelist;
  const std::vector<uint32_t>& tpn = spec.job_nodelist.empty() ? spec.tasks_per_node : spec.job_tasks_per_node;
  std::string out;
  for (size_t i = 0; i < nodes.size(); ++i) {
    uint32_t slots = i < tpn.size() ? tpn[i] : 1;
    out += nodes[i] + " slots=" + std::to_string(slots) + "\n";
  }
  return out;
}

}  // namespace cadre::agent
