// Reads cadre.toml (common/toml_file) and checks every key; see config.hpp.
#include "master/config.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <utility>

#include "common/endpoint.hpp"
#include "common/job_validation.hpp"
#include "common/resources.hpp"
#include "common/toml_file.hpp"
#include "master/scheduler/snapshot.hpp"

namespace cadre {
namespace {

std::string quoted(std::string_view s) { return std::string(1, '\'').append(s).append("'"); }

constexpr bool kMustBePositive = TomlReader::kMustBePositive;
constexpr bool kZeroAllowed = TomlReader::kZeroAllowed;

// Walks a parsed document into a MasterConfig. Every method returns the
// first problem as "FILE:LINE:COLUMN: KEY: what is wrong".
class Reader : public TomlReader {
 public:
  using TomlReader::TomlReader;

  Status read(const toml::table& root, MasterConfig& c) const {
    // [agent] is the agent's (agent/config.hpp): known here, read there.
    return each_key(root, "", "at the top level",
                    {"master", "scheduler", "partition", "qos", "limits", "security", "accounts", "agent"},
                    [&](std::string_view key, const toml::node& v, const std::string& path) -> Status {
                      if (key == "agent") return v.is_table() ? Status{} : expected(v, path, "a table");
                      if (key == "master") return read_master(v, c);
                      if (key == "scheduler") return read_scheduler(v, c);
                      if (key == "limits") return read_limits(v, c.limits);
                      if (key == "security") return read_security(v, c);
                      if (key == "accounts") return read_accounts(v, c.accounts);
                      if (key == "qos") return read_qos_list(v, path, c.qos);
                      return read_partitions(v, path, c.partitions);
                    });
  }

 private:
  // A string that `accept` takes, such as a policy name.
  template <typename Accept>
  Status read_choice(const toml::node& v, const std::string& path, const std::string& choices, std::string& out,
                     const Accept& accept) const {
    const auto* s = v.as_string();
    if (!s || !accept(s->get())) return expected(v, path, "one of " + choices);
    out = s->get();
    return {};
  }

  // One function per table: each_key checks the key is known, the
  // function reads it.
  Status read_master(const toml::node& v, MasterConfig& c) const {
    return each_key(v, "master", "in [master]", {"listen", "state_dir", "node_timeout", "max_retries", "master_ports", "mail_program",
                                                 "log_level"},
                    [&](std::string_view key, const toml::node& x, const std::string& path) {
                      return read_master_key(key, x, path, c);
                    });
  }
  Status read_master_key(std::string_view key, const toml::node& x, const std::string& path, MasterConfig& c) const {
    if (key == "listen")
      return set(c.listen, [&](std::string& out) -> Status {
        if (Status st = read_string(x, path, out); !st) return st;
        if (auto e = parse_endpoint_list(out, EndpointRole::bind); !e) return fail(x, path, e.error());
        return {};
      });
    if (key == "state_dir") return set(c.state_dir, [&](std::string& out) { return read_string(x, path, out); });
    if (key == "node_timeout")
      return set(c.node_timeout_ms, [&](int64_t& out) { return read_duration_ms(x, path, kMustBePositive, out); });
    if (key == "max_retries") return set(c.max_retries, [&](uint32_t& out) { return read_int(x, path, out); });
    if (key == "mail_program") return set(c.mail_program, [&](std::string& out) { return read_string(x, path, out); });
    if (key == "master_ports")
      return set(c.master_ports, [&](PortRange& out) -> Status {
        std::string text;
        if (Status st = read_string(x, path, text); !st) return st;
        auto range = parse_port_range(text);
        if (!range) return fail(x, path, range.error());
        out = *range;
        return {};
      });
    return set(c.log_level, [&](std::string& out) { return read_log_level(x, path, out); });
  }

  Status read_scheduler(const toml::node& v, MasterConfig& c) const {
    return each_key(v, "scheduler", "in [scheduler]",
                    {"policy", "preemption", "reservation_depth", "unlimited_as", "interval", "debounce",
                     "fairshare_half_life", "gpu_billing", "weights"},
                    [&](std::string_view key, const toml::node& x, const std::string& path) {
                      return read_scheduler_key(key, x, path, c);
                    });
  }
  Status read_scheduler_key(std::string_view key, const toml::node& x, const std::string& path, MasterConfig& c) const {
    sched::Policy& p = c.policy;
    if (key == "policy") {
      std::string text;
      return read_choice(x, path, "fcfs, greedy, easy, conservative", text,
                         [&](std::string_view t) { return sched::parse_backfill(t, p.backfill); });
    }
    if (key == "preemption") return read_bool(x, path, p.preemption);
    if (key == "reservation_depth") return read_int(x, path, p.reservation_depth);
    if (key == "unlimited_as") return read_duration_s(x, path, kMustBePositive, p.unlimited_as_s);
    if (key == "interval") return read_duration_ms(x, path, kMustBePositive, c.interval_ms);
    if (key == "debounce") return read_duration_ms(x, path, kZeroAllowed, c.debounce_ms);
    if (key == "fairshare_half_life") return read_duration_s(x, path, kMustBePositive, c.fairshare_half_life_s);
    if (key == "gpu_billing") return read_number(x, path, c.gpu_billing);
    return read_weights(x, path, p.weights);
  }

  Status read_security(const toml::node& v, MasterConfig& c) const {
    return each_key(v, "security", "in [security]", {"key", "agent_keys", "user_keys", "local_socket", "admin_group"},
                    [&](std::string_view key, const toml::node& x, const std::string& path) -> Status {
                      // "" turns the local socket off; every other key names something.
                      if (key == "local_socket") {
                        const auto* text = x.as_string();
                        if (!text) return expected(x, path, "a string (\"\" for no local socket)");
                        c.local_socket = text->get();
                        return Status{};
                      }
                      auto& field = key == "key"          ? c.key_file
                                    : key == "agent_keys" ? c.agent_keys_dir
                                    : key == "user_keys"  ? c.user_keys_dir
                                                          : c.admin_group;
                      return set(field, [&](std::string& out) { return read_string(x, path, out); });
                    });
  }

  // [accounts]: any key is an account's name, its value the members.
  Status read_accounts(const toml::node& v, std::map<std::string, std::vector<std::string>>& out) const {
    const toml::table* table = v.as_table();
    if (!table) return expected(v, "accounts", "a table: [accounts] with lines like physics = [\"alice\", \"bob\"]");
    for (const auto& [key, value] : *table) {
      const std::string name(key.str());
      const std::string path = "accounts." + name;
      if (Status s = check_account_name(name, "account"); !s) return fail(value, path, s.error());
      if (Status s = read_members(value, path, out[name]); !s) return s;
    }
    return {};
  }
  Status read_members(const toml::node& v, const std::string& path, std::vector<std::string>& out) const {
    const toml::array* list = v.as_array();
    if (!list) return expected(v, path, "a list of user names like [\"alice\", \"bob\"]");
    for (const toml::node& item : *list) {
      const auto* user = item.as_string();
      if (!user) return expected(item, path, "a user name (a string)");
      if (Status s = check_account_name(user->get(), "user"); !s) return fail(item, path, s.error());
      if (std::find(out.begin(), out.end(), user->get()) != out.end())
        return fail(item, path, quoted(user->get()) + " is listed twice");
      out.push_back(user->get());
    }
    return {};
  }

  Status read_limits(const toml::node& v, Limits& l) const {
    return each_key(v, "limits", "in [limits]",
                    {"max_pending_jobs_per_user", "submit_rate", "submit_burst", "max_command_bytes",
                     "max_script_bytes"},
                    [&](std::string_view key, const toml::node& x, const std::string& path) -> Status {
                      if (key == "max_pending_jobs_per_user") return read_int(x, path, l.max_pending_jobs_per_user);
                      if (key == "submit_rate") return read_number(x, path, l.submit_rate);
                      if (key == "submit_burst") return read_int(x, path, l.submit_burst, 1);
                      // The protocol's own bound (64 MiB a message) caps both sizes.
                      if (key == "max_command_bytes") return read_int(x, path, l.max_command_bytes, 0);
                      return read_int(x, path, l.max_script_bytes, 0);
                    });
  }

  Status read_weights(const toml::node& v, const std::string& path, sched::Weights& w) const {
    return each_key(v, path, "in [scheduler.weights]", {"age", "max_age", "size", "fairshare", "job", "partition", "qos"},
                    [&](std::string_view key, const toml::node& x, const std::string& key_path) {
                      return read_weights_key(key, x, key_path, w);
                    });
  }
  Status read_weights_key(std::string_view key, const toml::node& x, const std::string& path, sched::Weights& w) const {
    if (key == "age") return read_number(x, path, w.age);
    if (key == "max_age") return read_duration_s(x, path, kMustBePositive, w.max_age_s);
    if (key == "size") return read_number(x, path, w.size);
    if (key == "fairshare") return read_number(x, path, w.fairshare);
    if (key == "job") return read_number(x, path, w.job);
    if (key == "qos") return read_number(x, path, w.qos);
    return read_number(x, path, w.partition);
  }

  Status read_partitions(const toml::node& v, const std::string& path, std::vector<PartitionConfig>& out) const {
    const toml::array* list = v.as_array();
    if (!list || (!list->empty() && !list->is_array_of_tables()))
      return expected(v, path, "[[partition]] tables", " (write [[partition]], with two brackets)");
    std::vector<const toml::table*> tables;
    for (const toml::node& item : *list) {
      const toml::table& t = *item.as_table();
      if (out.size() == sched::kMaxPartitions)
        return error_at(t.source(), "too many partitions: at most " + std::to_string(sched::kMaxPartitions));
      PartitionConfig p;
      if (Status s = read_partition(t, path, p); !s) return s;
      if (Status s = check_against_earlier(p, t, out, tables); !s) return s;
      out.push_back(std::move(p));
      tables.push_back(&t);
    }
    return {};
  }

  Status read_partition(const toml::table& t, const std::string& path, PartitionConfig& p) const {
    Status s = each_key(t, path, "in [[partition]]",
                        {"name", "nodes", "default", "default_time", "max_time", "tier", "preemptible",
                         "max_running_jobs_per_user", "max_gpus_per_user"},
                        [&](std::string_view key, const toml::node& x, const std::string& key_path) {
                          return read_partition_key(key, x, key_path, p);
                        });
    if (!s) return s;
    if (p.name.empty()) return error_at(t.source(), path + ": every [[partition]] needs a name = \"...\"");
    if (p.default_time_s > 0 && p.max_time_s > 0 && p.default_time_s > p.max_time_s)
      return fail(*t.get("default_time"), path + ".default_time",
                  format_duration_s(p.default_time_s) + " is longer than max_time " + format_duration_s(p.max_time_s));
    return {};
  }

  Status read_partition_key(std::string_view key, const toml::node& x, const std::string& path,
                            PartitionConfig& p) const {
    if (key == "name") return read_partition_name(x, path, p.name);
    if (key == "nodes") return read_nodes(x, path, p.nodes);
    if (key == "default") return read_bool(x, path, p.is_default);
    if (key == "default_time") return read_duration_s(x, path, kZeroAllowed, p.default_time_s);
    if (key == "max_time") return read_duration_s(x, path, kZeroAllowed, p.max_time_s);
    if (key == "tier") return read_int(x, path, p.tier, std::numeric_limits<int32_t>::min());
    if (key == "preemptible") return read_bool(x, path, p.preemptible);
    if (key == "max_running_jobs_per_user") return read_int(x, path, p.max_running_jobs_per_user);
    return read_int(x, path, p.max_gpus_per_user);
  }

  Status read_partition_name(const toml::node& v, const std::string& path, std::string& out) const {
    const auto* s = v.as_string();
    auto allowed = [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    };
    if (!s || s->get().empty() || s->get().size() > 64 || !std::all_of(s->get().begin(), s->get().end(), allowed))
      return expected(v, path, "a name of 1 to 64 letters, digits, '_', '.' or '-'");
    out = s->get();
    return {};
  }

  Status read_nodes(const toml::node& v, const std::string& path, std::vector<std::string>& out) const {
    const toml::array* list = v.as_array();
    if (!list) return expected(v, path, "a list of node patterns like [\"gpu[01-16]\"]");
    // Leaving the key out means every node; an empty list most likely means
    // a generated file lost its nodes, and a partition of none is useless.
    if (list->empty()) return fail(v, path, "an empty list matches no node; leave 'nodes' out to mean every node");
    for (const toml::node& item : *list) {
      const auto* s = item.as_string();
      if (!s) return expected(item, path, "a node pattern (a string)");
      if (Status st = check_node_pattern(s->get()); !st)
        return fail(item, path, "invalid node pattern " + quoted(s->get()) + ": " + st.error());
      out.push_back(s->get());
    }
    return {};
  }

  // [[qos]]: as partitions, names unique (case-insensitive: --qos is), one default.
  Status read_qos_list(const toml::node& v, const std::string& path, std::vector<QosConfig>& out) const {
    const toml::array* list = v.as_array();
    if (!list || (!list->empty() && !list->is_array_of_tables()))
      return expected(v, path, "[[qos]] tables", " (write [[qos]], with two brackets)");
    for (const toml::node& item : *list) {
      const toml::table& t = *item.as_table();
      if (out.size() == 64) return error_at(t.source(), "too many QOS: at most 64");
      QosConfig q;
      Status s = each_key(t, path, "in [[qos]]",
                          {"name", "default", "priority", "tier", "preemptible", "max_time",
                           "max_running_jobs_per_user", "max_gpus_per_user", "users", "accounts"},
                          [&](std::string_view key, const toml::node& x, const std::string& key_path) {
                            return read_qos_key(key, x, key_path, q);
                          });
      if (!s) return s;
      if (q.name.empty()) return error_at(t.source(), path + ": every [[qos]] needs a name = \"...\"");
      for (const QosConfig& earlier : out) {
        if (find_qos({earlier}, q.name))
          return fail(*t.get("name"), "qos.name", quoted(q.name) + " is already the name of a QOS ('" + earlier.name + "')");
        if (earlier.is_default && q.is_default)
          return fail(*t.get("default"), "qos.default",
                      quoted(q.name) + " and " + quoted(earlier.name) + " are both marked default; only one may be");
      }
      out.push_back(std::move(q));
    }
    return {};
  }
  Status read_qos_key(std::string_view key, const toml::node& x, const std::string& path, QosConfig& q) const {
    if (key == "name") return read_partition_name(x, path, q.name);
    if (key == "default") return read_bool(x, path, q.is_default);
    if (key == "priority") return read_int(x, path, q.priority);
    if (key == "tier") {
      int32_t tier = 0;
      if (Status s = read_int(x, path, tier, std::numeric_limits<int32_t>::min()); !s) return s;
      q.tier = tier;
      return {};
    }
    if (key == "preemptible") return read_bool(x, path, q.preemptible);
    if (key == "max_time") return read_duration_s(x, path, kZeroAllowed, q.max_time_s);
    if (key == "max_running_jobs_per_user") return read_int(x, path, q.max_running_jobs_per_user);
    if (key == "max_gpus_per_user") return read_int(x, path, q.max_gpus_per_user);
    if (key == "users") return read_members(x, path, q.users);
    const toml::array* list = x.as_array();
    if (!list) return expected(x, path, "a list of account names like [\"physics\"]");
    for (const toml::node& item : *list) {
      const auto* account = item.as_string();
      if (!account) return expected(item, path, "an account name (a string)");
      if (Status s = check_account_name(account->get(), "account"); !s) return fail(item, path, s.error());
      q.accounts.push_back(account->get());
    }
    return {};
  }

  // Names are unique and at most one partition is the default.
  Status check_against_earlier(const PartitionConfig& p, const toml::table& t,
                               const std::vector<PartitionConfig>& earlier,
                               const std::vector<const toml::table*>& earlier_tables) const {
    for (size_t i = 0; i < earlier.size(); ++i) {
      const std::string line = std::to_string(earlier_tables[i]->source().begin.line);
      if (earlier[i].name == p.name)
        return fail(*t.get("name"), "partition.name",
                    quoted(p.name) + " is already the name of the partition at line " + line);
      if (earlier[i].is_default && p.is_default)
        return fail(*t.get("default"), "partition.default",
                    quoted(p.name) + " and " + quoted(earlier[i].name) + " (line " + line +
                        ") are both marked default; only one may be");
    }
    return {};
  }
};

Result<MasterConfig> read_master_config(const TomlDocument& doc, const std::string& source_name) {
  MasterConfig config;
  if (Status s = Reader(doc, source_name).read(doc.root, config); !s) return make_error(s.error());
  return config;
}

}  // namespace

Result<MasterConfig> parse_master_config(std::string_view text, const std::string& source_name) {
  auto doc = parse_toml(text, source_name);
  if (!doc) return make_error(doc.error());
  return read_master_config(*doc, source_name);
}

Result<MasterConfig> load_master_config(const std::string& path) {
  auto doc = load_toml(path);
  if (!doc) return make_error(doc.error());
  return read_master_config(*doc, path);
}

std::string default_partition(const MasterConfig& config) {
  for (const PartitionConfig& p : config.partitions)
    if (p.is_default) return p.name;
  return config.partitions.empty() ? "default" : config.partitions.front().name;
}

}  // namespace cadre
