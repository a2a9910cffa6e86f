// Shared by `cadre submit` and `cadre run`: turning options into a job
// request, checking and encoding it, and waiting for a job to end.
// Not thread-safe (reads the process umask).
#pragma once

#include <cstdint>
#include <functional>

#include "cli/client.hpp"
#include "cli/interrupts.hpp"
#include "cli/submit_options.hpp"
#include "common/job_spec.hpp"
#include "common/job_validation.hpp"
#include "common/limits.hpp"
#include "common/protocol.capnp.h"

namespace cadre::cli {

// The bounds the CLI checks before sending. The two an admin may change
// are the master's to judge (it may allow more than the defaults); here
// they only keep a request well inside one message.
inline constexpr RequestBounds kClientBounds{limits::kMaxMessageBytes / 4, limits::kMaxMessageBytes / 4};

// The job `o` describes, submitted by the caller: with the caller's user
// name, uid, gid and umask.
Result<JobSpec> job_spec_for_caller(const SubmitOptions& o);

// Polls job `id` until it ends, printing each state change (and a pending
// job's reason and expected start as they change) on stderr, and calling
// `on_poll` with every answer (e.g. to follow output files). With `ctrl_c`,
// a Ctrl-C reports the job's state and a second within a second cancels it.
// Returns the exit status for the shell: the job's exit code, or 1 when it
// did not complete but has code 0 (cancelled, node failure).
int wait_for(Client& client, uint64_t id, const std::function<void(JobInfo::Reader)>& on_poll = {},
             InterruptWatch* ctrl_c = nullptr);

}  // namespace cadre::cli
