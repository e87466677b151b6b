#include "maya/tensor/shape.hpp"

#include <algorithm>
#include <string>

#include "maya/core/error.hpp"
#include "tensor/broadcast.hpp"

namespace maya {

std::string shape_string(ShapeView shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

void throw_shape_too_large(ShapeView shape, std::string_view operation) {
  throw ShapeError(std::string(operation) + ": shape " + shape_string(shape) +
                   " has more elements than a tensor can hold (" + std::to_string(kMaxElements) +
                   ")");
}

Shape broadcast_shapes(ShapeView a, ShapeView b, const char* operation) {
  tensor::detail::SmallShape out;
  tensor::detail::broadcast_shape_into(a, b, operation, out);
  return Shape(out.begin(), out.end());
}

std::size_t normalize_axis(long axis, std::size_t ndim, const char* operation) {
  const long n = static_cast<long>(ndim);
  if (axis < -n || axis >= n) {
    throw ShapeError(std::string(operation) + ": axis " + std::to_string(axis) +
                     " is out of range for a tensor of " + std::to_string(ndim) + " dimensions");
  }
  return static_cast<std::size_t>(axis < 0 ? axis + n : axis);
}

std::vector<std::size_t> contiguous_strides(ShapeView shape) {
  std::vector<std::size_t> strides(shape.size());
  std::size_t stride = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

}  // namespace maya
