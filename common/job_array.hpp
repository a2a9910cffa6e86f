// Job arrays (`--array`, sbatch's meaning): the index set a user asks for
// ("0-99", "1,3,7", "0-15:4", "%N" throttle), kept as ascending ranges so a
// 100,000-task array is a few bytes, with the operations the master needs
// on the indices not started yet (take the lowest, take one out). Pure;
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace cadre {

// Indices are 0 .. kMaxArrayIndex (Slurm's largest MaxArraySize less one).
inline constexpr uint32_t kMaxArrayIndex = 4000000;

// first, first + step, ... up to and including last (last is on the step).
struct IndexRange {
  uint32_t first = 0;
  uint32_t last = 0;
  uint32_t step = 1;
  uint64_t count() const { return (last - first) / step + 1; }
  bool operator==(const IndexRange&) const = default;
};

// Ascending, disjoint ranges: every index once.
class IndexSet {
 public:
  IndexSet() = default;
  // Normalises any list of ranges (overlaps and repeats merged).
  static IndexSet of(std::vector<IndexRange> ranges);
  // Reads what format() writes (also what a user types, without a throttle).
  static Result<IndexSet> parse(std::string_view text);

  bool empty() const { return ranges_.empty(); }
  uint64_t count() const;
  uint32_t min() const { return ranges_.front().first; }
  uint32_t max() const { return ranges_.back().last; }
  bool contains(uint32_t index) const;
  // Removes and returns the lowest index.
  uint32_t take_lowest();
  // Removes `index`; false when it is not in the set.
  bool remove(uint32_t index);
  const std::vector<IndexRange>& ranges() const { return ranges_; }
  // "0-99", "1,3,7", "0-15:4", "5-9,20": the shortest form, as squeue shows it.
  std::string format() const;
  bool operator==(const IndexSet&) const = default;

 private:
  std::vector<IndexRange> ranges_;
};

struct ArraySpec {
  IndexSet indices;
  uint32_t throttle = 0;  // at most this many tasks run at once; 0: no limit
};

// `--array` as sbatch documents it: comma-separated indices and ranges
// (N-M, N-M:STEP), then an optional %THROTTLE. Errors say what is wrong.
Result<ArraySpec> parse_array_spec(std::string_view text);

// The throttle of an --array text ("0-99%10" -> 10); 0 when none. Reads
// only what follows '%': the scheduler asks this every pass.
uint32_t array_throttle(std::string_view array);

// The values sbatch exports for an array, from its spec: SLURM_ARRAY_TASK_COUNT,
// _MIN, _MAX, _STEP (the step of a single range; 1 otherwise).
struct ArrayFacts {
  uint64_t count = 0;
  uint32_t min = 0, max = 0, step = 1;
};
ArrayFacts array_facts(const ArraySpec& spec);

// A job id as users write it: "12", "12_7" (task 7 of array 12), "12_[3-5]"
// is not one (several). task: -1 when none given.
struct JobRef {
  uint64_t job = 0;
  int64_t task = -1;
};
std::optional<JobRef> parse_job_ref(std::string_view text);

}  // namespace cadre
