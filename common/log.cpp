#include "common/log.hpp"

#include "common/escape.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

namespace cadre::log {
namespace {
std::atomic<Level> g_level{Level::info};
std::string g_program = "cadre";
std::atomic<bool> g_journal{is_journal_stream(std::getenv("JOURNAL_STREAM"), STDERR_FILENO)};

// syslog(3) priorities: LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR.
const char* priority(Level l) {
  switch (l) {
    case Level::debug: return "<7>";
    case Level::info: return "<6>";
    case Level::warning: return "<4>";
    case Level::error: return "<3>";
  }
  return "<6>";
}

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

bool is_journal_stream(const char* journal_stream, int fd) {
  if (!journal_stream) return false;
  uintmax_t dev = 0, ino = 0;
  int used = 0;
  if (std::sscanf(journal_stream, "%ju:%ju%n", &dev, &ino, &used) != 2 || journal_stream[used] != '\0') return false;
  struct stat st {};
  if (fstat(fd, &st) != 0) return false;
  return static_cast<uintmax_t>(st.st_dev) == dev && static_cast<uintmax_t>(st.st_ino) == ino;
}

void set_journal_format(bool on) { g_journal = on; }

std::string format_record(Level level, std::string_view raw, bool journal, std::string_view program,
                          std::string_view timestamp) {
  // Messages carry what peers and users sent (names, paths, addresses):
  // escaped, so none can fake a record, split one, or drive a terminal.
  const std::string message = escape_control(raw);
  if (!journal)
    return std::string(timestamp) + " " + std::string(program) + " " + level_name(level) + ": " + message + "\n";
  return std::string(priority(level)) + level_name(level) + ": " + message + "\n";
}

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
  const bool journal = g_journal;
  const std::string line = format_record(level_, out_.str(), journal, g_program, journal ? "" : timestamp());
  // One write keeps records whole when several processes share a stream.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

std::string Record::timestamp() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm parts{};
  gmtime_r(&ts.tv_sec, &parts);
  char stamp[40];
  size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &parts);
  snprintf(stamp + n, sizeof stamp - n, ".%03ldZ", ts.tv_nsec / 1000000);
  return stamp;
}

}  // namespace cadre::log
