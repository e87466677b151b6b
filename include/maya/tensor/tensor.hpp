// Tensor: an owning, contiguous, row-major float64 array with a shape and a device. A value
// type: copies copy, moves are cheap. Differentiation happens on a TensorTape, not here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <span>
#include <vector>

#include "maya/tensor/device.hpp"
#include "maya/tensor/shape.hpp"
#include "maya/tensor/tensor_view.hpp"

namespace maya {

class Tensor {
 public:
  Tensor() : shape_{0} {}  // an empty 1-d tensor

  // Throws maya::ShapeError when values.size() is not the product of the shape.
  [[nodiscard]] static Tensor from_data(std::vector<double> values, Shape shape);
  [[nodiscard]] static Tensor from_view(TensorView view);
  [[nodiscard]] static Tensor zeros(Shape shape);
  [[nodiscard]] static Tensor ones(Shape shape);
  [[nodiscard]] static Tensor full(Shape shape, double value);
  [[nodiscard]] static Tensor scalar(double value);  // 0-d
  // [start, stop) in steps of `step`, as numpy.arange.
  [[nodiscard]] static Tensor arange(double start, double stop, double step = 1.0);
  // `count` evenly spaced values from start to stop inclusive, as numpy.linspace.
  [[nodiscard]] static Tensor linspace(double start, double stop, std::size_t count);
  // Seeded pseudo-random tensors (std::mt19937_64): the same seed gives the same values.
  [[nodiscard]] static Tensor uniform(Shape shape, double low, double high, std::uint64_t seed);
  [[nodiscard]] static Tensor normal(Shape shape, double mean, double stddev, std::uint64_t seed);

  [[nodiscard]] const Shape& shape() const noexcept { return shape_; }
  [[nodiscard]] std::size_t ndim() const noexcept { return shape_.size(); }
  [[nodiscard]] std::size_t numel() const noexcept { return values_.size(); }
  [[nodiscard]] Device device() const noexcept { return device_; }

  // Explicit host views of the values; throw maya::DeviceError for a tensor not on the CPU.
  [[nodiscard]] std::span<const double> data() const;
  [[nodiscard]] std::span<double> mutable_data();
  [[nodiscard]] TensorView view() const;

  // The element at a full multi-index; throws maya::ShapeError when out of range.
  [[nodiscard]] double at(std::initializer_list<std::size_t> index) const;
  [[nodiscard]] double at(std::span<const std::size_t> index) const;
  // The only element of a one-element tensor.
  [[nodiscard]] double item() const;

  // Same values, new shape with the same number of elements.
  [[nodiscard]] Tensor reshape(Shape shape) const;

 private:
  Shape shape_;
  std::vector<double> values_;
  Device device_ = Device::kCpu;
};

// |a - b| <= atol + rtol |b| elementwise, shapes equal (as numpy.allclose, without broadcasting).
[[nodiscard]] bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5,
                            double atol = 1e-8);
[[nodiscard]] double max_abs_difference(const Tensor& a, const Tensor& b);

std::ostream& operator<<(std::ostream& out, const Tensor& tensor);

}  // namespace maya
