// cadre-agent: runs on every node; reports resources and runs ranks.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "agent/config.hpp"
#include "agent/discovery.hpp"
#include "agent/gpu_discovery.hpp"
#include "agent/join.hpp"
#include "agent/launcher.hpp"
#include "agent/service.hpp"
#include "agent/supervisor.hpp"
#include "common/curve_keys.hpp"
#include "common/endpoint.hpp"
#include "common/flags.hpp"
#include "common/log.hpp"
#include "common/main_guard.hpp"
#include "common/version.hpp"

namespace {

constexpr const char* kUsage = R"(usage: cadre-agent [--config FILE] [--check-config] [--master ENDPOINT] [--name NAME]
                   [--cpus N] [--memory SIZE] [--gpus N] [--labels k=v,...] [--work-dir DIR]
                   [--address ADDR] [--kill-grace SECONDS] [--allow-root-jobs]
                   [--cgroup DIR | --no-cgroups] [--key FILE --master-key FILE]
                   [--log-level LEVEL]
       cadre-agent join TOKEN [--config-dir DIR] [--force]

The cadre node agent: registers this node with the master and runs its ranks.

  --config FILE         TOML config: its [agent] section, then FILE.d/*.toml drop-ins
                        (see docs/operations.md; default: none). Every flag below has a
                        key there of the same name (--work-dir: work_dir, --no-cgroups:
                        cgroups = false); a flag given here overrides the file.
  --check-config        validate --config and exit (0 when it is usable, 2 with the
                        file, line and problem when not)
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
  -V, --version         print the version and exit

join TOKEN takes the token `cadre-master enroll-agent NAME` printed (or "-" to read it
from stdin, which keeps it out of the process list) and writes, in the config folder
(--config-dir, default /etc/cadre): this node's key pair node.key and node.key.pub, the
master's public key master.pub, and cadre.toml.d/50-join.toml with [agent] master, name,
key and master_key. cadre.toml itself is never changed. An existing, different node key
or master key is replaced only with --force. The token holds this node's secret key:
treat it as a password.

examples:
  cadre-agent --master tcp://head:7700 --labels rack=r1,switch=s1
  cadre-agent --config /etc/cadre/cadre.toml --check-config
  sudo cadre-agent join cadre1:ZW5kcG9pbnQ9dGNw... && sudo systemctl enable --now cadre-agent
)";

int fail(const std::string& message) {
  std::cerr << "cadre-agent: " << message << "\n";
  return 2;
}

// `cadre-agent join TOKEN [--config-dir DIR] [--force]`.
int run_join(const std::vector<std::string>& words, const cadre::Flags& flags) {
  if (words.size() != 2) return fail("usage: cadre-agent join TOKEN [--config-dir DIR] [--force]");
  cadre::agent::JoinOptions join;
  join.token = words[1];
  if (join.token == "-" && !std::getline(std::cin, join.token)) return fail("join: no token on stdin");
  join.config_dir = flags.get_or("--config-dir", join.config_dir);
  join.force = flags.has("--force");
  auto report = cadre::agent::join_cluster(join);
  if (!report) return fail("join: " + report.error());
  std::cout << *report;
  return 0;
}

// The value of a flag, else of the config key, else nothing.
template <typename T>
std::optional<std::string> flag_or(const cadre::Flags& flags, const std::string& flag, const std::optional<T>& key) {
  if (auto f = flags.get(flag)) return f;
  if (key) return *key;
  return std::nullopt;
}

}  // namespace

static int run_main(int argc, char** argv) {
  using namespace cadre;
  // A rank's supervisor is this binary run again (see agent/supervisor.hpp).
  if (argc == 4 && std::string(argv[1]) == agent::kSuperviseFlag) {
    auto grace = parse_count(argv[3], int64_t{3600} * 1000);
    return agent::run_supervisor(argv[2], grace ? *grace : 10000);
  }
  // The helper that forks supervisors for the agent (agent/launcher.hpp).
  if (argc == 4 && std::string(argv[1]) == agent::kLauncherFlag)
    return agent::run_launcher(std::atoi(argv[2]), argv[0], static_cast<size_t>(argv[3] + strlen(argv[3]) + 1 - argv[0]));
  log::set_program("cadre-agent");
  Flags flags;
  flags.value("--master").value("--name").value("--cpus").value("--memory").value("--gpus").value("--labels");
  flags.value("--work-dir").value("--address").value("--kill-grace").value("--log-level");
  flags.toggle("--help", {"-h"}).toggle("--version", {"-V"});
  flags.toggle("--allow-root-jobs").toggle("--no-cgroups").value("--cgroup").value("--key").value("--master-key");
  flags.value("--config").toggle("--check-config").value("--config-dir").toggle("--force");
  if (Status s = flags.parse(std::vector<std::string>(argv + 1, argv + argc), true); !s) return fail(s.error());
  if (flags.has("--help")) {
    std::cout << kUsage;
    return 0;
  }
  if (flags.has("--version")) {
    std::cout << "cadre-agent " << cadre::version() << "\n";
    return 0;
  }
  if (!flags.positionals().empty()) {
    if (flags.positionals()[0] == "join") return run_join(flags.positionals(), flags);
    return fail("unknown command '" + flags.positionals()[0] + "' (see --help)");
  }
  if (flags.has("--config-dir") || flags.has("--force")) return fail("--config-dir and --force go with join");

  agent::AgentConfig config;
  if (auto path = flags.get("--config")) {
    auto loaded = agent::load_agent_config(*path);
    if (!loaded) return fail(loaded.error());
    config = std::move(*loaded);
    if (flags.has("--check-config")) {
      std::cout << *path << ": OK (node " << config.name.value_or("<host name>") << ", master "
                << config.master.value_or("tcp://127.0.0.1:7700") << (config.key ? ", CURVE" : "") << ")\n";
      return 0;
    }
  } else if (flags.has("--check-config")) {
    return fail("--check-config needs --config FILE");
  }
  // The log level first, so the rest of start-up logs at it.
  if (auto lv = flag_or(flags, "--log-level", config.log_level)) {
    log::Level level;
    if (!log::parse_level(*lv, &level)) return fail("--log-level: expected debug, info, warning or error");
    log::set_level(level);
  }

  agent::AgentOptions o;
  if (auto m = flag_or(flags, "--master", config.master)) {
    // Checked now: ZeroMQ would retry a malformed address forever.
    auto endpoint = parse_master_endpoint(*m);
    if (!endpoint) return fail((flags.has("--master") ? "--master " : "[agent] master ") + endpoint.error());
    o.master = endpoint->to_string();
  }
  if (auto n = flag_or(flags, "--name", config.name)) {
    o.name = *n;
  } else {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    o.name = host;
  }
  if (Status s = agent::check_node_name(o.name); !s) return fail("--name: " + s.error());

  if (auto c = flags.get("--cpus")) {
    auto n = parse_count(*c, agent::kMaxCpus);
    if (!n || *n == 0) return fail("--cpus: expected a whole number of cpus, got '" + *c + "'");
    o.total.millicores = *n * 1000;
  } else {
    o.total.millicores = config.cpus ? *config.cpus * 1000 : agent::discover_millicores();
  }
  if (auto m = flags.get("--memory")) {
    auto mb = parse_size_mb(*m);
    if (!mb) return fail("--memory: " + mb.error());
    o.total.memory_mb = *mb;
  } else {
    o.total.memory_mb = config.memory_mb ? *config.memory_mb : agent::discover_memory_mb();
  }
  agent::GpuInventory inventory = agent::discover_gpu_inventory();
  std::optional<int64_t> gpus = config.gpus;
  if (auto g = flags.get("--gpus")) {
    auto n = parse_count(*g, agent::kMaxGpus);
    if (!n) return fail("--gpus: " + n.error());
    gpus = *n;
  }
  if (gpus) {
    o.total.gpus = *gpus;
    // Fewer than found: offer the first N (their indices are what ranks see).
    if (inventory.gpus.size() > static_cast<size_t>(*gpus)) inventory.gpus.resize(static_cast<size_t>(*gpus));
  } else {
    o.total.gpus = static_cast<int64_t>(inventory.gpus.size());
  }
  o.gpus = inventory.gpus;
  if (auto l = flags.get("--labels")) {
    auto labels = agent::parse_labels(*l);
    if (!labels) return fail("--labels: " + labels.error());
    o.labels = std::move(*labels);
  } else if (config.labels) {
    o.labels = *config.labels;
  }
  o.work_dir = flag_or(flags, "--work-dir", config.work_dir).value_or("/var/lib/cadre-agent");
  auto address = flag_or(flags, "--address", config.address);
  o.address = address ? *address : agent::discover_address(o.master);
  if (auto k = flags.get("--kill-grace")) {
    auto s = parse_count(*k, agent::kMaxKillGraceS);
    if (!s) return fail("--kill-grace: " + s.error());
    o.kill_grace_ms = *s * 1000;
  } else if (config.kill_grace_s) {
    o.kill_grace_ms = *config.kill_grace_s * 1000;
  }
  o.allow_root_jobs = flags.has("--allow-root-jobs") || config.allow_root_jobs.value_or(false);
  o.cgroups = !flags.has("--no-cgroups") && config.cgroups.value_or(true);
  // A key pair from the flags replaces the file's as a whole.
  std::optional<std::string> key = config.key, master_key = config.master_key;
  if (flags.has("--key") || flags.has("--master-key")) {
    if (flags.has("--key") != flags.has("--master-key"))
      return fail("--key and --master-key go together: CURVE needs this node's key pair and the master's public key");
    key = flags.get("--key");
    master_key = flags.get("--master-key");
  }
  if (key) {
    auto mine = read_key_file(*key);
    if (!mine) return fail("--key: " + mine.error());
    if (mine->secret_key.empty()) return fail("--key: " + *key + " holds no secret key (give the file cadre keygen wrote)");
    auto master = read_key_file(*master_key);
    if (!master) return fail("--master-key: " + master.error());
    o.curve_public = mine->public_key;
    o.curve_secret = mine->secret_key;
    o.master_public = master->public_key;
  }
  o.cgroup_base = flag_or(flags, "--cgroup", config.cgroup).value_or("");
  if (flags.has("--cgroup") && (o.cgroup_base.empty() || o.cgroup_base[0] != '/'))
    return fail("--cgroup: give the absolute path of a delegated cgroup v2 folder, e.g. /sys/fs/cgroup/cadre.slice");

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

// An exception nothing above caught: one line and exit 1, never an abort.
int main(int argc, char** argv) {
  return cadre::guarded_main("cadre-agent", [&] { return run_main(argc, argv); });
}
