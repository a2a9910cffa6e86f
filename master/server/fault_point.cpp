#include "master/server/fault_point.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "common/log.hpp"

namespace cadre {

std::string_view to_string(FaultPoint p) {
  switch (p) {
    case FaultPoint::none: return "none";
    case FaultPoint::preempt_before_commit: return "preempt-before-commit";
    case FaultPoint::preempt_after_commit: return "preempt-after-commit";
  }
  return "none";
}

std::optional<FaultPoint> parse_fault_point(std::string_view text) {
  for (FaultPoint p : {FaultPoint::preempt_before_commit, FaultPoint::preempt_after_commit})
    if (text == to_string(p)) return p;
  return std::nullopt;
}

FaultPoint fault_point_from_env() {
  const char* text = std::getenv("CADRE_FAULT_POINT");
  if (!text || !*text) return FaultPoint::none;
  auto p = parse_fault_point(text);
  if (!p)
    throw std::runtime_error("CADRE_FAULT_POINT=" + std::string(text) +
                             " names no fault point (preempt-before-commit or preempt-after-commit); unset it");
  CADRE_LOG(warning) << "CADRE_FAULT_POINT=" << to_string(*p)
                     << ": this master kills itself with SIGKILL at that point (for tests only; unset it)";
  return *p;
}

void hit_fault_point(FaultPoint armed, FaultPoint here) {
  if (armed == FaultPoint::none || armed != here) return;
  // write(2), not the logger: nothing that could block or allocate late.
  const std::string line = "cadre-master: fault point " + std::string(to_string(here)) + " reached: SIGKILL\n";
  (void)::write(STDERR_FILENO, line.data(), line.size());
  std::raise(SIGKILL);
  std::_Exit(137);  // not reached: SIGKILL cannot be caught
}

}  // namespace cadre
