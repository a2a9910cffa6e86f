#include "common/job_signal.hpp"

#include <csignal>
#include <string>

#include "common/resources.hpp"

namespace cadre {

int signal_number(std::string_view name) {
  if (name.starts_with("SIG")) name.remove_prefix(3);
  if (!name.empty() && name[0] >= '0' && name[0] <= '9') {
    auto n = parse_count(name, 64);
    return n && *n > 0 ? static_cast<int>(*n) : 0;
  }
  struct Named {
    const char* name;
    int number;
  };
  static constexpr Named kSignals[] = {
      {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ABRT", SIGABRT}, {"KILL", SIGKILL},
      {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"CONT", SIGCONT},
      {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"URG", SIGURG},   {"XCPU", SIGXCPU}, {"WINCH", SIGWINCH},
  };
  for (const Named& s : kSignals)
    if (name == s.name) return s.number;
  return 0;
}

Result<JobSignal> parse_job_signal(std::string_view text) {
  const std::string what = "--signal=" + std::string(text.substr(0, 64));
  JobSignal s;
  std::string_view rest = text;
  // R: lets the job overlap reservations, which cadre has none of: read and left.
  while (rest.size() >= 2 && rest[1] == ':' && (rest[0] == 'R' || rest[0] == 'B')) {
    if (rest[0] == 'B') s.batch_only = true;
    rest.remove_prefix(2);
  }
  std::string_view sig = rest;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    sig = rest.substr(0, at);
    auto t = parse_count(rest.substr(at + 1), 65535);
    if (!t) return make_error(what + ": the time after @ must be seconds from 0 to 65535");
    s.before_s = *t;
  }
  s.number = signal_number(sig);
  if (s.number == 0)
    return make_error(what + ": '" + std::string(sig) + "' is not a signal (give a name such as USR1 or a number)");
  return s;
}

}  // namespace cadre
