#include "cli/sinfo_fields.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>

#include <capnp/message.h>

#include "common/escape.hpp"
#include "common/hostlist.hpp"
#include "common/resources.hpp"

namespace cadre::cli {
namespace {

using Node = NodeInfo::Reader;
using Part = PartitionInfo::Reader;

// Nodes of one partition (or none) that share a line.
struct Group {
  std::optional<Part> part;
  std::vector<Node> nodes;
};

std::string text(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }
std::string limit(uint64_t s, const char* unset) { return s ? format_duration_s(static_cast<int64_t>(s)) : unset; }

bool in_use(Node n) {
  auto t = n.getTotal(), f = n.getFree();
  return f.getMillicores() < t.getMillicores() || f.getMemoryMb() < t.getMemoryMb() || f.getGpus() < t.getGpus();
}
// sinfo's node counts: allocated (or mixed), idle, other (drained, down).
enum class Use { allocated, idle, other };
Use use_of(Node n) {
  if (text(n.getState()) != "UP") return Use::other;
  return in_use(n) ? Use::allocated : Use::idle;
}

// The smallest value of the group, with '+' when the nodes differ, as sinfo
// prints cpus and memory of unlike nodes on one line.
template <typename F>
std::string min_plus(const Group& g, F value) {
  if (g.nodes.empty()) return "0";
  int64_t lo = value(g.nodes[0]), hi = lo;
  for (Node n : g.nodes) lo = std::min(lo, value(n)), hi = std::max(hi, value(n));
  return std::to_string(lo) + (hi > lo ? "+" : "");
}
int64_t cpus(Node n) { return n.getTotal().getMillicores() / 1000; }

std::string node_counts(const Group& g, bool with_other) {
  int64_t count[3] = {0, 0, 0};
  for (Node n : g.nodes) ++count[static_cast<int>(use_of(n))];
  std::string out = std::to_string(count[0]) + "/" + std::to_string(count[1]);
  if (with_other) out += "/" + std::to_string(count[2]) + "/" + std::to_string(g.nodes.size());
  return out;
}
std::string cpu_counts(const Group& g) {
  int64_t alloc = 0, idle = 0, other = 0, total = 0;
  for (Node n : g.nodes) {
    const int64_t all = cpus(n), free = n.getFree().getMillicores() / 1000;
    total += all;
    if (text(n.getState()) == "DOWN") other += all;
    else if (text(n.getState()) == "UP") alloc += all - free, idle += free;
    else alloc += all - free, other += free;  // draining: its jobs still hold cpus
  }
  return std::to_string(alloc) + "/" + std::to_string(idle) + "/" + std::to_string(other) + "/" + std::to_string(total);
}
std::string names(const Group& g) {
  std::vector<std::string> out;
  for (Node n : g.nodes) out.push_back(text(n.getName()));
  return compress_hostlist(out);
}
std::string joined(const Group& g, std::string (*of)(Node)) {
  std::string out;
  for (Node n : g.nodes) out.append(out.empty() ? "" : ",").append(of(n));
  return out;
}
// Fields of the group's first node: nodes only share a line when these agree.
std::string first(const Group& g, std::string (*of)(Node), const char* none = "n/a") {
  return g.nodes.empty() ? none : of(g.nodes[0]);
}
std::string features(Node n) {
  std::string out;
  for (auto f : n.getFeatures()) out.append(out.empty() ? "" : ",").append(f.cStr());
  return out.empty() ? "(null)" : out;
}
std::string gres(Node n) {
  return n.getTotal().getGpus() ? "gpu:" + std::to_string(n.getTotal().getGpus()) : "(null)";
}
std::string gres_used(Node n) {
  if (!n.getTotal().getGpus()) return "(null)";
  return "gpu:" + std::to_string(n.getTotal().getGpus() - n.getFree().getGpus());
}
std::string reason(Node n) { return n.getReason().size() ? text(n.getReason()) : "none"; }
std::string part_name(const Group& g, bool star) {
  if (!g.part) return "n/a";
  return text(g.part->getName()) + (star && g.part->getIsDefault() ? "*" : "");
}
std::string state(const Group& g, bool compact) { return g.nodes.empty() ? "n/a" : node_state(g.nodes[0], compact); }

struct SinfoField {
  char letter;        // '\0': a name only -O knows
  const char* names;  // -O names, lower case, space-separated
  const char* header;
  std::string (*value)(const Group&);
  bool merges = false;  // computed over the line's nodes, so it never splits a line
  bool cut = true;
};

const SinfoField kFields[] = {
    {'a', "available", "AVAIL", [](const Group& g) { return std::string(g.part ? "up" : "n/a"); }},
    {'A', "nodeai", "NODES(A/I)", [](const Group& g) { return node_counts(g, false); }, true},
    {'b', "features_act", "ACTIVE_FEATURES", [](const Group& g) { return first(g, features); }},
    {'B', "maxcpuspernode", "MAX_CPUS_PER_NODE", [](const Group&) { return std::string("UNLIMITED"); }},
    {'c', "cpus", "CPUS", [](const Group& g) { return min_plus(g, cpus); }, true},
    {'C', "cpusstate", "CPUS(A/I/O/T)", [](const Group& g) { return cpu_counts(g); }, true},
    {'d', "disk", "TMP_DISK", [](const Group&) { return std::string("0"); }},
    {'D', "nodes", "NODES", [](const Group& g) { return std::to_string(g.nodes.size()); }, true},
    {'e', "freemem", "FREE_MEM", [](const Group& g) { return min_plus(g, [](Node n) { return static_cast<int64_t>(n.getFree().getMemoryMb()); }); }, true},
    {'E', "reason", "REASON", [](const Group& g) { return first(g, reason, "none"); }},
    {'f', "features", "AVAIL_FEATURES", [](const Group& g) { return first(g, features); }},
    {'F', "nodeaiot", "NODES(A/I/O/T)", [](const Group& g) { return node_counts(g, true); }, true},
    {'g', "groups", "GROUPS", [](const Group&) { return std::string("all"); }},
    {'G', "gres", "GRES", [](const Group& g) { return first(g, gres, "(null)"); }},
    {'h', "oversubscribe", "OVERSUBSCRIBE", [](const Group&) { return std::string("NO"); }},
    {'H', "timestamp", "TIMESTAMP", [](const Group&) { return std::string("Unknown"); }},
    {'i', "reservation", "RESERVATION", [](const Group&) { return std::string("(null)"); }},
    {'I', "priorityjobfactor", "PRIO_JOB_FACTOR", [](const Group&) { return std::string("1"); }},
    {'l', "time", "TIMELIMIT", [](const Group& g) { return g.part ? limit(g.part->getMaxTimeSec(), "infinite") : "n/a"; }},
    {'L', "defaulttime", "DEFAULTTIME", [](const Group& g) { return g.part ? limit(g.part->getDefaultTimeSec(), "n/a") : "n/a"; }},
    {'m', "memory", "MEMORY", [](const Group& g) { return min_plus(g, [](Node n) { return static_cast<int64_t>(n.getTotal().getMemoryMb()); }); }, true},
    {'M', "preemptmode", "PREEMPT_MODE", [](const Group& g) { return std::string(g.part && g.part->getPreemptible() ? "REQUEUE" : "OFF"); }},
    {'n', "nodehost", "HOSTNAMES", [](const Group& g) { return names(g); }, true, false},
    {'N', "nodelist", "NODELIST", [](const Group& g) { return names(g); }, true, false},
    {'o', "nodeaddr", "NODE_ADDR", [](const Group& g) { return joined(g, [](Node n) { return text(n.getAddress()); }); }, true, false},
    {'O', "cpusload", "CPU_LOAD", [](const Group&) { return std::string("N/A"); }},
    {'p', "prioritytier priority", "PRIO_TIER", [](const Group& g) { return g.part ? std::to_string(g.part->getTier()) : "n/a"; }},
    {'P', "partition", "PARTITION", [](const Group& g) { return part_name(g, true); }},
    {'r', "root", "ROOT", [](const Group&) { return std::string("no"); }},
    {'R', "partitionname", "PARTITION", [](const Group& g) { return part_name(g, false); }},
    {'s', "size", "JOB_SIZE", [](const Group&) { return std::string("1-infinite"); }},
    {'S', "allocnodes", "ALLOCNODES", [](const Group&) { return std::string("all"); }},
    {'t', "statecompact", "STATE", [](const Group& g) { return state(g, true); }},
    {'T', "statelong statecomplete", "STATE", [](const Group& g) { return state(g, false); }},
    {'u', "user", "USER", [](const Group&) { return std::string("Unknown"); }},
    {'U', "userlong", "USER", [](const Group&) { return std::string("Unknown"); }},
    {'v', "version", "VERSION", [](const Group&) { return std::string("N/A"); }},
    {'V', "cluster", "CLUSTER", [](const Group&) { return std::string("N/A"); }},
    {'w', "weight", "WEIGHT", [](const Group&) { return std::string("1"); }},
    {'X', "sockets", "SOCKETS", [](const Group&) { return std::string("N/A"); }},
    {'Y', "cores", "CORES", [](const Group&) { return std::string("N/A"); }},
    {'Z', "threads", "THREADS", [](const Group&) { return std::string("N/A"); }},
    {'z', "socketcorethread", "S:C:T", [](const Group&) { return std::string("N/A"); }},
    // Names -O alone knows.
    {0, "allocmem", "ALLOCMEM", [](const Group& g) { int64_t mb = 0; for (Node n : g.nodes) mb += n.getTotal().getMemoryMb() - n.getFree().getMemoryMb(); return std::to_string(mb); }, true},
    {0, "gresused", "GRES_USED", [](const Group& g) { return first(g, gres_used, "(null)"); }},
    {0, "comment", "COMMENT", [](const Group&) { return std::string("(null)"); }},
    {0, "extra", "EXTRA", [](const Group&) { return std::string("(null)"); }},
    {0, "port", "PORT", [](const Group&) { return std::string("N/A"); }},
};

std::optional<FieldRef> find_letter(std::string_view key) { return find_field_letter(kFields, key); }
std::optional<FieldRef> find_name(std::string_view key) { return find_field_name(kFields, key); }

// sinfo -t's words: a node's state matches its long or compact form, and
// "drain" both draining and drained. Slurm's other states are accepted and
// match no cadre node.
constexpr std::string_view kKnownStates[] = {
    "alloc", "allocated", "cloud", "comp", "completing", "down", "drain", "drained", "draining", "drng", "fail",
    "future", "futr", "idle", "maint", "mix", "mixed", "no_respond", "npc", "perfctrs", "planned", "power_down",
    "powering_down", "powered_down", "powering_up", "reboot_issued", "reboot_requested", "resv", "reserved", "unk",
    "unknown"};

bool state_matches(Node n, const std::vector<std::string>& states) {
  if (states.empty()) return true;
  std::string compact = node_state(n, true), full = node_state(n, false);
  if (!compact.empty() && compact.back() == '*') compact.pop_back(), full.pop_back();
  for (const std::string& s : states)
    if (s == compact || s == full || (s == "drain" && (full == "drained" || full == "draining"))) return true;
  return false;
}

bool wanted(const std::vector<std::string>& list, const std::string& name) {
  return list.empty() || std::find(list.begin(), list.end(), name) != list.end();
}

}  // namespace

Result<Format> parse_sinfo_format(std::string_view text, bool named, std::string_view option, bool builtin) {
  if (named) return parse_named_format(text, find_name, option);
  if (text.starts_with("%all")) {
    Format all;
    for (size_t i = 0; i < std::size(kFields); ++i)
      if (kFields[i].letter) all.items.push_back(FormatItem{FieldRef{static_cast<int>(i), kFields[i].cut}, 0, false, false, "|"});
    return all;
  }
  return parse_letter_format(text, find_letter, option, builtin);
}

Result<std::vector<std::string>> parse_sinfo_states(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string word(text.substr(start, comma - start));
    start = comma + 1;
    for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (std::find(std::begin(kKnownStates), std::end(kKnownStates), word) == std::end(kKnownStates))
      return make_error("--states: '" + escape_control(word) +
                        "' is not a node state sinfo knows (idle, mix, alloc, drain, drained, draining, down, ...)");
    out.push_back(std::move(word));
  }
  return out;
}

std::string node_state(Node n, bool compact) {
  const std::string s = text(n.getState());
  if (s == "DOWN") return "down*";  // cadre marks a node DOWN when it stops answering
  if (s == "DRAIN") return in_use(n) ? (compact ? "drng" : "draining") : (compact ? "drain" : "drained");
  if (s != "UP") {
    std::string out = s;
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  }
  if (!in_use(n)) return "idle";
  if (n.getFree().getMillicores() < 1000) return compact ? "alloc" : "allocated";
  return compact ? "mix" : "mixed";
}

std::string sinfo_listing(const Format& format, capnp::List<PartitionInfo>::Reader received_partitions,
                          capnp::List<NodeInfo>::Reader received_nodes, const SinfoFilter& filter, bool per_node,
                          bool header) {
  // A decoded reply may be read only a few times over (common/codec.cpp);
  // grouping reads each node many times, so it reads copies, made in one pass.
  capnp::MallocMessageBuilder node_copy, partition_copy;
  node_copy.initRoot<NodesReply>().setNodes(received_nodes);
  partition_copy.initRoot<PartitionsReply>().setPartitions(received_partitions);
  const auto nodes = node_copy.getRoot<NodesReply>().asReader().getNodes();
  const auto partitions = partition_copy.getRoot<PartitionsReply>().asReader().getPartitions();
  std::map<std::string, Node> by_name;
  for (Node n : nodes) by_name.emplace(text(n.getName()), n);
  std::vector<Group> groups;
  std::map<std::string, size_t> index;  // a line's key: its shown fields that do not merge
  std::vector<std::set<std::string>> members;  // per line, its nodes' names
  auto add = [&](std::optional<Part> part, std::optional<Node> node) {
    Group one{part, {}};
    if (node) one.nodes.push_back(*node);
    std::string key = per_node && node ? text(node->getName()) : "";
    if (!node) key += "\x1e" + part_name(one, false);  // an empty partition has a line of its own
    for (const FormatItem& item : format.items)
      if (!kFields[item.field.index].merges) key += "\x1f" + kFields[item.field.index].value(one);
    auto [it, fresh] = index.emplace(key, groups.size());
    if (fresh) {
      groups.push_back(std::move(one));
      members.emplace_back();
      if (node) members.back().insert(text(node->getName()));
      return;
    }
    // A node of two partitions counts once on a line that merges them.
    if (node && members[it->second].insert(text(node->getName())).second) groups[it->second].nodes.push_back(*node);
  };
  auto passes = [&](Node n) { return wanted(filter.nodes, text(n.getName())) && state_matches(n, filter.states); };
  std::set<std::string> placed;
  for (Part p : partitions) {
    if (!wanted(filter.partitions, text(p.getName()))) continue;
    bool any = false;
    for (auto name : p.getNodes()) {
      auto it = by_name.find(text(name));
      if (it == by_name.end()) continue;
      placed.insert(it->first);
      if (!passes(it->second)) continue;
      add(p, it->second);
      any = true;
    }
    if (!any && !per_node && filter.nodes.empty() && filter.states.empty()) add(p, std::nullopt);
  }
  // Per node, every node has a line, in a partition or not.
  if (per_node && filter.partitions.empty())
    for (Node n : nodes)
      if (!placed.count(text(n.getName())) && passes(n)) add(std::nullopt, n);
  if (per_node)
    std::stable_sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
      return !a.nodes.empty() && !b.nodes.empty() && text(a.nodes[0].getName()) < text(b.nodes[0].getName());
    });
  std::vector<std::vector<std::string>> rows;
  if (header) {
    auto& row = rows.emplace_back();
    for (const FormatItem& item : format.items) row.push_back(kFields[item.field.index].header);
  }
  for (const Group& g : groups) {
    auto& row = rows.emplace_back();
    for (const FormatItem& item : format.items) row.push_back(kFields[item.field.index].value(g));
  }
  return render_format(format, rows);
}

}  // namespace cadre::cli
