#include "sim/csv_header.hpp"

#include <algorithm>

#include "sim/text.hpp"

namespace cadre::sim {

Result<CsvHeader> CsvHeader::find(std::string_view header, std::initializer_list<std::string_view> wanted) {
  auto names = split(header, ',');
  CsvHeader h;
  h.width_ = names.size();
  for (std::string_view w : wanted) {
    auto it = std::find(names.begin(), names.end(), w);
    if (it == names.end()) return make_error("the header has no column '" + std::string(w) + "'");
    h.columns_.push_back(static_cast<size_t>(it - names.begin()));
  }
  return h;
}

}  // namespace cadre::sim
