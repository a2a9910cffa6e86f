#include "common/job_update.hpp"

#include <algorithm>
#include <cctype>

#include "common/begin_time.hpp"
#include "common/dependency.hpp"
#include "common/job_array.hpp"
#include "common/limits.hpp"
#include "common/resources.hpp"

namespace cadre {
namespace {

struct Key {
  const char* name;
  UpdateField field;
};

constexpr Key kKeys[] = {
    {"timelimit", UpdateField::time_limit},   {"jobname", UpdateField::name},
    {"name", UpdateField::name},              {"numnodes", UpdateField::num_nodes},
    {"reqnodes", UpdateField::num_nodes},     {"numtasks", UpdateField::num_tasks},
    {"reqprocs", UpdateField::num_tasks},     {"partition", UpdateField::partition},
    {"dependency", UpdateField::dependency},  {"priority", UpdateField::priority},
    {"requeue", UpdateField::requeue},        {"arraytaskthrottle", UpdateField::array_throttle},
    {"account", UpdateField::account},        {"starttime", UpdateField::begin_time},
    {"begintime", UpdateField::begin_time},   {"eligibletime", UpdateField::begin_time},
    {"qos", UpdateField::qos},
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

constexpr const char* kKnown =
    "TimeLimit, JobName, NumNodes, NumTasks, Partition, Dependency, Priority, Requeue, ArrayTaskThrottle, Account, "
    "StartTime, QOS";

}  // namespace

std::string_view field_name(UpdateField f) {
  switch (f) {
    case UpdateField::time_limit: return "TimeLimit";
    case UpdateField::name: return "JobName";
    case UpdateField::num_nodes: return "NumNodes";
    case UpdateField::num_tasks: return "NumTasks";
    case UpdateField::partition: return "Partition";
    case UpdateField::dependency: return "Dependency";
    case UpdateField::priority: return "Priority";
    case UpdateField::requeue: return "Requeue";
    case UpdateField::array_throttle: return "ArrayTaskThrottle";
    case UpdateField::account: return "Account";
    case UpdateField::begin_time: return "StartTime";
    case UpdateField::qos: return "QOS";
  }
  return "?";
}

Result<JobUpdate> parse_job_update(std::string_view word, int64_t now_unix) {
  const std::string shown = "'" + std::string(word.substr(0, 64)) + "'";
  const auto eq = word.find('=');
  if (eq == std::string_view::npos || eq == 0)
    return make_error(shown + " is not KEY=VALUE (keys: " + kKnown + ")");
  std::string_view key = word.substr(0, eq);
  JobUpdate u;
  if (key.back() == '+' || key.back() == '-') {
    u.op = key.back() == '+' ? 1 : -1;
    key.remove_suffix(1);
  }
  const std::string k = lower(key);
  const Key* found = nullptr;
  for (const Key& candidate : kKeys)
    if (k == candidate.name) found = &candidate;
  if (!found) return make_error(shown + ": cadre cannot update '" + std::string(key) + "' (keys: " + kKnown + ")");
  u.field = found->field;
  u.value = std::string(word.substr(eq + 1));
  if (u.op != 0 && u.field != UpdateField::time_limit)
    return make_error(shown + ": only TimeLimit takes += and -=");
  switch (u.field) {
    case UpdateField::time_limit: {
      auto s = parse_duration_s(u.value);
      if (!s) return make_error(shown + ": " + s.error());
      if (u.op != 0 && *s == 0) return make_error(shown + ": give the minutes (or a time) to add or take off");
      u.number = *s;
      break;
    }
    case UpdateField::num_nodes:
    case UpdateField::num_tasks:
    case UpdateField::array_throttle: {
      auto n = parse_count(u.value, u.field == UpdateField::array_throttle ? kMaxArrayIndex + 1 : limits::kMaxTasksPerJob);
      if (!n || (*n == 0 && u.field != UpdateField::array_throttle))
        return make_error(shown + ": expected a whole number" +
                          (u.field == UpdateField::array_throttle ? " (0: no limit)" : " from 1"));
      u.number = *n;
      break;
    }
    case UpdateField::priority: {
      auto n = parse_count(u.value, limits::kMaxPriority);
      if (!n) return make_error(shown + ": expected a priority from 0 to " + std::to_string(limits::kMaxPriority));
      u.number = *n;
      break;
    }
    case UpdateField::requeue:
      if (u.value != "0" && u.value != "1") return make_error(shown + ": expected 0 or 1");
      u.number = u.value == "1";
      break;
    case UpdateField::dependency:
      if (!u.value.empty())
        if (auto d = parse_dependency(u.value); !d) return make_error(d.error());
      break;
    case UpdateField::name:
    case UpdateField::partition:
    case UpdateField::account:
    case UpdateField::qos:
      if (u.value.empty()) return make_error(shown + ": give a value");
      break;
    case UpdateField::begin_time: {
      auto at = parse_begin_time(u.value, now_unix);
      if (!at) return make_error(shown + ": " + at.error());
      // A time already come lifts the wait, as Slurm's StartTime=now does.
      u.number = *at <= now_unix ? 0 : *at;
      break;
    }
  }
  return u;
}

std::string portable_update_word(const JobUpdate& u, std::string_view word) {
  if (u.field != UpdateField::begin_time) return std::string(word);
  return u.number == 0 ? "StartTime=now" : "StartTime=uts" + std::to_string(u.number);
}

Result<std::vector<JobUpdate>> parse_job_updates(const std::vector<std::string>& words, int64_t now_unix) {
  if (words.empty()) return make_error("give what to change as KEY=VALUE (keys: " + std::string(kKnown) + ")");
  if (words.size() > 64) return make_error("at most 64 changes at once");
  std::vector<JobUpdate> out;
  for (const std::string& w : words) {
    auto u = parse_job_update(w, now_unix);
    if (!u) return make_error(u.error());
    out.push_back(std::move(*u));
  }
  return out;
}

Status apply_job_updates(JobSpec& spec, const std::vector<JobUpdate>& updates, bool running) {
  for (const JobUpdate& u : updates) {
    const bool any_time = u.field == UpdateField::time_limit || u.field == UpdateField::name ||
                          u.field == UpdateField::requeue;
    if (running && !any_time)
      return make_error(std::string(field_name(u.field)) + " can only change while the job is pending");
    switch (u.field) {
      case UpdateField::time_limit:
        if (u.op == 0) spec.time_limit_s = u.number;
        else if (spec.time_limit_s == 0) return make_error("TimeLimit" + std::string(u.op > 0 ? "+=" : "-=") +
                                                           ": the job has no time limit to change");
        else spec.time_limit_s = std::max<int64_t>(60, spec.time_limit_s + u.op * u.number);
        spec.time_limit_given = true;
        break;
      case UpdateField::name: spec.name = u.value; break;
      case UpdateField::num_nodes:
        // The ranks per node stay; the total follows the node count.
        if (spec.nodes == 0) {
          spec.tasks_per_node = std::max<uint32_t>(1, spec.ntasks / static_cast<uint32_t>(u.number));
          if (spec.tasks_per_node * u.number != spec.ntasks) spec.tasks_per_node = 1;
        }
        spec.nodes = static_cast<uint32_t>(u.number);
        spec.ntasks = spec.nodes * std::max<uint32_t>(1, spec.tasks_per_node);
        break;
      case UpdateField::num_tasks:
        if (spec.nodes > 0 && u.number % spec.nodes != 0)
          return make_error("NumTasks=" + u.value + " does not spread evenly over the job's " +
                            std::to_string(spec.nodes) + " nodes; change NumNodes too");
        spec.ntasks = static_cast<uint32_t>(u.number);
        if (spec.nodes > 0) spec.tasks_per_node = spec.ntasks / spec.nodes;
        break;
      case UpdateField::partition:
        spec.partition = u.value;  // a list ("a,b") is split by the master
        spec.partition_list.clear();
        break;
      case UpdateField::dependency: spec.dependency = u.value; break;
      case UpdateField::priority: spec.priority = static_cast<int32_t>(u.number); break;
      case UpdateField::requeue: spec.requeue = u.number != 0; break;
      case UpdateField::account: spec.account = u.value; break;
      case UpdateField::qos: spec.qos = u.value; break;
      case UpdateField::begin_time: spec.begin_time = u.number; break;
      case UpdateField::array_throttle: {
        if (spec.array.empty()) return make_error("ArrayTaskThrottle: the job is not an array");
        std::string indices = spec.array.substr(0, spec.array.find('%'));
        spec.array = u.number > 0 ? indices + "%" + std::to_string(u.number) : indices;
        break;
      }
    }
  }
  return {};
}

}  // namespace cadre
