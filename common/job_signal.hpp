// sbatch's --signal=[{R|B}:]SIG[@SECONDS]: a signal sent to a job a while
// before its time limit (default 60 s), to its steps' ranks (cadre: every
// rank but a batch script), or with "B:" to the batch script alone. Pure;
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace cadre {

struct JobSignal {
  int number = 0;          // 0: none
  int64_t before_s = 60;   // seconds before the time limit
  bool batch_only = false; // B: the batch script alone
};

// "USR1@90", "B:SIGUSR2", "10@120", "R:USR1". Names with or without SIG;
// numbers 1..64; seconds 0..65535, as sbatch. Errors say what is wrong.
Result<JobSignal> parse_job_signal(std::string_view text);
// A signal's number from "USR1", "SIGUSR1" or "10"; 0 when not one.
int signal_number(std::string_view name);

}  // namespace cadre
