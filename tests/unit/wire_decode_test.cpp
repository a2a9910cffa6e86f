// Specification of master/wire/decode: every list and text a peer sends is
// measured against common/limits.hpp before it is copied.
#include "master/wire/decode.hpp"

#include <gtest/gtest.h>

#include <capnp/message.h>

#include "common/codec.hpp"
#include "common/limits.hpp"

namespace cadre::wire {
namespace {

TEST(WireDecode, ACancelOfTooManyIdsIsRefusedNamingTheLimit) {
  capnp::MallocMessageBuilder m;
  auto ids = m.initRoot<Cancel>().initIds(limits::kMaxIdsPerRequest + 1);
  for (unsigned i = 0; i < ids.size(); ++i) ids.set(i, i + 1);
  auto r = decode_cancel(m.getRoot<Cancel>().asReader());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("at most 10000"), std::string::npos) << r.error();
}

TEST(WireDecode, ACancelAnswersEachJobOnce) {
  capnp::MallocMessageBuilder m;
  auto ids = m.initRoot<Cancel>().initIds(4);
  ids.set(0, 7), ids.set(1, 3), ids.set(2, 7), ids.set(3, 3);
  auto r = decode_cancel(m.getRoot<Cancel>().asReader());
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (std::vector<JobId>{7, 3}));
}

TEST(WireDecode, ASubmitManyOverTheLimitIsRefusedWhole) {
  capnp::MallocMessageBuilder m;
  m.initRoot<SubmitMany>().initRequests(limits::kMaxJobsPerSubmitMany + 1);
  auto r = decode_submit_many(m.getRoot<SubmitMany>().asReader());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("at most"), std::string::npos);
}

TEST(WireDecode, ARegistrationWithAnOversizeNameOrTooManyLabelsIsRefused) {
  {
    capnp::MallocMessageBuilder m;
    m.initRoot<Register>().setName(std::string(limits::kMaxNodeNameBytes + 1, 'n'));
    auto r = decode_register(m.getRoot<Register>().asReader());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("at most 200"), std::string::npos) << r.error();
  }
  {
    capnp::MallocMessageBuilder m;
    auto reg = m.initRoot<Register>();
    reg.setName("n1");
    reg.initLabels(limits::kMaxLabels + 1);
    EXPECT_FALSE(decode_register(m.getRoot<Register>().asReader()));
  }
  {
    capnp::MallocMessageBuilder m;
    auto reg = m.initRoot<Register>();
    reg.setName("n1");
    reg.initGpus(limits::kMaxGpusPerNode + 1);
    EXPECT_FALSE(decode_register(m.getRoot<Register>().asReader()));
  }
  {
    capnp::MallocMessageBuilder m;
    auto reg = m.initRoot<Register>();
    reg.setName("n1");
    auto labels = reg.initLabels(1);
    labels[0].setKey("rack");
    labels[0].setValue("r1");
    auto ok = decode_register(m.getRoot<Register>().asReader());
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->labels.at("rack"), "r1");
  }
}

TEST(WireDecode, ATaskStatusMessageIsBounded) {
  capnp::MallocMessageBuilder m;
  auto s = m.initRoot<TaskStatus>();
  s.setNode("n1");
  s.setMessage(std::string(limits::kMaxMessageTextBytes + 1, 'x'));
  EXPECT_FALSE(decode_task_status(m.getRoot<TaskStatus>().asReader()));
}

TEST(WireDecode, AStepCommandAndItsHostsAreBounded) {
  capnp::MallocMessageBuilder m;
  auto s = m.initRoot<RunStep>();
  s.initArgv(limits::kMaxArgvWords + 1);
  EXPECT_FALSE(decode_run_step(m.getRoot<RunStep>().asReader()));
  s.initArgv(1).set(0, "hostname");
  s.initHosts(1).set(0, std::string(limits::kMaxNodeNameBytes + 1, 'h'));
  EXPECT_FALSE(decode_run_step(m.getRoot<RunStep>().asReader()));
  s.initHosts(1).set(0, "n1");
  EXPECT_TRUE(decode_run_step(m.getRoot<RunStep>().asReader()));
}

TEST(WireDecode, ADrainOfTooManyNodesOrWithAnOversizeReasonIsRefused) {
  capnp::MallocMessageBuilder m;
  auto s = m.initRoot<SetNodeState>();
  s.setState("DRAIN");
  s.initNames(limits::kMaxNodesPerRequest + 1);
  EXPECT_FALSE(decode_set_node_state(m.getRoot<SetNodeState>().asReader()));
  s.initNames(1).set(0, "n1");
  s.setReason(std::string(limits::kMaxReasonBytes + 1, 'r'));
  EXPECT_FALSE(decode_set_node_state(m.getRoot<SetNodeState>().asReader()));
  s.setReason("maintenance");
  EXPECT_TRUE(decode_set_node_state(m.getRoot<SetNodeState>().asReader()));
}

TEST(WireDecode, AListingAsksForAtMostOnePage) {
  capnp::MallocMessageBuilder m;
  auto l = m.initRoot<ListJobs>();
  l.setLimit(1u << 30);
  EXPECT_EQ(decode_list_jobs(m.getRoot<ListJobs>().asReader()).limit, limits::kJobsPerPage);
  l.setLimit(0);
  EXPECT_EQ(decode_list_jobs(m.getRoot<ListJobs>().asReader()).limit, limits::kJobsPerPage);
  l.setLimit(5);
  EXPECT_EQ(decode_list_jobs(m.getRoot<ListJobs>().asReader()).limit, 5u);
}

}  // namespace
}  // namespace cadre::wire
