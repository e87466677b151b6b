// Tensor: an owning, contiguous, row-major float64 array with a shape and a device. A value
// type: copies copy (on the tensor's device), moves are cheap. Differentiation happens on a
// TensorTape, not here. Values on Device::kCuda live in device memory; to() moves them.
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

namespace tensor::detail {

// Device memory of a tensor on Device::kCuda, from the CUDA backend's caching, stream-ordered
// allocator (maya/tensor/cuda.hpp). Copies copy on the device.
class DeviceValues {
 public:
  DeviceValues() = default;
  // Throws maya::DeviceError without a usable GPU, maya::Error naming the bytes when out of memory.
  explicit DeviceValues(std::size_t count);
  DeviceValues(const DeviceValues& other);
  DeviceValues& operator=(const DeviceValues& other);
  DeviceValues(DeviceValues&& other) noexcept;
  DeviceValues& operator=(DeviceValues&& other) noexcept;
  ~DeviceValues();
  [[nodiscard]] double* get() const noexcept { return values_; }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }

 private:
  double* values_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace tensor::detail

class Tensor {
 public:
  Tensor() : shape_{0} {}  // an empty 1-d tensor

  // Throws maya::ShapeError when values.size() is not the product of the shape.
  // Factories taking a device build the values on the CPU and copy them there; on kCuda they
  // throw maya::DeviceError when no GPU is usable (or maya was built without CUDA).
  [[nodiscard]] static Tensor from_data(std::vector<double> values, Shape shape,
                                        Device device = Device::kCpu);
  [[nodiscard]] static Tensor from_view(TensorView view);
  [[nodiscard]] static Tensor zeros(Shape shape, Device device = Device::kCpu);
  [[nodiscard]] static Tensor ones(Shape shape, Device device = Device::kCpu);
  [[nodiscard]] static Tensor full(Shape shape, double value, Device device = Device::kCpu);
  [[nodiscard]] static Tensor scalar(double value);  // 0-d
  // [start, stop) in steps of `step`, as numpy.arange.
  [[nodiscard]] static Tensor arange(double start, double stop, double step = 1.0);
  // `count` evenly spaced values from start to stop inclusive, as numpy.linspace.
  [[nodiscard]] static Tensor linspace(double start, double stop, std::size_t count);
  // Seeded pseudo-random tensors (std::mt19937_64): the same seed gives the same values.
  [[nodiscard]] static Tensor uniform(Shape shape, double low, double high, std::uint64_t seed,
                                      Device device = Device::kCpu);
  [[nodiscard]] static Tensor normal(Shape shape, double mean, double stddev, std::uint64_t seed,
                                     Device device = Device::kCpu);

  [[nodiscard]] const Shape& shape() const noexcept { return shape_; }
  [[nodiscard]] std::size_t ndim() const noexcept { return shape_.size(); }
  [[nodiscard]] std::size_t numel() const noexcept {
    return device_ == Device::kCpu ? values_.size() : device_values_.size();
  }
  [[nodiscard]] Device device() const noexcept { return device_; }

  // A copy on `device` (a plain copy when it is already there). Copies to the CPU wait for the
  // GPU's queued work; copies to the GPU are queued on maya's stream.
  [[nodiscard]] Tensor to(Device device) const;
  // Copies source's values (same shape, any device) into this tensor's own storage, keeping its
  // device and its buffer: a captured CudaGraph then reads the new values at its next replay.
  // Throws maya::ShapeError when the shapes differ.
  void assign(const Tensor& source);
  // The device pointer of a tensor on kCuda, for kernels of the user's own (launch them on
  // maya::cuda_stream()); throws maya::DeviceError for a tensor on the CPU.
  [[nodiscard]] const double* cuda_data() const;
  [[nodiscard]] double* mutable_cuda_data();

  // Explicit host views of the values; throw maya::DeviceError for a tensor not on the CPU.
  [[nodiscard]] std::span<const double> data() const;
  [[nodiscard]] std::span<double> mutable_data();
  [[nodiscard]] TensorView view() const;

  // The element at a full multi-index; throws maya::ShapeError when out of range.
  [[nodiscard]] double at(std::initializer_list<std::size_t> index) const;
  [[nodiscard]] double at(std::span<const std::size_t> index) const;
  // The only element of a one-element tensor (copied to the host for a tensor on kCuda).
  [[nodiscard]] double item() const;

  // Same values, new shape with the same number of elements.
  [[nodiscard]] Tensor reshape(Shape shape) const;

 private:
  Shape shape_;
  std::vector<double> values_;                  // on the CPU
  tensor::detail::DeviceValues device_values_;  // on kCuda
  Device device_ = Device::kCpu;
};

// |a - b| <= atol + rtol |b| elementwise, shapes equal (as numpy.allclose, without broadcasting).
[[nodiscard]] bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5,
                            double atol = 1e-8);
[[nodiscard]] double max_abs_difference(const Tensor& a, const Tensor& b);

std::ostream& operator<<(std::ostream& out, const Tensor& tensor);

}  // namespace maya
