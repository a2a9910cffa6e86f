// cadre submit: queue a gang job, optionally wait for it to end.
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>
#include <utility>

#include "cli/batch_script.hpp"
#include "cli/client.hpp"
#include "cli/format.hpp"
#include "cli/job_environment.hpp"
#include "cli/commands.hpp"
#include "cli/job_wait.hpp"
#include "cli/submit_options.hpp"
#include "common/bounded_file.hpp"
#include "common/escape.hpp"
#include "common/flags.hpp"
#include "common/ids.hpp"
#include "common/job_request.hpp"
#include "common/output_pattern.hpp"

namespace cadre::cli {
namespace {

// Who submits: looked up once, however many jobs go.
struct Caller {
  std::string user;
  uint32_t uid = 0;
  uint32_t gid = 0;
  int32_t umask = -1;
  std::string host;
  std::vector<std::string> environment;  // this process's, in order
};

Caller the_caller() {
  Caller c;
  c.uid = getuid();
  c.gid = getgid();
  passwd* pw = getpwuid(c.uid);
  c.user = pw ? pw->pw_name : std::to_string(c.uid);
  // Reading the umask means setting it: put it back at once.
  const mode_t old = ::umask(0);
  ::umask(old);
  c.umask = static_cast<int32_t>(old & 0777);
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) c.host = host;
  for (char** e = environ; e && *e; ++e) c.environment.emplace_back(*e);
  return c;
}

// What an --export-file names: a file, or a descriptor 3 and up that the
// shell opened (sbatch --export-file=3 3< vars), read to the bound a job's
// environment has and no further.
Result<std::string> read_export_file(const std::string& where) {
  std::string path = where;
  if (auto fd = parse_count(where, 1 << 20); fd && *fd >= 3) path = "/proc/self/fd/" + where;
  else if (Status s = check_regular_file(where, "--export-file"); !s) return make_error(s.error());
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return make_error("--export-file: cannot open " + shown_path(where) + ": " + std::strerror(errno));
  std::string content;
  char buf[65536];
  while (content.size() <= limits::kMaxEnvBytes) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLIN, 0};
      (void)::poll(&p, 1, 1000);
      continue;
    }
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return make_error("--export-file: cannot read " + shown_path(where) + ": " + std::strerror(err));
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (content.size() > limits::kMaxEnvBytes)
    return make_error("--export-file: " + shown_path(where) + " is over " + std::to_string(limits::kMaxEnvBytes) +
                      " bytes, the most a job's environment may hold");
  return content;
}

// The job's output file as a person reads it: the pattern with what is
// known at submit filled in, and a note when each rank or node gets its own.
std::string output_shown(const JobSpec& s, uint64_t id) {
  const std::string where = s.output_pattern.starts_with("/") ? s.output_pattern : s.workdir + "/" + s.output_pattern;
  for (const char* per : {"%t", "%n", "%N"})
    if (s.output_pattern.find(per) != std::string::npos)
      return where + " (a file per rank or node; %j is " + std::to_string(id) + ")";
  // Each task of an array has its own job id and index.
  if (!s.array.empty()) return where + " (for each array task; %A is " + std::to_string(id) + ")";
  PatternFields f;
  f.job = id;
  f.job_name = s.name;
  f.user = s.user;
  f.batch = s.batch;
  return expand_output_pattern(s.output_pattern, f, s.workdir);
}

Result<JobSpec> job_of(const SubmitOptions& o, const Caller& c) {
  JobSpec s = to_job_spec(o);
  s.user = c.user;
  s.uid = c.uid;
  s.gid = c.gid;
  s.umask = c.umask;
  s.submit_host = c.host;
  // --export, else SLURM_EXPORT_ENV as sbatch reads it, else ALL.
  std::string mode = o.export_given ? o.export_text : "";
  if (mode.empty())
    for (const std::string& e : c.environment)
      if (e.starts_with("SLURM_EXPORT_ENV=")) mode = e.substr(17);
  auto spec = parse_export(mode.empty() ? "ALL" : mode);
  if (!spec) return make_error(o.export_given ? spec.error() : "SLURM_EXPORT_ENV: " + spec.error());
  std::vector<std::string> file;
  if (!o.export_file.empty()) {
    auto content = read_export_file(o.export_file);
    if (!content) return make_error(content.error());
    auto defs = parse_export_file(*content);
    if (!defs) return make_error(defs.error());
    file = std::move(*defs);
  }
  s.environment = exported_environment(*spec, c.environment, file);
  // Once per command, not once per line of a --from file.
  static bool warned = false;
  if (spec->all && !std::exchange(warned, true))
    for (const std::string& name : unexportable(c.environment))
      std::cerr << "cadre: warning: not exporting " << quoted(name, 64)
                << " to the job: its value is not UTF-8 text (or it has no name)\n";
  s.export_mode = o.export_given ? o.export_text : "";
  return s;
}

}  // namespace

Result<JobSpec> job_spec_for_caller(const SubmitOptions& o) { return job_of(o, the_caller()); }


namespace {

// "RUNNING on n1,n2 (attempt 2)", "PENDING (Resources), expected to start
// 2026-12-07T10:00:00Z", "FAILED (exit code 3): ..." for the job as polled.
std::string state_line(JobInfo::Reader j) {
  const std::string state = j.getState().cStr();
  std::string detail;
  if (state == "RUNNING") {
    for (auto n : j.getNodes()) detail.append(detail.empty() ? " on " : ",").append(escape_control(n.cStr()));
    if (j.getAttempt() > 1) detail += " (attempt " + std::to_string(j.getAttempt()) + ")";
  } else if (state == "PENDING") {
    if (j.getReason().size() > 0) detail = " (" + escape_control(j.getReason().cStr()) + ")";
    if (j.getExpectedStart() > 0) detail += ", expected to start " + iso_time(j.getExpectedStart());
  } else {
    detail = " (exit code " + std::to_string(j.getExitCode()) + ")";
    if (j.getReason().size() > 0) detail += ": " + escape_control(j.getReason().cStr());
  }
  return state + detail;
}

}  // namespace

int wait_for(Client& client, uint64_t id, const std::function<void(JobInfo::Reader)>& on_poll,
             InterruptWatch* ctrl_c) {
  constexpr int kMaxMisses = 6;  // tolerate a master restart
  std::string last, last_line;
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
    const std::string state = j.getState().cStr();
    const std::string line = state_line(j);
    // A requeue can go PENDING -> RUNNING between two polls: the attempt
    // tells the runs apart. A pending job's line changes with its reason.
    const std::string seen = state + "/" + std::to_string(j.getAttempt()) + (state == "PENDING" ? line : "");
    if (seen != last) {
      std::cerr << "job " << id << " " << line << std::endl;
      last = seen;
    }
    last_line = line;
    if (state != "PENDING" && state != "RUNNING") {
      int code = j.getExitCode();
      if (state != "COMPLETED" && code == 0) return 1;
      return code > 255 ? 255 : code;
    }
    // Sleep in slices, so a Ctrl-C is answered at once.
    for (int slept = 0; slept < delay_ms; slept += 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(50, delay_ms - slept)));
      const InterruptWatch::Ask ask = ctrl_c ? ctrl_c->take() : InterruptWatch::Ask::nothing;
      if (ask == InterruptWatch::Ask::report) {
        std::cerr << "cadre: job " << id << " is " << last_line
                  << "; press Ctrl-C again within a second to cancel it" << std::endl;
      } else if (ask == InterruptWatch::Ask::cancel) {
        std::cerr << "cadre: cancelling job " << id << std::endl;
        auto c = client.call([id](Envelope::Builder e) { e.initCancel().initIds(1).set(0, id); });
        if (!c) std::cerr << "cadre: cannot cancel job " << id << ": " << c.error() << std::endl;
        delay_ms = 100;
        break;
      }
    }
    delay_ms = std::min(delay_ms * 2, 1000);
  }
}

namespace {

// A submitMany message holds at most limits::kMaxJobsPerSubmitMany jobs (the
// master refuses more) and about this many bytes, so long commands and
// scripts never push it past limits::kMaxMessageBytes.
constexpr size_t kBatchBytes = limits::kMaxMessageBytes / 2;

// What a request takes in a message, generously: its text, and room for
// pointers, padding and the fixed fields.
size_t encoded_bytes_at_most(const JobSpec& s) {
  size_t n = 512;
  for (const std::string* t : {&s.name, &s.workdir, &s.output_pattern, &s.error_pattern, &s.user, &s.partition,
                               &s.account, &s.gpu_type, &s.script, &s.qos, &s.constraint, &s.dependency, &s.nodelist,
                               &s.exclude, &s.signal, &s.mail_user, &s.array})
    n += t->size() + 16;
  for (const std::string& a : s.argv) n += a.size() + 16;
  for (const std::string& e : s.environment) n += e.size() + 16;
  n += s.submit_host.size() + s.export_mode.size() + 32;
  return n;
}

// The end of the batch that starts at `first`: one job at least.
// How much longer than --timeout the CLI waits for a batch, per job in it:
// 10,000 jobs get 20 s more, several times what a loaded 2-core host with
// sanitizers needs.
constexpr int64_t kBatchWaitPerJobMs = 2;

size_t batch_end(const std::vector<JobSpec>& jobs, size_t first) {
  size_t end = first, bytes = 0;
  while (end < jobs.size() && end - first < limits::kMaxJobsPerSubmitMany) {
    const size_t b = encoded_bytes_at_most(jobs[end]);
    if (end > first && bytes + b > kBatchBytes) break;
    bytes += b;
    ++end;
  }
  return end;
}

// Standard input, held to the bound a --from file is: read one byte past
// it so a longer input is noticed, never more.
Result<std::string> read_stdin(size_t max_bytes) {
  std::string text;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(std::string("cannot read standard input: ") + std::strerror(errno));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > max_bytes)
      return make_error("standard input is over the limit of " + std::to_string(max_bytes) +
                        " bytes; split the jobs over several files");
  }
  if (auto nul = text.find('\0'); nul != std::string::npos)
    return make_error("standard input contains a NUL byte at offset " + std::to_string(nul) +
                      ": it is binary, not a list of jobs");
  return text;
}

Result<std::string> read_job_list(const std::string& path) {
  if (path == "-") return read_stdin(limits::kMaxSubmitFromBytes);
  return read_bounded_file(path, limits::kMaxSubmitFromBytes, "job list");
}

// The jobs of a --from file, each checked as the master will check it, and
// the line each came from. Nothing is sent unless every line is good.
struct JobList {
  std::vector<JobSpec> jobs;
  std::vector<size_t> line_of;
};

Result<JobList> parse_job_list(const std::string& label, const std::string& content, const std::string& cwd) {
  const Caller caller = the_caller();
  JobList list;
  size_t n = 0;
  for (size_t at = 0; at < content.size();) {
    const size_t eol = std::min(content.find('\n', at), content.size());
    const std::string_view line(content.data() + at, eol - at);
    at = eol + 1;
    ++n;
    const size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string_view::npos || line[start] == '#') continue;
    auto at_line = [&](const std::string& message) {
      return make_error(label + " line " + std::to_string(n) + ": " + message);
    };
    auto words = split_directive(line);
    if (!words) return at_line(words.error());
    auto opts = parse_submit(*words, cwd);
    if (!opts) return at_line(opts.error());
    if (opts->wait) return at_line("--wait cannot go in a --from file");
    auto spec = job_of(*opts, caller);
    if (!spec) return at_line(spec.error());
    if (Status s = validate_job_request(*spec, kClientBounds); !s) return at_line(s.error());
    list.jobs.push_back(std::move(*spec));
    list.line_of.push_back(n);
  }
  if (list.jobs.empty()) return make_error(label + " holds no jobs");
  return list;
}

// The master's "job K of N: why" about the batch that starts at `first`,
// told as the line of the file that job came from.
std::string at_file_line(const std::string& error, const std::string& label, const std::vector<size_t>& line_of,
                         size_t first) {
  unsigned long k = 0, n = 0;
  int consumed = 0;
  if (std::sscanf(error.c_str(), "job %lu of %lu: %n", &k, &n, &consumed) != 2 || consumed == 0 || k == 0 ||
      first + k - 1 >= line_of.size())
    return error;
  return label + " line " + std::to_string(line_of[first + k - 1]) + ": " + error.substr(static_cast<size_t>(consumed));
}

// cadre submit --from FILE: one job per line, each line the words that
// would follow `cadre submit` (batch scripts included); '#' lines and blank
// lines are skipped. All lines are checked before anything is sent.
int submit_from(const Global& g, const std::string& path, bool parsable, const std::string& cwd) {
  const std::string label = path == "-" ? "standard input" : path;
  auto content = read_job_list(path);
  if (!content) return fail(content.error(), 2);
  auto parsed = parse_job_list(label, *content, cwd);
  if (!parsed) return fail(parsed.error(), 2);
  const std::vector<JobSpec>& jobs = parsed->jobs;
  Client client(g.master, g.timeout_ms);
  size_t accepted = 0;
  for (size_t first = 0, end = 0; first < jobs.size(); first = end) {
    end = batch_end(jobs, first);
    const size_t count = end - first;
    // The master checks, stores and commits the whole batch before it
    // answers: a full batch takes it seconds on a busy or slow host, so
    // the wait grows with the batch rather than tripping the timeout meant
    // for a master that is not there.
    const int64_t batch_wait_ms = static_cast<int64_t>(count) * kBatchWaitPerJobMs;
    auto reply = client.call(
        [&](Envelope::Builder e) {
          auto list = e.initSubmitMany().initRequests(static_cast<unsigned>(count));
          for (size_t i = 0; i < count; ++i) to_proto(jobs[first + i], list[static_cast<unsigned>(i)]);
        },
        batch_wait_ms);
    if (!reply && reply.error().starts_with("no answer")) {
      // The batch may have been committed after the wait ran out: say so
      // rather than "not submitted", so a retry does not duplicate it.
      std::cerr << "cadre: whether the jobs from " << label << " line " << parsed->line_of[first]
                << " on were submitted is unknown (the " << accepted
                << " before them were); check 'cadre queue' before submitting them again\n";
      return fail(reply.error(), 1);
    }
    if (!reply) {
      // A batch is all or nothing: the master names the job it refused as
      // "job K of N", which is a line of the file here.
      if (accepted > 0)
        std::cerr << "cadre: the " << accepted << " jobs before " << label << " line " << parsed->line_of[first]
                  << " were submitted; the rest were not\n";
      return fail(at_file_line(reply.error(), label, parsed->line_of, first), 1);
    }
    // Each getX() walks the message again and counts against Cap'n Proto's
    // traversal limit: read the list once.
    auto ids = (*reply)->envelope().getSubmitManyReply().getIds();
    if (ids.size() != count) return fail("the master answered for a different number of jobs");
    for (unsigned i = 0; i < ids.size(); ++i) {
      ++accepted;
      if (parsable) std::cout << ids[i] << "\n";
    }
  }
  if (!parsable) std::cout << "Submitted " << accepted << " of " << jobs.size() << " jobs" << std::endl;
  return 0;
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
  auto made = job_spec_for_caller(*opts);
  if (!made) return fail(made.error(), 2);
  const JobSpec& spec = *made;
  if (Status s = validate_job_request(spec, kClientBounds); !s) return fail(s.error(), 2);

  // Before the Client: its ZeroMQ threads must start with SIGINT blocked.
  std::optional<InterruptWatch> ctrl_c;
  if (opts->wait) ctrl_c.emplace();
  Client client(g.master, g.timeout_ms);
  auto reply = client.call([&](Envelope::Builder e) { to_proto(spec, e.initSubmit().initRequest()); });
  if (!reply) return fail(reply.error());
  uint64_t id = (*reply)->envelope().getSubmitReply().getId();
  if (opts->parsable) {
    std::cout << id << std::endl;
  } else {
    std::cout << (g.slurm_words ? "Submitted batch job " : "Submitted job ") << id << std::endl;
    // Where to look, on stderr so that scripts reading the line above are
    // undisturbed (sbatch says nothing more).
    if (!g.slurm_words) std::cerr << "cadre: output goes to " << output_shown(spec, id) << std::endl;
  }
  if (!opts->wait) return 0;
  return wait_for(client, id, {}, &*ctrl_c);
}

}  // namespace cadre::cli
