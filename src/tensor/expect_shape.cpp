#include "maya/tensor/expect_shape.hpp"

#include <algorithm>
#include <string>

#include "maya/core/error.hpp"

namespace maya {

void expect_shape(ShapeView actual, std::initializer_list<std::size_t> expected,
                  std::string_view operation, std::string_view what) {
  if (std::equal(actual.begin(), actual.end(), expected.begin(), expected.end())) return;
  throw ShapeError(std::string(operation) + ": " + std::string(what) + " has shape " +
                   shape_string(actual) + ", expected " +
                   shape_string(ShapeView(expected.begin(), expected.size())));
}

}  // namespace maya
