// The extension point of the tensor tape. Every op, built-in or user-defined, is a TensorOp: a
// stateless (or long-lived) object whose backward() adds vector-Jacobian products to its inputs'
// gradients. Per-node data (axes, saved intermediates) lives in the tape's arenas, so recording a
// node allocates nothing in steady state and the sweep makes one virtual call per node.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "maya/core/workspace.hpp"
#include "maya/tensor/device.hpp"
#include "maya/tensor/tensor_view.hpp"

namespace maya {

class TensorTape;

// What backward() sees of one recorded node. For a node on Device::kCuda every view below holds
// device pointers, and backward() queues its kernels on maya::cuda_stream().
class BackwardContext {
 public:
  // Where the node's values, its gradient and its inputs live.
  [[nodiscard]] Device device() const noexcept { return device_; }
  [[nodiscard]] std::size_t num_inputs() const noexcept { return inputs_.size(); }
  [[nodiscard]] TensorView input(std::size_t i) const;
  [[nodiscard]] TensorView output() const noexcept { return output_; }
  // d loss / d output.
  [[nodiscard]] TensorView grad_output() const noexcept { return grad_output_; }
  // Whether input i needs a gradient (false for constants and their descendants).
  [[nodiscard]] bool needs_grad(std::size_t i) const;
  // d loss / d input i, zero-initialized on first use: backward() must ADD (+=) into it.
  // Throws maya::TapeError when !needs_grad(i).
  [[nodiscard]] MutableTensorView grad_input(std::size_t i);
  // For an op that writes every element of input i's gradient: the buffer, and whether nothing
  // has reached it yet. Then `fresh` is true, the buffer is NOT zeroed and the op must assign (=)
  // instead of adding, which saves a fill and a read per element; otherwise it adds as with
  // grad_input(). Throws maya::TapeError when !needs_grad(i).
  struct GradientTarget {
    MutableTensorView view;
    bool fresh;
  };
  [[nodiscard]] GradientTarget grad_input_target(std::size_t i);
  // For an input whose gradient is grad_output() itself (same elements, same order, factor 1):
  // when nothing has reached that input's gradient yet, it takes over the output's gradient
  // buffer without a copy (nothing reads that buffer after this node) and this returns true.
  // Otherwise (or for a second input of the same node) it returns false and the op adds
  // grad_output() into grad_input(i) itself. Throws maya::TapeError when !needs_grad(i).
  [[nodiscard]] bool pass_grad_output(std::size_t i);
  // grad_output() as writable scratch. Nothing reads a node's output gradient after its own
  // backward(), so a fused op may overwrite it in place (with g * f'(y), say) instead of
  // allocating a buffer of its own. Throws maya::TapeError once pass_grad_output() handed the
  // buffer on, and pass_grad_output() throws after this was called.
  [[nodiscard]] MutableTensorView grad_output_as_scratch();
  // Data the op saved when it was recorded.
  [[nodiscard]] std::span<const double> saved() const noexcept { return saved_; }
  [[nodiscard]] std::span<const std::int64_t> saved_ints() const noexcept { return saved_ints_; }
  // Scratch memory for the pass, lent by the tape (maya/core/workspace.hpp).
  [[nodiscard]] Workspace& workspace() const noexcept;

 private:
  friend class TensorTape;
  TensorTape* tape_ = nullptr;
  Device device_ = Device::kCpu;
  std::span<const std::uint32_t> inputs_;
  TensorView output_;
  TensorView grad_output_;
  bool grad_output_passed_ = false;
  bool grad_output_overwritten_ = false;
  std::span<const double> saved_;
  std::span<const std::int64_t> saved_ints_;
};

class TensorOp {
 public:
  virtual ~TensorOp() = default;
  // Used in error messages and finite-check reports.
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
  // grad_input(i) += (d output / d input i)^T grad_output(), for every i with needs_grad(i).
  virtual void backward(BackwardContext& context) const = 0;
  // Whether the op runs on Device::kCuda: recorded with inputs there, its fill receives a device
  // pointer and queues its kernel on maya::cuda_stream(), and so does backward(). An op that
  // says false is refused there with maya::DeviceError.
  [[nodiscard]] virtual bool runs_on_cuda() const noexcept { return false; }
};

}  // namespace maya
