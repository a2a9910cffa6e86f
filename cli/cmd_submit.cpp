// cadre submit: queue a gang job, optionally wait for it to end.
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/batch_script.hpp"
#include "cli/job_wait.hpp"
#include "common/flags.hpp"
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

namespace {

// Jobs sent per message: well under the protocol's message size even with
// long commands, and big enough that a message costs little per job.
constexpr size_t kJobsPerMessage = 2000;

// cadre submit --from FILE: one job per line, each line the words that
// would follow `cadre submit` (batch scripts included); '#' lines and blank
// lines are skipped. All lines are checked before anything is sent.
int submit_from(const Global& g, const std::string& path, bool parsable, const std::string& cwd) {
  std::ifstream in(path == "-" ? "/dev/stdin" : path);
  if (!in) return fail("cannot read " + path);
  std::vector<SubmitOptions> jobs;
  std::vector<int> line_of;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    auto words = split_directive(line);
    if (!words) return fail(path + " line " + std::to_string(n) + ": " + words.error(), 2);
    auto opts = parse_submit(*words, cwd);
    if (!opts) return fail(path + " line " + std::to_string(n) + ": " + opts.error(), 2);
    if (opts->wait) return fail(path + " line " + std::to_string(n) + ": --wait cannot go in a --from file", 2);
    jobs.push_back(std::move(*opts));
    line_of.push_back(n);
  }
  if (jobs.empty()) return fail(path + " holds no jobs", 2);
  Client client(g.master, g.timeout_ms);
  size_t accepted = 0;
  int status = 0;
  for (size_t first = 0; first < jobs.size(); first += kJobsPerMessage) {
    const size_t count = std::min(kJobsPerMessage, jobs.size() - first);
    auto reply = client.call([&](Envelope::Builder e) {
      auto list = e.initSubmitMany().initRequests(static_cast<unsigned>(count));
      for (size_t i = 0; i < count; ++i) fill_request(jobs[first + i], list[static_cast<unsigned>(i)]);
    });
    if (!reply) {
      std::cerr << "cadre: " << accepted << " jobs submitted before the error\n";
      return fail(reply.error());
    }
    // Each getX() walks the message again and counts against Cap'n Proto's
    // traversal limit: read the lists once.
    auto r = (*reply)->envelope().getSubmitManyReply();
    auto ids = r.getIds();
    auto errors = r.getErrors();
    if (ids.size() != count || errors.size() != count) return fail("the master answered for a different number of jobs");
    for (unsigned i = 0; i < ids.size(); ++i) {
      if (ids[i] != 0) {
        ++accepted;
        if (parsable) std::cout << ids[i] << "\n";
      } else {
        status = 1;
        std::cerr << "cadre: " << path << " line " << line_of[first + i] << ": " << errors[i].cStr() << "\n";
      }
    }
  }
  if (!parsable) std::cout << "Submitted " << accepted << " of " << jobs.size() << " jobs" << std::endl;
  return status;
}

}  // namespace

int cmd_submit(const Global& g, const Args& args) {
  std::error_code ec;
  std::string cwd = std::filesystem::current_path(ec).string();
  if (ec) return fail("cannot read the current directory: " + ec.message());
  if (!args.empty() && (args[0] == "--from" || args[0].starts_with("--from=") ||
                        (args.size() > 1 && args[0] == "--parsable" && (args[1] == "--from" || args[1].starts_with("--from="))))) {
    Flags f;
    f.value("--from").toggle("--parsable");
    if (Status s = f.parse(args); !s) return fail(s.error() + " (with --from, the jobs' options go in the file)", 2);
    return submit_from(g, *f.get("--from"), f.has("--parsable"), cwd);
  }
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
