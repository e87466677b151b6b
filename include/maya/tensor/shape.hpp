// Shapes and the NumPy broadcasting rule. A shape is a list of extents, row-major; a 0-d shape
// (empty list) is a scalar with one element.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace maya {

using Shape = std::vector<std::size_t>;
using ShapeView = std::span<const std::size_t>;

// Inline: ops test `i < view.numel()` in their loops, and an out-of-line call there is not hoisted.
[[nodiscard]] inline std::size_t numel_of(ShapeView shape) noexcept {
  std::size_t n = 1;
  for (const std::size_t extent : shape) n *= extent;
  return n;
}
[[nodiscard]] std::string shape_string(ShapeView shape);  // "[2, 3]"

// NumPy broadcasting: align trailing axes; extents must match or one of them be 1.
// Throws maya::ShapeError naming `operation` and both shapes when they are incompatible.
[[nodiscard]] Shape broadcast_shapes(ShapeView a, ShapeView b, const char* operation);

// Resolves a possibly negative axis (-1 = last) against ndim; throws ShapeError when out of range.
[[nodiscard]] std::size_t normalize_axis(long axis, std::size_t ndim, const char* operation);

// Row-major strides of `shape` (in elements).
[[nodiscard]] std::vector<std::size_t> contiguous_strides(ShapeView shape);

}  // namespace maya
