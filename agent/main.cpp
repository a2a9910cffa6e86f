// cadre-agent: runs on every node; reports resources and runs ranks.
#include <unistd.h>

#include <iostream>

#include "agent/discovery.hpp"
#include "agent/gpu_discovery.hpp"
#include "agent/service.hpp"
#include "agent/supervisor.hpp"
#include "common/curve_keys.hpp"
#include "common/flags.hpp"
#include "common/log.hpp"

namespace {

constexpr const char* kUsage = R"(usage: cadre-agent [--master ENDPOINT] [--name NAME] [--cpus N] [--memory SIZE]
                   [--gpus N] [--labels k=v,...] [--work-dir DIR] [--address ADDR]
                   [--kill-grace SECONDS] [--log-level LEVEL]

The cadre node agent: registers this node with the master and runs its ranks.

  --master ENDPOINT     master to register with (default tcp://127.0.0.1:7700)
  --name NAME           node name (default: the host name)
  --cpus N              cpus to offer (default: this process's affinity mask)
  --memory SIZE         memory to offer, e.g. 32G (default: MemTotal)
  --gpus N              GPUs to offer (default: every GPU discovery finds: NVML, loaded from
                        $CADRE_NVML_LIB or libnvidia-ml.so.1, else nvidia-smi; 0 without either)
  --labels k=v,...      labels such as rack=r1,switch=s3
  --work-dir DIR        ranks' state (WORK/ranks: exit status kept until the master
                        has it) and per-job files such as hostfiles
                        (default /var/lib/cadre-agent)
  --address ADDR        address ranks on other nodes use for this node
                        (default: the source address of the route to the master)
  --kill-grace SECONDS  time between SIGTERM and SIGKILL when a rank is killed (default 10)
  --allow-root-jobs     when the agent runs as root, also run jobs submitted by root
                        (without it, such jobs fail to start)
  --cgroup DIR          the delegated cgroup v2 folder ranks' cgroups go under
                        (default: the agent's own cgroup, as systemd's Delegate=yes gives it)
  --no-cgroups          run ranks in process groups only, without cgroup limits
  --key FILE            this node's CURVE key pair (cadre keygen); with --master-key,
                        traffic to the master is encrypted and the agent talks only to
                        a master holding that key (the master must enroll FILE.pub)
  --master-key FILE     the master's public key (its .pub file)
  --log-level LEVEL     debug, info, warning or error (default info)
  --help                this text

example:
  cadre-agent --master tcp://head:7700 --labels rack=r1,switch=s1
)";

int fail(const std::string& message) {
  std::cerr << "cadre-agent: " << message << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cadre;
  // A rank's supervisor is this binary run again (see agent/supervisor.hpp).
  if (argc == 4 && std::string(argv[1]) == agent::kSuperviseFlag) {
    auto grace = parse_count(argv[3], int64_t{3600} * 1000);
    return agent::run_supervisor(argv[2], grace ? *grace : 10000);
  }
  log::set_program("cadre-agent");
  Flags flags;
  flags.value("--master").value("--name").value("--cpus").value("--memory").value("--gpus").value("--labels");
  flags.value("--work-dir").value("--address").value("--kill-grace").value("--log-level").toggle("--help", {"-h"});
  flags.toggle("--allow-root-jobs").toggle("--no-cgroups").value("--cgroup").value("--key").value("--master-key");
  if (Status s = flags.parse(std::vector<std::string>(argv + 1, argv + argc)); !s) return fail(s.error());
  if (flags.has("--help")) {
    std::cout << kUsage;
    return 0;
  }
  agent::AgentOptions o;
  o.master = flags.get_or("--master", o.master);
  if (auto n = flags.get("--name")) {
    o.name = *n;
  } else {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    o.name = host;
  }
  if (o.name.empty() || o.name.size() > 200 || o.name.find_first_of(", \t\n=") != std::string::npos)
    return fail("--name: a node name is 1-200 characters without commas, spaces or '='");

  if (auto c = flags.get("--cpus")) {
    auto n = parse_count(*c, 1 << 20);
    if (!n || *n == 0) return fail("--cpus: expected a whole number of cpus, got '" + *c + "'");
    o.total.millicores = *n * 1000;
  } else {
    o.total.millicores = agent::discover_millicores();
  }
  if (auto m = flags.get("--memory")) {
    auto mb = parse_size_mb(*m);
    if (!mb) return fail("--memory: " + mb.error());
    o.total.memory_mb = *mb;
  } else {
    o.total.memory_mb = agent::discover_memory_mb();
  }
  agent::GpuInventory inventory = agent::discover_gpu_inventory();
  if (auto g = flags.get("--gpus")) {
    auto n = parse_count(*g, 4096);
    if (!n) return fail("--gpus: " + n.error());
    o.total.gpus = *n;
    // Fewer than found: offer the first N (their indices are what ranks see).
    if (inventory.gpus.size() > static_cast<size_t>(*n)) inventory.gpus.resize(static_cast<size_t>(*n));
  } else {
    o.total.gpus = static_cast<int64_t>(inventory.gpus.size());
  }
  o.gpus = inventory.gpus;
  if (auto l = flags.get("--labels")) {
    size_t start = 0;
    while (start <= l->size()) {
      size_t comma = l->find(',', start);
      std::string item = l->substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      auto eq = item.find('=');
      if (eq == std::string::npos || eq == 0) return fail("--labels: expected key=value pairs, got '" + item + "'");
      o.labels.emplace_back(item.substr(0, eq), item.substr(eq + 1));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  o.work_dir = flags.get_or("--work-dir", "/var/lib/cadre-agent");
  o.address = flags.has("--address") ? *flags.get("--address") : agent::discover_address(o.master);
  if (auto k = flags.get("--kill-grace")) {
    auto s = parse_count(*k, 3600);
    if (!s) return fail("--kill-grace: " + s.error());
    o.kill_grace_ms = *s * 1000;
  }
  o.allow_root_jobs = flags.has("--allow-root-jobs");
  o.cgroups = !flags.has("--no-cgroups");
  if (flags.has("--key") != flags.has("--master-key"))
    return fail("--key and --master-key go together: CURVE needs this node's key pair and the master's public key");
  if (auto k = flags.get("--key")) {
    auto mine = read_key_file(*k);
    if (!mine) return fail("--key: " + mine.error());
    if (mine->secret_key.empty()) return fail("--key: " + *k + " holds no secret key (give the file cadre keygen wrote)");
    auto master = read_key_file(*flags.get("--master-key"));
    if (!master) return fail("--master-key: " + master.error());
    o.curve_public = mine->public_key;
    o.curve_secret = mine->secret_key;
    o.master_public = master->public_key;
  }
  o.cgroup_base = flags.get_or("--cgroup", "");
  if (flags.has("--cgroup") && (o.cgroup_base.empty() || o.cgroup_base[0] != '/'))
    return fail("--cgroup: give the absolute path of a delegated cgroup v2 folder, e.g. /sys/fs/cgroup/cadre.slice");
  if (auto lv = flags.get("--log-level")) {
    log::Level level;
    if (!log::parse_level(*lv, &level)) return fail("--log-level: expected debug, info, warning or error");
    log::set_level(level);
  }

  o.cli = agent::find_cli();
  if (inventory.source == "none")
    CADRE_LOG(info) << "no GPUs found" << (inventory.note.empty() ? "" : " (" + inventory.note + ")");
  else
    CADRE_LOG(info) << inventory.gpus.size() << " GPUs found by " << inventory.source
                    << (inventory.note.empty() ? "" : " (" + inventory.note + ")");
  try {
    agent::AgentService service(o);
    service.start();
    return service.run();
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
