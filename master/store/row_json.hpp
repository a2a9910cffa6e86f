// Readers for the two JSON columns of a job row (argv: an array of
// strings; sched: a flat object of strings, integers and booleans).
//
// Recovery decodes these for every live job, and nlohmann's DOM costs a
// heap allocation per element. These readers handle the common shape the
// store writes (no backslash escapes, no nesting) without building a DOM;
// for anything else they return false and the caller parses the text with
// nlohmann, so every valid column still loads and a corrupt one is still
// refused. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "master/model.hpp"

namespace cadre::row_json {

namespace detail {

inline void skip_space(std::string_view s, size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
}

// A string without escapes at s[i] == '"'; false when it has one.
inline bool plain_string(std::string_view s, size_t& i, std::string_view* out) {
  if (i >= s.size() || s[i] != '"') return false;
  const size_t start = ++i;
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"') break;
    // Escapes need decoding and non-ASCII needs UTF-8 checks: the full
    // parser does both.
    if (c == '\\' || c < 0x20 || c >= 0x80) return false;
  }
  if (i >= s.size()) return false;
  *out = s.substr(start, i - start);
  ++i;
  return true;
}

}  // namespace detail

// ["a","b"] into `out`; false (out unspecified) when the text needs the
// full parser.
inline bool read_string_array(std::string_view s, std::vector<std::string>* out) {
  out->clear();
  size_t i = 0;
  detail::skip_space(s, i);
  if (i >= s.size() || s[i] != '[') return false;
  ++i;
  detail::skip_space(s, i);
  if (i < s.size() && s[i] == ']') {
    ++i;
  } else {
    while (true) {
      detail::skip_space(s, i);
      std::string_view v;
      if (!detail::plain_string(s, i, &v)) return false;
      out->emplace_back(v);
      detail::skip_space(s, i);
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      if (i < s.size() && s[i] == ']') {
        ++i;
        break;
      }
      return false;
    }
  }
  detail::skip_space(s, i);
  return i == s.size();
}

// One value of a flat object: a string (without escapes), a whole number
// that fits int64, or a boolean (number 1 / 0).
struct Value {
  enum class Kind { string, number, boolean } kind = Kind::number;
  std::string_view text;
  int64_t number = 0;
};

// Calls `field(key, value)` for each member of {"k":v,...}; false when the
// text needs the full parser (or `field` returns false: a value of a type
// the caller does not expect).
inline bool read_flat_object(std::string_view s,
                             const std::function<bool(std::string_view, const Value&)>& field) {
  size_t i = 0;
  detail::skip_space(s, i);
  if (i >= s.size() || s[i] != '{') return false;
  ++i;
  detail::skip_space(s, i);
  const bool empty = i < s.size() && s[i] == '}';
  if (empty) ++i;
  while (!empty) {
    detail::skip_space(s, i);
    std::string_view key;
    if (!detail::plain_string(s, i, &key)) return false;
    detail::skip_space(s, i);
    if (i >= s.size() || s[i] != ':') return false;
    ++i;
    detail::skip_space(s, i);
    if (i >= s.size()) return false;
    Value v;
    if (s[i] == '"') {
      v.kind = Value::Kind::string;
      if (!detail::plain_string(s, i, &v.text)) return false;
    } else if (s.substr(i, 4) == "true" || s.substr(i, 5) == "false") {
      v.kind = Value::Kind::boolean;
      v.number = s[i] == 't' ? 1 : 0;
      i += s[i] == 't' ? 4 : 5;
    } else {
      // Whole numbers only: a fraction or exponent goes to the full parser.
      const bool negative = s[i] == '-';
      if (negative) ++i;
      const size_t digits = i;
      uint64_t n = 0;
      for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
        if (i - digits >= 18) return false;  // past what surely fits int64
        n = n * 10 + static_cast<uint64_t>(s[i] - '0');
      }
      if (i == digits || (i - digits > 1 && s[digits] == '0') ||
          (i < s.size() && (s[i] == '.' || s[i] == 'e' || s[i] == 'E')))
        return false;
      v.number = negative ? -static_cast<int64_t>(n) : static_cast<int64_t>(n);
    }
    if (!field(key, v)) return false;
    detail::skip_space(s, i);
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && s[i] == '}') {
      ++i;
      break;
    }
    return false;
  }
  detail::skip_space(s, i);
  return i == s.size();
}

// The argv column. Throws on a corrupt one.
inline void read_argv(std::string_view text, std::vector<std::string>* argv) {
  if (!read_string_array(text, argv)) *argv = nlohmann::json::parse(text).get<std::vector<std::string>>();
}

// The sched column: scheduling fields that were added after the first
// schema, as one JSON object. Throws on a corrupt one.
inline void read_sched(std::string_view text, Job& j) {
  JobSpec& s = j.spec;
  using Kind = Value::Kind;
  auto as_u32 = [](const Value& v, uint32_t* into) {
    if (v.kind != Kind::number || v.number < 0 || v.number > UINT32_MAX) return false;
    *into = static_cast<uint32_t>(v.number);
    return true;
  };
  auto as_string = [](const Value& v, std::string* into) {
    if (v.kind != Kind::string) return false;
    into->assign(v.text);
    return true;
  };
  const bool fast = read_flat_object(text, [&](std::string_view key, const Value& v) {
    if (key == "partition") return as_string(v, &s.partition);
    if (key == "partitions") return as_string(v, &s.partition_list);
    if (key == "account") return as_string(v, &s.account);
    if (key == "gpu_type") return as_string(v, &s.gpu_type);
    if (key == "script") return as_string(v, &s.script);
    if (key == "error_pattern") return as_string(v, &s.error_pattern);
    if (key == "submit_host") return as_string(v, &s.submit_host);
    if (key == "export_mode") return as_string(v, &s.export_mode);
    if (key == "array") return as_string(v, &s.array);
    if (key == "dependency") return as_string(v, &s.dependency);
    if (key == "nodelist") return as_string(v, &s.nodelist);
    if (key == "signal") return as_string(v, &s.signal);
    if (key == "constraint") return as_string(v, &s.constraint);
    if (key == "mail_user") return as_string(v, &s.mail_user);
    if (key == "qos") return as_string(v, &s.qos);
    if (key == "reservation") return as_string(v, &s.reservation);
    if (key == "mail_type") return as_u32(v, &s.mail_type);
    if (key == "exclude") return as_string(v, &s.exclude);
    if (key == "truncate") {
      if (v.kind != Kind::boolean) return false;
      s.open_truncate = v.number != 0;
      return true;
    }
    if (key == "exclusive") {
      if (v.kind != Kind::boolean) return false;
      s.exclusive = v.number != 0;
      return true;
    }
    if (key == "kill_invalid_dep") {
      if (v.kind != Kind::boolean) return false;
      s.kill_on_invalid_dep = v.number != 0;
      return true;
    }
    if (key == "array_left") {
      if (v.kind != Kind::string) return false;
      auto left = IndexSet::parse(v.text);
      if (!left) throw std::runtime_error("array_left: " + left.error());
      j.array_left = std::move(*left);
      return true;
    }
    if (key == "array_job") {
      if (v.kind != Kind::number || v.number < 0) return false;
      s.array_job_id = static_cast<uint64_t>(v.number);
      return true;
    }
    if (key == "array_task") {
      if (v.kind != Kind::number || v.number < -1 || v.number > kMaxArrayIndex) return false;
      s.array_task_id = v.number;
      return true;
    }
    if (key == "env" || key == "hints") return false;  // arrays: the full parser reads them
    if (key == "max_switches") return as_u32(v, &s.max_switches);
    if (key == "preemptions") return as_u32(v, &j.preemptions);
    if (key == "requeues") return as_u32(v, &j.requeues);
    if (key == "switches_wait_s") {
      if (v.kind != Kind::number) return false;
      s.switches_wait_s = v.number;
      return true;
    }
    if (key == "batch") {
      if (v.kind != Kind::boolean) return false;
      s.batch = v.number != 0;
      return true;
    }
    if (key == "umask") {
      if (v.kind != Kind::number || v.number < 0 || v.number > 0777) return false;
      s.umask = static_cast<int32_t>(v.number);
      return true;
    }
    if (key == "hold") {
      if (v.kind != Kind::number || v.number < 0 || v.number > 2) return false;
      j.hold = static_cast<Job::Hold>(v.number);
      return true;
    }
    if (key == "run_s" || key == "run_at") {
      if (v.kind != Kind::number || v.number < 0) return false;
      (key == "run_s" ? j.run_s : j.run_at) = v.number;
      return true;
    }
    if (key == "begin" || key == "deadline") {
      if (v.kind != Kind::number || v.number < 0) return false;
      (key == "begin" ? s.begin_time : s.deadline) = v.number;
      return true;
    }
    if (key == "master_port") {
      if (v.kind != Kind::number || v.number < 0 || v.number > UINT16_MAX) return false;
      j.master_port = static_cast<uint16_t>(v.number);
      return true;
    }
    return true;  // a field of a newer cadre: ignored, as below
  });
  if (fast) return;
  // Escapes, nesting or unexpected types: the full parser decides.
  const auto sched = nlohmann::json::parse(text);
  s.partition = sched.value("partition", "");
  s.account = sched.value("account", "");
  s.max_switches = sched.value("max_switches", 0u);
  s.switches_wait_s = sched.value("switches_wait_s", int64_t{0});
  j.preemptions = sched.value("preemptions", 0u);
  j.requeues = sched.value("requeues", 0u);
  s.gpu_type = sched.value("gpu_type", "");
  s.batch = sched.value("batch", false);
  s.script = sched.value("script", "");
  s.error_pattern = sched.value("error_pattern", "");
  j.master_port = sched.value("master_port", uint16_t{0});
  s.submit_host = sched.value("submit_host", "");
  s.export_mode = sched.value("export_mode", "");
  s.environment = sched.value("env", std::vector<std::string>{});
  s.hints = sched.value("hints", std::vector<std::string>{});
  const int hold = sched.value("hold", 0);
  if (hold < 0 || hold > 2) throw std::runtime_error("hold out of range");
  j.hold = static_cast<Job::Hold>(hold);
  j.run_s = sched.value("run_s", int64_t{0});
  j.run_at = sched.value("run_at", int64_t{0});
  if (j.run_s < 0 || j.run_at < 0) throw std::runtime_error("run time out of range");
  s.umask = sched.value("umask", int32_t{-1});
  if (s.umask > 0777) throw std::runtime_error("umask out of range");
  s.array = sched.value("array", "");
  s.dependency = sched.value("dependency", "");
  s.kill_on_invalid_dep = sched.value("kill_invalid_dep", false);
  s.nodelist = sched.value("nodelist", "");
  s.exclude = sched.value("exclude", "");
  s.exclusive = sched.value("exclusive", false);
  s.signal = sched.value("signal", "");
  s.begin_time = sched.value("begin", int64_t{0});
  s.deadline = sched.value("deadline", int64_t{0});
  s.constraint = sched.value("constraint", "");
  s.open_truncate = sched.value("truncate", false);
  s.mail_type = sched.value("mail_type", 0u);
  s.mail_user = sched.value("mail_user", "");
  s.qos = sched.value("qos", "");
  s.reservation = sched.value("reservation", "");
  s.partition_list = sched.value("partitions", "");
  s.array_job_id = sched.value("array_job", uint64_t{0});
  s.array_task_id = sched.value("array_task", int64_t{-1});
  if (s.array_task_id < -1 || s.array_task_id > kMaxArrayIndex) throw std::runtime_error("array_task out of range");
  if (const std::string left = sched.value("array_left", ""); !left.empty()) {
    auto set = IndexSet::parse(left);
    if (!set) throw std::runtime_error("array_left: " + set.error());
    j.array_left = std::move(*set);
  }
}

}  // namespace cadre::row_json
