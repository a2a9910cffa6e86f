// The one codec of a job request: JobSpec <-> the protocol's JobRequest,
// and Resources <-> the protocol's Resources. The CLI encodes with it, the
// master decodes (and encodes listings) with it. Decoding does not
// validate: call validate_job_request (common/job_validation.hpp) on what
// from_proto returns. Pure functions; thread-safe.
#pragma once

#include "common/job_spec.hpp"
#include "common/protocol.capnp.h"
#include "common/resources.hpp"

namespace cadre {

void to_proto(const Resources& r, ::Resources::Builder out);
Resources from_proto(::Resources::Reader r);

// `with_script` false leaves the batch script and the environment out (listings must not carry
// megabytes of scripts).
void to_proto(const JobSpec& spec, ::JobRequest::Builder out, bool with_script = true);
// Every field as sent, text byte for byte (NUL bytes included, for the
// validator to refuse); durations past 2^40 s are clamped there (any such
// value is refused by validation anyway); an unset umask stays -1.
JobSpec from_proto(::JobRequest::Reader r);

}  // namespace cadre
