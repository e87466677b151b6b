// The tensor tape: records tensor ops as nodes whose values live in a chunked arena, and sweeps
// them in reverse calling each node's TensorOp::backward once. Coarse nodes (a whole simulator
// step) and fine ones (an add) go through the same record() call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "maya/core/error.hpp"
#include "maya/core/workspace.hpp"
#include "maya/tensor/arena.hpp"
#include "maya/tensor/tensor.hpp"
#include "maya/tensor/tensor_op.hpp"
#include "maya/tensor/tensor_var.hpp"

namespace maya {

// Gradients of a loss with respect to the leaves made by TensorTape::var.
class TensorGradients {
 public:
  // Throws maya::TapeError for a node that is not a var() leaf of the tape these came from.
  [[nodiscard]] const Tensor& operator[](std::size_t index) const;
  [[nodiscard]] const Tensor& operator[](TensorVar var) const;
  [[nodiscard]] std::size_t size() const noexcept { return leaves_.size(); }

 private:
  friend class TensorTape;
  std::vector<std::pair<std::uint32_t, Tensor>> leaves_;  // sorted by node index
  std::uint32_t slot_ = 0;
  std::uint64_t stamp_ = 0;
};

// Extra per-node data an op keeps for its backward pass.
struct SavedData {
  std::span<const double> values;
  std::span<const std::int64_t> ints;
};

class TensorTape {
 public:
  TensorTape();
  ~TensorTape();
  TensorTape(const TensorTape&) = delete;
  TensorTape& operator=(const TensorTape&) = delete;
  TensorTape(TensorTape&&) = delete;
  TensorTape& operator=(TensorTape&&) = delete;

  // A differentiable leaf, and a non-differentiable input.
  [[nodiscard]] TensorVar var(const Tensor& value);
  [[nodiscard]] TensorVar constant(const Tensor& value);
  // The same from host values someone else owns (a NumPy array): copied once, into the tape.
  [[nodiscard]] TensorVar var(TensorView value);
  [[nodiscard]] TensorVar constant(TensorView value);

  // Reverse sweep from a one-element loss; gradients of every var() leaf (zeros where the loss
  // does not depend on it). Throws maya::ShapeError for a loss with more than one element.
  [[nodiscard]] TensorGradients grad(TensorVar loss);
  void grad(TensorVar loss, TensorGradients& out);

  // Forgets all nodes (their TensorVars become invalid), keeping the memory for reuse.
  void clear() noexcept;
  [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }
  // Bytes of values and saved data currently held for the reverse sweep.
  [[nodiscard]] std::size_t bytes_used() const noexcept;

  // Opt-in: throw maya::NonFiniteError naming the first op whose output holds NaN or Inf.
  void set_finite_check(bool enabled) noexcept { finite_check_ = enabled; }
  [[nodiscard]] bool finite_check() const noexcept { return finite_check_; }
  // The reverse sweep flushes subnormal adjoints (below 2.2e-308) to zero (FlushSubnormals,
  // maya/core/subnormals.hpp): on Intel CPUs arithmetic on them is ~100x slower, and decaying
  // adjoints of long chains pass through them. On by default; off gives IEEE subnormals.
  void set_flush_subnormals(bool enabled) noexcept { flush_subnormals_ = enabled; }
  [[nodiscard]] bool flush_subnormals() const noexcept { return flush_subnormals_; }

  // Records one node: allocates its output of `shape`, calls fill(MutableTensorView) to compute
  // it, and keeps `saved` for op.backward(). `op` must live until the tape's last grad() call:
  // a long-lived object, or one the tape keeps alive (keep_alive below).
  // The node lives on its inputs' device (the CPU without inputs); inputs on two devices are a
  // maya::DeviceError naming the op and both, and so is an op on kCuda without runs_on_cuda().
  template <class Fill>
  TensorVar record(const TensorOp& op, std::span<const TensorVar> inputs, ShapeView shape,
                   Fill&& fill, SavedData saved = {});
  template <class Fill>
  TensorVar record(const TensorOp& op, std::initializer_list<TensorVar> inputs, ShapeView shape,
                   Fill&& fill, SavedData saved = {}) {
    return record(op, std::span<const TensorVar>(inputs.begin(), inputs.size()), shape,
                  std::forward<Fill>(fill), saved);
  }

  // Holds `owner` until clear() or the tape's end. A simulator's fused ops hold their model by
  // shared_ptr and hand themselves here when they record, so the model (a SoftBody, a world) may
  // be gone before grad(). Holding an owner the tape holds already is one comparison.
  template <class T>
  void keep_alive(const std::shared_ptr<T>& owner) {
    if (owner == nullptr || holds(owner.get())) return;
    kept_.emplace_back(owner);
  }

  // Scratch memory for the ops recorded on this tape and for their backward passes
  // (BackwardContext::workspace() lends the same): fused steps borrow their working vectors here.
  [[nodiscard]] Workspace& workspace() noexcept { return workspace_; }

  // The value of a node of this tape (checks that the handle belongs here); a host view, so
  // maya::DeviceError for a node on kCuda.
  [[nodiscard]] TensorView view(TensorVar var) const;
  // The value where it lives: on kCuda a view of device memory, for ops that launch kernels.
  [[nodiscard]] TensorView values(TensorVar var) const;
  [[nodiscard]] Device device(TensorVar var) const;
  // Whether this tape has ever held a node on kCuda (ops skip their device checks when not).
  [[nodiscard]] bool holds_cuda_nodes() const noexcept { return device_ != nullptr; }
  [[nodiscard]] bool requires_grad(TensorVar var) const;
  // Throws maya::TapeError unless `var` is a live handle of this tape; used by every op.
  void check_owned(TensorVar var, std::string_view operation) const;

 private:
  friend class BackwardContext;
  friend class TensorVar;
  friend TensorVar to(TensorVar x, Device device);
  struct DeviceMemory;

  struct Node {
    const TensorOp* op;  // nullptr for leaves and constants
    double* values;
    const std::size_t* shape;  // in shapes_, which never moves
    std::uint32_t ndim;
    std::uint32_t inputs_offset;
    std::uint32_t num_inputs;
    const double* saved;  // in saved_, which never moves
    std::uint32_t num_saved;
    std::uint32_t num_saved_ints;
    const std::int64_t* saved_ints;
    bool requires_grad;
    bool is_var;
    Device device;
  };

  [[nodiscard]] ShapeView node_shape(const Node& node) const noexcept {
    return {node.shape, node.ndim};
  }
  [[nodiscard]] std::size_t node_numel(const Node& node) const noexcept {
    return numel_of(node_shape(node));
  }
  [[noreturn]] void throw_not_owned(TensorVar var, std::string_view operation) const;
  // Whether `owner` is among the most recently kept owners (a short scan: models alternate).
  [[nodiscard]] bool holds(const void* owner) const noexcept;
  // `value` holds device memory when `device` is kCuda.
  TensorVar add_leaf(TensorView value, bool is_var, Device device);
  const std::size_t* store_shape(ShapeView shape);
  std::uint32_t begin_node(const TensorOp& op, std::span<const TensorVar> inputs, ShapeView shape,
                           SavedData saved);
  std::uint32_t begin_node_on(Device device, const TensorOp& op, std::span<const TensorVar> inputs,
                              ShapeView shape, SavedData saved);
  [[noreturn]] void throw_devices(const TensorOp& op, std::span<const TensorVar> inputs) const;
  DeviceMemory& device_memory();
  void finish_node(std::uint32_t index);
  double* gradient_buffer(std::uint32_t index);
  // The buffer of node `index` without zero fill when it is new; `fresh` tells which.
  double* gradient_buffer_unfilled(std::uint32_t index, bool& fresh);

  std::uint32_t slot_;
  std::uint64_t stamp_;
  std::vector<Node> nodes_;
  std::vector<std::uint32_t> inputs_;
  // Values and gradients are the bulk of a tape: huge-page chunks. Shapes and saved data are
  // small: 64 KiB chunks.
  tensor::detail::ChunkArena<double> values_arena_;
  tensor::detail::ChunkArena<double> gradient_arena_;
  tensor::detail::ChunkArena<std::size_t> shapes_{std::size_t{64} << 10};
  tensor::detail::ChunkArena<double> saved_{std::size_t{64} << 10};
  tensor::detail::ChunkArena<std::int64_t> saved_ints_{std::size_t{64} << 10};
  std::vector<double*> gradients_;  // per node during a sweep; nullptr = no gradient reached it
  tensor::detail::BufferPool gradient_pool_;  // gradients of nodes the sweep has passed, for reuse
  Workspace workspace_;
  std::unique_ptr<DeviceMemory> device_;           // values and gradients of nodes on kCuda
  std::vector<std::shared_ptr<const void>> kept_;  // keep_alive()'s owners
  bool finite_check_ = false;
  bool flush_subnormals_ = true;
};

template <class Fill>
TensorVar TensorTape::record(const TensorOp& op, std::span<const TensorVar> inputs, ShapeView shape,
                             Fill&& fill, SavedData saved) {
  const std::uint32_t index = begin_node(op, inputs, shape, saved);
  const Node& node = nodes_[index];
  fill(MutableTensorView{node.values, node_shape(node)});
  finish_node(index);
  return TensorVar(slot_, index, stamp_);
}

}  // namespace maya
