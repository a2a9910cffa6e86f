// Making user-supplied text safe to print on a terminal: control characters
// (which could move the cursor, clear the screen, fake lines or retitle the
// window) become visible escapes. For human-readable output only; JSON
// output is escaped by the JSON writer instead. Stateless; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace cadre {

// `text` with every C0 control (0x00-0x1F), DEL (0x7F) and C1 control
// (U+0080..U+009F, UTF-8 C2 80..C2 9F) replaced by a visible escape:
// \e \r \n \t for the common ones, \xNN for other single bytes, \u00NN for
// C1 controls. A byte that is not part of valid UTF-8 becomes \xNN too (a
// lone 0x9B is CSI on an 8-bit terminal). A backslash itself stays as is,
// and valid printable UTF-8 passes through unchanged.
std::string escape_control(std::string_view text);

// `text` as an error message shows a value it refuses: in single quotes,
// escaped as escape_control does, and cut to at most `max_shown` characters
// (escapes included, never inside a UTF-8 character) with "..." before the
// closing quote when cut, so a 5,000-character value gives a short line.
std::string quoted(std::string_view text, size_t max_shown = 120);

}  // namespace cadre
