// Specification of common/job_request: the one JobSpec <-> JobRequest codec.
#include "common/job_request.hpp"

#include <gtest/gtest.h>

#include <capnp/message.h>

#include "common/codec.hpp"

namespace cadre {
namespace {

// A spec with every field away from its default.
JobSpec full_spec() {
  JobSpec s;
  s.name = "train";
  s.argv = {"python", "train.py", "--epochs=3", ""};
  s.workdir = "/home/ada/project";
  s.output_pattern = "out-%j-%t.log";
  s.per_task = Resources{4000, 16384, 2};
  s.nodes = 2;
  s.tasks_per_node = 4;
  s.ntasks = 8;
  s.time_limit_s = 3600;
  s.time_limit_given = true;
  s.priority = -7;
  s.user = "ada";
  s.uid = 1000;
  s.gid = 1001;
  s.requeue = false;
  s.partition = "gpu";
  s.account = "physics";
  s.max_switches = 1;
  s.switches_wait_s = 600;
  s.gpu_type = "H100";
  s.batch = true;
  s.script = "#!/bin/sh\ncadre run -- hostname\n";
  s.error_pattern = "err-%j.log";
  s.umask = 027;
  return s;
}

// Encodes into a real message, frames it as the wire does, and decodes.
JobSpec round_trip(const JobSpec& in, bool with_script = true) {
  capnp::MallocMessageBuilder message;
  to_proto(in, start_envelope(message, 1).initSubmit().initRequest(), with_script);
  auto decoded = decode(encode(message));
  EXPECT_TRUE(decoded) << decoded.error();
  if (!decoded) return {};
  return from_proto((*decoded)->envelope().getSubmit().getRequest());
}

TEST(JobRequest, EveryFieldRoundTrips) {
  const JobSpec in = full_spec();
  EXPECT_EQ(round_trip(in), in);
}

TEST(JobRequest, DefaultsRoundTrip) {
  const JobSpec in;
  EXPECT_EQ(round_trip(in), in);
}

TEST(JobRequest, UmaskRoundTripsUnsetZeroAndRestrictive) {
  for (int32_t umask : {-1, 0, 077, 022, 0777}) {
    JobSpec in = full_spec();
    in.umask = umask;
    EXPECT_EQ(round_trip(in).umask, umask) << "umask " << umask;
  }
}

TEST(JobRequest, AnUnsetUmaskDecodesAsTheAgentsOwn) {
  // An older client never sets the field: the wire default is -1, not 0.
  capnp::MallocMessageBuilder message;
  auto req = message.initRoot<::JobRequest>();
  req.setName("old-client");
  EXPECT_EQ(from_proto(req.asReader()).umask, -1);
}

TEST(JobRequest, ListingsMayLeaveTheScriptOut) {
  const JobSpec in = full_spec();
  JobSpec out = round_trip(in, false);
  EXPECT_EQ(out.script, "");
  out.script = in.script;
  EXPECT_EQ(out, in) << "everything else still travels";
}

TEST(JobRequest, TextKeepsEveryByteIncludingNul) {
  JobSpec in = full_spec();
  in.name = std::string("a\0b", 3);
  in.argv = {"/bin/echo", std::string("x\0y", 3)};
  const JobSpec out = round_trip(in);
  EXPECT_EQ(out.name, in.name) << "a NUL must reach the validator, not cut the text short";
  EXPECT_EQ(out.argv, in.argv);
}

TEST(JobRequest, HugeDurationsAreClampedFarFromOverflow) {
  capnp::MallocMessageBuilder message;
  auto req = message.initRoot<::JobRequest>();
  req.setTimeLimitSec(UINT64_MAX);
  req.setSwitchesWaitSec(UINT64_MAX);
  const JobSpec s = from_proto(req.asReader());
  EXPECT_EQ(s.time_limit_s, int64_t{1} << 40);
  EXPECT_EQ(s.switches_wait_s, int64_t{1} << 40);
}

TEST(JobRequest, ResourcesRoundTrip) {
  capnp::MallocMessageBuilder message;
  auto r = message.initRoot<::Resources>();
  const Resources in{1500, int64_t{1} << 40, 8};
  to_proto(in, r);
  EXPECT_EQ(from_proto(r.asReader()), in);
}

}  // namespace
}  // namespace cadre
