// What a submitted job asks for, read from `cadre submit`'s parsed flags:
// its shape (nodes, tasks per node, tasks), cpus and memory per task,
// GPUs and their model (-G, --cpus-per-gpu, --mem-per-gpu, --ntasks-per-gpu
// included), time limit, priority, partition, account and
// switch limits, as sbatch reads its options of the same names. Pure;
// thread-safe.
#pragma once

#include "cli/submit_options.hpp"
#include "common/flags.hpp"
#include "common/result.hpp"

namespace cadre::cli {

// Fills those fields of `o` from `f` (flags declared from submit_flags()).
// Errors name the flag and what it expects, or the flags that contradict.
Status apply_resource_flags(const Flags& f, SubmitOptions& o);

}  // namespace cadre::cli
