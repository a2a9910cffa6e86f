// Shared by `cadre submit` and `cadre run`: turning options into a job
// request, and waiting for a job to end. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>

#include "cli/client.hpp"
#include "cli/submit_options.hpp"
#include "common/protocol.capnp.h"

namespace cadre::cli {

// Fills a JobRequest from parsed options and the caller's identity.
void fill_request(const SubmitOptions& o, JobRequest::Builder r);

// Polls job `id` until it ends, printing each state change on stderr, and
// calling `on_poll` with every answer (e.g. to follow output files).
// Returns the exit status for the shell: the job's exit code, or 1 when it
// did not complete but has code 0 (cancelled, node failure).
int wait_for(Client& client, uint64_t id, const std::function<void(JobInfo::Reader)>& on_poll = {});

}  // namespace cadre::cli
