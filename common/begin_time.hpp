// sbatch's --begin (and scontrol's StartTime=): when a job may start at the
// earliest; and sacct's --starttime and --endtime. In the forms Slurm
// documents, read in the local time zone of whoever parses them (the CLI,
// so the submitter's). Pure but for the time
// zone; thread-safe (localtime_r, mktime).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace cadre {

// The unix time `text` names, seen from `now_unix`:
//   HH:MM[:SS] [AM|PM]               today, or tomorrow when already past
//   midnight noon elevenses fika teatime   00:00 12:00 11:00 15:00 16:00
//   today tomorrow                   that day at 00:00 (or the time given)
//   MMDD[YY] MM/DD[/YY] MM.DD[.YY]   a date (this year, or next when past)
//   YYYY-MM-DD[THH:MM[:SS]]          a date and time; also MM/DD[/YY]-HH:MM
//   now[{+|-}COUNT[UNIT]]            UNIT: seconds (the default), minutes,
//                                    hours, days, weeks (singular too)
//   uts<SECONDS>                     a unix time
// A date without a time is its midnight. Errors quote the text and say
// which forms are accepted.
Result<int64_t> parse_begin_time(std::string_view text, int64_t now_unix);

// The same forms read as sacct reads --starttime and --endtime: what is
// left out makes the time not later than now (a time alone is today, or
// yesterday when still ahead; a date without a year is this year, or last
// year when still ahead). `option` names the flag in errors ("--starttime").
Result<int64_t> parse_past_time(std::string_view text, int64_t now_unix, std::string_view option);

// A unix time as the local "YYYY-MM-DDTHH:MM:SS" that Slurm shows.
std::string format_local_time(int64_t unix_s);

}  // namespace cadre
