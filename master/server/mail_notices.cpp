#include "master/server/mail_notices.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/job_mail.hpp"
#include "common/log.hpp"
#include "common/resources.hpp"
#include "master/state/cluster.hpp"

namespace cadre {
namespace {

bool failure(JobState s) {
  return s == JobState::failed || s == JobState::node_fail || s == JobState::timeout || s == JobState::out_of_memory;
}

// Slurm's subjects, with cadre's name: "cadre Job_id=12 Name=train Began,
// Queued time 00:00:05".
std::string head(const Job& j, bool whole_array) {
  const std::string id = whole_array ? "Array_job_id=" + std::to_string(j.spec.array_job_id)
                         : j.spec.array_job_id != 0
                             ? "Job_id=" + std::to_string(j.spec.array_job_id) + "_" +
                                   std::to_string(j.spec.array_task_id) + " (" + std::to_string(j.id) + ")"
                             : "Job_id=" + std::to_string(j.id);
  return "cadre " + id + " Name=" + j.spec.name;
}

Mail mail(const Job& j, std::string subject) {
  std::string body = subject + "\n\nJob " + std::to_string(j.id) + " (" + j.spec.name + ") of user " + j.spec.user +
                     ", partition " + j.spec.partition + ", attempt " + std::to_string(j.attempt) + ".\n";
  if (!j.reason.empty()) body += "Reason: " + j.reason + "\n";
  return Mail{j.spec.mail_user.empty() ? j.spec.user : j.spec.mail_user, std::move(subject), std::move(body)};
}

}  // namespace

uint32_t MailNotices::shares_passed(const Job& j, int64_t now_unix) {
  if (j.state != JobState::running || j.spec.time_limit_s <= 0 || j.start_time <= 0) return 0;
  const int64_t ran = now_unix - j.start_time;
  uint32_t bits = 0;
  for (auto [share, bit] : {std::pair{50, kMailTimeLimit50}, std::pair{80, kMailTimeLimit80},
                            std::pair{90, kMailTimeLimit90}})
    if (ran * 100 >= j.spec.time_limit_s * share) bits |= bit;
  return bits;
}

void MailNotices::baseline(const Job& j) {
  if (j.spec.mail_type == 0 || is_final(j.state)) return;
  // Shares passed before a restart were mailed (or missed) then: not again.
  seen_[j.id] = Seen{j.state == JobState::running ? j.attempt : 0, j.state, shares_passed(j, unix_now())};
  if (j.spec.array_job_id != 0 && j.state == JobState::running) array_began_.insert(j.spec.array_job_id);
}

std::vector<Mail> MailNotices::changes(const Cluster& c, const std::set<JobId>& changed) {
  std::vector<Mail> out;
  if (!enabled()) return out;
  std::set<JobId> arrays_ended;
  for (JobId id : changed) {
    const Job* j = c.find_job(id);
    if (!j || j->spec.mail_type == 0) continue;
    auto [it, fresh] = seen_.try_emplace(id);
    job_mails(c, *j, it->second, arrays_ended, out);
  }
  // An ended job is remembered while the master keeps it in memory: its
  // ranks reporting their exit after it ended change it again, and must
  // not mail its end twice. Forgotten once it has left memory.
  if (++turns_ % 64 == 0)
    std::erase_if(seen_, [&](const auto& entry) { return is_final(entry.second.state) && !c.find_job(entry.first); });
  return out;
}

void MailNotices::job_mails(const Cluster& c, const Job& j, Seen& seen, std::set<JobId>& arrays_ended,
                            std::vector<Mail>& out) {
  const uint32_t want = j.spec.mail_type;
  // An array's tasks mail for the array as a whole unless ARRAY_TASKS.
  const bool task = j.spec.array_job_id != 0;
  const bool whole_array = task && !(want & kMailArrayTasks);
  const JobState was = seen.state;
  seen.state = j.state;

  if (j.state == JobState::running && j.attempt > seen.began) {
    seen.began = j.attempt;
    seen.shares_sent = 0;
    const bool first = !whole_array || array_began_.insert(j.spec.array_job_id).second;
    if ((want & kMailBegin) && first)
      out.push_back(mail(j, head(j, whole_array) + " Began, Queued time " + format_duration_s(j.start_time - j.submit_time)));
  }
  if (j.state == JobState::pending && was == JobState::running && (want & kMailRequeue) && !whole_array)
    out.push_back(mail(j, head(j, false) + " Requeued"));
  if (!is_final(j.state) || is_final(was)) return;

  const std::string how = std::string(to_string(j.state)) + ", ExitCode " + std::to_string(j.exit_code);
  const std::string ran = j.start_time > 0 ? format_duration_s(j.end_time - j.start_time) : format_duration_s(0);
  if (j.state == JobState::timeout && (want & kMailTimeLimit) && !whole_array)
    out.push_back(mail(j, head(j, false) + " Reached time limit, Run time " + ran));
  if (j.state == JobState::cancelled && (want & kMailInvalidDepend) &&
      j.reason.find("can never be satisfied") != std::string::npos)
    out.push_back(mail(j, head(j, whole_array) + " Dependency never satisfied"));
  if (whole_array) {
    if (failure(j.state)) array_failed_.insert(j.spec.array_job_id);
    if (j.state != JobState::completed) array_incomplete_.insert(j.spec.array_job_id);
    // The array ended when its record (which runs the last index) and
    // every task of it have.
    const Job* record = c.find_job(j.spec.array_job_id);
    if (record && !is_final(record->state)) return;
    for (JobId m : c.array_members(j.spec.array_job_id)) {
      const Job* member = c.find_job(m);
      if (member && !is_final(member->state)) return;
    }
    if (!arrays_ended.insert(j.spec.array_job_id).second) return;
    const bool any_failed = array_failed_.erase(j.spec.array_job_id) > 0;
    const bool incomplete = array_incomplete_.erase(j.spec.array_job_id) > 0;
    array_began_.erase(j.spec.array_job_id);
    if ((want & kMailEnd) || (any_failed && (want & kMailFail)))
      out.push_back(mail(j, head(j, true) + (any_failed   ? " Failed, some tasks did not complete"
                                             : incomplete ? " Ended, not every task COMPLETED"
                                                          : " Ended, all tasks COMPLETED")));
    return;
  }
  if (failure(j.state) && (want & (kMailFail | kMailEnd)))
    out.push_back(mail(j, head(j, false) + " Failed, Run time " + ran + ", " + how));
  else if (want & kMailEnd)
    out.push_back(mail(j, head(j, false) + " Ended, Run time " + ran + ", " + how));
}

std::vector<Mail> MailNotices::time_limit_mails(const Cluster& c, int64_t now_unix) {
  std::vector<Mail> out;
  if (!enabled()) return out;
  constexpr uint32_t kShares = kMailTimeLimit50 | kMailTimeLimit80 | kMailTimeLimit90;
  for (auto& [id, seen] : seen_) {
    if (seen.state != JobState::running) continue;
    const Job* j = c.find_job(id);
    if (!j || !(j->spec.mail_type & kShares) || j->attempt != seen.began) continue;
    const uint32_t fresh = shares_passed(*j, now_unix) & ~seen.shares_sent;
    seen.shares_sent |= fresh;
    // Each share asked for once per attempt; a task of an array mails on
    // its own only with ARRAY_TASKS, as for its time limit.
    if (j->spec.array_job_id != 0 && !(j->spec.mail_type & kMailArrayTasks)) continue;
    const std::string ran = format_duration_s(now_unix - j->start_time);
    for (auto [share, bit] : {std::pair{50, kMailTimeLimit50}, std::pair{80, kMailTimeLimit80},
                              std::pair{90, kMailTimeLimit90}})
      if ((fresh & bit) && (j->spec.mail_type & bit))
        out.push_back(mail(*j, head(*j, false) + " Reached " + std::to_string(share) + "% of time limit, Run time " + ran));
  }
  return out;
}

void MailNotices::send(std::vector<Mail> mails) {
  for (Mail& m : mails) {
    if (running_.size() < kMaxRunning) {
      start(m);
      continue;
    }
    if (queued_.size() >= kMaxQueued) {
      ++failed_;
      CADRE_LOG(warning) << "mail to " << m.to << " dropped: " << kMaxQueued << " mails already wait ('" << m.subject
                         << "')";
      continue;
    }
    queued_.push_back(std::move(m));
  }
}

void MailNotices::reap() {
  std::erase_if(running_, [this](pid_t pid) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == 0) return false;
    if (r == pid && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
      ++failed_;
      CADRE_LOG(warning) << "the mail program " << program_ << " (pid " << pid << ") failed"
                         << (WIFEXITED(status) ? " with exit status " + std::to_string(WEXITSTATUS(status))
                                               : std::string(" by a signal"));
    }
    return true;  // ended, or not our child any more
  });
  while (!queued_.empty() && running_.size() < kMaxRunning) {
    Mail m = std::move(queued_.front());
    queued_.pop_front();
    start(m);
  }
}

void MailNotices::start(const Mail& m) {
  const std::string base = program_.substr(program_.rfind('/') + 1);
  const bool sendmail = base == "sendmail";
  std::vector<std::string> args{program_};
  std::string input = m.body;
  if (sendmail) {
    args.insert(args.end(), {"-i", m.to});
    input = "To: " + m.to + "\nSubject: " + m.subject + "\n\n" + m.body;
  } else {
    args.insert(args.end(), {"-s", m.subject, m.to});
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  char path_env[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {path_env, nullptr};

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    ++failed_;
    CADRE_LOG(warning) << "cannot mail " << m.to << ": pipe: " << std::strerror(errno);
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, program_.c_str(), &actions, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[0]);
  if (rc != 0) {
    close(fds[1]);
    ++failed_;
    CADRE_LOG(warning) << "cannot mail " << m.to << ": cannot run " << program_ << ": " << std::strerror(rc);
    return;
  }
  // A mail is a few hundred bytes, well inside a pipe's buffer: the write
  // does not wait on the program.
  const char* p = input.data();
  size_t left = std::min<size_t>(input.size(), 32768);
  while (left > 0) {
    const ssize_t n = write(fds[1], p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
  close(fds[1]);
  running_.push_back(pid);
  ++sent_;
  CADRE_LOG(info) << "mailed " << m.to << ": " << m.subject;
}

}  // namespace cadre
