// Integer index arrays for gather/scatter ops: values row-major with a shape, never
// differentiated. Negative indices are rejected (ops name the offending position).
#pragma once

#include <cstdint>
#include <vector>

#include "maya/tensor/shape.hpp"

namespace maya {

struct IndexTensor {
  std::vector<std::int64_t> values;
  Shape shape;

  // Throws maya::ShapeError when values.size() is not the product of the shape.
  [[nodiscard]] static IndexTensor from_data(std::vector<std::int64_t> values, Shape shape);
};

}  // namespace maya
