// Non-owning read-only and writable views of contiguous row-major host values with a shape.
// Ops and custom ops see their inputs and gradients through these.
#pragma once

#include <cstddef>
#include <span>

#include "maya/tensor/shape.hpp"

namespace maya {

struct TensorView {
  const double* values = nullptr;
  ShapeView shape;

  [[nodiscard]] std::size_t numel() const noexcept { return numel_of(shape); }
  [[nodiscard]] std::size_t ndim() const noexcept { return shape.size(); }
  [[nodiscard]] std::span<const double> data() const noexcept { return {values, numel()}; }
  [[nodiscard]] double operator[](std::size_t i) const noexcept { return values[i]; }
};

struct MutableTensorView {
  double* values = nullptr;
  ShapeView shape;

  [[nodiscard]] std::size_t numel() const noexcept { return numel_of(shape); }
  [[nodiscard]] std::size_t ndim() const noexcept { return shape.size(); }
  [[nodiscard]] std::span<double> data() const noexcept { return {values, numel()}; }
  [[nodiscard]] double& operator[](std::size_t i) const noexcept { return values[i]; }
  [[nodiscard]] operator TensorView() const noexcept { return {values, shape}; }
};

}  // namespace maya
