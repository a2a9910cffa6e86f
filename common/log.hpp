// Minimal leveled logging to stderr, one line per record, safe to call from
// any thread (each record is written with a single write(2)).
//   CADRE_LOG(info) << "node " << name << " is DOWN";
#pragma once

#include <sstream>
#include <string_view>

namespace cadre::log {

enum class Level { debug = 0, info = 1, warning = 2, error = 3 };

void set_level(Level level);
Level level();
// Parses "debug", "info", "warning", "error"; returns false on anything else.
bool parse_level(std::string_view text, Level* out);
// Prefix for every record, typically the program name.
void set_program(std::string_view name);

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
  Level level_;
  std::ostringstream out_;
};

}  // namespace cadre::log

// A for statement (not an if) so the macro is safe inside an unbraced if/else.
#define CADRE_LOG(lvl)                                                                          \
  for (bool cadre_log_on_ = ::cadre::log::Level::lvl >= ::cadre::log::level(); cadre_log_on_; \
       cadre_log_on_ = false)                                                                   \
  ::cadre::log::Record(::cadre::log::Level::lvl)
