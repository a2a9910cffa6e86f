// Minimal leveled logging to stderr, one line per record, safe to call from
// any thread (each record is written with a single write(2)).
//   CADRE_LOG(info) << "node " << name << " is DOWN";
// Lines read "2024-05-01T12:00:00.123Z cadre-master info: ...", except when
// stderr is the systemd journal ($JOURNAL_STREAM names it): then
// "<6>info: ..." — a syslog priority the journal files the line under,
// and no time stamp, since the journal keeps its own.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace cadre::log {

enum class Level { debug = 0, info = 1, warning = 2, error = 3 };

void set_level(Level level);
Level level();
// Parses "debug", "info", "warning", "error"; returns false on anything else.
bool parse_level(std::string_view text, Level* out);
// Prefix for every record, typically the program name.
void set_program(std::string_view name);

// True when $JOURNAL_STREAM ("DEVICE:INODE") names the file `fd` is open
// on, as systemd sets it for a service's stdout and stderr.
bool is_journal_stream(const char* journal_stream, int fd);
// Journal format on or off; decided from stderr at start-up by default.
void set_journal_format(bool on);
// One record as written: one line, ending in a newline. Control characters
// in the message (a newline included) are escaped (common/escape.hpp), so a
// record is always one line, in the journal too.
std::string format_record(Level level, std::string_view message, bool journal, std::string_view program,
                          std::string_view timestamp);

class Record {
 public:
  explicit Record(Level level) : level_(level) {}
  ~Record();
  template <typename T>
  Record& operator<<(const T& v) {
    out_ << v;
    return *this;
  }

 private:
  static std::string timestamp();
  Level level_;
  std::ostringstream out_;
};

}  // namespace cadre::log

// A for statement (not an if) so the macro is safe inside an unbraced if/else.
#define CADRE_LOG(lvl)                                                                          \
  for (bool cadre_log_on_ = ::cadre::log::Level::lvl >= ::cadre::log::level(); cadre_log_on_; \
       cadre_log_on_ = false)                                                                   \
  ::cadre::log::Record(::cadre::log::Level::lvl)
