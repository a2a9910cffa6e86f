#include "common/job_mail.hpp"

#include <algorithm>
#include <cctype>

#include "common/escape.hpp"

namespace cadre {
namespace {

struct Name {
  std::string_view name;
  uint32_t bits;
};

constexpr uint32_t kAll = kMailBegin | kMailEnd | kMailFail | kMailRequeue | kMailInvalidDepend | kMailStageOut;

// In the order format_mail_type writes them.
constexpr Name kNames[] = {
    {"BEGIN", kMailBegin},
    {"END", kMailEnd},
    {"FAIL", kMailFail},
    {"REQUEUE", kMailRequeue},
    {"INVALID_DEPEND", kMailInvalidDepend},
    {"STAGE_OUT", kMailStageOut},
    {"TIME_LIMIT", kMailTimeLimit},
    {"TIME_LIMIT_90", kMailTimeLimit90},
    {"TIME_LIMIT_80", kMailTimeLimit80},
    {"TIME_LIMIT_50", kMailTimeLimit50},
    {"ARRAY_TASKS", kMailArrayTasks},
};

bool same_word(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(a[i])) != b[i]) return false;
  return true;
}

}  // namespace

Result<uint32_t> parse_mail_type(std::string_view text) {
  uint32_t bits = 0;
  bool none = false;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view word = text.substr(start, comma - start);
    start = comma + 1;
    if (same_word(word, "NONE")) {
      none = true;
      continue;
    }
    if (same_word(word, "ALL")) {
      bits |= kAll;
      continue;
    }
    bool known = false;
    for (const Name& n : kNames)
      if (same_word(word, n.name)) {
        bits |= n.bits;
        known = true;
      }
    if (!known)
      return make_error("--mail-type: " + quoted(word, 40) + " is not a mail type (NONE, BEGIN, END, FAIL, REQUEUE, "
                        "ALL, INVALID_DEPEND, STAGE_OUT, TIME_LIMIT, TIME_LIMIT_90, TIME_LIMIT_80, TIME_LIMIT_50, "
                        "ARRAY_TASKS, separated by commas)");
  }
  // NONE alone turns mail off; beside other types it adds nothing.
  return none && bits == 0 ? 0u : bits;
}

std::string format_mail_type(uint32_t bits) {
  std::string out;
  for (const Name& n : kNames)
    if (bits & n.bits) out.append(out.empty() ? "" : ",").append(n.name);
  return out;
}

Status check_mail_user(std::string_view user) {
  auto ok = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' ||
           c == '@';
  };
  if (user.empty() || user.size() > 254 || user[0] == '-' || !std::all_of(user.begin(), user.end(), ok))
    return make_error("--mail-user: " + quoted(user, 64) +
                      " is not a mail address or user name (letters, digits and . _ % + - @, not starting with '-', "
                      "at most 254)");
  return {};
}

}  // namespace cadre
