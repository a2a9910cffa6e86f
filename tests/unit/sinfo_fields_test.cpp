// Specification of cli/sinfo_fields: sinfo's letters over cadre's nodes and
// partitions, and its grouping of a partition's nodes into lines.
#include "cli/sinfo_fields.hpp"

#include <capnp/message.h>
#include <gtest/gtest.h>

#include <string>

#include "common/codec.hpp"

namespace cadre::cli {
namespace {

struct NodeSpec {
  const char* name;
  const char* state;
  int64_t cpus, free_cpus, memory_mb, gpus;
};

// Four nodes: two idle CPU nodes, one busy GPU node, one drained; partitions
// "cpu" (default: node1, node2, node4) and "gpu" (node3), and an empty "spare".
struct Cluster {
  capnp::MallocMessageBuilder nodes_message, parts_message;
  capnp::List<NodeInfo>::Reader nodes;
  capnp::List<PartitionInfo>::Reader parts;

  Cluster() {
    const NodeSpec specs[] = {{"node1", "UP", 8, 8, 32768, 0},
                              {"node2", "UP", 8, 8, 32768, 0},
                              {"node3", "UP", 64, 0, 515000, 8},
                              {"node4", "DRAIN", 16, 16, 65536, 0}};
    auto list = nodes_message.initRoot<NodesReply>().initNodes(4);
    for (unsigned i = 0; i < 4; ++i) {
      auto n = list[i];
      n.setName(specs[i].name);
      n.setAddress(std::string("tcp://10.0.0.") + std::to_string(i + 1) + ":7001");
      n.setState(specs[i].state);
      n.getTotal().setMillicores(specs[i].cpus * 1000);
      n.getTotal().setMemoryMb(specs[i].memory_mb);
      n.getTotal().setGpus(specs[i].gpus);
      n.getFree().setMillicores(specs[i].free_cpus * 1000);
      n.getFree().setMemoryMb(specs[i].memory_mb);
      n.getFree().setGpus(specs[i].free_cpus ? specs[i].gpus : 0);
      if (i == 3) n.setReason("bad DIMM");
      if (i == 2) n.initFeatures(1).set(0, "a100");
    }
    nodes = nodes_message.getRoot<NodesReply>().asReader().getNodes();
    auto p = parts_message.initRoot<PartitionsReply>().initPartitions(3);
    p[0].setName("cpu");
    p[0].setIsDefault(true);
    auto cpu_nodes = p[0].initNodes(3);
    cpu_nodes.set(0, "node1");
    cpu_nodes.set(1, "node2");
    cpu_nodes.set(2, "node4");
    p[0].setMaxTimeSec(86400);
    p[1].setName("gpu");
    p[1].initNodes(1).set(0, "node3");
    p[2].setName("spare");
    parts = parts_message.getRoot<PartitionsReply>().asReader().getPartitions();
  }

  std::string list(std::string_view format, const SinfoFilter& filter = {}, bool per_node = false,
                   bool header = false, bool builtin = false) {
    auto f = parse_sinfo_format(format, false, "-o", builtin);
    EXPECT_TRUE(f) << f.error();
    return f ? sinfo_listing(*f, parts, nodes, filter, per_node, header) : "";
  }
};

TEST(SinfoFields, DefaultLayoutGroupsAPartitionsNodesByState) {
  Cluster c;
  EXPECT_EQ(c.list(kSinfoDefaultFormat, {}, false, true, true),
            "PARTITION AVAIL  TIMELIMIT  NODES  STATE NODELIST\n"
            "cpu*         up 1-00:00:00      2   idle node[1-2]\n"
            "cpu*         up 1-00:00:00      1  drain node4\n"
            "gpu          up   infinite      1  alloc node3\n"
            "spare        up   infinite      0    n/a \n");
}

TEST(SinfoFields, PerNodeIsOneLinePerNodeSortedByName) {
  Cluster c;
  EXPECT_EQ(c.list("%N %c %m %G %T", {}, true),
            "node1 8 32768 (null) idle\n"
            "node2 8 32768 (null) idle\n"
            "node3 64 515000 gpu:8 allocated\n"
            "node4 16 65536 (null) drained\n");
}

TEST(SinfoFields, FieldsNotShownDoNotSplitLinesAndSizesMergeWithPlus) {
  Cluster c;
  EXPECT_EQ(c.list("%R %D %c %N"), "cpu 3 8+ node[1-2,4]\ngpu 1 64 node3\nspare 0 0 \n");
}

TEST(SinfoFields, CountsByState) {
  Cluster c;
  EXPECT_EQ(c.list("%R %A %F %C", {{"cpu", "gpu"}, {}, {}}),
            "cpu 0/2 0/2/1/3 0/16/16/32\ngpu 1/0 1/0/0/1 64/0/0/64\n");
}

TEST(SinfoFields, FiltersByPartitionNodeAndState) {
  Cluster c;
  EXPECT_EQ(c.list("%D", {{"gpu"}, {}, {}}), "1\n");
  // Nothing shown tells the partitions apart: one line, as sinfo.
  EXPECT_EQ(c.list("%N", {{}, {"node1", "node3"}, {}}), "node[1,3]\n");
  EXPECT_EQ(c.list("%R %N", {{}, {"node1", "node3"}, {}}), "cpu node1\ngpu node3\n");
  EXPECT_EQ(c.list("%N %E", {{}, {}, {"drain"}}), "node4 bad DIMM\n");
  EXPECT_EQ(c.list("%n", {{}, {}, {"idle"}}), "node[1-2]\n");
}

TEST(SinfoFields, NodeStatesAsSinfoNamesThem) {
  Cluster c;
  EXPECT_EQ(node_state(c.nodes[0], true), "idle");
  EXPECT_EQ(node_state(c.nodes[2], true), "alloc");
  EXPECT_EQ(node_state(c.nodes[2], false), "allocated");
  EXPECT_EQ(node_state(c.nodes[3], true), "drain");
}

TEST(SinfoFields, UnknownStatesLettersAndNamesAreRefused) {
  EXPECT_FALSE(parse_sinfo_states("idle,sleepy"));
  ASSERT_TRUE(parse_sinfo_states("IDLE,Drain"));
  EXPECT_EQ(*parse_sinfo_states("IDLE,Drain"), (std::vector<std::string>{"idle", "drain"}));
  EXPECT_FALSE(parse_sinfo_format("%P %q", false, "-o"));
  EXPECT_FALSE(parse_sinfo_format("NodeList,Bogus", true, "-O"));
  EXPECT_TRUE(parse_sinfo_format("nodelist,CPUsState,statelong", true, "-O"));
}

TEST(SinfoFields, ALargePartitionReadsFromRepliesAsDecoded) {
  // A decoded reply may be read only a few times over its size; grouping
  // reads every node many times.
  constexpr unsigned kNodes = 500;
  capnp::MallocMessageBuilder nodes_message, parts_message;
  auto nodes = start_envelope(nodes_message, 1).initNodesReply().initNodes(kNodes);
  auto part = start_envelope(parts_message, 2).initPartitionsReply().initPartitions(1)[0];
  part.setName("all");
  auto members = part.initNodes(kNodes);
  for (unsigned i = 0; i < kNodes; ++i) {
    const std::string name = "n" + std::to_string(i + 1);
    nodes[i].setName(name);
    nodes[i].setState("UP");
    nodes[i].getTotal().setMillicores(8000);
    nodes[i].getFree().setMillicores(8000);
    members.set(i, name);
  }
  auto decoded_nodes = decode(encode(nodes_message));
  auto decoded_parts = decode(encode(parts_message));
  ASSERT_TRUE(decoded_nodes && decoded_parts);
  auto parts = (*decoded_parts)->envelope().getPartitionsReply().getPartitions();
  auto listed = (*decoded_nodes)->envelope().getNodesReply().getNodes();
  for (std::string_view text : {"%all", "%R %D %c %t %N"}) {
    auto format = parse_sinfo_format(text, false, "-o");
    ASSERT_TRUE(format);
    std::string out;
    EXPECT_NO_THROW(out = sinfo_listing(*format, parts, listed, {}, false, false)) << text;
    if (text != "%all") {
      EXPECT_EQ(out, "all 500 8 idle n[1-500]\n");
    }
  }
}

}  // namespace
}  // namespace cadre::cli
