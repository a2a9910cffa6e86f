#include "agent/launch_spec.hpp"

#include <algorithm>

namespace cadre::agent {

std::string output_path(const LaunchSpec& spec, const std::string& node_name) {
  std::string out;
  const std::string& p = spec.output_pattern;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] != '%' || i + 1 == p.size()) {
      out += p[i];
      continue;
    }
    switch (p[++i]) {
      case 'j': out += std::to_string(spec.job); break;
      case 't': out += std::to_string(spec.rank); break;
      case 'n': out += node_name; break;
      case 'a': out += std::to_string(spec.attempt); break;
      case '%': out += '%'; break;
      default: out += '%'; out += p[i]; break;
    }
  }
  if (!out.empty() && out[0] == '/') return out;
  return spec.workdir + "/" + out;
}

std::vector<std::string> rank_environment(const LaunchSpec& spec, const std::string& node_name,
                                          const std::string& hostfile, const std::vector<std::string>& base) {
  std::vector<std::string> env;
  auto set = [&env](const std::string& k, const std::string& v) { env.push_back(k + "=" + v); };
  std::string nodelist, gpus;
  for (size_t i = 0; i < spec.nodelist.size(); ++i) nodelist.append(i ? "," : "").append(spec.nodelist[i]);
  for (size_t i = 0; i < spec.gpus.size(); ++i) gpus.append(i ? "," : "").append(std::to_string(spec.gpus[i]));

  set("CADRE_JOB_ID", std::to_string(spec.job));
  set("CADRE_JOB_NAME", spec.job_name);
  set("CADRE_ATTEMPT", std::to_string(spec.attempt));
  set("CADRE_RANK", std::to_string(spec.rank));
  set("CADRE_WORLD_SIZE", std::to_string(spec.world_size));
  set("CADRE_LOCAL_RANK", std::to_string(spec.local_rank));
  set("CADRE_LOCAL_WORLD_SIZE", std::to_string(spec.local_world_size));
  set("CADRE_NODE_RANK", std::to_string(spec.node_rank));
  set("CADRE_NNODES", std::to_string(spec.nodelist.size()));
  set("CADRE_NODE_NAME", node_name);
  set("CADRE_NODELIST", nodelist);
  set("CADRE_HOSTFILE", hostfile);
  // An empty list hides every GPU from CUDA, which is right for a rank
  // that was given none.
  set("CUDA_VISIBLE_DEVICES", gpus);
  set("RANK", std::to_string(spec.rank));
  set("WORLD_SIZE", std::to_string(spec.world_size));
  set("LOCAL_RANK", std::to_string(spec.local_rank));
  set("LOCAL_WORLD_SIZE", std::to_string(spec.local_world_size));
  set("GROUP_RANK", std::to_string(spec.node_rank));
  set("MASTER_ADDR", spec.master_addr);
  set("MASTER_PORT", std::to_string(spec.master_port));
  // The base fills in what cadre did not set; cadre's own names win.
  const size_t own = env.size();
  for (const std::string& entry : base) {
    std::string name = entry.substr(0, entry.find('=') + 1);
    bool taken = std::any_of(env.begin(), env.begin() + static_cast<long>(own),
                             [&name](const std::string& e) { return e.starts_with(name); });
    if (!taken) env.push_back(entry);
  }
  return env;
}

std::string hostfile_text(const LaunchSpec& spec) {
  std::string out;
  for (size_t i = 0; i < spec.nodelist.size(); ++i) {
    uint32_t slots = i < spec.tasks_per_node.size() ? spec.tasks_per_node[i] : 1;
    out += spec.nodelist[i] + " slots=" + std::to_string(slots) + "\n";
  }
  return out;
}

}  // namespace cadre::agent
