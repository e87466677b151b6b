#include "maya/tensor/shape.hpp"

#include <algorithm>
#include <string>

#include "maya/core/error.hpp"

namespace maya {

std::size_t numel_of(ShapeView shape) noexcept {
  std::size_t n = 1;
  for (const std::size_t extent : shape) n *= extent;
  return n;
}

std::string shape_string(ShapeView shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

Shape broadcast_shapes(ShapeView a, ShapeView b, const char* operation) {
  const std::size_t ndim = std::max(a.size(), b.size());
  Shape out(ndim);
  for (std::size_t i = 0; i < ndim; ++i) {
    const std::size_t ea = i < ndim - a.size() ? 1 : a[i - (ndim - a.size())];
    const std::size_t eb = i < ndim - b.size() ? 1 : b[i - (ndim - b.size())];
    if (ea != eb && ea != 1 && eb != 1) {
      throw ShapeError(std::string(operation) + ": shapes " + shape_string(a) + " and " +
                       shape_string(b) + " cannot be broadcast (axis " + std::to_string(i) + ": " +
                       std::to_string(ea) + " vs " + std::to_string(eb) + ")");
    }
    out[i] = ea == 1 ? eb : ea;
  }
  return out;
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
