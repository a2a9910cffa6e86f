#include "common/output_pattern.hpp"

namespace cadre {

std::string expand_output_pattern(const std::string& p, const PatternFields& f, const std::string& workdir) {
  std::string out;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] != '%' || i + 1 == p.size()) {
      out += p[i];
      continue;
    }
    switch (p[++i]) {
      case 'j': out += std::to_string(f.job); break;
      case 't': out += std::to_string(f.rank); break;
      case 'n':
      case 'N': out += f.node; break;
      case 'x': out += f.job_name; break;
      case 'u': out += f.user; break;
      case 'a': out += std::to_string(f.attempt); break;
      case '%': out += '%'; break;
      default: out += '%'; out += p[i]; break;
    }
  }
  if (!out.empty() && out[0] == '/') return out;
  return workdir + "/" + out;
}

}  // namespace cadre
