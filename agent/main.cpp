// cadre-agent: runs on every node; reports resources and runs ranks.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
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
#include "common/bounded_file.hpp"
#include "common/constraint.hpp"
#include "common/curve_keys.hpp"
#include "common/endpoint.hpp"
#include "common/flags.hpp"
#include "common/log.hpp"
#include "common/main_guard.hpp"
#include "common/version.hpp"

namespace {

constexpr const char* kUsage = R"(usage: cadre-agent [--config FILE] [--check-config] [--master ENDPOINT] [--name NAME]
                   [--cpus N] [--memory SIZE] [--gpus N] [--labels k=v,...] [--features a,b,...]
                   [--work-dir DIR]
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
  --name NAME           node name: 1-200 letters, digits, '_', '.' or '-', as enroll-agent
                        names its key (default: the host name)
  --cpus N              cpus to offer (default: this process's affinity mask)
  --memory SIZE         memory to offer, e.g. 32G (default: MemTotal)
  --gpus N              GPUs to offer (default: every GPU discovery finds: NVML, loaded from
                        $CADRE_NVML_LIB or libnvidia-ml.so.1, else nvidia-smi; 0 without either)
  --labels k=v,...      labels such as rack=r1,switch=s3 (at most 64, each key and value
                        at most 256 bytes)
  --features a,b,...    node features that jobs ask for with -C/--constraint, e.g. a100,ib
                        (at most 64; letters, digits and _ . - + : =)
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

int fail(const std::string& message) { return cadre::print_error("cadre-agent", message, 2); }

// `cadre-agent join TOKEN [--config-dir DIR] [--force]`.
int run_join(const std::vector<std::string>& words, const cadre::Flags& flags) {
  if (words.size() != 2) return fail("usage: cadre-agent join TOKEN [--config-dir DIR] [--force]");
  cadre::agent::JoinOptions join;
  join.token = words[1];
  if (join.token == "-" && !std::getline(std::cin, join.token)) return fail("join: no token on stdin");
  join.config_dir = flags.get_or("--config-dir", join.config_dir);
  if (join.config_dir.empty()) return fail("join: --config-dir: no folder given ('')");
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

// The CURVE keys: this node's pair and the master's public key.
struct CurveKeys {
  std::string public_key, secret_key, master_public;
};

// Reads both key files; `key_name` and `master_name` say where each path
// came from ("--key", "agent.key").
cadre::Result<CurveKeys> read_curve_keys(const std::string& key, const std::string& master_key,
                                         const std::string& key_name, const std::string& master_name) {
  auto mine = cadre::read_key_file(key);
  if (!mine) return cadre::make_error(key_name + ": " + mine.error());
  if (mine->secret_key.empty())
    return cadre::make_error(key_name + ": " + cadre::shown_path(key) +
                             " holds no secret key (give the file cadre keygen wrote)");
  auto master = cadre::read_key_file(master_key);
  if (!master) return cadre::make_error(master_name + ": " + master.error());
  return CurveKeys{mine->public_key, mine->secret_key, master->public_key};
}

// Flag values refused before anything is discovered or read.
cadre::Status check_flags(const cadre::Flags& flags) {
  if (flags.has("--config-dir") || flags.has("--force"))
    return cadre::make_error("--config-dir and --force go with join");
  if (flags.has("--cgroup") && flags.has("--no-cgroups"))
    return cadre::make_error("--cgroup and --no-cgroups contradict each other: give one or the other");
  if (flags.get("--work-dir") == "") return cadre::make_error("--work-dir: no folder given ('')");
  if (auto a = flags.get("--address"))
    if (cadre::Status s = cadre::agent::check_address(*a); !s) return cadre::make_error("--address: " + s.error());
  return {};
}

// Where the node is and who it is: the master, its name, its address.
cadre::Status apply_identity(const cadre::Flags& flags, const cadre::agent::AgentConfig& config,
                             cadre::agent::AgentOptions& o) {
  using namespace cadre;
  if (auto m = flag_or(flags, "--master", config.master)) {
    // Checked now: ZeroMQ would retry a malformed address forever.
    auto endpoint = parse_master_endpoint(*m);
    if (!endpoint) return make_error((flags.has("--master") ? "--master " : "[agent] master ") + endpoint.error());
    o.master = endpoint->to_string();
  }
  const std::optional<std::string> name = flag_or(flags, "--name", config.name);
  if (name) {
    o.name = *name;
  } else {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    o.name = host;
  }
  if (Status s = agent::check_node_name(o.name); !s)
    return make_error(flags.has("--name") ? "--name: " + s.error()
                      : name              ? "[agent] name: " + s.error()
                                          : "the host name is no node name; give --name NAME: " + s.error());
  auto address = flag_or(flags, "--address", config.address);
  o.address = address ? *address : agent::discover_address(o.master);
  return {};
}

// What the node offers, but its GPUs (gpus_wanted): cpus, memory, labels.
cadre::Status apply_resources(const cadre::Flags& flags, const cadre::agent::AgentConfig& config,
                              cadre::agent::AgentOptions& o) {
  using namespace cadre;
  if (auto c = flags.get("--cpus")) {
    auto n = parse_count(*c, agent::kMaxCpus);
    if (!n || *n == 0) return make_error("--cpus: expected a whole number of cpus, got '" + *c + "'");
    o.total.millicores = *n * 1000;
  } else {
    o.total.millicores = config.cpus ? *config.cpus * 1000 : agent::discover_millicores();
  }
  if (auto m = flags.get("--memory")) {
    auto mb = parse_size_mb(*m);
    if (!mb) return make_error("--memory: " + mb.error());
    o.total.memory_mb = *mb;
  } else {
    o.total.memory_mb = config.memory_mb ? *config.memory_mb : agent::discover_memory_mb();
  }
  if (auto l = flags.get("--labels")) {
    auto labels = agent::parse_labels(*l);
    if (!labels) return make_error("--labels: " + labels.error());
    o.labels = std::move(*labels);
  } else if (config.labels) {
    o.labels = *config.labels;
  }
  if (auto f = flags.get("--features")) {
    auto features = parse_feature_list(*f);
    if (!features) return make_error("--features: " + features.error());
    o.features = std::move(*features);
  } else if (config.features) {
    o.features = *config.features;
  }
  return {};
}

// How ranks run and are ended: kill grace, root jobs, cgroups.
cadre::Status apply_isolation(const cadre::Flags& flags, const cadre::agent::AgentConfig& config,
                              cadre::agent::AgentOptions& o) {
  using namespace cadre;
  if (auto k = flags.get("--kill-grace")) {
    auto s = parse_count(*k, agent::kMaxKillGraceS);
    if (!s) return make_error("--kill-grace: " + s.error());
    o.kill_grace_ms = *s * 1000;
  } else if (config.kill_grace_s) {
    o.kill_grace_ms = *config.kill_grace_s * 1000;
  }
  o.allow_root_jobs = flags.has("--allow-root-jobs") || config.allow_root_jobs.value_or(false);
  o.cgroups = !flags.has("--no-cgroups") && config.cgroups.value_or(true);
  o.cgroup_base = flag_or(flags, "--cgroup", config.cgroup).value_or("");
  if (flags.has("--cgroup") && (o.cgroup_base.empty() || o.cgroup_base[0] != '/'))
    return make_error("--cgroup: give the absolute path of a delegated cgroup v2 folder, e.g. /sys/fs/cgroup/cadre.slice");
  return {};
}

// The CURVE keys; a pair from the flags replaces the file's as a whole.
cadre::Status apply_curve(const cadre::Flags& flags, const cadre::agent::AgentConfig& config,
                          cadre::agent::AgentOptions& o) {
  std::optional<std::string> key = config.key, master_key = config.master_key;
  const bool flagged = flags.has("--key") || flags.has("--master-key");
  if (flagged) {
    if (flags.has("--key") != flags.has("--master-key"))
      return cadre::make_error(
          "--key and --master-key go together: CURVE needs this node's key pair and the master's public key");
    key = flags.get("--key");
    master_key = flags.get("--master-key");
  }
  if (!key) return {};
  auto keys = read_curve_keys(*key, *master_key, flagged ? "--key" : "[agent] key",
                              flagged ? "--master-key" : "[agent] master_key");
  if (!keys) return cadre::make_error(keys.error());
  o.curve_public = keys->public_key;
  o.curve_secret = keys->secret_key;
  o.master_public = keys->master_public;
  return {};
}

// The work folder, made now: a bad one is refused before the agent runs.
// Last of the options, so a refused flag leaves nothing made behind.
cadre::Status make_work_dir(const cadre::Flags& flags, const cadre::agent::AgentConfig& config,
                            cadre::agent::AgentOptions& o) {
  o.work_dir = flag_or(flags, "--work-dir", config.work_dir).value_or("/var/lib/cadre-agent");
  std::error_code ec;
  std::filesystem::create_directories(o.work_dir + "/ranks", ec);
  if (!ec) return {};
  return cadre::make_error(std::string(flags.has("--work-dir") ? "--work-dir" : "[agent] work_dir") +
                           ": cannot make the folder " + cadre::shown_path(o.work_dir) + ": " + ec.message());
}

// Every option but the GPUs, from the flags, else the config, else what
// this host has.
cadre::Result<cadre::agent::AgentOptions> agent_options(const cadre::Flags& flags,
                                                        const cadre::agent::AgentConfig& config) {
  cadre::agent::AgentOptions o;
  for (auto apply : {apply_identity, apply_resources, apply_isolation, apply_curve, make_work_dir})
    if (cadre::Status s = apply(flags, config, o); !s) return cadre::make_error(s.error());
  return o;
}

void log_gpus(const cadre::agent::GpuInventory& inventory) {
  // A library the admin named that NVML did not load from is worth a warning.
  const char* nvml_lib = std::getenv("CADRE_NVML_LIB");
  const std::string note = inventory.note.empty() ? "" : " (" + inventory.note + ")";
  const std::string found = inventory.source == "none" ? "no GPUs found"
                                                       : std::to_string(inventory.gpus.size()) + " GPUs found by " +
                                                             inventory.source;
  if (nvml_lib && *nvml_lib && inventory.source != "nvml")
    CADRE_LOG(warning) << "CADRE_NVML_LIB=" << nvml_lib << " gave no GPUs; going on without NVML: " << found << note;
  else
    CADRE_LOG(info) << found << note;
}

// How many GPUs --gpus (else the gpus key) offers; nothing: all found.
cadre::Result<std::optional<int64_t>> gpus_wanted(const cadre::Flags& flags, const cadre::agent::AgentConfig& config) {
  auto g = flags.get("--gpus");
  if (!g) return config.gpus;
  auto n = cadre::parse_count(*g, cadre::agent::kMaxGpus);
  if (!n) return cadre::make_error("--gpus: " + n.error());
  return std::optional<int64_t>(*n);
}

// Offers the GPUs found, or the first N of them when `wanted` says N
// (their indices are what ranks see).
void offer_gpus(cadre::agent::AgentOptions& o, std::optional<int64_t> wanted, cadre::agent::GpuInventory inventory) {
  if (wanted && inventory.gpus.size() > static_cast<size_t>(*wanted))
    inventory.gpus.resize(static_cast<size_t>(*wanted));
  o.total.gpus = wanted ? *wanted : static_cast<int64_t>(inventory.gpus.size());
  o.gpus = std::move(inventory.gpus);
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
  flags.value("--master").value("--name").value("--cpus").value("--memory").value("--gpus").value("--labels").value("--features");
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
  if (Status s = check_flags(flags); !s) return fail(s.error());

  agent::AgentConfig config;
  if (auto path = flags.get("--config")) {
    auto loaded = agent::load_agent_config(*path);
    if (!loaded) return fail(loaded.error());
    config = std::move(*loaded);
    if (flags.has("--check-config")) {
      // Usable means the agent could start on it: its key files too.
      if (config.key)
        if (auto keys = read_curve_keys(*config.key, *config.master_key, "agent.key", "agent.master_key"); !keys)
          return fail(*path + ": " + keys.error());
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

  auto wanted = gpus_wanted(flags, config);
  if (!wanted) return fail(wanted.error());
  auto options = agent_options(flags, config);
  if (!options) return fail(options.error());
  agent::AgentOptions& o = *options;
  // Last: discovery may take seconds (nvidia-smi), and every flag is checked.
  agent::GpuInventory inventory = agent::discover_gpu_inventory();
  log_gpus(inventory);
  offer_gpus(o, *wanted, std::move(inventory));
  o.cli = agent::find_cli();
  o.slurm_bin = agent::find_slurm_bin(o.cli);
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
