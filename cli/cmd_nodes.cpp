// cadre nodes and cadre partitions: where jobs can run, and what is free.
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/format.hpp"
#include "cli/names.hpp"
#include "cli/slurm_format.hpp"
#include "common/escape.hpp"
#include "common/flags.hpp"
#include "common/job_validation.hpp"
#include "common/limits.hpp"

namespace cadre::cli {
namespace {

// -o/--format, -O/--Format and -h/--noheader, as sinfo takes them.
void listing_flags(Flags& f) {
  f.toggle("--json").toggle("--noheader", {"-h"}).value("--format", {"-o"}).value("--Format", {"-O"});
}

// With a format, the listing is sinfo's (cli/cmd_sinfo.cpp): `per_node`
// as sinfo -N. nullopt: no format given, cadre's own table.
std::optional<int> sinfo_listing_for(const Global& g, const Flags& f, bool per_node) {
  if (!f.has("--format") && !f.has("--Format")) return std::nullopt;
  if (f.has("--json")) return fail("--json prints every field; it does not go with --format or --Format", 2);
  Args a;
  if (per_node) a.push_back("--Node");
  if (f.has("--noheader")) a.push_back("--noheader");
  for (const char* flag : {"--format", "--Format"})
    if (auto v = f.get(flag)) a.push_back(std::string(flag) + "=" + *v);
  return cmd_sinfo(g, a);
}

std::string without_header(std::string table, bool drop) {
  if (drop) table.erase(0, table.find('\n') + 1);
  return table;
}

}  // namespace

int cmd_nodes(const Global& g, const Args& raw_args) {
  Flags f;
  listing_flags(f);
  const Args args = split_attached(raw_args, {"-o", "-O"});
  if (Status s = f.parse(args); !s) return fail(s.error(), 2);
  if (auto done = sinfo_listing_for(g, f, true)) return *done;
  Client client(g.master, g.timeout_ms);
  auto reply = client.call([](Envelope::Builder e) { e.initListNodes(); });
  if (!reply) return fail(reply.error());
  auto nodes = (*reply)->envelope().getNodesReply().getNodes();
  if (f.has("--json")) {
    nlohmann::json out = {{"nodes", nlohmann::json::array()}};
    for (auto n : nodes) out["nodes"].push_back(node_json(n));
    std::cout << out.dump(2) << std::endl;
  } else {
    std::cout << without_header(nodes_table(nodes), f.has("--noheader"));
  }
  return 0;
}

namespace {

// The names and the reason, within what the master takes: refused here at
// once rather than after the wait for its answer.
Status check_node_request(const std::vector<std::string>& names, const std::string& reason) {
  if (names.size() > limits::kMaxNodesPerRequest)
    return make_error(std::to_string(names.size()) + " node names; at most " +
                      std::to_string(limits::kMaxNodesPerRequest) + " at a time");
  for (const std::string& name : names)
    if (Status s = check_node_name(name); !s) return s;
  if (reason.size() > limits::kMaxReasonBytes)
    return make_error("--reason: the reason is " + std::to_string(reason.size()) + " bytes; at most " +
                      std::to_string(limits::kMaxReasonBytes) + " are allowed");
  if (!valid_utf8(reason)) return make_error("--reason: the reason is not valid UTF-8 text");
  return {};
}

}  // namespace

// cadre drain / cadre resume (admins): sets nodes DRAIN or UP.
int set_node_state(const Global& g, const Args& args, const char* state) {
  Flags f;
  f.value("--reason");
  if (Status s = f.parse(args, true); !s) return fail(s.error(), 2);
  if (f.positionals().empty())
    return fail(std::string(state == std::string("DRAIN") ? "drain" : "resume") + " takes node names, e.g. cadre " +
                    (state == std::string("DRAIN") ? "drain node7 --reason 'bad DIMM'" : "resume node7"),
                2);
  if (f.has("--reason") && state != std::string("DRAIN")) return fail("--reason goes with drain", 2);
  if (Status s = check_node_request(f.positionals(), f.get_or("--reason", "")); !s) return fail(s.error(), 2);
  Client client(g.master, g.timeout_ms);
  auto reply = client.call([&](Envelope::Builder e) {
    auto r = e.initSetNodeState();
    auto names = r.initNames(static_cast<unsigned>(f.positionals().size()));
    for (unsigned i = 0; i < f.positionals().size(); ++i) names.set(i, f.positionals()[i]);
    r.setState(state);
    r.setReason(f.get_or("--reason", ""));
  });
  if (!reply) return fail(reply.error());
  for (auto n : (*reply)->envelope().getNodesReply().getNodes())
    std::cout << escape_control(n.getName().cStr()) << " " << escape_control(n.getState().cStr())
              << (n.getReason().size() ? ": " + escape_control(n.getReason().cStr()) : "") << "\n";
  return 0;
}

int cmd_drain(const Global& g, const Args& args) { return set_node_state(g, args, "DRAIN"); }
int cmd_resume(const Global& g, const Args& args) { return set_node_state(g, args, "UP"); }

int cmd_partitions(const Global& g, const Args& raw_args) {
  Flags f;
  listing_flags(f);
  const Args args = split_attached(raw_args, {"-o", "-O"});
  if (Status s = f.parse(args); !s) return fail(s.error(), 2);
  if (auto done = sinfo_listing_for(g, f, false)) return *done;
  Client client(g.master, g.timeout_ms);
  auto reply = client.call([](Envelope::Builder e) { e.initListPartitions(); });
  if (!reply) return fail(reply.error());
  auto parts = (*reply)->envelope().getPartitionsReply().getPartitions();
  if (f.has("--json")) {
    nlohmann::json out = {{"partitions", nlohmann::json::array()}};
    for (auto p : parts) out["partitions"].push_back(partition_json(p));
    std::cout << out.dump(2) << std::endl;
  } else {
    std::cout << without_header(partitions_table(parts), f.has("--noheader"));
  }
  return 0;
}

}  // namespace cadre::cli
