// MailNotices: sbatch's --mail-type acted on. After each commit the master
// hands it the turn's changed jobs; a job that asked for mail and began,
// ended, failed or went back to the queue since it was last seen gets a
// mail through the configured program (Slurm's MailProg), started without
// waiting and reaped on the tick. Only committed facts are mailed. Not
// thread-safe: the master's loop owns it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/ids.hpp"
#include "master/model.hpp"

namespace cadre {

class Cluster;

struct Mail {
  std::string to;
  std::string subject;
  std::string body;
};

class MailNotices {
 public:
  // `program`: a mailx-style program run as PROGRAM -s SUBJECT TO with the
  // body on its standard input, or a sendmail (by that name) run as
  // PROGRAM -i TO with headers and body; "" mails nothing.
  explicit MailNotices(std::string program) : program_(std::move(program)) {}

  bool enabled() const { return !program_.empty(); }
  // A job the master loaded at start: its state now is not news.
  void baseline(const Job& j);
  // The mails the turn's changed jobs call for (and remembers them seen).
  std::vector<Mail> changes(const Cluster& c, const std::set<JobId>& changed);
  // TIME_LIMIT_50, _80, _90: running jobs that asked for them and passed
  // that share of their time limit since the last look (once per attempt).
  // On the tick; looks only at jobs with mail this object follows.
  std::vector<Mail> time_limit_mails(const Cluster& c, int64_t now_unix);
  // Starts the mail program for each; at most kMaxRunning at once, the
  // rest queued (at most kMaxQueued; beyond that a mail is dropped, logged
  // and counted).
  void send(std::vector<Mail> mails);
  // Ends finished mail programs and starts queued mails; on the tick.
  void reap();

  uint64_t sent() const { return sent_; }
  uint64_t failed() const { return failed_; }

  static constexpr size_t kMaxRunning = 16;
  static constexpr size_t kMaxQueued = 1000;

 private:
  struct Seen {
    Attempt began = 0;
    JobState state = JobState::pending;
    uint32_t shares_sent = 0;  // kMailTimeLimit50/80/90 bits mailed for attempt `began`
  };
  // The TIME_LIMIT_N bits `j` has passed by `now_unix` (none unless running with a limit).
  static uint32_t shares_passed(const Job& j, int64_t now_unix);
  void start(const Mail& mail);
  // `arrays_ended`: arrays whose end this turn already mailed (two tasks
  // may end in one turn, each seeing the whole array ended).
  void job_mails(const Cluster& c, const Job& j, Seen& seen, std::set<JobId>& arrays_ended, std::vector<Mail>& out);

  std::string program_;
  std::unordered_map<JobId, Seen> seen_;
  uint64_t turns_ = 0;  // calls of changes(), for the sweep of ended jobs
  std::set<JobId> array_began_, array_failed_, array_incomplete_;
  std::vector<pid_t> running_;
  std::deque<Mail> queued_;
  uint64_t sent_ = 0, failed_ = 0;
};

}  // namespace cadre
