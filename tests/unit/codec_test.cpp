// Specification of common/codec: the only door from network bytes to a message.
#include "common/codec.hpp"

#include <gtest/gtest.h>

#include <kj/exception.h>

#include <cstring>
#include <optional>
#include <random>
#include <string>

namespace cadre {
namespace {

std::unique_ptr<Decoded> decode_ok(const std::string& bytes) {
  auto r = decode(bytes);
  EXPECT_TRUE(r) << r.error();
  return r ? std::move(*r) : nullptr;
}

std::string submit_bytes(uint64_t request_id) {
  capnp::MallocMessageBuilder message;
  auto req = start_envelope(message, request_id).initSubmit().initRequest();
  req.setName("train");
  auto argv = req.initArgv(3);
  argv.set(0, "python");
  argv.set(1, "train.py");
  argv.set(2, "--epochs=3");
  req.setWorkdir("/home/ada");
  req.setOutputPattern("out-%j-%t.log");
  auto per = req.initPerTask();
  per.setMillicores(4000);
  per.setMemoryMb(16384);
  per.setGpus(2);
  req.setNodes(2);
  req.setTasksPerNode(4);
  req.setNtasks(8);
  req.setTimeLimitSec(3600);
  req.setPriority(-7);
  req.setUser("ada");
  req.setUid(1000);
  req.setGid(1001);
  return encode(message);
}

// A single-segment message framed by hand: the segment table, then `words`.
std::string framed(const std::vector<uint64_t>& words) {
  std::string out(8 + words.size() * 8, '\0');
  uint32_t header[2] = {0, static_cast<uint32_t>(words.size())};  // one segment, its size in words
  std::memcpy(out.data(), header, sizeof header);
  std::memcpy(out.data() + 8, words.data(), words.size() * 8);
  return out;
}

// A struct pointer word: offset in words from the end of the pointer, then sizes.
uint64_t struct_pointer(int32_t offset, uint16_t data_words, uint16_t pointers) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(offset) << 2)) | (uint64_t{data_words} << 32) |
         (uint64_t{pointers} << 48);
}

TEST(Codec, SubmitRoundTripsEveryField) {
  auto d = decode_ok(submit_bytes(42));
  ASSERT_TRUE(d);
  auto env = d->envelope();
  EXPECT_EQ(env.getVersion(), kProtocolVersion);
  EXPECT_EQ(env.getRequestId(), 42u);
  ASSERT_EQ(env.which(), Envelope::SUBMIT);
  auto req = env.getSubmit().getRequest();
  EXPECT_EQ(std::string(req.getName().cStr()), "train");
  ASSERT_EQ(req.getArgv().size(), 3u);
  EXPECT_EQ(std::string(req.getArgv()[2].cStr()), "--epochs=3");
  EXPECT_EQ(std::string(req.getWorkdir().cStr()), "/home/ada");
  EXPECT_EQ(std::string(req.getOutputPattern().cStr()), "out-%j-%t.log");
  EXPECT_EQ(req.getPerTask().getMillicores(), 4000);
  EXPECT_EQ(req.getPerTask().getMemoryMb(), 16384);
  EXPECT_EQ(req.getPerTask().getGpus(), 2);
  EXPECT_EQ(req.getNodes(), 2u);
  EXPECT_EQ(req.getTasksPerNode(), 4u);
  EXPECT_EQ(req.getNtasks(), 8u);
  EXPECT_EQ(req.getTimeLimitSec(), 3600u);
  EXPECT_EQ(req.getPriority(), -7);
  EXPECT_EQ(std::string(req.getUser().cStr()), "ada");
  EXPECT_EQ(req.getUid(), 1000u);
  EXPECT_EQ(req.getGid(), 1001u);
}

TEST(Codec, TaskStatusRoundTrips) {
  capnp::MallocMessageBuilder message;
  auto ts = start_envelope(message, 7).initTaskStatus();
  ts.setNode("gpu-03");
  ts.setJobId(123456789012ull);
  ts.setRank(15);
  ts.setAttempt(2);
  ts.setEvent(TaskEvent::EXITED);
  ts.setExitCode(-1);
  ts.setSignal(9);
  ts.setMessage("killed");
  auto d = decode_ok(encode(message));
  ASSERT_TRUE(d);
  ASSERT_EQ(d->envelope().which(), Envelope::TASK_STATUS);
  auto r = d->envelope().getTaskStatus();
  EXPECT_EQ(std::string(r.getNode().cStr()), "gpu-03");
  EXPECT_EQ(r.getJobId(), 123456789012ull);
  EXPECT_EQ(r.getRank(), 15u);
  EXPECT_EQ(r.getAttempt(), 2u);
  EXPECT_EQ(r.getEvent(), TaskEvent::EXITED);
  EXPECT_EQ(r.getExitCode(), -1);
  EXPECT_EQ(r.getSignal(), 9);
  EXPECT_EQ(std::string(r.getMessage().cStr()), "killed");
}

TEST(Codec, RegisterWithLabelsAndRunningRanksRoundTrips) {
  capnp::MallocMessageBuilder message;
  auto reg = start_envelope(message, 1).initRegister();
  reg.setName("n1");
  reg.setAddress("10.0.0.1");
  auto labels = reg.initLabels(2);
  labels[0].setKey("rack");
  labels[0].setValue("a");
  labels[1].setKey("gpu");
  labels[1].setValue("h100");
  auto running = reg.initRunning(1);
  running[0].setJobId(9);
  running[0].setRank(3);
  running[0].setAttempt(1);
  auto d = decode_ok(encode(message));
  ASSERT_TRUE(d);
  ASSERT_EQ(d->envelope().which(), Envelope::REGISTER);
  auto r = d->envelope().getRegister();
  ASSERT_EQ(r.getLabels().size(), 2u);
  EXPECT_EQ(std::string(r.getLabels()[1].getValue().cStr()), "h100");
  ASSERT_EQ(r.getRunning().size(), 1u);
  EXPECT_EQ(r.getRunning()[0].getJobId(), 9u);
  EXPECT_EQ(r.getRunning()[0].getRank(), 3u);
}

TEST(Codec, CancelReplyRoundTrips) {
  capnp::MallocMessageBuilder message;
  auto results = start_envelope(message, 5).initCancelReply().initResults(2);
  results[0].setId(1);
  results[0].setOk(true);
  results[1].setId(2);
  results[1].setOk(false);
  results[1].setMessage("no active job 2");
  auto d = decode_ok(encode(message));
  ASSERT_TRUE(d);
  ASSERT_EQ(d->envelope().which(), Envelope::CANCEL_REPLY);
  auto r = d->envelope().getCancelReply().getResults();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].getOk());
  EXPECT_FALSE(r[1].getOk());
  EXPECT_EQ(std::string(r[1].getMessage().cStr()), "no active job 2");
}

TEST(Codec, EncodeErrorCarriesTheRequestIdAndText) {
  auto d = decode_ok(encode_error(99, "no such job"));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->envelope().getRequestId(), 99u);
  ASSERT_EQ(d->envelope().which(), Envelope::ERROR);
  EXPECT_EQ(std::string(d->envelope().getError().getMessage().cStr()), "no such job");
}

TEST(Codec, DecodedMessageOwnsItsMemory) {
  std::unique_ptr<Decoded> d;
  {
    std::string bytes = submit_bytes(3);
    d = decode_ok(bytes);
    bytes.assign(bytes.size(), '\xff');  // the caller's buffer is gone
  }
  ASSERT_TRUE(d);
  EXPECT_EQ(std::string(d->envelope().getSubmit().getRequest().getUser().cStr()), "ada");
}

TEST(Codec, RejectsEmptyBytes) {
  auto r = decode("");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "empty message");
}

TEST(Codec, RejectsSizesThatAreNotWholeWords) {
  std::string good = submit_bytes(1);
  for (size_t cut : {size_t{1}, size_t{3}, size_t{7}}) {
    auto r = decode(std::string_view(good).substr(0, good.size() - cut));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("not a whole number of 8-byte words"), std::string::npos) << r.error();
  }
}

TEST(Codec, RejectsAnotherProtocolVersion) {
  for (uint16_t version : {uint16_t{0}, uint16_t{kProtocolVersion + 1}, uint16_t{0xffff}}) {
    capnp::MallocMessageBuilder message;
    auto env = start_envelope(message, 1);
    env.setVersion(version);
    env.initHeartbeat().setName("n1");
    auto r = decode(encode(message));
    ASSERT_FALSE(r) << "version " << version;
    EXPECT_NE(r.error().find("protocol version " + std::to_string(version) + " is not supported"), std::string::npos)
        << r.error();
  }
}

TEST(Codec, RejectsARootPointerOutOfBounds) {
  // One-word segment whose root struct claims to live 1000 words further on.
  auto r = decode(framed({struct_pointer(1000, 1, 0)}));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("malformed message"), std::string::npos) << r.error();
}

TEST(Codec, RejectsAStructWhosePointerSectionRunsOffTheSegment) {
  // Root at offset 0 with 1 data word (present) and 4 pointers (absent).
  auto r = decode(framed({struct_pointer(0, 1, 4), 0}));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("malformed message"), std::string::npos) << r.error();
}

TEST(Codec, RejectsASegmentTableLongerThanTheMessage) {
  std::string bytes = framed({struct_pointer(0, 1, 0), 0});
  uint32_t huge = 1u << 20;
  std::memcpy(bytes.data() + 4, &huge, sizeof huge);  // claims a 1M-word segment
  auto r = decode(bytes);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("malformed message"), std::string::npos) << r.error();
}

TEST(Codec, RejectsOneByteOverTheSizeLimitBeforeReadingIt) {
  std::string big(kMaxMessageBytes + 1, '\0');
  auto r = decode(big);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "message of " + std::to_string(kMaxMessageBytes + 1) + " bytes exceeds the limit of " +
                           std::to_string(kMaxMessageBytes));
  // Exactly at the limit the size is fine (these zeros fail later, for another reason).
  big.resize(kMaxMessageBytes);
  auto at_limit = decode(big);
  ASSERT_FALSE(at_limit);
  EXPECT_EQ(at_limit.error().find("exceeds the limit"), std::string::npos) << at_limit.error();
}

TEST(Codec, RandomGarbageNeverCrashesOrThrows) {
  std::mt19937 rng(20240611);
  int accepted = 0;
  for (int i = 0; i < 5000; ++i) {
    size_t size = std::uniform_int_distribution<size_t>(0, 300)(rng);
    std::string bytes(size, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    // Half the time frame it as one plausible segment, so the pointer
    // checks (not only the segment table) see the garbage.
    if (i % 2 == 0 && size >= 16 && size % 8 == 0) {
      uint32_t header[2] = {0, static_cast<uint32_t>(size / 8 - 1)};
      std::memcpy(bytes.data(), header, sizeof header);
    }
    ASSERT_NO_THROW({
      auto r = decode(bytes);
      if (r) {
        ++accepted;
        // Whatever was accepted must be safe to read.
        auto env = (*r)->envelope();
        (void)env.which();
        (void)env.getRequestId();
      } else {
        EXPECT_FALSE(r.error().empty());
      }
    }) << "iteration " << i << " size " << size;
  }
  // Random bytes almost never carry version 1 in the right place.
  EXPECT_LT(accepted, 50);
}

// Reads every field of a decoded Submit, as the master's handler would.
void read_submit(Envelope::Reader env) {
  if (!env.isSubmit()) return;
  auto req = env.getSubmit().getRequest();
  (void)req.getName().size();
  for (auto a : req.getArgv()) (void)a.size();
  (void)req.getWorkdir().size();
  (void)req.getPerTask().getGpus();
  (void)req.getUser().size();
}

TEST(Codec, EveryBitFlipOfAValidMessageIsHandled) {
  // decode() checks bounds and limits, not types: a flipped bit may turn a
  // struct pointer into a list pointer that only a typed read notices. Such
  // reads fail with kj::Exception, which every service catches around its
  // handlers; nothing may crash, and decode() itself never throws.
  const std::string good = submit_bytes(11);
  int rejected = 0, failed_on_read = 0;
  for (size_t byte = 0; byte < good.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bytes = good;
      bytes[byte] = static_cast<char>(bytes[byte] ^ (1 << bit));
      std::optional<Result<std::unique_ptr<Decoded>>> r;
      ASSERT_NO_THROW(r.emplace(decode(bytes))) << "byte " << byte << " bit " << bit;
      if (!*r) {
        ++rejected;
        EXPECT_FALSE(r->error().empty());
        continue;
      }
      try {
        read_submit((**r)->envelope());
      } catch (const kj::Exception&) {
        ++failed_on_read;
      }
    }
  }
  EXPECT_GT(rejected, 0) << "no flip was caught by decode";
  ::testing::Test::RecordProperty("failed_on_read", failed_on_read);
}

}  // namespace
}  // namespace cadre
