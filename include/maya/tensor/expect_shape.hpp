// The shape check every model's step runs on its inputs, once per step: it compares in place
// (no vector is built) and names the operation, the input and both shapes when they differ.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string_view>

#include "maya/tensor/shape.hpp"

namespace maya {

// Throws maya::ShapeError "<operation>: <what> has shape [..], expected [..]" unless
// `actual` equals `expected`.
void expect_shape(ShapeView actual, std::initializer_list<std::size_t> expected,
                  std::string_view operation, std::string_view what);

}  // namespace maya
