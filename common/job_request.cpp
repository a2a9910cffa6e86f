#include "common/job_request.hpp"

#include <algorithm>
#include <string>

#include "common/proto_text.hpp"

namespace cadre {
namespace {

// Byte for byte: a NUL inside the text must reach the validator, not cut
// the string short.
std::string bytes(::capnp::Text::Reader t) { return std::string(t.begin(), t.size()); }

// Far above every bound on a duration, far below int64 overflow.
constexpr uint64_t kMaxDecodedSeconds = uint64_t{1} << 40;

int64_t seconds(uint64_t wire) { return static_cast<int64_t>(std::min(wire, kMaxDecodedSeconds)); }

}  // namespace

void to_proto(const Resources& r, ::Resources::Builder out) {
  out.setMillicores(r.millicores);
  out.setMemoryMb(r.memory_mb);
  out.setGpus(static_cast<int32_t>(std::clamp<int64_t>(r.gpus, INT32_MIN, INT32_MAX)));
}

Resources from_proto(::Resources::Reader r) { return Resources{r.getMillicores(), r.getMemoryMb(), r.getGpus()}; }

void to_proto(const JobSpec& s, ::JobRequest::Builder out, bool with_script) {
  out.setName(text(s.name));
  auto argv = out.initArgv(static_cast<unsigned>(s.argv.size()));
  for (unsigned i = 0; i < s.argv.size(); ++i) argv.set(i, text(s.argv[i]));
  out.setWorkdir(text(s.workdir));
  out.setOutputPattern(text(s.output_pattern));
  to_proto(s.per_task, out.initPerTask());
  out.setNodes(s.nodes);
  out.setTasksPerNode(s.tasks_per_node);
  out.setNtasks(s.ntasks);
  out.setTimeLimitSec(static_cast<uint64_t>(std::max<int64_t>(s.time_limit_s, 0)));
  out.setPriority(s.priority);
  out.setUser(text(s.user));
  out.setUid(s.uid);
  out.setGid(s.gid);
  out.setNoRequeue(!s.requeue);
  out.setPartition(text(s.partition));
  out.setAccount(text(s.account));
  out.setMaxSwitches(s.max_switches);
  out.setSwitchesWaitSec(static_cast<uint64_t>(std::max<int64_t>(s.switches_wait_s, 0)));
  out.setTimeLimitGiven(s.time_limit_given);
  out.setGpuType(text(s.gpu_type));
  out.setBatch(s.batch);
  if (with_script) {
    out.setScript(text(s.script));
    auto env = out.initEnvironment(static_cast<unsigned>(s.environment.size()));
    for (unsigned i = 0; i < s.environment.size(); ++i) env.set(i, text(s.environment[i]));
  }
  auto hints = out.initHints(static_cast<unsigned>(s.hints.size()));
  for (unsigned i = 0; i < s.hints.size(); ++i) hints.set(i, text(s.hints[i]));
  out.setHold(s.hold);
  out.setArray(text(s.array));
  out.setArrayJobId(s.array_job_id);
  out.setArrayTaskId(s.array_task_id);
  out.setDependency(text(s.dependency));
  out.setKillOnInvalidDep(s.kill_on_invalid_dep);
  out.setNodelist(text(s.nodelist));
  out.setExclude(text(s.exclude));
  out.setExclusive(s.exclusive);
  out.setSignal(text(s.signal));
  out.setBeginTime(s.begin_time);
  out.setConstraint(text(s.constraint));
  out.setOpenTruncate(s.open_truncate);
  out.setMailType(s.mail_type);
  out.setMailUser(text(s.mail_user));
  out.setQos(text(s.qos));
  out.setDeadline(s.deadline);
  out.setReservation(text(s.reservation));
  out.setSubmitHost(text(s.submit_host));
  out.setExportMode(text(s.export_mode));
  out.setErrorPattern(text(s.error_pattern));
  out.setUmask(s.umask);
}

JobSpec from_proto(::JobRequest::Reader r) {
  JobSpec s;
  s.name = bytes(r.getName());
  auto argv = r.getArgv();
  s.argv.reserve(argv.size());
  for (auto a : argv) s.argv.push_back(bytes(a));
  s.workdir = bytes(r.getWorkdir());
  s.output_pattern = bytes(r.getOutputPattern());
  s.per_task = from_proto(r.getPerTask());
  s.nodes = r.getNodes();
  s.tasks_per_node = r.getTasksPerNode();
  s.ntasks = r.getNtasks();
  s.time_limit_s = seconds(r.getTimeLimitSec());
  s.priority = r.getPriority();
  s.user = bytes(r.getUser());
  s.uid = r.getUid();
  s.gid = r.getGid();
  s.requeue = !r.getNoRequeue();
  s.partition = bytes(r.getPartition());
  s.account = bytes(r.getAccount());
  s.max_switches = r.getMaxSwitches();
  s.switches_wait_s = seconds(r.getSwitchesWaitSec());
  s.time_limit_given = r.getTimeLimitGiven();
  s.gpu_type = bytes(r.getGpuType());
  s.batch = r.getBatch();
  s.script = bytes(r.getScript());
  s.error_pattern = bytes(r.getErrorPattern());
  s.umask = r.getUmask();
  auto env = r.getEnvironment();
  s.environment.reserve(env.size());
  for (auto e : env) s.environment.push_back(bytes(e));
  for (auto h : r.getHints()) s.hints.push_back(bytes(h));
  s.hold = r.getHold();
  s.array = bytes(r.getArray());
  s.array_job_id = r.getArrayJobId();
  s.array_task_id = r.getArrayTaskId();
  s.dependency = bytes(r.getDependency());
  s.kill_on_invalid_dep = r.getKillOnInvalidDep();
  s.nodelist = bytes(r.getNodelist());
  s.exclude = bytes(r.getExclude());
  s.exclusive = r.getExclusive();
  s.signal = bytes(r.getSignal());
  s.begin_time = r.getBeginTime();
  s.constraint = bytes(r.getConstraint());
  s.open_truncate = r.getOpenTruncate();
  s.mail_type = r.getMailType();
  s.mail_user = bytes(r.getMailUser());
  s.qos = bytes(r.getQos());
  s.deadline = r.getDeadline();
  s.reservation = bytes(r.getReservation());
  s.submit_host = bytes(r.getSubmitHost());
  s.export_mode = bytes(r.getExportMode());
  return s;
}

}  // namespace cadre
