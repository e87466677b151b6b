#include "maya/tensor/index_tensor.hpp"

#include <string>

#include "maya/core/error.hpp"

namespace maya {

IndexTensor IndexTensor::from_data(std::vector<std::int64_t> values, Shape shape) {
  if (values.size() != checked_numel(shape, "IndexTensor::from_data")) {
    throw ShapeError("IndexTensor::from_data: " + std::to_string(values.size()) +
                     " indices do not fill shape " + shape_string(shape));
  }
  return IndexTensor{std::move(values), std::move(shape)};
}

}  // namespace maya
