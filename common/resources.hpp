// Resources: integer quantities of what a node has and a task asks for.
// cpu in millicores, memory in MiB, GPUs as a count. No floating point, so
// arithmetic is exact and comparisons are total. Value type; not synchronised.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace cadre {

struct Resources {
  int64_t millicores = 0;
  int64_t memory_mb = 0;
  int64_t gpus = 0;

  Resources& operator+=(const Resources& o);
  Resources& operator-=(const Resources& o);
  friend Resources operator+(Resources a, const Resources& b) { return a += b; }
  friend Resources operator-(Resources a, const Resources& b) { return a -= b; }
  // Each quantity multiplied by n (n tasks of one shape).
  Resources times(int64_t n) const;
  bool operator==(const Resources&) const = default;
  bool is_zero() const { return millicores == 0 && memory_mb == 0 && gpus == 0; }
  // True when every quantity is >= 0.
  bool non_negative() const { return millicores >= 0 && memory_mb >= 0 && gpus >= 0; }
  std::string to_string() const;  // "cpus=2 mem=4G gpus=1"
};

// True when `request` fits in `free`, quantity by quantity.
bool fits(const Resources& request, const Resources& free);

// How many copies of `request` fit in `free` (capped at `cap`); a request of
// all zeros fits `cap` times.
int64_t count_fits(const Resources& request, const Resources& free, int64_t cap);

// "512M", "32G", "1T", "4096" (MiB, as Slurm reads a bare number), "1024K",
// with an optional trailing "B" or "iB"; suffixes are case-insensitive.
// Returns MiB, rounding K up to whole MiB.
Result<int64_t> parse_size_mb(std::string_view text);

// Formats MiB compactly: 32768 -> "32G", 1536 -> "1536M".
std::string format_size_mb(int64_t mb);

// Formats millicores as cpus: 2000 -> "2", 1500 -> "1.5".
std::string format_cpus(int64_t millicores);

// Slurm's time formats: "MM", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM",
// "D-HH:MM:SS". Returns seconds, at most 100000 days' worth (what
// format_duration_s prints parses back). "0", "UNLIMITED" and "INFINITE"
// mean no limit and return 0.
Result<int64_t> parse_duration_s(std::string_view text);

// Formats seconds as Slurm prints elapsed time: "M:SS", "H:MM:SS", "D-HH:MM:SS".
std::string format_duration_s(int64_t seconds);

// Parses a non-negative decimal integer no larger than `max`.
Result<int64_t> parse_count(std::string_view text, int64_t max);

}  // namespace cadre
