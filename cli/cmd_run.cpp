// cadre run (srun's role) and cadre rsh (Open MPI's launcher).
//
// Inside a job (CADRE_JOB_ID is set) `cadre run` starts a step: CMD as
// ranks on the job's nodes, in what the job already holds. Outside a job
// it submits one and waits, following its output like srun does.
// `cadre rsh NODE CMD...` is what mpirun calls instead of ssh: one rank of
// `sh -c CMD` on NODE, inside the job, with that node's whole share.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "cli/client.hpp"
#include "cli/commands.hpp"
#include "cli/job_environment.hpp"
#include "cli/job_wait.hpp"
#include "cli/names.hpp"
#include "cli/submit_options.hpp"
#include "common/escape.hpp"
#include "common/flags.hpp"
#include "common/job_request.hpp"
#include "common/job_validation.hpp"
#include "common/limits.hpp"
#include "common/output_pattern.hpp"
#include "common/proto_text.hpp"
#include "common/resources.hpp"

namespace cadre::cli {
namespace {

// A step's command, checked here as a job's is by validate_job_request:
// the master would refuse it only after the wait for its answer.
Status check_step_command(const Args& argv) {
  if (argv.empty() || argv[0].empty())
    return make_error("no command given: the command word is empty (''); e.g. cadre run -n 4 -- hostname");
  if (argv.size() > limits::kMaxArgvWords)
    return make_error("the command has " + std::to_string(argv.size()) + " words; at most " +
                      std::to_string(limits::kMaxArgvWords) + " are allowed");
  size_t bytes = 0;
  for (const std::string& word : argv) bytes += word.size() + 1;
  if (bytes > kClientBounds.max_command_bytes)
    return make_error("the command is " + std::to_string(bytes) + " bytes; at most " +
                      std::to_string(kClientBounds.max_command_bytes) + " are allowed");
  return {};
}

std::string current_dir() {
  std::error_code ec;
  std::string cwd = std::filesystem::current_path(ec).string();
  return ec ? "/" : cwd;
}

// Starts a step and waits for it. Returns the worst exit code of its
// ranks (255 at most), and says on stderr which ranks failed and why.
int run_step(Client& client, uint64_t job, const std::function<void(RunStep::Builder)>& fill, bool quiet) {
  // A step's ranks start from this process's environment, as srun's do
  // (the batch script's, after its `module load`); SLURM_EXPORT_ENV, which
  // an --export at submit sets in the job, narrows it as it narrows srun's.
  std::vector<std::string> caller;
  std::string mode = "ALL";
  for (char** e = environ; e && *e; ++e) {
    caller.emplace_back(*e);
    if (caller.back().starts_with("SLURM_EXPORT_ENV=") && caller.back().size() > 17) mode = caller.back().substr(17);
  }
  auto spec = parse_export(mode);
  if (!spec) return fail("SLURM_EXPORT_ENV: " + spec.error(), 2);
  const std::vector<std::string> env = exported_environment(*spec, caller);
  if (Status s = check_environment_entries(env); !s) return fail(s.error(), 2);
  auto reply = client.call([&](Envelope::Builder e) {
    auto r = e.initRunStep();
    r.setJobId(job);
    r.setWorkdir(text(current_dir()));
    r.setUid(getuid());
    auto out = r.initEnvironment(static_cast<unsigned>(env.size()));
    for (unsigned i = 0; i < env.size(); ++i) out.set(i, text(env[i]));
    fill(r);
  });
  if (!reply) return fail(reply.error());
  const uint32_t step = (*reply)->envelope().getStepReply().getStep();
  int delay_ms = 10;
  int misses = 0;
  while (true) {
    auto status = client.call([&](Envelope::Builder e) {
      auto s = e.initShowStep();
      s.setJobId(job);
      s.setStep(step);
    });
    if (!status) {
      // mpirun may leave its launchers behind when its job ends: that end
      // is no error of theirs.
      if (quiet && status.error().find("has ended") != std::string::npos) return 0;
      // A lost answer is retried; a step the master no longer knows is not.
      if (status.error().find("step") != std::string::npos || ++misses >= 6)
        return fail("step " + std::to_string(job) + "." + std::to_string(step) + ": " + status.error());
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    misses = 0;
    auto r = (*status)->envelope().getStepReply();
    if (r.getDone()) {
      if (!quiet)
        for (auto rank : r.getRanks())
          if (rank.getExitCode() != 0)
            std::cerr << "cadre: step " << job << "." << step << " rank " << rank.getRank() << " on "
                      << escape_control(rank.getNode().cStr()) << " ended " << rank.getState().cStr()
                      << " with code " << rank.getExitCode() << (rank.getMessage().size() ? ": " : "")
                      << escape_control(rank.getMessage().cStr())
                      << "\n";
      return std::min(r.getExitCode(), 255);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    delay_ms = std::min(delay_ms * 2, 200);
  }
}

// Copies what each rank's output file gained since the last call to
// stdout: srun's view of a job for a shared file system.
class OutputFollower {
 public:
  void poll(JobInfo::Reader job) {
    const std::string pattern = job.getRequest().getOutputPattern().cStr();
    std::vector<std::string> nodes;  // the job's, in node-rank order
    for (auto t : job.getTasks())
      if (std::find(nodes.begin(), nodes.end(), t.getNode().cStr()) == nodes.end()) nodes.emplace_back(t.getNode().cStr());
    for (auto t : job.getTasks()) {
      PatternFields f;
      f.job = job.getId();
      f.rank = t.getRank();
      f.attempt = job.getAttempt();
      f.node = t.getNode().cStr();
      f.node_index = static_cast<uint32_t>(std::find(nodes.begin(), nodes.end(), f.node) - nodes.begin());
      f.job_name = job.getRequest().getName().cStr();
      f.user = job.getRequest().getUser().cStr();
      const std::string path = expand_output_pattern(pattern, f, job.getRequest().getWorkdir().cStr());
      std::ifstream in(path, std::ios::binary);
      if (!in) continue;
      std::streamoff& offset = offsets_[path];
      in.seekg(offset);
      std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      offset += static_cast<std::streamoff>(chunk.size());
      std::cout << chunk << std::flush;
    }
  }

 private:
  std::map<std::string, std::streamoff> offsets_;
};

}  // namespace

int cmd_run(const Global& g, const Args& args) {
  auto in_job = job_from_environment();
  if (!in_job) return fail(in_job.error(), 2);
  if (const std::optional<uint64_t> job = *in_job) {
    Flags f;
    f.value("--ntasks", {"-n"}).value("--nodes", {"-N"});
    if (Status s = f.parse(args); !s) return fail(s.error() + " (inside a job, cadre run takes --ntasks and --nodes)", 2);
    if (f.rest().empty()) return fail("no command given: put it after '--', e.g. cadre run -n 4 -- hostname", 2);
    if (Status s = check_step_command(f.rest()); !s) return fail(s.error(), 2);
    uint32_t ntasks = 0, nnodes = 0;
    for (auto [flag, into] : {std::pair{"--ntasks", &ntasks}, {"--nodes", &nnodes}}) {
      if (auto v = f.get(flag)) {
        auto n = parse_count(*v, limits::kMaxTasksPerJob);
        if (!n || *n == 0) return fail(std::string(flag) + ": expected a whole number of at least 1, got '" + *v + "'", 2);
        *into = static_cast<uint32_t>(*n);
      }
    }
    Client client(g.master, g.timeout_ms);
    return run_step(client, *job, [&](RunStep::Builder r) {
      auto argv = r.initArgv(static_cast<unsigned>(f.rest().size()));
      for (unsigned i = 0; i < f.rest().size(); ++i) argv.set(i, text(f.rest()[i]));
      r.setNtasks(ntasks);
      r.setNnodes(nnodes);
    }, false);
  }
  // Outside a job: submit one like `cadre submit --wait`, and show its
  // output as it is written.
  if (std::find(args.begin(), args.end(), "--") == args.end())
    return fail("no command given: put it after '--', e.g. cadre run --ntasks 4 -- hostname", 2);
  auto opts = parse_submit(args, current_dir());
  if (!opts) return fail(opts.error(), 2);
  if (opts->batch) return fail("cadre run runs a command; give it after '--' (batch scripts go to cadre submit)", 2);
  auto made = job_spec_for_caller(*opts);
  if (!made) return fail(made.error(), 2);
  const JobSpec& spec = *made;
  if (Status v = validate_job_request(spec, kClientBounds); !v) return fail(v.error(), 2);
  InterruptWatch ctrl_c;  // before the Client: its threads start with SIGINT blocked
  Client client(g.master, g.timeout_ms);
  auto reply = client.call([&](Envelope::Builder e) { to_proto(spec, e.initSubmit().initRequest()); });
  if (!reply) return fail(reply.error());
  const uint64_t id = (*reply)->envelope().getSubmitReply().getId();
  std::cerr << "cadre: job " << id << " submitted" << std::endl;
  OutputFollower follower;
  int status = wait_for(client, id, [&follower](JobInfo::Reader j) { follower.poll(j); }, &ctrl_c);
  // The last lines may land between the final poll and the exit report.
  auto last = client.call([id](Envelope::Builder e) { e.initShowJob().setId(id); });
  if (last && (*last)->envelope().getJobsReply().getJobs().size() == 1)
    follower.poll((*last)->envelope().getJobsReply().getJobs()[0]);
  return status;
}

int cmd_rsh(const Global& g, const Args& args) {
  auto in_job = job_from_environment();
  if (!in_job) return fail(in_job.error(), 2);
  const std::optional<uint64_t> job = *in_job;
  if (!job) return fail("cadre rsh starts processes inside a job: run it from a batch script (CADRE_JOB_ID is not set)", 2);
  // ssh's own options (mpirun may pass -x or -T) mean nothing here.
  size_t i = 0;
  while (i < args.size() && args[i].starts_with("-")) ++i;
  if (i + 1 >= args.size()) return fail("usage: cadre rsh NODE COMMAND...", 2);
  const std::string node = args[i];
  if (Status s = check_node_name(node); !s) return fail(s.error(), 2);
  // As ssh does, the words are joined into one line for the remote shell.
  std::string line;
  for (size_t k = i + 1; k < args.size(); ++k) line += (line.empty() ? "" : " ") + args[k];
  if (Status s = check_step_command({"/bin/sh", "-c", line}); !s) return fail(s.error(), 2);
  Client client(g.master, g.timeout_ms);
  return run_step(client, *job, [&](RunStep::Builder r) {
    auto argv = r.initArgv(3);
    argv.set(0, "/bin/sh");
    argv.set(1, "-c");
    argv.set(2, text(line));
    r.initHosts(1).set(0, text(node));
    r.setWholeNode(true);
  }, true);
}

}  // namespace cadre::cli
