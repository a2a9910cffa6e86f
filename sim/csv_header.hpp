// Finds named columns in a CSV header row, so readers do not depend on
// column order. Value type; not synchronised.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace cadre::sim {

class CsvHeader {
 public:
  // Column positions of `wanted`, in that order; an error naming the first
  // missing column.
  static Result<CsvHeader> find(std::string_view header, std::initializer_list<std::string_view> wanted);

  size_t operator[](size_t i) const { return columns_[i]; }
  size_t width() const { return width_; }  // columns in the header

 private:
  std::vector<size_t> columns_;
  size_t width_ = 0;
};

}  // namespace cadre::sim
