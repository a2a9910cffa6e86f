// cadre-master: the cluster's controller. See docs/operations.md.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>

#include "common/endpoint.hpp"
#include "common/escape.hpp"
#include "common/flags.hpp"
#include "common/log.hpp"
#include "common/main_guard.hpp"
#include "common/version.hpp"
#include "common/resources.hpp"
#include "common/sd_notify.hpp"
#include "master/config.hpp"
#include "master/enroll_node.hpp"
#include "master/local_socket.hpp"
#include "master/security_files.hpp"
#include "master/server/key_store.hpp"
#include "master/server/service.hpp"
#include "master/state_dir.hpp"
#include "master/store/sqlite_store.hpp"

namespace {

constexpr const char* kUsage = R"(usage: cadre-master [--config FILE] [--check-config] [--listen ENDPOINT]
                    [--state-dir DIR] [--node-timeout SECONDS] [--max-retries N]
                    [--master-ports FIRST-LAST] [--mail-program PATH]
                    [--key FILE] [--agent-keys DIR] [--user-keys DIR] [--local-socket PATH]
                    [--admin-group GROUP]
                    [--log-level LEVEL] [--no-group-commit]
       cadre-master [--config FILE | --agent-keys DIR] enroll-agent NAME PUBLIC_KEY_FILE
       cadre-master [--config FILE | --key FILE --agent-keys DIR] enroll-agent NAME
                    [--endpoint tcp://HOST:PORT] [--package SPEC]
       cadre-master [--config FILE | --agent-keys DIR] revoke-agent NAME
       cadre-master [--config FILE | --user-keys DIR] enroll-user NAME PUBLIC_KEY_FILE
       cadre-master [--config FILE | --user-keys DIR] revoke-user NAME

The cadre controller: tracks nodes, keeps every job in SQLite, and places gangs.

  --config FILE           TOML config: [master], [scheduler], [[partition]], [limits],
                          [security], then the drop-ins FILE.d/*.toml (see
                          docs/operations.md; default: none, built-in defaults).
                          The flags below override it.
  --check-config          validate --config and exit (0 when it is usable, 2 with
                          the file, line and problem when not)

  --listen ENDPOINT       ZeroMQ endpoint agents and clients connect to
                          (default tcp://*:7700)
  --state-dir DIR         folder for the database cadre.db (default /var/lib/cadre;
                          created 0700 if missing, cadre.db 0600; looser modes are
                          logged as a warning at start)
  --node-timeout SECONDS  a node silent this long is DOWN; its gangs are requeued
                          (default 30)
  --max-retries N         a gang hit by a node failure is requeued (new attempt) up
                          to N times, then ends NODE_FAIL (default 3; 0 = never)
  --master-ports FIRST-LAST  the ports handed to jobs as MASTER_PORT, a free one per
                          job on rank 0's node (default 29500-32767; keep it out of
                          the nodes' ip_local_port_range)
  --mail-program PATH     what --mail-type's mail goes through, as Slurm's MailProg: run
                          as PATH -s SUBJECT USER with the text on its standard input
                          (a sendmail as PATH -i USER); "" sends none (default
                          /usr/sbin/sendmail when it exists, else none)
  --key FILE              the master's CURVE key pair (cadre keygen): tcp is encrypted
                          and only enrolled agents and users get in ([security] key)
  --agent-keys DIR        enrolled agents' public keys, DIR/<node name>.pub
  --user-keys DIR         enrolled users' public keys, DIR/<user name>.pub
  --local-socket PATH     ipc socket for users on this host, who are known by their uid
                          (default STATE_DIR/cadre.sock; "" for none)
  --admin-group GROUP     members may cancel any job and drain/resume nodes (root always may)
  --log-level LEVEL       debug, info, warning or error (default info)
  --no-group-commit       commit every message in its own transaction (for
                          benchmarks: shows what group commit saves)
  --help                  this text
  -V, --version           print the version and exit

enroll-agent / enroll-user copy a public key (a .pub file from cadre keygen) into
the folder; revoke-agent / revoke-user remove it. A running master picks the
change up within a second: a revoked agent is cut off and its node is DOWN.

enroll-agent NAME with no key file makes a key pair for the node, enrolls its
public half and prints one line to run as root on the new node: it installs the
package, runs `cadre-agent join TOKEN` and starts the agent. The token holds the
node's SECRET key, printed this once and kept nowhere by the master: treat the
line as a password (revoke-agent NAME and enroll again if it leaks).
  --endpoint tcp://HOST:PORT  where the node reaches the master (default: [master]
                          listen, with this host's FQDN for a '*' host)
  --package SPEC          what apt-get installs (default cadre-agent; or a .deb path)

When started by systemd (Type=notify) the master sends READY=1 once it listens
and has loaded its state, and STOPPING=1 when it shuts down.

examples:
  cadre-master --listen tcp://*:7700 --state-dir /var/lib/cadre --node-timeout 30
  cadre-master --config /etc/cadre/cadre.toml enroll-agent node17 node17.pub
  cadre-master --config /etc/cadre/cadre.toml enroll-agent node18
)";

int fail(const std::string& message) { return cadre::print_error("cadre-master", message, 2); }

// Holds an exclusive lock on DIR/master.lock for the life of the process:
// two masters on one database would both believe they own every job.
cadre::Status lock_state_dir(const std::string& dir) {
  const std::string path = dir + "/master.lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return cadre::make_error("cannot open " + path + ": " + strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {};
    ssize_t n = read(fd, pid, sizeof pid - 1);
    std::string holder = n > 0 ? " (pid " + std::string(pid, static_cast<size_t>(n)) + ")" : "";
    close(fd);
    return cadre::make_error("another cadre-master" + holder + " is using " + dir + "; stop it first");
  }
  std::string me = std::to_string(getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, me.data(), me.size(), 0) < 0) {
    // The pid is informational; the lock is what matters.
  }
  return {};  // fd stays open (and locked) until the process exits
}

// enroll-agent NAME with no key file: prints the node's install line.
int enroll_new_node(const std::string& name, const cadre::Flags& flags, const cadre::SecurityOptions& sec,
                    const std::string& listen) {
  cadre::NodeEnrollment e;
  e.name = name;
  e.agent_keys_dir = sec.agent_keys_dir;
  e.user_keys_dir = sec.user_keys_dir;
  e.master_key_file = sec.key_file;
  if (auto endpoint = flags.get("--endpoint")) {
    e.endpoint = *endpoint;
  } else {
    auto derived = cadre::agent_endpoint(listen, cadre::fqdn());
    if (!derived) return fail(derived.error());
    e.endpoint = *derived;
  }
  e.package = flags.get_or("--package", e.package);
  auto line = cadre::enroll_new_node(e);
  if (!line) return fail(line.error());
  // stdout holds the line alone, so scripts can capture it.
  std::cerr << "enrolled agent " << name << " (" << e.agent_keys_dir << "/" << name << ".pub); run this as root on "
            << name << ". It holds the node's secret key, shown this once and not kept here:\n";
  std::cout << *line << "\n";
  return 0;
}

// enroll-agent, revoke-agent, enroll-user, revoke-user.
int run_key_command(const std::vector<std::string>& words, const cadre::Flags& flags,
                    const cadre::SecurityOptions& sec, const std::string& listen) {
  const std::string& command = words[0];
  const bool agent = command.ends_with("-agent");
  const bool enroll = command.starts_with("enroll-");
  if (command != "enroll-agent" && command != "revoke-agent" && command != "enroll-user" && command != "revoke-user")
    return fail("unknown command '" + command + "' (see --help)");
  const std::string& folder = agent ? sec.agent_keys_dir : sec.user_keys_dir;
  if (folder.empty())
    return fail(command + " needs the key folder: [security] " + (agent ? "agent_keys" : "user_keys") +
                " in --config, or " + (agent ? "--agent-keys" : "--user-keys") + " DIR");
  if (command == "enroll-agent" && words.size() == 2) return enroll_new_node(words[1], flags, sec, listen);
  if (flags.has("--endpoint") || flags.has("--package"))
    return fail("--endpoint and --package go with enroll-agent NAME (no key file)");
  if (words.size() != (enroll ? 3u : 2u))
    return fail("usage: cadre-master " + command + (enroll ? " NAME PUBLIC_KEY_FILE" : " NAME"));
  // Both folders: a key already enrolled as any agent or user is refused.
  const cadre::KeyFolders folders{sec.agent_keys_dir, sec.user_keys_dir};
  const cadre::PeerKind kind = agent ? cadre::PeerKind::agent : cadre::PeerKind::user;
  cadre::Status s = enroll ? cadre::enroll_key(folders, kind, words[1], words[2]) : cadre::revoke_key(folder, words[1]);
  if (!s) return fail(s.error());
  std::cout << (enroll ? "enrolled " : "revoked ") << (agent ? "agent " : "user ") << words[1] << " ("
            << folder << "/" << words[1] << ".pub)\n";
  return 0;
}

// The options a --config file gives (none without one). Also answers
// --check-config, which exits: `exit_status` is set then.
cadre::Result<cadre::MasterOptions> options_from_config(const cadre::Flags& flags, bool* local_socket_configured,
                                                        std::optional<int>* exit_status) {
  cadre::MasterOptions options;
  // Slurm's MailProg default is a mail program when there is one.
  if (access("/usr/sbin/sendmail", X_OK) == 0) options.mail_program = "/usr/sbin/sendmail";
  options.state_dir = "/var/lib/cadre";
  auto path = flags.get("--config");
  if (!path) {
    if (flags.has("--check-config")) return cadre::make_error("--check-config needs --config FILE");
    return options;
  }
  auto config = cadre::load_master_config(*path);
  if (!config) return cadre::make_error(config.error());
  if (config->listen) options.listen = *config->listen;
  if (config->state_dir) options.state_dir = *config->state_dir;
  if (config->node_timeout_ms) options.node_timeout_ms = *config->node_timeout_ms;
  if (config->max_retries) options.max_retries = *config->max_retries;
  if (config->master_ports) options.scheduler.master_ports = *config->master_ports;
  if (config->mail_program) options.mail_program = *config->mail_program;
  if (config->log_level) {
    cadre::log::Level level;
    if (cadre::log::parse_level(*config->log_level, &level)) cadre::log::set_level(level);
  }
  options.policy = config->policy;
  options.interval_ms = config->interval_ms;
  options.debounce_ms = config->debounce_ms;
  options.scheduler.partitions = config->partitions;
  options.scheduler.qos = config->qos;
  options.scheduler.fairshare_half_life_s = config->fairshare_half_life_s;
  options.scheduler.gpu_billing = config->gpu_billing;
  options.limits = config->limits;
  options.accounts = config->accounts;
  if (config->key_file) options.security.key_file = *config->key_file;
  if (config->agent_keys_dir) options.security.agent_keys_dir = *config->agent_keys_dir;
  if (config->user_keys_dir) options.security.user_keys_dir = *config->user_keys_dir;
  if (config->admin_group) options.security.admin_group = *config->admin_group;
  if (config->local_socket) {
    options.security.local_socket = *config->local_socket;
    *local_socket_configured = true;
  }
  if (flags.has("--check-config")) {
    // Usable means the master could start on it: its key and key folders too.
    if (cadre::Status s = cadre::check_security_files(options.security, {}); !s)
      return cadre::make_error(*path + ": " + s.error());
    std::cout << *path << ": OK (" << options.scheduler.partitions.size() << " partition(s), " << options.scheduler.qos.size() << " QOS, policy "
              << cadre::sched::to_string(options.policy.backfill) << ")\n";
    *exit_status = 0;
  }
  return options;
}

// The flags that take a number, over what the config said.
cadre::Status apply_number_flags(const cadre::Flags& flags, cadre::MasterOptions& options) {
  if (auto t = flags.get("--node-timeout")) {
    auto seconds = cadre::parse_count(*t, 86400);
    if (!seconds || *seconds == 0)
      return cadre::make_error("--node-timeout: expected whole seconds from 1 to 86400, got '" + *t + "'");
    options.node_timeout_ms = *seconds * 1000;
  }
  if (auto r = flags.get("--max-retries")) {
    auto n = cadre::parse_count(*r, 1000);
    if (!n) return cadre::make_error("--max-retries: " + n.error());
    options.max_retries = static_cast<uint32_t>(*n);
  }
  if (auto m = flags.get("--mail-program")) options.mail_program = *m;
  struct stat mail_stat {};
  if (!options.mail_program.empty() &&
      (options.mail_program[0] != '/' || stat(options.mail_program.c_str(), &mail_stat) != 0 ||
       !S_ISREG(mail_stat.st_mode) || access(options.mail_program.c_str(), X_OK) != 0))
    return cadre::make_error("mail program " + cadre::quoted(options.mail_program) +
                             " is not an executable file given by its absolute path (--mail-program, [master] "
                             "mail_program; \"\" sends no mail)");
  if (auto p = flags.get("--master-ports")) {
    auto range = cadre::parse_port_range(*p);
    if (!range) return cadre::make_error("--master-ports: " + range.error());
    options.scheduler.master_ports = *range;
  }
  if (auto l = flags.get("--log-level")) {
    cadre::log::Level level;
    if (!cadre::log::parse_level(*l, &level)) return cadre::make_error("--log-level: expected debug, info, warning or error");
    cadre::log::set_level(level);
  }
  return {};
}

// Flag values refused before anything is read: a path flag given '' names
// nothing ('' for --agent-keys, --user-keys and --local-socket means none),
// and the flags of enroll-agent NAME mean nothing to a running master.
cadre::Status check_flags(const cadre::Flags& flags) {
  if (flags.get("--key") == "")
    return cadre::make_error("--key: no file given (''); leave --key out for no CURVE");
  if (flags.get("--state-dir") == "") return cadre::make_error("--state-dir: no folder given ('')");
  if (flags.positionals().empty())
    for (const char* flag : {"--endpoint", "--package"})
      if (flags.has(flag))
        return cadre::make_error(std::string(flag) +
                                 " goes with enroll-agent NAME (no key file) only; a running master does not use it");
  return {};
}

// Where each security path came from: a flag, else the config.
cadre::SecurityNames security_names(const cadre::Flags& flags) {
  cadre::SecurityNames names;
  if (flags.has("--key")) names.key = "--key";
  if (flags.has("--agent-keys")) names.agent_keys = "--agent-keys";
  if (flags.has("--user-keys")) names.user_keys = "--user-keys";
  return names;
}

}  // namespace

static int run_main(int argc, char** argv) {
  cadre::log::set_program("cadre-master");
  // A mail program that exits before reading its text must not end the
  // master (a write to its pipe then fails with EPIPE instead).
  std::signal(SIGPIPE, SIG_IGN);
  cadre::Flags flags;
  flags.value("--listen").value("--state-dir").value("--node-timeout").value("--log-level").value("--max-retries");
  flags.value("--config").value("--key").value("--agent-keys").value("--user-keys").value("--local-socket");
  flags.value("--admin-group").value("--endpoint").value("--package").value("--master-ports");
  flags.value("--mail-program");
  flags.toggle("--help", {"-h"}).toggle("--version", {"-V"}).toggle("--no-group-commit").toggle("--check-config");
  if (cadre::Status s = flags.parse(std::vector<std::string>(argv + 1, argv + argc), true); !s) return fail(s.error());
  if (flags.has("--help")) {
    std::cout << kUsage;
    return 0;
  }
  if (flags.has("--version")) {
    std::cout << "cadre-master " << cadre::version() << "\n";
    return 0;
  }
  if (cadre::Status s = check_flags(flags); !s) return fail(s.error());

  bool local_socket_configured = false;
  std::optional<int> exit_status;
  auto configured = options_from_config(flags, &local_socket_configured, &exit_status);
  if (!configured) return fail(configured.error());
  if (exit_status) return *exit_status;
  cadre::MasterOptions options = std::move(*configured);
  options.security.key_file = flags.get_or("--key", options.security.key_file);
  options.security.agent_keys_dir = flags.get_or("--agent-keys", options.security.agent_keys_dir);
  options.security.user_keys_dir = flags.get_or("--user-keys", options.security.user_keys_dir);
  options.listen = flags.get_or("--listen", options.listen);
  // Checked before anything else: ZeroMQ would wrap a port above 65535 and
  // accept endpoints (inproc) that no agent or user can reach.
  if (auto endpoints = cadre::parse_endpoint_list(options.listen, cadre::EndpointRole::bind); !endpoints)
    return fail((flags.has("--listen") ? "--listen " : "[master] listen ") + endpoints.error());
  if (!flags.positionals().empty()) return run_key_command(flags.positionals(), flags, options.security, options.listen);
  options.state_dir = flags.get_or("--state-dir", options.state_dir);
  std::string local_socket_moved;
  if (auto l = flags.get("--local-socket")) {
    options.security.local_socket = *l;
  } else if (!local_socket_configured) {
    // STATE_DIR/cadre.sock, or a short place when that path is too long.
    auto place = cadre::default_local_socket(options.state_dir);
    if (!place) return fail(place.error());
    options.security.local_socket = place->path;
    local_socket_moved = place->moved_because;
  }
  if (!options.security.local_socket.empty())
    if (cadre::Status s = cadre::check_local_socket_path(options.security.local_socket); !s) return fail(s.error());
  options.security.admin_group = flags.get_or("--admin-group", options.security.admin_group);
  options.group_commit = !flags.has("--no-group-commit");
  if (cadre::Status s = apply_number_flags(flags, options); !s) return fail(s.error());
  if (cadre::Status s = cadre::check_security_files(options.security, security_names(flags)); !s)
    return fail(s.error());

  // From here on the master writes only its own state: nothing it creates
  // is for other users (the local socket sets its own 0666). Not earlier:
  // the key commands above write public keys the master's user must read.
  umask(077);
  if (cadre::Status s = cadre::make_state_dir(options.state_dir); !s) return fail(s.error());
  if (cadre::Status s = lock_state_dir(options.state_dir); !s) return fail(s.error());
  const std::string db_path = options.state_dir + "/cadre.db";
  auto store = cadre::SqliteStore::open(db_path);
  if (!store) return fail(store.error());
  for (const std::string& warning : cadre::loose_state_files(options.state_dir, db_path)) CADRE_LOG(warning) << warning;
  if (!local_socket_moved.empty())
    CADRE_LOG(warning) << local_socket_moved << ": the local socket is " << options.security.local_socket
                       << " instead (set [security] local_socket to choose its place)";

  try {
    cadre::MasterService service(options, std::move(*store));
    service.start();
    // Listening, state loaded: systemd may start what depends on the master.
    if (cadre::Status s = cadre::sd_notify("READY=1"); !s) CADRE_LOG(warning) << s.error();
    const int status = service.run();
    if (cadre::Status s = cadre::sd_notify("STOPPING=1"); !s) CADRE_LOG(warning) << s.error();
    return status;
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}

// An exception nothing above caught: one line and exit 1, never an abort.
int main(int argc, char** argv) {
  return cadre::guarded_main("cadre-master", [&] { return run_main(argc, argv); });
}
