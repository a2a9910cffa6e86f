#include "master/wire/decode.hpp"

#include <set>
#include <string_view>

#include "common/constraint.hpp"
#include "common/job_request.hpp"
#include "common/job_validation.hpp"
#include "common/limits.hpp"
#include "master/wire/encode.hpp"

namespace cadre::wire {
namespace {

using namespace cadre::limits;

std::string too_long(std::string_view what, size_t size, size_t max) {
  return what.empty() ? std::string() : std::string(what) + " is " + std::to_string(size) + " bytes; at most " +
                                            std::to_string(max) + " are allowed";
}

std::string too_many(std::string_view what, size_t count, size_t max) {
  return std::string(what) + ": " + std::to_string(count) + " given; at most " + std::to_string(max) +
         " are allowed in one request";
}

// Copies `t` into `out` when it is within `max` bytes.
Status take_text(capnp::Text::Reader t, size_t max, std::string_view what, std::string& out) {
  if (t.size() > max) return make_error(too_long(what, t.size(), max));
  out.assign(t.cStr(), t.size());
  return {};
}

Status take_labels(capnp::List<Label>::Reader labels, std::map<std::string, std::string>& out) {
  if (labels.size() > kMaxLabels) return make_error(too_many("node labels", labels.size(), kMaxLabels));
  for (auto l : labels) {
    std::string key, value;
    if (Status s = take_text(l.getKey(), kMaxLabelBytes, "a label's key", key); !s) return s;
    if (Status s = take_text(l.getValue(), kMaxLabelBytes, "a label's value", value); !s) return s;
    out[std::move(key)] = std::move(value);
  }
  return {};
}

Status take_running(capnp::List<RunningTask>::Reader running, std::vector<RunningTaskRef>& out) {
  if (running.size() > kMaxTasksPerRegistration)
    return make_error(too_many("running ranks", running.size(), kMaxTasksPerRegistration));
  out.reserve(running.size());
  for (auto t : running) {
    RunningTaskRef ref{t.getJobId(), t.getStep(), t.getRank(), t.getAttempt(), t.getExited(), t.getLaunchFailed(),
                       t.getLost(), t.getExitCode(), t.getSignal(), {}, t.getOomKilled()};
    if (Status s = take_text(t.getMessage(), kMaxMessageTextBytes, "a rank's message", ref.message); !s) return s;
    out.push_back(std::move(ref));
  }
  return {};
}

}  // namespace

Result<NodeRegistration> decode_register(Register::Reader r) {
  NodeRegistration reg;
  if (Status s = take_text(r.getName(), kMaxNodeNameBytes, "the node name", reg.name); !s) return make_error(s.error());
  if (reg.name.empty()) return make_error("the node name is empty");
  if (Status s = take_text(r.getAddress(), kMaxAddressBytes, "the node address", reg.address); !s)
    return make_error(s.error());
  reg.total = cadre::from_proto(r.getTotal());
  if (!reg.total.non_negative() || reg.total.gpus > static_cast<int64_t>(kMaxGpusPerNode) ||
      reg.total.millicores > kMaxMillicoresPerNode || reg.total.memory_mb > kMaxMemoryMbPerNode)
    return make_error("the node's resources are negative or beyond what one node can have");
  if (r.getGpus().size() > kMaxGpusPerNode)
    return make_error(too_many("GPUs", r.getGpus().size(), kMaxGpusPerNode));
  for (auto g : r.getGpus()) {
    if (g.getUuid().size() > kMaxLabelBytes || g.getModel().size() > kMaxLabelBytes ||
        g.getNvlinkPeers().size() > kMaxGpusPerNode)
      return make_error("a GPU's uuid or model is over " + std::to_string(kMaxLabelBytes) + " bytes");
    reg.gpus.push_back(cadre::from_proto(g));
  }
  if (Status s = take_labels(r.getLabels(), reg.labels); !s) return make_error(s.error());
  if (r.getFeatures().size() > kMaxLabels) return make_error(too_many("node features", r.getFeatures().size(), kMaxLabels));
  for (auto f : r.getFeatures()) {
    std::string name(f.cStr(), f.size());
    if (Status s = check_feature_name(name); !s) return make_error(s.error());
    reg.features.push_back(std::move(name));
  }
  if (Status s = take_running(r.getRunning(), reg.running); !s) return make_error(s.error());
  if (Status s = take_text(r.getIsolation(), kMaxMessageTextBytes, "the isolation note", reg.isolation); !s)
    return make_error(s.error());
  return reg;
}

Result<TaskEvent> decode_task_status(TaskStatus::Reader s) {
  TaskEvent ev;
  if (Status st = take_text(s.getNode(), kMaxNodeNameBytes, "the node name", ev.node); !st)
    return make_error(st.error());
  ev.job = s.getJobId();
  ev.step = s.getStep();
  ev.rank = s.getRank();
  ev.attempt = s.getAttempt();
  ev.oom_killed = s.getOomKilled();
  switch (s.getEvent()) {
    case ::TaskEvent::STARTED: ev.kind = TaskEventKind::started; break;
    case ::TaskEvent::EXITED: ev.kind = TaskEventKind::exited; break;
    case ::TaskEvent::LAUNCH_FAILED: ev.kind = TaskEventKind::launch_failed; break;
    case ::TaskEvent::LOST: ev.kind = TaskEventKind::lost; break;
    default: return make_error("a task status with an unknown event");
  }
  ev.exit_code = s.getExitCode();
  ev.signal = s.getSignal();
  if (Status st = take_text(s.getMessage(), kMaxMessageTextBytes, "the task's message", ev.message); !st)
    return make_error(st.error());
  return ev;
}

Result<JobSpec> decode_job_request(JobRequest::Reader r) {
  // Lists are measured before they are copied; the fields themselves are
  // judged by validate_job_request, with the CLI's own messages.
  if (r.getArgv().size() > kMaxArgvWords)
    return make_error("the command has " + std::to_string(r.getArgv().size()) + " words; at most " +
                      std::to_string(kMaxArgvWords) + " are allowed");
  if (r.getHints().size() > kMaxHints)
    return make_error("the job has " + std::to_string(r.getHints().size()) + " advisory options; at most " +
                      std::to_string(kMaxHints) + " are allowed");
  if (r.getEnvironment().size() > kMaxEnvVars)
    return make_error("the environment has " + std::to_string(r.getEnvironment().size()) + " variables; at most " +
                      std::to_string(kMaxEnvVars) + " are allowed (export fewer: --export=NAME,...)");
  return cadre::from_proto(r);
}

Result<std::vector<JobSpec>> decode_submit_many(SubmitMany::Reader s) {
  auto requests = s.getRequests();
  if (requests.size() > kMaxJobsPerSubmitMany)
    return make_error(too_many("jobs", requests.size(), kMaxJobsPerSubmitMany) +
                      " (cadre submit --from sends them in batches of that size)");
  std::vector<JobSpec> specs;
  specs.reserve(requests.size());
  for (unsigned i = 0; i < requests.size(); ++i) {
    auto spec = decode_job_request(requests[i]);
    if (!spec)
      return make_error("job " + std::to_string(i + 1) + " of " + std::to_string(requests.size()) + ": " +
                        spec.error() + "; nothing was submitted");
    specs.push_back(std::move(*spec));
  }
  return specs;
}

namespace {

// A request's job ids: bounded, duplicates dropped, in the order given.
Result<std::vector<JobId>> distinct_ids(capnp::List<uint64_t>::Reader ids) {
  if (ids.size() > kMaxIdsPerRequest) return make_error(too_many("job ids", ids.size(), kMaxIdsPerRequest));
  std::vector<JobId> out;
  out.reserve(ids.size());
  std::set<JobId> seen;
  for (JobId id : ids)
    if (seen.insert(id).second) out.push_back(id);
  return out;
}

}  // namespace

Result<std::vector<JobId>> decode_cancel(Cancel::Reader c) { return distinct_ids(c.getIds()); }

Result<std::vector<JobId>> decode_hold(HoldJobs::Reader h) { return distinct_ids(h.getIds()); }

Result<std::vector<JobId>> decode_job_ids(capnp::List<uint64_t>::Reader ids) { return distinct_ids(ids); }

Result<std::vector<JobRef>> decode_task_refs(capnp::List<capnp::Text>::Reader refs) {
  if (refs.size() > kMaxIdsPerRequest) return make_error(too_many("array tasks", refs.size(), kMaxIdsPerRequest));
  std::vector<JobRef> out;
  for (auto text : refs) {
    const std::string_view t(text.cStr(), text.size());
    auto ref = parse_job_ref(t);
    if (!ref || ref->task < 0 || t.size() > 32)
      return make_error("'" + std::string(t.substr(0, 32)) + "' is not an array task (ARRAYID_INDEX)");
    out.push_back(*ref);
  }
  return out;
}

ListJobsRequest decode_list_jobs(ListJobs::Reader r) {
  const size_t asked = r.getLimit();
  return ListJobsRequest{r.getAll(), r.getAfterId(), asked == 0 ? kJobsPerPage : std::min(asked, kJobsPerPage)};
}

Result<StepRequest> decode_run_step(RunStep::Reader r) {
  StepRequest req;
  req.job = r.getJobId();
  auto argv = r.getArgv();
  if (argv.size() > kMaxArgvWords) return make_error(too_many("command words", argv.size(), kMaxArgvWords));
  size_t bytes = 0;
  for (auto a : argv) bytes += a.size() + 1;
  if (bytes > kMaxCommandBytes)
    return make_error("the command is " + std::to_string(bytes) + " bytes; at most " +
                      std::to_string(kMaxCommandBytes) + " are allowed");
  for (auto a : argv) req.argv.emplace_back(a.cStr(), a.size());
  if (Status s = take_text(r.getWorkdir(), kMaxPathBytes, "the working directory", req.workdir); !s)
    return make_error(s.error());
  req.ntasks = r.getNtasks();
  req.nnodes = r.getNnodes();
  auto hosts = r.getHosts();
  if (hosts.size() > kMaxTasksPerJob) return make_error(too_many("hosts", hosts.size(), kMaxTasksPerJob));
  for (auto h : hosts) {
    std::string host;
    if (Status s = take_text(h, kMaxNodeNameBytes, "a host name", host); !s) return make_error(s.error());
    req.hosts.push_back(std::move(host));
  }
  req.whole_node = r.getWholeNode();
  req.uid = r.getUid();
  auto env = r.getEnvironment();
  if (env.size() > kMaxEnvVars) return make_error(too_many("environment variables", env.size(), kMaxEnvVars));
  for (auto e : env) req.environment.emplace_back(e.cStr(), e.size());
  if (Status s = check_environment_entries(req.environment); !s) return make_error(s.error());
  return req;
}

Result<NodeStateRequest> decode_set_node_state(SetNodeState::Reader r) {
  NodeStateRequest req;
  auto names = r.getNames();
  if (names.size() > kMaxNodesPerRequest) return make_error(too_many("node names", names.size(), kMaxNodesPerRequest));
  for (auto n : names) {
    std::string name;
    if (Status s = take_text(n, kMaxNodeNameBytes, "a node name", name); !s) return make_error(s.error());
    req.names.push_back(std::move(name));
  }
  if (Status s = take_text(r.getState(), 16, "the state", req.state); !s) return make_error(s.error());
  if (Status s = take_text(r.getReason(), kMaxReasonBytes, "the reason", req.reason); !s) return make_error(s.error());
  return req;
}

}  // namespace cadre::wire
