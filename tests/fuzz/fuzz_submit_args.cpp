// libFuzzer target for cadre::cli::parse_submit: the input, split on '\0',
// is the words after `cadre submit`. It must never crash or throw, and an
// accepted request must be one the master would not reject for its shape:
// a command, an absolute working directory, 1..100000 tasks that match
// nodes x tasks-per-node, no negative quantities. A violation traps.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/submit_options.hpp"

namespace {

std::vector<std::string> split_words(const uint8_t* data, size_t size) {
  std::vector<std::string> words;
  if (size == 0) return words;
  std::string word;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '\0') {
      words.push_back(word);
      word.clear();
    } else {
      word += static_cast<char>(data[i]);
    }
  }
  words.push_back(word);
  return words;
}

bool well_formed(const cadre::cli::SubmitOptions& o) {
  if (o.argv.empty() || o.output_pattern.empty()) return false;
  if (o.workdir.empty() || o.workdir[0] != '/') return false;
  if (o.ntasks == 0 || o.ntasks > 100000) return false;
  if (o.nodes > 0 && uint64_t{o.nodes} * o.tasks_per_node != o.ntasks) return false;
  if (o.nodes == 0 && o.tasks_per_node != 0) return false;
  if (!o.per_task.non_negative() || o.per_task.millicores <= 0) return false;
  if (o.time_limit_s < 0 || o.priority < -1000000 || o.priority > 1000000) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = cadre::cli::parse_submit(split_words(data, size), "/nonexistent-cadre-fuzz-cwd");
  if (parsed && !well_formed(*parsed)) __builtin_trap();
  return 0;
}
