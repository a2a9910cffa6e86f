// cadre submit: queue a gang job, optionally wait for it to end.
#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/job_wait.hpp"
#include "cli/submit_options.hpp"
#include "common/ids.hpp"

namespace cadre::cli {
namespace {

kj::StringPtr text(const std::string& s) { return kj::StringPtr(s.c_str(), s.size()); }

}  // namespace

void fill_request(const SubmitOptions& o, JobRequest::Builder r) {
  r.setName(text(o.name));
  auto argv = r.initArgv(static_cast<unsigned>(o.argv.size()));
  for (unsigned i = 0; i < o.argv.size(); ++i) argv.set(i, text(o.argv[i]));
  r.setWorkdir(text(o.workdir));
  r.setOutputPattern(text(o.output_pattern));
  auto per = r.initPerTask();
  per.setMillicores(o.per_task.millicores);
  per.setMemoryMb(o.per_task.memory_mb);
  per.setGpus(static_cast<int32_t>(o.per_task.gpus));
  r.setNodes(o.nodes);
  r.setTasksPerNode(o.tasks_per_node);
  r.setNtasks(o.ntasks);
  r.setTimeLimitSec(static_cast<uint64_t>(o.time_limit_s));
  r.setTimeLimitGiven(o.time_limit_given);
  r.setPriority(o.priority);
  r.setNoRequeue(!o.requeue);
  r.setPartition(text(o.partition));
  r.setAccount(text(o.account));
  r.setMaxSwitches(o.max_switches);
  r.setSwitchesWaitSec(static_cast<uint64_t>(o.switches_wait_s));
  r.setGpuType(text(o.gpu_type));
  r.setBatch(o.batch);
  r.setScript(text(o.script));
  r.setErrorPattern(text(o.error_pattern));
  uid_t uid = getuid();
  passwd* pw = getpwuid(uid);
  r.setUser(pw ? pw->pw_name : std::to_string(uid));
  r.setUid(uid);
  r.setGid(getgid());
}

int wait_for(Client& client, uint64_t id, const std::function<void(JobInfo::Reader)>& on_poll) {
  constexpr int kMaxMisses = 6;  // tolerate a master restart
  std::string last;
  int misses = 0;
  int delay_ms = 100;
  while (true) {
    auto reply = client.call([id](Envelope::Builder e) { e.initShowJob().setId(id); });
    if (!reply) {
      if (++misses >= kMaxMisses) return fail("lost contact with the master while waiting for job " + std::to_string(id) + ": " + reply.error());
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    misses = 0;
    auto jobs = (*reply)->envelope().getJobsReply().getJobs();
    if (jobs.size() != 1) return fail("the master did not return job " + std::to_string(id));
    auto j = jobs[0];
    if (on_poll) on_poll(j);
    std::string state = j.getState().cStr();
    // A requeue can go PENDING -> RUNNING between two polls: the attempt
    // tells the runs apart.
    std::string seen = state + "/" + std::to_string(j.getAttempt());
    if (seen != last) {
      std::string detail;
      if (state == "RUNNING") {
        for (auto n : j.getNodes()) detail.append(detail.empty() ? " on " : ",").append(n.cStr());
        if (j.getAttempt() > 1) detail += " (attempt " + std::to_string(j.getAttempt()) + ")";
      } else if (state != "PENDING") {
        detail = " (exit code " + std::to_string(j.getExitCode()) + ")";
        if (j.getReason().size() > 0) detail += ": " + std::string(j.getReason().cStr());
      }
      std::cerr << "job " << id << " " << state << detail << std::endl;
      last = seen;
    }
    if (state != "PENDING" && state != "RUNNING") {
      int code = j.getExitCode();
      if (state != "COMPLETED" && code == 0) return 1;
      return code > 255 ? 255 : code;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    delay_ms = std::min(delay_ms * 2, 1000);
  }
}

int cmd_submit(const Global& g, const Args& args) {
  std::error_code ec;
  std::string cwd = std::filesystem::current_path(ec).string();
  if (ec) return fail("cannot read the current directory: " + ec.message());
  auto opts = parse_submit(args, cwd);
  if (!opts) return fail(opts.error(), 2);

  Client client(g.master, g.timeout_ms);
  auto reply = client.call([&](Envelope::Builder e) { fill_request(*opts, e.initSubmit().initRequest()); });
  if (!reply) return fail(reply.error());
  uint64_t id = (*reply)->envelope().getSubmitReply().getId();
  if (opts->parsable) std::cout << id << std::endl;
  else std::cout << "Submitted job " << id << std::endl;
  if (!opts->wait) return 0;
  return wait_for(client, id);
}

}  // namespace cadre::cli
