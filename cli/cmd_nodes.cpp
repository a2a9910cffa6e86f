// cadre nodes and cadre partitions: where jobs can run, and what is free.
#include <iostream>

#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/format.hpp"
#include "common/flags.hpp"

namespace cadre::cli {

int cmd_nodes(const Global& g, const Args& args) {
  Flags f;
  f.toggle("--json");
  if (Status s = f.parse(args); !s) return fail(s.error(), 2);
  Client client(g.master, g.timeout_ms);
  auto reply = client.call([](Envelope::Builder e) { e.initListNodes(); });
  if (!reply) return fail(reply.error());
  auto nodes = (*reply)->envelope().getNodesReply().getNodes();
  if (f.has("--json")) {
    nlohmann::json out = {{"nodes", nlohmann::json::array()}};
    for (auto n : nodes) out["nodes"].push_back(node_json(n));
    std::cout << out.dump(2) << std::endl;
  } else {
    std::cout << nodes_table(nodes);
  }
  return 0;
}

int cmd_partitions(const Global& g, const Args& args) {
  Flags f;
  f.toggle("--json");
  if (Status s = f.parse(args); !s) return fail(s.error(), 2);
  Client client(g.master, g.timeout_ms);
  auto reply = client.call([](Envelope::Builder e) { e.initListPartitions(); });
  if (!reply) return fail(reply.error());
  auto parts = (*reply)->envelope().getPartitionsReply().getPartitions();
  if (f.has("--json")) {
    nlohmann::json out = {{"partitions", nlohmann::json::array()}};
    for (auto p : parts) out["partitions"].push_back(partition_json(p));
    std::cout << out.dump(2) << std::endl;
  } else {
    std::cout << partitions_table(parts);
  }
  return 0;
}

}  // namespace cadre::cli
