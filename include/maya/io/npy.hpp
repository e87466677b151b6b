// NumPy's .npy format (version 1.0) for float64 arrays in C order: what numpy.load reads back
// as an ndarray of the same shape. The header is an ASCII dict padded to a 64-byte boundary.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "maya/tensor/tensor.hpp"

namespace maya::io {

// The bytes of a .npy file. Throws maya::ShapeError when values.size() != product of shape.
[[nodiscard]] std::string npy_bytes(std::span<const double> values,
                                    std::span<const std::size_t> shape);
[[nodiscard]] std::string npy_bytes(const Tensor& tensor);

struct NpyArray {
  std::vector<std::size_t> shape;
  std::vector<double> values;
};

// Parses a little-endian float64, C-order .npy file (versions 1.0 to 3.0); anything else throws
// maya::ParseError naming what was found.
[[nodiscard]] NpyArray parse_npy(std::string_view bytes);

}  // namespace maya::io
