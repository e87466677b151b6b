// A tensor viewed as [outer, extent, inner] around one axis: how reductions and indexing ops walk
// an axis of a row-major tensor.
#pragma once

#include <cstddef>

#include "maya/tensor/shape.hpp"

namespace maya::tensor::detail {

struct AxisSplit {
  std::size_t outer = 1;
  std::size_t extent = 1;
  std::size_t inner = 1;
};

[[nodiscard]] inline AxisSplit split_at(ShapeView shape, std::size_t axis) {
  AxisSplit s;
  for (std::size_t i = 0; i < axis; ++i) s.outer *= shape[i];
  s.extent = shape[axis];
  for (std::size_t i = axis + 1; i < shape.size(); ++i) s.inner *= shape[i];
  return s;
}

}  // namespace maya::tensor::detail
