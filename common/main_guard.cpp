#include "common/main_guard.hpp"

#include <unistd.h>

#include <string>

#include "common/escape.hpp"

namespace cadre {

int print_error(std::string_view program, std::string_view message, int status) {
  const std::string line = std::string(program) + ": " + escape_control(message) + "\n";
  (void)!::write(STDERR_FILENO, line.data(), line.size());
  return status;
}

void report_uncaught(const char* program, const char* what) noexcept {
  try {
    print_error(program, std::string("unexpected error: ") + what, 1);
  } catch (...) {
    // Out of memory even for the message: say the least there is.
    static const char kShort[] = "unexpected error\n";
    (void)!::write(STDERR_FILENO, kShort, sizeof kShort - 1);
  }
}

}  // namespace cadre
