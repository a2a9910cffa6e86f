// Specification of cli/format: what people see of jobs and nodes cannot be
// turned against their terminal, and what scripts read stays exact.
#include "cli/format.hpp"

#include <capnp/message.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace cadre::cli {
namespace {

const std::string kHostile = "x\x1b[2J\r\nFAKE";

bool has_raw_control(const std::string& text) {
  // Line ends are the table's own; anything else below 0x20, or DEL, came from a value.
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto b = static_cast<unsigned char>(c);
    return (b < 0x20 && b != '\n') || b == 0x7f;
  });
}

size_t lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

// A job whose every text field carries control characters, built in `message`.
JobInfo::Reader hostile_job(capnp::MallocMessageBuilder& message) {
  auto job = message.initRoot<JobInfo>();
  job.setId(7);
  job.setState("PENDING");
  job.setReason("Priority\x1b]0;owned\x07");
  auto r = job.initRequest();
  r.setName(kHostile);
  r.setUser("ann\r\n7 evil RUNNING");
  r.setPartition("gpu\x1b[31m");
  r.setAccount("acct\xc2\x9b" "2J");
  r.setWorkdir("/home/ann/\n");
  r.setOutputPattern("out\t%j");
  auto argv = r.initArgv(2);
  argv.set(0, "sh");
  argv.set(1, "-c\x1b[1A");
  auto nodes = job.initNodes(1);
  nodes.set(0, "node\r1");
  return job.asReader();
}

TEST(Format, AHostileJobNamePrintsOnOneLineWithNoRawControls) {
  capnp::MallocMessageBuilder message;
  std::vector<JobInfo::Reader> jobs{hostile_job(message)};
  const std::string table = jobs_table(jobs, 0);
  EXPECT_EQ(lines(table), 2u) << "a header and one job:\n" << table;
  EXPECT_FALSE(has_raw_control(table)) << table;
  EXPECT_NE(table.find("x\\e[2J\\r\\nFAKE"), std::string::npos) << table;
  EXPECT_NE(table.find("ann\\r\\n7 evil RUNNING"), std::string::npos) << table;
  EXPECT_NE(table.find("(Priority\\e]0;owned\\x07)"), std::string::npos) << table;
}

TEST(Format, JobDetailsEscapeEveryValue) {
  capnp::MallocMessageBuilder message;
  const std::string details = job_details(hostile_job(message), 0);
  EXPECT_FALSE(has_raw_control(details)) << details;
  EXPECT_EQ(details.find("\xc2\x9b"), std::string::npos) << "a C1 CSI got through";
  EXPECT_NE(details.find("Name=x\\e[2J\\r\\nFAKE\n"), std::string::npos) << details;
  EXPECT_NE(details.find("Account=acct\\u009b2J\n"), std::string::npos) << details;
  EXPECT_NE(details.find("WorkDir=/home/ann/\\n\n"), std::string::npos) << details;
  EXPECT_NE(details.find("Command=sh -c\\e[1A\n"), std::string::npos) << details;
  EXPECT_NE(details.find("NodeList=node\\r1\n"), std::string::npos) << details;
}

TEST(Format, JsonKeepsTheNameExact) {
  capnp::MallocMessageBuilder message;
  auto json = job_json(hostile_job(message));
  EXPECT_EQ(json["name"].get<std::string>(), kHostile);
  const std::string dumped = json.dump();
  EXPECT_FALSE(has_raw_control(dumped)) << "the JSON writer escapes it";
  EXPECT_EQ(nlohmann::json::parse(dumped)["name"].get<std::string>(), kHostile);
}

TEST(Format, HostileNodeNamesAndLabelsStayInTheirRow) {
  capnp::MallocMessageBuilder message;
  auto nodes = message.initRoot<NodesReply>().initNodes(1);
  auto n = nodes[0];
  n.setName("gpu\x1b[2K01");
  n.setState("UP");
  n.setAddress("10.0.0.1\r");
  auto labels = n.initLabels(1);
  labels[0].setKey("rack\n");
  labels[0].setValue("r1\x1b");
  auto gpus = n.initGpus(1);
  gpus[0].setModel("H100\x07");
  const std::string table = nodes_table(nodes.asReader());
  EXPECT_EQ(lines(table), 2u) << table;
  EXPECT_FALSE(has_raw_control(table)) << table;
  EXPECT_NE(table.find("gpu\\e[2K01"), std::string::npos) << table;
  EXPECT_NE(table.find("rack\\n=r1\\e"), std::string::npos) << table;
  EXPECT_NE(table.find("1x H100\\x07"), std::string::npos) << table;
}

TEST(RenderTable, PadsEscapedCellsToTheirWidth) {
  EXPECT_EQ(render_table({{"A", "B"}, {"\t", "x"}}), "A   B\n\\t  x\n");
}

}  // namespace
}  // namespace cadre::cli
