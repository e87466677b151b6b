// Shapes and the NumPy broadcasting rule. A shape is a list of extents, row-major; a 0-d shape
// (empty list) is a scalar with one element.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace maya {

using Shape = std::vector<std::size_t>;
using ShapeView = std::span<const std::size_t>;

// The most elements a tensor may hold: what a std::vector<double> can address.
inline constexpr std::size_t kMaxElements = static_cast<std::size_t>(PTRDIFF_MAX) / sizeof(double);

// Inline: ops test `i < view.numel()` in their loops, and an out-of-line call there is not hoisted.
[[nodiscard]] inline std::size_t numel_of(ShapeView shape) noexcept {
  std::size_t n = 1;
  for (const std::size_t extent : shape) n *= extent;
  return n;
}
[[nodiscard]] std::string shape_string(ShapeView shape);  // "[2, 3]"

// numel_of(shape) for a shape being made or changed: throws maya::ShapeError naming `operation`
// and the shape when the element count overflows std::size_t (or its bytes overflow the memory
// a std::vector<double> can address).
[[noreturn]] void throw_shape_too_large(ShapeView shape, std::string_view operation);
[[nodiscard]] inline std::size_t checked_numel(ShapeView shape, std::string_view operation) {
  std::size_t n = 1;
  bool overflow = false;
  for (const std::size_t extent : shape) overflow |= __builtin_mul_overflow(n, extent, &n);
  if (overflow && n != 0) throw_shape_too_large(shape, operation);
  if (overflow) {
    for (const std::size_t extent : shape) {
      if (extent == 0) return 0;  // the product wrapped through zero only on the way; it is empty
    }
    throw_shape_too_large(shape, operation);
  }
  if (n > kMaxElements) throw_shape_too_large(shape, operation);
  return n;
}

// NumPy broadcasting: align trailing axes; extents must match or one of them be 1.
// Throws maya::ShapeError naming `operation` and both shapes when they are incompatible.
[[nodiscard]] Shape broadcast_shapes(ShapeView a, ShapeView b, const char* operation);

// Resolves a possibly negative axis (-1 = last) against ndim; throws ShapeError when out of range.
[[nodiscard]] std::size_t normalize_axis(long axis, std::size_t ndim, const char* operation);

// Row-major strides of `shape` (in elements).
[[nodiscard]] std::vector<std::size_t> contiguous_strides(ShapeView shape);

}  // namespace maya
