#include "common/main_guard.hpp"

#include <unistd.h>

#include <string>

#include "common/escape.hpp"

namespace cadre {

void report_uncaught(const char* program, const char* what) noexcept {
  try {
    const std::string line = std::string(program) + ": unexpected error: " + escape_control(what) + "\n";
    (void)!::write(STDERR_FILENO, line.data(), line.size());
  } catch (...) {
    // Out of memory even for the message: say the least there is.
    static const char kShort[] = "unexpected error\n";
    (void)!::write(STDERR_FILENO, kShort, sizeof kShort - 1);
  }
}

}  // namespace cadre
