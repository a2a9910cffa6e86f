#include "common/escape.hpp"

#include <cstdint>

namespace cadre {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_hex(std::string& out, std::string_view prefix, unsigned char b) {
  out += prefix;
  out += kHex[b >> 4];
  out += kHex[b & 0xf];
}

void append_c0(std::string& out, unsigned char b) {
  switch (b) {
    case 0x1b: out += "\\e"; return;
    case '\r': out += "\\r"; return;
    case '\n': out += "\\n"; return;
    case '\t': out += "\\t"; return;
    default: append_hex(out, "\\x", b);
  }
}

// Length of the valid UTF-8 sequence starting at text[i], or 0 when the byte
// there does not start one (overlong forms, surrogates and code points past
// U+10FFFF count as invalid, as the standard says).
size_t utf8_length(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  auto cont = [&](size_t k) { return k < text.size() && (byte(k) & 0xc0) == 0x80; };
  unsigned char b = byte(i);
  if (b >= 0xc2 && b <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    unsigned char b1 = byte(i + 1);
    if (b == 0xe0 && b1 < 0xa0) return 0;  // overlong
    if (b == 0xed && b1 >= 0xa0) return 0;  // surrogate
    return 3;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    unsigned char b1 = byte(i + 1);
    if (b == 0xf0 && b1 < 0x90) return 0;  // overlong
    if (b == 0xf4 && b1 >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

bool needs_escape(std::string_view text) {
  for (unsigned char b : text)
    if (b < 0x20 || b >= 0x7f) return true;
  return false;
}

}  // namespace

std::string escape_control(std::string_view text) {
  // Almost every name is plain ASCII: no copy-and-scan byte by byte.
  if (!needs_escape(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size();) {
    auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x20) {
      append_c0(out, b);
      ++i;
    } else if (b < 0x7f) {
      out += static_cast<char>(b);
      ++i;
    } else if (b == 0x7f) {
      out += "\\x7f";
      ++i;
    } else if (size_t n = utf8_length(text, i); n == 0) {
      append_hex(out, "\\x", b);
      ++i;
    } else if (n == 2 && b == 0xc2 && static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      append_hex(out, "\\u00", static_cast<unsigned char>(text[i + 1]));  // C2 80 is U+0080
      i += 2;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string quoted(std::string_view text, size_t max_shown) {
  // Unit by unit (a UTF-8 character, or a byte that is not part of one),
  // so the cut never falls inside a character or inside an escape.
  std::string shown;
  size_t at = 0;
  while (at < text.size()) {
    const unsigned char lead = static_cast<unsigned char>(text[at]);
    size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (at + len > text.size()) len = 1;
    for (size_t i = 1; i < len; ++i)
      if ((static_cast<unsigned char>(text[at + i]) & 0xC0) != 0x80) len = 1;
    const std::string unit = escape_control(text.substr(at, len));
    if (shown.size() + unit.size() > max_shown) break;
    shown += unit;
    at += len;
  }
  return "'" + shown + (at < text.size() ? "...'" : "'");
}

}  // namespace cadre
