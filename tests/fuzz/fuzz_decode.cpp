// libFuzzer target for cadre::decode(), the only door from network bytes to
// a message. decode() must never crash or throw. Whatever it accepts must be
// readable field by field, as a handler would read it: a pointer of the
// wrong kind may throw kj::Exception (every handler catches that), anything
// else is a bug. An accepted message, copied and encoded again, must decode.
// Every job request in it goes through the master's path, from_proto then
// validate_job_request: a request the validator accepts must keep every
// bound, and every decoded request must survive to_proto/from_proto whole.
// The master's own decoders (master/wire/decode) read every kind they
// handle, and what they accept keeps the bounds of common/limits.hpp.
#include <capnp/dynamic.h>
#include <capnp/message.h>
#include <kj/exception.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/codec.hpp"
#include "common/job_request.hpp"
#include "common/job_validation.hpp"
#include "common/limits.hpp"
#include "master/wire/decode.hpp"

namespace {

// Every value read is added here so the optimiser keeps the reads.
volatile uint64_t sink;

void consume(uint64_t v) { sink = sink + v; }

// libFuzzer counts the bytes in this section as coverage ("extra counters").
// Cap'n Proto's library is not instrumented, so without them the fuzzer could
// not tell a message that fails one check in decode() from one that fails
// another, nor a field that reads from one that throws.
__attribute__((used, section("__libfuzzer_extra_counters"))) uint8_t g_features[1 << 14];

void feature(uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  uint64_t h = a * 0x9E3779B97F4A7C15ull;
  h = (h ^ b) * 0xBF58476D1CE4E5B9ull;
  h = (h ^ c) * 0x94D049BB133111EBull;
  uint8_t& counter = g_features[(h >> 32) % sizeof g_features];
  if (counter < 255) ++counter;
}

// A feature per kind of failure: the text without its numbers (sizes and
// offsets would make every input look new).
void failure_feature(uint64_t where, std::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (char c : text)
    if (c < '0' || c > '9') h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  feature(where, h);
}

enum Where : uint64_t { kDecode = 1, kRead, kField, kList, kValidate };

void visit(const capnp::DynamicValue::Reader& value);

// Reads one element or field; a wrong pointer kind or an exhausted traversal
// limit throws kj::Exception, which is allowed and ends only this read.
template <typename Read>
void guarded(Read&& read) {
  try {
    read();
  } catch (const kj::Exception& e) {
    failure_feature(kRead, e.getDescription().cStr());
  }
}

void visit_bytes(kj::ArrayPtr<const kj::byte> bytes) {
  uint64_t sum = 0;
  for (kj::byte b : bytes) sum += b;
  consume(sum);
}

void visit_field(const capnp::DynamicStruct::Reader& s, capnp::StructSchema::Field field) {
  const uint64_t id = s.getSchema().getProto().getId();
  guarded([&] {
    bool has = s.has(field);
    feature(kField, id, field.getIndex() * 2 + has);
    consume(has);
    visit(s.get(field));
  });
}

// Non-union fields, then the union member the discriminant names (if the
// schema knows it: a newer peer may send one it does not).
void visit_struct(const capnp::DynamicStruct::Reader& s) {
  for (auto field : s.getSchema().getNonUnionFields()) visit_field(s, field);
  KJ_IF_MAYBE(active, s.which()) { visit_field(s, *active); }
}

void visit(const capnp::DynamicValue::Reader& value) {
  switch (value.getType()) {
    case capnp::DynamicValue::BOOL: consume(value.as<bool>()); break;
    case capnp::DynamicValue::INT: consume(static_cast<uint64_t>(value.as<int64_t>())); break;
    case capnp::DynamicValue::UINT: consume(value.as<uint64_t>()); break;
    case capnp::DynamicValue::FLOAT: consume(value.as<double>() != 0.0); break;
    case capnp::DynamicValue::TEXT: {
      auto text = value.as<capnp::Text>();
      visit_bytes(text.asBytes());
      consume(std::string(text.cStr()).size());  // as handlers copy it
      break;
    }
    case capnp::DynamicValue::DATA: visit_bytes(value.as<capnp::Data>()); break;
    case capnp::DynamicValue::LIST: {
      auto list = value.as<capnp::DynamicList>();
      feature(kList, static_cast<uint64_t>(list.getSchema().whichElementType()), std::bit_width(list.size()));
      for (uint32_t i = 0; i < list.size(); ++i) guarded([&] { visit(list[i]); });
      break;
    }
    case capnp::DynamicValue::ENUM: {
      auto e = value.as<capnp::DynamicEnum>();
      consume(e.getRaw());
      KJ_IF_MAYBE(known, e.getEnumerant()) { consume(known->getIndex()); }
      break;
    }
    case capnp::DynamicValue::STRUCT: visit_struct(value.as<capnp::DynamicStruct>()); break;
    default: break;  // VOID; the protocol has no AnyPointer or capability fields
  }
}

void check_reencodes(::Envelope::Reader env) {
  std::string bytes;
  try {
    capnp::MallocMessageBuilder copy;
    copy.setRoot(env);
    bytes = cadre::encode(copy);
  } catch (const kj::Exception&) {
    return;  // e.g. the traversal limit, spent by the reads above
  }
  if (!cadre::decode(bytes)) __builtin_trap();
}

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

// What validate_job_request promises of a request it accepts.
void check_accepted(const cadre::JobSpec& s, const cadre::RequestBounds& b) {
  namespace limits = cadre::limits;
  bool ok = !s.argv.empty() && !s.argv[0].empty() && s.argv.size() <= limits::kMaxArgvWords;
  size_t command_bytes = 0;
  for (const std::string& a : s.argv) {
    command_bytes += a.size() + 1;
    ok = ok && !has_nul(a) && cadre::valid_utf8(a);
  }
  ok = ok && command_bytes <= b.max_command_bytes && s.script.size() <= b.max_script_bytes;
  ok = ok && s.name.size() <= limits::kMaxJobNameBytes && s.user.size() <= limits::kMaxUserNameBytes &&
       s.account.size() <= limits::kMaxUserNameBytes && s.partition.size() <= limits::kMaxPartitionNameBytes &&
       s.gpu_type.size() <= limits::kMaxGpuTypeBytes && s.workdir.size() <= limits::kMaxPathBytes &&
       s.output_pattern.size() <= limits::kMaxPathBytes && s.error_pattern.size() <= limits::kMaxPathBytes;
  for (const std::string* t : {&s.name, &s.user, &s.account, &s.partition, &s.gpu_type, &s.workdir,
                               &s.output_pattern, &s.error_pattern, &s.script})
    ok = ok && !has_nul(*t) && cadre::valid_utf8(*t);
  ok = ok && !s.workdir.empty() && s.workdir[0] == '/';
  ok = ok && s.ntasks >= 1 && s.ntasks <= limits::kMaxTasksPerJob;
  ok = ok && (s.nodes == 0 || uint64_t{s.nodes} * s.tasks_per_node == s.ntasks);
  ok = ok && s.per_task.millicores > 0 && s.per_task.millicores <= limits::kMaxMillicoresPerTask &&
       s.per_task.memory_mb >= 0 && s.per_task.memory_mb <= limits::kMaxMemoryMbPerTask &&
       s.per_task.gpus >= 0 && s.per_task.gpus <= limits::kMaxGpusPerTask;
  ok = ok && s.time_limit_s >= 0 && s.time_limit_s <= limits::kMaxTimeLimitS && s.switches_wait_s >= 0 &&
       s.switches_wait_s <= limits::kMaxTimeLimitS;
  ok = ok && s.priority >= limits::kMinPriority && s.priority <= limits::kMaxPriority;
  ok = ok && s.umask >= -1 && s.umask <= 0777;
  ok = ok && s.batch == !s.script.empty();
  if (!ok) __builtin_trap();
}

void check_job_request(::JobRequest::Reader r) {
  guarded([&] {
    const cadre::JobSpec spec = cadre::from_proto(r);
    // Small bounds too, so the fuzzer reaches the size checks with small inputs.
    for (const cadre::RequestBounds& b : {cadre::RequestBounds{}, cadre::RequestBounds{64, 64}}) {
      cadre::Status st = cadre::validate_job_request(spec, b);
      if (st) check_accepted(spec, b);
      else failure_feature(kValidate, st.error());
    }
    capnp::MallocMessageBuilder copy;
    cadre::to_proto(spec, copy.initRoot<::JobRequest>());
    if (!(cadre::from_proto(copy.getRoot<::JobRequest>().asReader()) == spec)) __builtin_trap();
  });
}

// As the master reads them: each request of a submit or a submitMany.
void check_job_requests(::Envelope::Reader env) {
  guarded([&] {
    if (env.isSubmit()) check_job_request(env.getSubmit().getRequest());
    if (env.isSubmitMany())
      for (auto r : env.getSubmitMany().getRequests()) check_job_request(r);
  });
}

// As the master's server reads them (master/wire/decode): whatever it
// accepts stays within the bounds of common/limits.hpp.
void check_master_decoders(::Envelope::Reader env) {
  namespace lim = cadre::limits;
  guarded([&] {
    switch (env.which()) {
      case ::Envelope::REGISTER:
        if (auto r = cadre::wire::decode_register(env.getRegister())) {
          if (r->name.empty() || r->name.size() > lim::kMaxNodeNameBytes || r->labels.size() > lim::kMaxLabels ||
              r->gpus.size() > lim::kMaxGpusPerNode || r->running.size() > lim::kMaxTasksPerRegistration)
            __builtin_trap();
        }
        break;
      case ::Envelope::TASK_STATUS:
        if (auto t = cadre::wire::decode_task_status(env.getTaskStatus()))
          if (t->message.size() > lim::kMaxMessageTextBytes) __builtin_trap();
        break;
      case ::Envelope::SUBMIT_MANY:
        if (auto jobs = cadre::wire::decode_submit_many(env.getSubmitMany()))
          if (jobs->size() > lim::kMaxJobsPerSubmitMany) __builtin_trap();
        break;
      case ::Envelope::CANCEL:
        if (auto ids = cadre::wire::decode_cancel(env.getCancel()))
          if (ids->size() > lim::kMaxIdsPerRequest) __builtin_trap();
        break;
      case ::Envelope::RUN_STEP:
        if (auto step = cadre::wire::decode_run_step(env.getRunStep()))
          if (step->argv.size() > lim::kMaxArgvWords || step->workdir.size() > lim::kMaxPathBytes) __builtin_trap();
        break;
      case ::Envelope::SET_NODE_STATE:
        if (auto req = cadre::wire::decode_set_node_state(env.getSetNodeState()))
          if (req->names.size() > lim::kMaxNodesPerRequest || req->reason.size() > lim::kMaxReasonBytes)
            __builtin_trap();
        break;
      case ::Envelope::LIST_JOBS:
        if (cadre::wire::decode_list_jobs(env.getListJobs()).limit > lim::kJobsPerPage) __builtin_trap();
        break;
      default: break;
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto decoded = cadre::decode(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!decoded) {
    failure_feature(kDecode, decoded.error());
    return 0;
  }
  ::Envelope::Reader env = (*decoded)->envelope();
  if (env.getVersion() != cadre::kProtocolVersion) __builtin_trap();
  consume(static_cast<uint64_t>(env.which()));
  check_job_requests(env);
  check_master_decoders(env);
  visit_struct(capnp::toDynamic(env));
  check_reencodes(env);
  return 0;
}
