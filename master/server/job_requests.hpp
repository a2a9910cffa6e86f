// JobRequests: the master's handlers for what users ask about jobs:
// submit, submitMany, listJobs, showJob, cancel, runStep and showStep.
// Each answers its request exactly once through the Outbox (or defers it).
// Who may do what is decided here from the authenticated peer: users act
// on their own jobs and charge their own accounts; admins may do more.
//
// Not synchronised: runs on the master's event-loop thread.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/protocol.capnp.h"
#include "master/server/server_state.hpp"

namespace cadre {

class JobRequests {
 public:
  // `post` runs a function later on the event loop, after the current
  // turn ends (a long cancel continues there, one slice per turn).
  JobRequests(ServerState& state, std::function<void(std::function<void()>)> post)
      : s_(state), post_(std::move(post)) {}

  void submit(const Request& r, Submit::Reader m);
  void submit_many(const Request& r, SubmitMany::Reader m);
  void list_jobs(const Request& r, ListJobs::Reader m);
  void show_job(const Request& r, JobId id);
  void cancel(const Request& r, Cancel::Reader m);
  // cadre hold / release: at most limits::kMaxIdsPerRequest ids, in one turn.
  void hold(const Request& r, HoldJobs::Reader m);
  void update(const Request& r, UpdateJob::Reader m);
  void requeue(const Request& r, RequeueJobs::Reader m);
  void run_step(const Request& r, RunStep::Reader m);
  void show_step(const Request& r, JobId job, uint32_t step);

  // The store failed and the state was reloaded: cancels in progress end
  // (their requests were answered with the failure).
  void drop_pending() { cancels_.clear(); }

 private:
  // One job through identity, authorization, the rate limit and
  // Cluster::submit.
  Result<JobId> submit_one(const Request& r, JobSpec spec);
  Status authorize_spec(const Request& r, const JobSpec& spec) const;
  std::string no_account_message(const Request& r) const;
  // Answers a request that broke a bound of common/limits.hpp (counted).
  void refuse(const Request& r, const std::string& why);
  void log_rate_limited(const std::string& user, int64_t now_ms);

  struct PendingCancel {
    Request request;
    std::vector<JobId> ids;
    size_t next = 0;
    std::vector<CancelOutcome> outcomes;
  };
  // Loads from the store the ended jobs `dependency` names that are not in
  // memory; an id the store does not know either is an error.
  Status load_dependency_targets(const std::string& dependency);
  // The jobs a cancel or hold names: an array's id stands for all its live
  // jobs, "12_7" for one task (split off its array's record if it has not
  // started). A task the requester may not touch, or that does not exist,
  // gets its outcome in `refused` instead.
  std::vector<JobId> resolve_targets(const Request& r, const std::vector<JobId>& ids, const std::vector<JobRef>& tasks,
                                     std::vector<CancelOutcome>& refused);
  // Works through one slice of the oldest pending cancel; answers it when
  // done and posts the next slice while any remain.
  void cancel_slice();
  CancelOutcome cancel_one(const Request& r, JobId id);
  // For an id not among the active jobs: why, from the store.
  void say_why_not_active(CancelOutcome& o);

  ServerState& s_;
  std::function<void(std::function<void()>)> post_;
  std::deque<PendingCancel> cancels_;
  std::map<std::string, int64_t> rate_logged_ms_;  // user -> when a flood of theirs was last logged
};

}  // namespace cadre
