#include "common/output_pattern.hpp"

#include <algorithm>
#include <cctype>

namespace cadre {
namespace {

std::string padded(uint64_t n, size_t width) {
  std::string s = std::to_string(n);
  if (s.size() < width) s.insert(0, width - s.size(), '0');
  return s;
}

}  // namespace

std::string expand_output_pattern(const std::string& p, const PatternFields& f, const std::string& workdir) {
  std::string out;
  if (p.find('\\') != std::string::npos) {
    // sbatch's escape: no symbol is replaced.
    std::copy_if(p.begin(), p.end(), std::back_inserter(out), [](char c) { return c != '\\'; });
  } else {
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] != '%' || i + 1 == p.size()) {
        out += p[i];
        continue;
      }
      // %[width]letter; the width is kept to 10, as sbatch keeps it.
      size_t j = i + 1;
      size_t width = 0;
      while (j < p.size() && std::isdigit(static_cast<unsigned char>(p[j]))) width = std::min<size_t>(10, width * 10 + static_cast<size_t>(p[j++] - '0'));
      if (j == p.size()) {
        out += p.substr(i);
        break;
      }
      const char c = p[j];
      const uint64_t array_job = f.array_job ? f.array_job : f.job;
      std::string value;
      switch (c) {
        case 'j': value = padded(f.job, width); break;
        case 'J': value = padded(f.job, width) + (f.batch ? "" : "." + std::to_string(f.step)); break;
        case 's': value = f.batch ? "batch" : padded(f.step, width); break;
        case 't': value = padded(f.rank, width); break;
        case 'n': value = padded(f.node_index, width); break;
        case 'N': value = f.node; break;
        case 'x': value = f.job_name; break;
        case 'u': value = f.user; break;
        case 'A': value = padded(array_job, width); break;
        case 'a': value = padded(f.array_task, width); break;
        case 'b': value = padded(f.array_task % 10, width); break;
        case 'r': value = padded(f.attempt > 0 ? f.attempt - 1 : 0, width); break;
        case '%': value = "%"; break;
        default: value = p.substr(i, j - i + 1); break;
      }
      out += value;
      i = j;
    }
  }
  if (!out.empty() && out[0] == '/') return out;
  return workdir + "/" + out;
}

}  // namespace cadre
