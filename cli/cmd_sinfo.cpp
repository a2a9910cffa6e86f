// sinfo: nodes and partitions in Slurm's layout and format letters. cadre
// nodes -o and cadre partitions -o come here too (cli/cmd_nodes.cpp).
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/sinfo_fields.hpp"
#include "cli/slurm_format.hpp"
#include "common/escape.hpp"
#include "common/flags.hpp"
#include "common/hostlist.hpp"

namespace cadre::cli {
namespace {

// -O over -o; then (run as sinfo) SINFO_FORMAT, as sinfo documents; then
// the layout -s, -l and -N choose.
Result<Format> sinfo_format(const Global& g, const Flags& f) {
  if (auto v = f.get("--Format")) return parse_sinfo_format(*v, true, "--Format");
  if (auto v = f.get("--format")) return parse_sinfo_format(*v, false, "--format");
  if (g.slurm_words)
    if (const char* v = std::getenv("SINFO_FORMAT"); v && *v) return parse_sinfo_format(v, false, "SINFO_FORMAT");
  const bool lng = f.has("--long");
  std::string_view layout = kSinfoDefaultFormat;
  if (f.has("--summarize")) layout = kSinfoSummarizeFormat;
  else if (f.has("--Node")) layout = lng ? kSinfoNodeLongFormat : kSinfoNodeFormat;
  else if (lng) layout = kSinfoLongFormat;
  return parse_sinfo_format(layout, false, "sinfo", true);
}

// Comma-separated words, none empty.
Result<std::vector<std::string>> words(std::string_view flag, std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    if (comma == start)
      return make_error(std::string(flag) + ": an empty name in '" + escape_control(text) +
                        "'; give names separated by commas");
    out.emplace_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

Result<SinfoFilter> sinfo_filter(const Flags& f) {
  SinfoFilter filter;
  if (auto v = f.get("--partition")) {
    auto list = words("--partition", *v);
    if (!list) return make_error(list.error());
    filter.partitions = std::move(*list);
  }
  if (auto v = f.get("--nodes")) {
    auto names = expand_hostlist(*v);
    if (!names) return make_error("--nodes: " + names.error());
    if (names->empty()) return make_error("--nodes: give node names, e.g. node[1-4]");
    filter.nodes = std::move(*names);
  }
  if (auto v = f.get("--states")) {
    auto states = parse_sinfo_states(*v);
    if (!states) return make_error(states.error());
    filter.states = std::move(*states);
  }
  return filter;
}

}  // namespace

int cmd_sinfo(const Global& g, const Args& raw_args) {
  Flags f;
  f.toggle("--noheader", {"-h"}).toggle("--Node", {"-N"}).toggle("--summarize", {"-s"}).toggle("--long", {"-l"});
  // Every partition is shown to everyone in cadre: -a and --hide change nothing.
  f.toggle("--all", {"-a"}).toggle("--hide");
  f.value("--format", {"-o"}).value("--Format", {"-O"}).value("--partition", {"-p"}).value("--nodes", {"-n"});
  f.value("--states", {"-t"});
  const Args args = split_attached(raw_args, {"-o", "-O", "-p", "-n", "-t"});
  if (Status s = f.parse(args); !s) return fail("sinfo: " + s.error(), 2);
  auto format = sinfo_format(g, f);
  if (!format) return fail(format.error(), 2);
  auto filter = sinfo_filter(f);
  if (!filter) return fail(filter.error(), 2);
  Client client(g.master, g.timeout_ms);
  auto parts = client.call([](Envelope::Builder e) { e.initListPartitions(); });
  if (!parts) return fail(parts.error());
  auto nodes = client.call([](Envelope::Builder e) { e.initListNodes(); });
  if (!nodes) return fail(nodes.error());
  // -s sums each partition over its nodes: never one line per node.
  const bool per_node = f.has("--Node") && !f.has("--summarize");
  std::cout << sinfo_listing(*format, (*parts)->envelope().getPartitionsReply().getPartitions(),
                             (*nodes)->envelope().getNodesReply().getNodes(), *filter, per_node,
                             !f.has("--noheader"));
  return 0;
}

}  // namespace cadre::cli
