#include "cli/slurm_format.hpp"

#include <algorithm>
#include <cctype>

#include "common/escape.hpp"

namespace cadre::cli {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "[.][size]" at `pos`, as both forms write it; moves `pos` past it.
Status read_size(std::string_view text, size_t& pos, FormatItem& item, std::string_view option, bool allow_fit) {
  if (pos < text.size() && text[pos] == '.') {
    item.right = true;
    ++pos;
  }
  if (allow_fit && pos < text.size() && text[pos] == '#') {
    item.fit = true;
    ++pos;
    return {};
  }
  size_t width = 0;
  const size_t start = pos;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
    width = width * 10 + static_cast<size_t>(text[pos] - '0');
    if (width > kMaxFieldWidth)
      return make_error(std::string(option) + ": a field size is at most " + std::to_string(kMaxFieldWidth) + " (in '" +
                        escape_control(text) + "')");
    ++pos;
  }
  item.width = pos > start ? width : item.width;
  return {};
}

}  // namespace

Result<Format> parse_letter_format(std::string_view text, const FieldLookup& letter, std::string_view option,
                                   bool allow_fit) {
  Format out;
  // Literal text goes after the last field read, or before the first.
  auto literal = [&out]() -> std::string& { return out.items.empty() ? out.prefix : out.items.back().suffix; };
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] != '%') {
      literal() += text[pos++];
      continue;
    }
    ++pos;
    if (pos < text.size() && text[pos] == '%') {  // "%%": a percent sign
      literal() += '%';
      ++pos;
      continue;
    }
    FormatItem item;
    if (Status s = read_size(text, pos, item, option, allow_fit); !s) return make_error(s.error());
    if (pos >= text.size())
      return make_error(std::string(option) + ": '" + escape_control(text) +
                        "' ends inside a field: each % takes a field letter, e.g. %i (write %% for a percent sign)");
    const char type = text[pos++];
    auto found = letter(std::string_view(&type, 1));
    if (!found)
      return make_error(std::string(option) + ": %" + escape_control(std::string(1, type)) +
                        " is not a field letter it knows (see docs/user-guide.md for the letters)");
    item.field = *found;
    out.items.push_back(std::move(item));
  }
  if (out.items.empty())
    return make_error(std::string(option) + ": '" + escape_control(text) + "' names no field; give e.g. \"%i %T\"");
  return out;
}

Result<Format> parse_named_format(std::string_view text, const FieldLookup& name, std::string_view option) {
  Format out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view token = text.substr(start, comma - start);
    start = comma + 1;
    if (token.empty())
      return make_error(std::string(option) + ": an empty field name in '" + escape_control(text) +
                        "'; give names separated by commas, e.g. JobID,State");
    const size_t colon = token.find(':');
    FormatItem item;
    item.width = kNamedFieldWidth;
    auto found = name(lower(token.substr(0, colon)));
    if (!found)
      return make_error(std::string(option) + ": " + escape_control(token.substr(0, colon)) +
                        " is not a field name it knows (see docs/user-guide.md for the names)");
    item.field = *found;
    if (colon != std::string_view::npos) {
      size_t pos = colon + 1;
      if (Status s = read_size(token, pos, item, option, false); !s) return make_error(s.error());
      item.suffix = std::string(token.substr(pos));
    }
    out.items.push_back(std::move(item));
  }
  return out;
}

std::string fit_value(std::string_view value, size_t width, bool right, bool cut) {
  std::string out(cut && width > 0 && value.size() > width ? value.substr(0, width) : value);
  if (out.size() >= width) return out;
  const std::string pad(width - out.size(), ' ');
  return right ? pad + out : out + pad;
}

std::string render_format(const Format& format, const std::vector<std::vector<std::string>>& raw_rows) {
  // Cells carry users' text (job names, reasons): escaped once, here.
  std::vector<std::vector<std::string>> rows;
  rows.reserve(raw_rows.size());
  for (const auto& raw : raw_rows) {
    auto& row = rows.emplace_back();
    for (const auto& cell : raw) row.push_back(escape_control(cell));
  }
  std::vector<size_t> width(format.items.size());
  for (size_t i = 0; i < format.items.size(); ++i) {
    width[i] = format.items[i].width;
    if (!format.items[i].fit) continue;
    for (const auto& row : rows) width[i] = std::max(width[i], i < row.size() ? row[i].size() : 0);
  }
  std::string out;
  for (const auto& row : rows) {
    out += format.prefix;
    for (size_t i = 0; i < format.items.size(); ++i) {
      const FormatItem& item = format.items[i];
      out += fit_value(i < row.size() ? row[i] : "", width[i], item.right, item.field.cut);
      out += item.suffix;
    }
    out += '\n';
  }
  return out;
}

std::vector<std::string> split_attached(const std::vector<std::string>& args,
                                        const std::vector<std::string_view>& valued) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {  // the rest are not options
      out.insert(out.end(), args.begin() + static_cast<long>(i), args.end());
      break;
    }
    const bool attached = a.size() > 2 && a[0] == '-' && a[1] != '-' &&
                          std::find(valued.begin(), valued.end(), std::string_view(a).substr(0, 2)) != valued.end();
    if (!attached) {
      out.push_back(a);
      continue;
    }
    out.push_back(a.substr(0, 2));
    out.push_back(a.substr(2));
  }
  return out;
}

bool names_has(const char* names, std::string_view name) {
  std::string_view rest = names;
  while (!rest.empty()) {
    const size_t space = rest.find(' ');
    if (rest.substr(0, space) == name) return true;
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  }
  return false;
}

}  // namespace cadre::cli
