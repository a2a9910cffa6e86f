#include "common/log.hpp"

#include <unistd.h>

#include <atomic>
#include <ctime>
#include <string>

namespace cadre::log {
namespace {
std::atomic<Level> g_level{Level::info};
std::string g_program = "cadre";

const char* level_name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warning: return "warning";
    case Level::error: return "error";
  }
  return "?";
}
}  // namespace

void set_level(Level level) { g_level = level; }
Level level() { return g_level; }
void set_program(std::string_view name) { g_program = std::string(name); }

bool parse_level(std::string_view text, Level* out) {
  for (Level l : {Level::debug, Level::info, Level::warning, Level::error}) {
    if (text == level_name(l)) {
      *out = l;
      return true;
    }
  }
  if (text == "warn") {
    *out = Level::warning;
    return true;
  }
  return false;
}

Record::~Record() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm parts{};
  gmtime_r(&ts.tv_sec, &parts);
  char stamp[40];
  size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &parts);
  snprintf(stamp + n, sizeof stamp - n, ".%03ldZ", ts.tv_nsec / 1000000);
  std::string line = std::string(stamp) + " " + g_program + " " + level_name(level_) + ": " + out_.str() + "\n";
  // One write keeps records whole when several processes share a stream.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace cadre::log
