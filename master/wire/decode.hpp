// Requests off the wire into the master's own values. Every list and text
// a peer sends is measured against common/limits.hpp before it is copied,
// so an oversize request costs the master one error reply, not a copy of
// its contents. A job request's own fields are judged later, by
// validate_job_request (common/job_validation.hpp), the same check the
// CLI runs. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/job_array.hpp"
#include "common/protocol.capnp.h"
#include "common/result.hpp"
#include "master/model.hpp"
#include "master/state/cluster.hpp"

namespace cadre::wire {

// Registration of an agent: name, address, resources, labels, GPUs and
// the ranks it still runs, each within its bound.
Result<NodeRegistration> decode_register(Register::Reader r);
Result<TaskEvent> decode_task_status(TaskStatus::Reader s);

Result<JobSpec> decode_job_request(JobRequest::Reader r);
// At most limits::kMaxJobsPerSubmitMany jobs.
Result<std::vector<JobSpec>> decode_submit_many(SubmitMany::Reader s);

// At most limits::kMaxIdsPerRequest ids; duplicates are dropped (first
// one kept), so each job gets one answer.
Result<std::vector<JobId>> decode_cancel(Cancel::Reader c);
Result<std::vector<JobId>> decode_hold(HoldJobs::Reader h);
// A request's job ids: bounded, duplicates dropped, in the order given.
Result<std::vector<JobId>> decode_job_ids(capnp::List<uint64_t>::Reader ids);
// The array tasks a cancel or hold names ("12_7"): bounded, each one read.
Result<std::vector<JobRef>> decode_task_refs(capnp::List<capnp::Text>::Reader refs);

struct ListJobsRequest {
  bool all = false;
  JobId after = 0;
  size_t limit = 0;  // jobs per page, at most limits::kJobsPerPage
};
ListJobsRequest decode_list_jobs(ListJobs::Reader r);

Result<StepRequest> decode_run_step(RunStep::Reader r);

struct NodeStateRequest {
  std::vector<std::string> names;
  std::string state;  // "DRAIN" or "UP"
  std::string reason;
};
Result<NodeStateRequest> decode_set_node_state(SetNodeState::Reader r);

}  // namespace cadre::wire
