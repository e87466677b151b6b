// Copies between row layouts: concat and stack lay their parts' rows side by side, dense
// repeats its bias in every row (a source stride of 0).
#pragma once

#include <algorithm>
#include <cstddef>

namespace maya::tensor::detail {

template <std::size_t Width>
void copy_fixed_rows(const double* from, std::size_t from_stride, double* to, std::size_t to_stride,
                     std::size_t rows) noexcept {
  for (std::size_t o = 0; o < rows; ++o) {
    for (std::size_t i = 0; i < Width; ++i) to[o * to_stride + i] = from[o * from_stride + i];
  }
}

// to[o * to_stride + i] = from[o * from_stride + i] for o < rows, i < width. Rows of a few
// values (a 2-D position, a 4-component state) are moved with fixed-width copies: one memcpy
// call per such row costs several times the copy itself.
inline void copy_rows(const double* from, std::size_t from_stride, double* to,
                      std::size_t to_stride, std::size_t rows, std::size_t width) noexcept {
  switch (width) {
    case 1: return copy_fixed_rows<1>(from, from_stride, to, to_stride, rows);
    case 2: return copy_fixed_rows<2>(from, from_stride, to, to_stride, rows);
    case 3: return copy_fixed_rows<3>(from, from_stride, to, to_stride, rows);
    case 4: return copy_fixed_rows<4>(from, from_stride, to, to_stride, rows);
    default: break;
  }
  for (std::size_t o = 0; o < rows; ++o) {
    std::copy(from + o * from_stride, from + o * from_stride + width, to + o * to_stride);
  }
}

}  // namespace maya::tensor::detail
