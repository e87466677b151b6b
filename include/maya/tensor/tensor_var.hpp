// TensorVar: a handle to one tensor recorded on a TensorTape (slot, stamp, index; trivially
// copyable). Methods record ops; free functions in tensor/ops.hpp record the same ops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "maya/tensor/shape.hpp"
#include "maya/tensor/tensor.hpp"
#include "maya/tensor/tensor_view.hpp"

namespace maya {

class TensorTape;

class TensorVar {
 public:
  TensorVar() = default;  // unbound: every use throws maya::TapeError

  [[nodiscard]] std::size_t idx() const noexcept { return index_; }
  [[nodiscard]] bool valid() const noexcept;
  [[nodiscard]] TensorTape& tape() const;  // throws TapeError if unbound, cleared or destroyed

  // A copy of the value (on the node's device), and a host view valid until the tape is cleared
  // or destroyed (maya::DeviceError for a node on kCuda).
  [[nodiscard]] Tensor value() const;
  [[nodiscard]] TensorView view() const;
  [[nodiscard]] Device device() const;
  [[nodiscard]] ShapeView shape() const;
  [[nodiscard]] std::size_t numel() const;
  [[nodiscard]] std::size_t ndim() const;
  [[nodiscard]] double item() const;  // the only element (copied to the host from kCuda)

  // Method forms of common ops (see tensor/ops.hpp for the full list).
  [[nodiscard]] TensorVar matmul(TensorVar other) const;
  [[nodiscard]] TensorVar to(Device device) const;
  [[nodiscard]] TensorVar sum() const;
  [[nodiscard]] TensorVar sum(long axis, bool keepdim = false) const;
  [[nodiscard]] TensorVar mean() const;
  [[nodiscard]] TensorVar mean(long axis, bool keepdim = false) const;
  [[nodiscard]] TensorVar reshape(Shape shape) const;
  [[nodiscard]] TensorVar transpose() const;  // reverses the axes (matrix transpose in 2-D)
  [[nodiscard]] TensorVar slice(long axis, long start, long stop, long step = 1) const;
  [[nodiscard]] TensorVar select(long axis, long index) const;
  [[nodiscard]] TensorVar sin() const;
  [[nodiscard]] TensorVar cos() const;
  [[nodiscard]] TensorVar exp() const;
  [[nodiscard]] TensorVar log() const;
  [[nodiscard]] TensorVar sqrt() const;
  [[nodiscard]] TensorVar tanh() const;
  [[nodiscard]] TensorVar relu() const;
  [[nodiscard]] TensorVar square() const;
  [[nodiscard]] TensorVar abs() const;

 private:
  friend class TensorTape;
  friend class TensorGradients;
  friend TensorVar to(TensorVar x, Device device);
  TensorVar(std::uint32_t slot, std::uint32_t index, std::uint64_t stamp) noexcept
      : slot_(slot), index_(index), stamp_(stamp) {}

  std::uint32_t slot_ = 0;
  std::uint32_t index_ = 0;
  std::uint64_t stamp_ = 0;
};

}  // namespace maya
