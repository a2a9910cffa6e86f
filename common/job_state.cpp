#include "common/job_state.hpp"

#include <array>
#include <utility>

namespace cadre {
namespace {
constexpr std::array<std::pair<JobState, std::string_view>, 9> kJobNames{{
    {JobState::pending, "PENDING"},
    {JobState::running, "RUNNING"},
    {JobState::completed, "COMPLETED"},
    {JobState::failed, "FAILED"},
    {JobState::cancelled, "CANCELLED"},
    {JobState::timeout, "TIMEOUT"},
    {JobState::node_fail, "NODE_FAIL"},
    {JobState::out_of_memory, "OUT_OF_MEMORY"},
    {JobState::deadline, "DEADLINE"},
}};
constexpr std::array<std::pair<TaskState, std::string_view>, 9> kTaskNames{{
    {TaskState::pending, "PENDING"},
    {TaskState::launching, "LAUNCHING"},
    {TaskState::running, "RUNNING"},
    {TaskState::killing, "KILLING"},
    {TaskState::completed, "COMPLETED"},
    {TaskState::failed, "FAILED"},
    {TaskState::cancelled, "CANCELLED"},
    {TaskState::lost, "LOST"},
    {TaskState::allocated, "ALLOCATED"},
}};
}  // namespace

std::string_view to_string(JobState s) {
  for (auto& [state, name] : kJobNames)
    if (state == s) return name;
  return "UNKNOWN";
}

std::optional<JobState> parse_job_state(std::string_view s) {
  for (auto& [state, name] : kJobNames)
    if (name == s) return state;
  return std::nullopt;
}

bool is_final(JobState s) { return s != JobState::pending && s != JobState::running; }

std::string_view to_string(TaskState s) {
  for (auto& [state, name] : kTaskNames)
    if (state == s) return name;
  return "UNKNOWN";
}

std::optional<TaskState> parse_task_state(std::string_view s) {
  for (auto& [state, name] : kTaskNames)
    if (name == s) return state;
  return std::nullopt;
}

bool holds_resources(TaskState s) {
  return s == TaskState::launching || s == TaskState::running || s == TaskState::killing ||
         s == TaskState::allocated;
}

}  // namespace cadre
