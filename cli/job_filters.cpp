#include "cli/job_filters.hpp"

#include <algorithm>
#include <array>

#include "cli/names.hpp"
#include "common/escape.hpp"
#include "common/job_state.hpp"
#include "common/job_validation.hpp"
#include "common/limits.hpp"
#include "common/resources.hpp"

namespace cadre::cli {
namespace {

struct StateName {
  std::string_view name;
  std::string_view code;  // squeue's compact form
  bool in_cadre;          // false: a Slurm state no cadre job is ever in
};

// squeue's JOB STATE CODES, cadre's own first.
constexpr std::array<StateName, 24> kStates{{
    {"PENDING", "PD", true},         {"RUNNING", "R", true},         {"COMPLETED", "CD", true},
    {"FAILED", "F", true},           {"CANCELLED", "CA", true},      {"TIMEOUT", "TO", true},
    {"NODE_FAIL", "NF", true},       {"OUT_OF_MEMORY", "OOM", true}, {"BOOT_FAIL", "BF", false},
    {"CONFIGURING", "CF", false},    {"COMPLETING", "CG", false},    {"DEADLINE", "DL", true},
    {"PREEMPTED", "PR", false},      {"RESV_DEL_HOLD", "RD", false}, {"REQUEUE_FED", "RF", false},
    {"REQUEUE_HOLD", "RH", false},   {"REQUEUED", "RQ", false},      {"RESIZING", "RS", false},
    {"REVOKED", "RV", false},        {"SIGNALING", "SI", false},     {"SPECIAL_EXIT", "SE", false},
    {"STAGE_OUT", "SO", false},      {"STOPPED", "ST", false},       {"SUSPENDED", "S", false},
}};

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

bool same_ignoring_case(std::string_view a, std::string_view b) { return a.size() == b.size() && upper(a) == upper(b); }

const StateName* find_state(std::string_view text) {
  const std::string word = upper(text);
  for (const StateName& s : kStates)
    if (word == s.name || word == s.code) return &s;
  return nullptr;
}

std::string cadre_states() {
  std::string out;
  for (const StateName& s : kStates) {
    if (!s.in_cadre) continue;
    out += (out.empty() ? "" : ", ") + std::string(s.name) + " (" + std::string(s.code) + ")";
  }
  return out;
}

std::string prefix(std::string_view flag) { return std::string(flag) + ": "; }

bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7f;
  });
}

std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    out.push_back(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

}  // namespace

bool JobFilter::any() const {
  return !users.empty() || !states.empty() || !names.empty() || !partitions.empty() || !accounts.empty() ||
         !ids.empty() || all_states;
}

bool JobFilter::wants_ended() const {
  return all_states || std::any_of(states.begin(), states.end(), [](const std::string& s) {
           auto state = parse_job_state(s);
           return state && is_final(*state);
         });
}

bool matches(const JobFilter& f, const JobFacts& job) {
  auto one_of = [](const auto& list, auto&& pred) {
    return list.empty() || std::any_of(list.begin(), list.end(), pred);
  };
  auto text_equal = [&](std::string_view a, std::string_view b) {
    return f.fold_case ? same_ignoring_case(a, b) : a == b;
  };
  const std::string_view account = job.account.empty() ? job.user : job.account;
  return one_of(f.ids, [&](uint64_t id) { return id == job.id || (job.array_job != 0 && id == job.array_job); }) &&
         one_of(f.users,
                [&](const std::string& u) {
                  if (u == job.user) return true;
                  auto uid = parse_count(u, UINT32_MAX);
                  return uid && static_cast<uint32_t>(*uid) == job.uid;
                }) &&
         (f.all_states || one_of(f.states, [&](const std::string& s) { return s == job.state; })) &&
         one_of(f.names, [&](const std::string& n) { return text_equal(n, job.name); }) &&
         // A pending job's partition may be a list ("a,b", -p a,b): any of them matches.
         one_of(f.partitions, [&](const std::string& p) {
           if (p == job.partition) return true;
           for (size_t at = 0; at <= job.partition.size();) {
             const size_t comma = std::min(job.partition.find(',', at), job.partition.size());
             if (job.partition.compare(at, comma - at, p) == 0) return true;
             at = comma + 1;
           }
           return false;
         }) &&
         one_of(f.accounts, [&](const std::string& a) { return text_equal(a, account); });
}

Result<std::string> parse_filter_word(std::string_view flag, FilterText kind, std::string_view text) {
  struct Kind {
    std::string_view what;
    std::string_view example;
    size_t max;
    bool controls_allowed;  // a job name may hold any text
  };
  static constexpr std::array<Kind, 4> kKinds{{
      {"user name", "alice", limits::kMaxUserNameBytes, false},
      {"job name", "train", limits::kMaxJobNameBytes, true},
      {"partition name", "gpu", limits::kMaxPartitionNameBytes, false},
      {"account name", "physics", limits::kMaxUserNameBytes, false},
  }};
  const Kind& k = kKinds[static_cast<size_t>(kind)];
  const std::string what(k.what);
  if (text.empty())
    return make_error(prefix(flag) + "the " + what + " is empty; give one, e.g. " + std::string(flag) + " " +
                      std::string(k.example));
  if (text.size() > k.max)
    return make_error(prefix(flag) + "the " + what + " " + quoted(text, 40) + " is " + std::to_string(text.size()) +
                      " bytes; at most " + std::to_string(k.max) + " are allowed");
  if (!valid_utf8(text)) return make_error(prefix(flag) + "the " + what + " " + quoted(text, 40) + " is not UTF-8");
  if (!k.controls_allowed && has_control(text))
    return make_error(prefix(flag) + "the " + what + " " + quoted(text, 40) +
                      " holds a control character, which no " + what + " has");
  return std::string(text);
}

Result<std::vector<std::string>> parse_filter_list(std::string_view flag, FilterText kind, std::string_view text) {
  if (text.empty()) {
    auto word = parse_filter_word(flag, kind, text);  // the "is empty; give one" error
    return make_error(word.error());
  }
  std::vector<std::string> out;
  for (std::string_view item : split_commas(text)) {
    if (item.empty())
      return make_error(prefix(flag) + quoted(text, 40) + " has an empty item; separate values by single commas");
    auto word = parse_filter_word(flag, kind, item);
    if (!word) return make_error(word.error());
    out.push_back(std::move(*word));
  }
  return out;
}

Status parse_queue_states(std::string_view flag, std::string_view text, JobFilter& filter) {
  if (same_ignoring_case(text, "all")) {
    filter.all_states = true;
    filter.states.clear();
    return {};
  }
  std::vector<std::string> states;
  for (std::string_view item : split_commas(text)) {
    const StateName* s = find_state(item);
    if (!s)
      return make_error(prefix(flag) + quoted(item, 40) + " is not a job state; give a comma-separated list of " +
                        cadre_states() + ", or all");
    states.emplace_back(s->name);
  }
  filter.all_states = false;
  filter.states = std::move(states);
  return {};
}

Result<std::string> parse_cancel_state(std::string_view flag, std::string_view text) {
  const StateName* s = find_state(text);
  if (s && (s->name == "PENDING" || s->name == "RUNNING")) return std::string(s->name);
  const std::string takes = "give PENDING (PD) or RUNNING (R)";
  if (s && s->name == "SUSPENDED") return make_error(prefix(flag) + "cadre never suspends jobs; " + takes);
  if (s)
    return make_error(prefix(flag) + "only active jobs can be cancelled, not " + std::string(s->name) + "; " + takes);
  return make_error(prefix(flag) + quoted(text, 40) + " is not a job state; " + takes);
}

std::string job_state_code(std::string_view state) {
  const StateName* found = find_state(state);
  return std::string(found ? found->code : state);
}

Result<std::vector<uint64_t>> parse_job_id_list(std::string_view flag, std::string_view text) {
  if (text.empty()) return make_error(prefix(flag) + "give job ids, e.g. " + std::string(flag) + " 42,43");
  std::vector<uint64_t> out;
  for (std::string_view item : split_commas(text)) {
    auto id = parse_job_id(item);
    if (!id) return make_error(prefix(flag) + id.error());
    out.push_back(*id);
  }
  return out;
}

}  // namespace cadre::cli
