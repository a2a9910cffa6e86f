// sbatch's --mail-type and --mail-user: which of a job's events are mailed,
// and to whom. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace cadre {

// Bits of a --mail-type list.
enum MailEvent : uint32_t {
  kMailBegin = 1u << 0,           // the job (an attempt) started
  kMailEnd = 1u << 1,             // it ended, however
  kMailFail = 1u << 2,            // it ended FAILED, NODE_FAIL, TIMEOUT or OUT_OF_MEMORY
  kMailRequeue = 1u << 3,         // it went back to the queue
  kMailInvalidDepend = 1u << 4,   // its dependency can never be satisfied
  kMailTimeLimit = 1u << 5,       // it reached its time limit
  kMailTimeLimit90 = 1u << 6,     // 90 %, 80 %, 50 % of it
  kMailTimeLimit80 = 1u << 7,
  kMailTimeLimit50 = 1u << 8,
  kMailArrayTasks = 1u << 9,      // an array's tasks each mail, not the array as a whole
  kMailStageOut = 1u << 10,       // burst buffer stage-out: read, never sent (cadre has none)
  kMailKnown = (1u << 11) - 1,    // every bit above
};

// "END,FAIL" (any case; NONE, BEGIN, END, FAIL, REQUEUE, ALL,
// INVALID_DEPEND, STAGE_OUT, TIME_LIMIT, TIME_LIMIT_90, TIME_LIMIT_80,
// TIME_LIMIT_50, ARRAY_TASKS) to its bits; ALL is BEGIN, END, FAIL,
// REQUEUE, INVALID_DEPEND and STAGE_OUT, as sbatch reads it.
Result<uint32_t> parse_mail_type(std::string_view text);
// The bits as sbatch's names, "BEGIN,END"; "" for none.
std::string format_mail_type(uint32_t bits);
// A mail address or a user name: letters, digits and . _ % + - @, not
// starting with '-' (it goes on the mail program's command line).
Status check_mail_user(std::string_view user);

}  // namespace cadre
