// Reads the [agent] section of cadre.toml; see config.hpp.
#include "agent/config.hpp"

#include <algorithm>
#include <cctype>

#include "common/constraint.hpp"
#include "common/endpoint.hpp"
#include "common/limits.hpp"
#include "common/toml_file.hpp"

namespace cadre::agent {
namespace {

class Reader : public TomlReader {
 public:
  using TomlReader::TomlReader;

  Status read(const toml::table& root, AgentConfig& c) const {
    // The master's sections are known, and read by the master alone.
    Status s = each_key(root, "", "at the top level",
                        {"agent", "master", "scheduler", "partition", "limits", "security", "accounts"},
                        [&](std::string_view key, const toml::node& v, const std::string& path) -> Status {
                          if (key != "agent") return {};
                          return each_key(v, path, "in [agent]",
                                          {"master", "name", "cpus", "memory", "gpus", "labels", "features", "work_dir",
                                           "address", "kill_grace", "allow_root_jobs", "cgroup", "cgroups", "key",
                                           "master_key", "log_level"},
                                          [&](std::string_view k, const toml::node& x, const std::string& p) {
                                            return read_key(k, x, p, c);
                                          });
                        });
    if (!s) return s;
    return check_key_pair(root, c);
  }

 private:
  Status read_key(std::string_view key, const toml::node& x, const std::string& path, AgentConfig& c) const {
    auto string_into = [&](std::optional<std::string>& field) {
      return set(field, [&](std::string& out) { return read_string(x, path, out); });
    };
    if (key == "master")
      return set(c.master, [&](std::string& out) -> Status {
        if (Status st = read_string(x, path, out); !st) return st;
        if (auto e = parse_master_endpoint(out); !e) return fail(x, path, e.error());
        return {};
      });
    if (key == "name") return set(c.name, [&](std::string& out) { return read_name(x, path, out); });
    if (key == "cpus")
      return set(c.cpus, [&](int64_t& out) { return read_int64(x, path, out, 1, kMaxCpus); });
    if (key == "memory") return set(c.memory_mb, [&](int64_t& out) { return read_size_mb(x, path, out); });
    if (key == "gpus") return set(c.gpus, [&](int64_t& out) { return read_int64(x, path, out, 0, kMaxGpus); });
    if (key == "labels") return set(c.labels, [&](Labels& out) { return read_labels(x, path, out); });
    if (key == "features")
      return set(c.features, [&](std::vector<std::string>& out) { return read_features(x, path, out); });
    if (key == "work_dir") return string_into(c.work_dir);
    if (key == "address")
      return set(c.address, [&](std::string& out) -> Status {
        if (Status st = read_string(x, path, out); !st) return st;
        if (Status st = check_address(out); !st) return fail(x, path, st.error());
        return {};
      });
    if (key == "kill_grace")
      return set(c.kill_grace_s, [&](int64_t& out) { return read_kill_grace(x, path, out); });
    if (key == "allow_root_jobs") return set(c.allow_root_jobs, [&](bool& out) { return read_bool(x, path, out); });
    if (key == "cgroup") return set(c.cgroup, [&](std::string& out) { return read_cgroup(x, path, out); });
    if (key == "cgroups") return set(c.cgroups, [&](bool& out) { return read_bool(x, path, out); });
    if (key == "key") return string_into(c.key);
    if (key == "master_key") return string_into(c.master_key);
    return set(c.log_level, [&](std::string& out) { return read_log_level(x, path, out); });
  }

  Status read_name(const toml::node& x, const std::string& path, std::string& out) const {
    const auto* s = x.as_string();
    if (!s) return expected(x, path, "a node name (a string)");
    if (Status st = check_node_name(s->get()); !st) return fail(x, path, st.error());
    out = s->get();
    return {};
  }

  Status read_kill_grace(const toml::node& x, const std::string& path, int64_t& out) const {
    if (Status s = read_duration_s(x, path, kZeroAllowed, out); !s) return s;
    if (out > kMaxKillGraceS) return fail(x, path, "must be at most 1h, got " + describe_toml(x));
    return {};
  }

  Status read_cgroup(const toml::node& x, const std::string& path, std::string& out) const {
    const auto* s = x.as_string();
    if (!s || s->get().empty() || s->get()[0] != '/')
      return expected(x, path, "the absolute path of a delegated cgroup v2 folder, e.g. \"/sys/fs/cgroup/cadre.slice\"");
    out = s->get();
    return {};
  }

  // An array of strings, or the flag's "a,b" text.
  Status read_features(const toml::node& x, const std::string& path, std::vector<std::string>& out) const {
    std::string joined;
    if (const auto* s = x.as_string()) {
      joined = s->get();
    } else if (const toml::array* a = x.as_array()) {
      for (const auto& item : *a) {
        const auto* t = item.as_string();
        if (!t) return expected(item, path, "an array of strings such as [\"a100\", \"ib\"]");
        if (t->get().find(',') != std::string::npos) return fail(item, path, "a feature name has no ','");
        joined += (joined.empty() ? "" : ",") + t->get();
      }
    } else {
      return expected(x, path, "an array of strings such as [\"a100\", \"ib\"] or a string \"a100,ib\"");
    }
    auto features = parse_feature_list(joined);
    if (!features) return fail(x, path, features.error());
    out = std::move(*features);
    return {};
  }

  // A table of strings, or the flag's "k=v,..." text.
  Status read_labels(const toml::node& x, const std::string& path, Labels& out) const {
    if (const auto* s = x.as_string()) {
      auto labels = parse_labels(s->get());
      if (!labels) return fail(x, path, labels.error());
      out = std::move(*labels);
      return {};
    }
    const toml::table* table = x.as_table();
    if (!table) return expected(x, path, "a table such as { rack = \"r1\" } or a string \"rack=r1,switch=s3\"");
    for (const auto& [key, value] : *table) {
      const std::string name(key.str());
      const auto* text = value.as_string();
      if (!text) return expected(value, path + "." + name, "a string");
      if (name.empty() || name.find_first_of(",=") != std::string::npos || text->get().find(',') != std::string::npos)
        return fail(value, path + "." + name, "labels have no ',' and their names no '='");
      out.emplace_back(name, text->get());
    }
    if (Status s = check_labels(out); !s) return fail(x, path, s.error());
    return {};
  }

  // CURVE needs both halves; a file with one of them names it.
  Status check_key_pair(const toml::table& root, const AgentConfig& c) const {
    if (c.key.has_value() == c.master_key.has_value()) return {};
    const char* present = c.key ? "key" : "master_key";
    const char* missing = c.key ? "master_key" : "key";
    const toml::node* at = root.at_path(std::string("agent.") + present).node();
    return fail(*at, std::string("agent.") + present,
                std::string("needs agent.") + missing +
                    " too: CURVE needs this node's key pair and the master's public key");
  }
};

Result<AgentConfig> read_agent_config(const TomlDocument& doc, const std::string& source_name) {
  AgentConfig config;
  if (Status s = Reader(doc, source_name).read(doc.root, config); !s) return make_error(s.error());
  return config;
}

}  // namespace

Result<AgentConfig> parse_agent_config(std::string_view text, const std::string& source_name) {
  auto doc = parse_toml(text, source_name);
  if (!doc) return make_error(doc.error());
  return read_agent_config(*doc, source_name);
}

Result<AgentConfig> load_agent_config(const std::string& path) {
  auto doc = load_toml(path);
  if (!doc) return make_error(doc.error());
  return read_agent_config(*doc, path);
}

Result<Labels> parse_labels(std::string_view text) {
  Labels labels;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return make_error("expected key=value pairs, got '" + std::string(item) + "'");
    labels.emplace_back(std::string(item.substr(0, eq)), std::string(item.substr(eq + 1)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (Status s = check_labels(labels); !s) return make_error(s.error());
  return labels;
}

Status check_labels(const Labels& labels) {
  if (labels.size() > limits::kMaxLabels)
    return make_error(std::to_string(labels.size()) + " labels; at most " + std::to_string(limits::kMaxLabels) +
                      " are allowed");
  for (const auto& [key, value] : labels)
    for (const auto& [what, text] : {std::pair{"key", &key}, std::pair{"value", &value}})
      if (text->size() > limits::kMaxLabelBytes)
        return make_error("the label " + std::string(what) + " '" + text->substr(0, 20) + "...' is " +
                          std::to_string(text->size()) + " bytes; at most " + std::to_string(limits::kMaxLabelBytes) +
                          " are allowed");
  return {};
}

Status check_node_name(std::string_view name) {
  const bool usable = !name.empty() && name.size() <= limits::kMaxNodeNameBytes && name[0] != '.' &&
                      std::all_of(name.begin(), name.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
                      });
  if (!usable)
    return make_error("a node name is 1-" + std::to_string(limits::kMaxNodeNameBytes) +
                      " letters, digits, '_', '.' or '-', not starting with '.' (it also names the node's key file), "
                      "got '" + std::string(name.substr(0, 200)) + (name.size() > 200 ? "...'" : "'"));
  return {};
}

Status check_address(std::string_view address) {
  const bool usable = !address.empty() && address.size() <= limits::kMaxAddressBytes &&
                      std::all_of(address.begin(), address.end(), [](char c) { return c > ' ' && c < 0x7f; });
  if (!usable)
    return make_error("an address is a host name or an IP literal of 1-" + std::to_string(limits::kMaxAddressBytes) +
                      " characters, without blanks or control characters, got '" +
                      std::string(address.substr(0, 200)) + (address.size() > 200 ? "...'" : "'"));
  return {};
}

}  // namespace cadre::agent
