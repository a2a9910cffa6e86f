#include "master/port_range.hpp"

#include "common/escape.hpp"
#include "common/resources.hpp"

namespace cadre {

Result<PortRange> parse_port_range(const std::string& text) {
  const auto expected = [&] {
    return make_error("expected a port range FIRST-LAST from 1024 to 65535 (as 29500-49499), got " + quoted(text));
  };
  const size_t dash = text.find('-');
  if (dash == std::string::npos) return expected();
  auto first = parse_count(text.substr(0, dash), 65535);
  auto last = parse_count(text.substr(dash + 1), 65535);
  if (!first || !last || *first < 1024 || *last < *first) return expected();
  return PortRange{static_cast<uint16_t>(*first), static_cast<uint16_t>(*last - *first + 1)};
}

std::string to_string(const PortRange& range) {
  return std::to_string(range.first) + "-" + std::to_string(range.last());
}

}  // namespace cadre
