#include "maya/tensor/tensor_tape.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "maya/core/subnormals.hpp"
#include "maya/core/tape_registry.hpp"
#include "maya/tensor/ops.hpp"
#include "tensor/device_runtime.hpp"

namespace maya {

// Nodes on kCuda keep values and gradients in device arenas, recycled as on the CPU.
struct TensorTape::DeviceMemory {
  tensor::detail::DeviceArena values;
  tensor::detail::DeviceArena gradients;
  tensor::detail::BufferPool pool;
};

namespace {

[[noreturn]] void throw_unusable(std::uint64_t stamp, std::string_view operation) {
  if (stamp == 0) {
    throw TapeError(std::string(operation) + ": the TensorVar is unbound (default-constructed)");
  }
  throw TapeError(std::string(operation) +
                  ": the TensorVar's tape was cleared or destroyed after it was recorded");
}

}  // namespace

TensorTape::TensorTape() : slot_(core::detail::TapeRegistry::acquire(this)) {
  stamp_ = core::detail::TapeRegistry::stamp(slot_);
}

TensorTape::~TensorTape() { core::detail::TapeRegistry::release(slot_); }

TensorTape::DeviceMemory& TensorTape::device_memory() {
  if (!device_) device_ = std::make_unique<DeviceMemory>();
  return *device_;
}

void TensorTape::check_owned(TensorVar var, std::string_view operation) const {
  if (var.slot_ == slot_ && var.stamp_ == stamp_) [[likely]]
    return;
  throw_not_owned(var, operation);
}

void TensorTape::throw_not_owned(TensorVar var, std::string_view operation) const {
  if (!core::detail::TapeRegistry::is_current(var.slot_, var.stamp_))
    throw_unusable(var.stamp_, operation);
  throw TapeError(std::string(operation) + ": the operands were recorded on two different tapes");
}

const std::size_t* TensorTape::store_shape(ShapeView shape) {
  std::size_t* stored = shapes_.allocate(shape.size());
  std::copy(shape.begin(), shape.end(), stored);
  return stored;
}

TensorVar TensorTape::add_leaf(TensorView value, bool is_var, Device device) {
  const auto index = static_cast<std::uint32_t>(nodes_.size());
  const std::size_t* shape = store_shape(value.shape);
  double* values = nullptr;
  if (device == Device::kCuda) {
    // Queued on the stream: a graph replay copies the tensor's current values.
    values = device_memory().values.allocate(value.numel());
    tensor::detail::copy_on_device(values, value.values, value.numel());
  } else {
    values = values_arena_.allocate(value.numel());
    std::copy_n(value.values, value.numel(), values);
  }
  // Filled in place: a Node built on the stack and copied was written in pieces and read back
  // whole, which stalled the store forwarding of every record.
  Node& node = nodes_.emplace_back();
  node.shape = shape;
  node.ndim = static_cast<std::uint32_t>(value.ndim());
  node.values = values;
  node.requires_grad = is_var;
  node.is_var = is_var;
  node.device = device;
  if (finite_check_) finish_node(index);
  return TensorVar(slot_, index, stamp_);
}

TensorVar TensorTape::var(const Tensor& value) {
  if (value.device() == Device::kCuda) {
    return add_leaf({value.cuda_data(), value.shape()}, true, Device::kCuda);
  }
  return add_leaf(value.view(), true, Device::kCpu);
}

TensorVar TensorTape::constant(const Tensor& value) {
  if (value.device() == Device::kCuda) {
    return add_leaf({value.cuda_data(), value.shape()}, false, Device::kCuda);
  }
  return add_leaf(value.view(), false, Device::kCpu);
}

TensorVar TensorTape::var(TensorView value) { return add_leaf(value, true, Device::kCpu); }
TensorVar TensorTape::constant(TensorView value) { return add_leaf(value, false, Device::kCpu); }

void TensorTape::throw_devices(const TensorOp& op, std::span<const TensorVar> inputs) const {
  const Device first = nodes_[inputs[0].index_].device;
  for (std::size_t i = 1; i < inputs.size(); ++i) {
    const Device other = nodes_[inputs[i].index_].device;
    if (other != first) {
      throw DeviceError(std::string(op.name()) + ": operand 0 is on " +
                        std::string(to_string(first)) + " but operand " + std::to_string(i) +
                        " is on " + std::string(to_string(other)) +
                        "; move one with to(Device) first");
    }
  }
  throw DeviceError(std::string(op.name()) +
                    " has no CUDA implementation; move its operands with " +
                    "to(Device::kCpu) first");
}

std::uint32_t TensorTape::begin_node(const TensorOp& op, std::span<const TensorVar> inputs,
                                     ShapeView shape, SavedData saved) {
  Device device = Device::kCpu;
  for (const TensorVar input : inputs) {
    if (input.slot_ != slot_ || input.stamp_ != stamp_) [[unlikely]]
      throw_not_owned(input, op.name());
  }
  if (!inputs.empty()) {
    device = nodes_[inputs[0].index_].device;
    for (const TensorVar input : inputs) {
      if (nodes_[input.index_].device != device) [[unlikely]]
        throw_devices(op, inputs);
    }
    if (device == Device::kCuda && !op.runs_on_cuda()) [[unlikely]]
      throw_devices(op, inputs);
  }
  return begin_node_on(device, op, inputs, shape, saved);
}

std::uint32_t TensorTape::begin_node_on(Device device, const TensorOp& op,
                                        std::span<const TensorVar> inputs, ShapeView shape,
                                        SavedData saved) {
  bool requires_grad = false;
  for (const TensorVar input : inputs) {
    requires_grad = requires_grad || nodes_[input.index_].requires_grad;
  }
  const auto inputs_offset = static_cast<std::uint32_t>(inputs_.size());
  for (const TensorVar input : inputs) inputs_.push_back(input.index_);
  const std::size_t* stored_shape = store_shape(shape);
  const std::size_t count = checked_numel(shape, op.name());
  double* values = device == Device::kCpu ? values_arena_.allocate(count)
                                          : device_memory().values.allocate(count);
  double* stored = nullptr;
  if (!saved.values.empty()) {
    stored = saved_.allocate(saved.values.size());
    std::copy(saved.values.begin(), saved.values.end(), stored);
  }
  std::int64_t* stored_ints = nullptr;
  if (!saved.ints.empty()) {
    stored_ints = saved_ints_.allocate(saved.ints.size());
    std::copy(saved.ints.begin(), saved.ints.end(), stored_ints);
  }
  // Filled in place, as in add_leaf.
  Node& node = nodes_.emplace_back();
  node.op = &op;
  node.values = values;
  node.shape = stored_shape;
  node.ndim = static_cast<std::uint32_t>(shape.size());
  node.inputs_offset = inputs_offset;
  node.num_inputs = static_cast<std::uint32_t>(inputs.size());
  node.saved = stored;
  node.num_saved = static_cast<std::uint32_t>(saved.values.size());
  node.num_saved_ints = static_cast<std::uint32_t>(saved.ints.size());
  node.saved_ints = stored_ints;
  node.requires_grad = requires_grad;
  node.is_var = false;
  node.device = device;
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

void TensorTape::finish_node(std::uint32_t index) {
  if (!finite_check_) return;
  const Node& node = nodes_[index];
  const std::size_t n = node_numel(node);
  std::vector<double> copied;
  const double* values = node.values;
  if (node.device == Device::kCuda) {
    copied.resize(n);
    tensor::detail::copy_to_host(copied.data(), node.values, n);
    values = copied.data();
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(values[i])) {
      const std::string name = node.op ? std::string(node.op->name()) : std::string("var");
      throw NonFiniteError("finite check: " + name + " produced " + std::to_string(values[i]) +
                           " at element " + std::to_string(i) + " of its output of shape " +
                           shape_string(node_shape(node)) + " (node " + std::to_string(index) +
                           ")");
    }
  }
}

bool TensorTape::holds(const void* owner) const noexcept {
  constexpr std::size_t kScan = 8;
  const std::size_t first = kept_.size() > kScan ? kept_.size() - kScan : 0;
  for (std::size_t i = kept_.size(); i > first; --i) {
    if (kept_[i - 1].get() == owner) return true;
  }
  return false;
}

void TensorTape::clear() noexcept {
  nodes_.clear();
  kept_.clear();
  shapes_.reset();
  inputs_.clear();
  saved_.reset();
  saved_ints_.reset();
  values_arena_.reset();
  gradient_arena_.reset();
  gradient_pool_.reset();
  if (device_) {
    device_->values.reset();
    device_->gradients.reset();
    device_->pool.reset();
  }
  stamp_ = core::detail::TapeRegistry::restamp(slot_);
}

std::size_t TensorTape::bytes_used() const noexcept {
  return values_arena_.bytes_used() + saved_.bytes_used() + saved_ints_.bytes_used() +
         nodes_.size() * sizeof(Node) + shapes_.bytes_used() +
         inputs_.size() * sizeof(std::uint32_t);
}

TensorView TensorTape::view(TensorVar var) const {
  check_owned(var, "view");
  const Node& node = nodes_[var.index_];
  if (node.device != Device::kCpu) [[unlikely]] {
    throw DeviceError("view: the tensor lives on " + std::string(to_string(node.device)) +
                      " (shape " + shape_string(node_shape(node)) +
                      "); use to(Device::kCpu) first, or an op with a CUDA implementation");
  }
  return {node.values, node_shape(node)};
}

TensorView TensorTape::values(TensorVar var) const {
  check_owned(var, "values");
  const Node& node = nodes_[var.index_];
  return {node.values, node_shape(node)};
}

Device TensorTape::device(TensorVar var) const {
  check_owned(var, "device");
  return nodes_[var.index_].device;
}

bool TensorTape::requires_grad(TensorVar var) const {
  check_owned(var, "requires_grad");
  return nodes_[var.index_].requires_grad;
}

double* TensorTape::gradient_buffer(std::uint32_t index) {
  bool fresh = false;
  double* buffer = gradient_buffer_unfilled(index, fresh);
  if (fresh) {
    const std::size_t count = node_numel(nodes_[index]);
    if (nodes_[index].device == Device::kCuda) {
      tensor::detail::fill_zero(buffer, count);
    } else {
      std::memset(buffer, 0, count * sizeof(double));
    }
  }
  return buffer;
}

double* TensorTape::gradient_buffer_unfilled(std::uint32_t index, bool& fresh) {
  double*& buffer = gradients_[index];
  fresh = buffer == nullptr;
  if (fresh) {
    const std::size_t count = node_numel(nodes_[index]);
    if (nodes_[index].device == Device::kCuda) {
      DeviceMemory& memory = device_memory();
      buffer = memory.pool.take(count);
      if (buffer == nullptr) buffer = memory.gradients.allocate(count);
    } else {
      buffer = gradient_pool_.take(count);
      if (buffer == nullptr) buffer = gradient_arena_.allocate(count);
    }
  }
  return buffer;
}

TensorGradients TensorTape::grad(TensorVar loss) {
  TensorGradients out;
  grad(loss, out);
  return out;
}

void TensorTape::grad(TensorVar loss, TensorGradients& out) {
  check_owned(loss, "grad");
  const Node& loss_node = nodes_[loss.index_];
  if (node_numel(loss_node) != 1) {
    throw ShapeError("grad: the loss must have exactly one element, got shape " +
                     shape_string(node_shape(loss_node)));
  }
  gradient_arena_.reset();
  gradient_pool_.reset();
  if (device_) {
    device_->gradients.reset();
    device_->pool.reset();
  }
  gradients_.assign(nodes_.size(), nullptr);
  const FlushSubnormals flush(flush_subnormals_);
  if (loss_node.device == Device::kCuda) {
    bool fresh = false;
    tensor::detail::fill_value(gradient_buffer_unfilled(loss.index_, fresh), 1.0, 1);
  } else {
    gradient_buffer(loss.index_)[0] = 1.0;
  }

  BackwardContext context;
  context.tape_ = this;
  for (std::size_t i = loss.index_ + 1; i-- > 0;) {
    const Node& node = nodes_[i];
    if (node.op == nullptr || !node.requires_grad || gradients_[i] == nullptr) continue;
    context.device_ = node.device;
    context.inputs_ = {inputs_.data() + node.inputs_offset, node.num_inputs};
    context.output_ = {node.values, node_shape(node)};
    context.grad_output_ = {gradients_[i], node_shape(node)};
    context.grad_output_passed_ = false;
    context.grad_output_overwritten_ = false;
    context.saved_ = {node.saved, node.num_saved};
    context.saved_ints_ = {node.saved_ints, node.num_saved_ints};
    node.op->backward(context);
    // Nothing reads this node's gradient again (only leaves' gradients are returned), unless
    // it went on to an input, which now owns it.
    if (!context.grad_output_passed_) {
      (node.device == Device::kCuda ? device_->pool : gradient_pool_)
          .give(gradients_[i], node_numel(node));
      gradients_[i] = nullptr;
    }
  }

  out.slot_ = slot_;
  out.stamp_ = stamp_;
  // Reuse the tensors of `out` when it holds the same leaves (an optimization loop re-records
  // the same program), so a steady-state sweep allocates nothing.
  std::size_t leaf = 0;
  for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
    const Node& node = nodes_[i];
    if (!node.is_var) continue;
    const ShapeView shape = node_shape(node);
    const bool reusable =
        leaf < out.leaves_.size() && out.leaves_[leaf].first == i &&
        out.leaves_[leaf].second.device() == node.device &&
        std::equal(shape.begin(), shape.end(), out.leaves_[leaf].second.shape().begin(),
                   out.leaves_[leaf].second.shape().end());
    if (!reusable) {
      out.leaves_.resize(leaf);
      out.leaves_.emplace_back(i, Tensor::zeros(Shape(shape.begin(), shape.end()), node.device));
    }
    if (node.device == Device::kCuda) {
      double* values = out.leaves_[leaf].second.mutable_cuda_data();
      const std::size_t count = node_numel(node);
      if (gradients_[i] != nullptr) {
        tensor::detail::copy_on_device(values, gradients_[i], count);
      } else {
        tensor::detail::fill_zero(values, count);
      }
      ++leaf;
      continue;
    }
    const std::span<double> values = out.leaves_[leaf].second.mutable_data();
    if (gradients_[i] != nullptr) {
      std::copy(gradients_[i], gradients_[i] + values.size(), values.begin());
    } else {
      std::fill(values.begin(), values.end(), 0.0);
    }
    ++leaf;
  }
  out.leaves_.resize(leaf);
}

TensorView BackwardContext::input(std::size_t i) const {
  const TensorTape::Node& node = tape_->nodes_[inputs_[i]];
  return {node.values, tape_->node_shape(node)};
}

Workspace& BackwardContext::workspace() const noexcept { return tape_->workspace_; }

bool BackwardContext::needs_grad(std::size_t i) const {
  return tape_->nodes_[inputs_[i]].requires_grad;
}

MutableTensorView BackwardContext::grad_input(std::size_t i) {
  const std::uint32_t index = inputs_[i];
  const TensorTape::Node& node = tape_->nodes_[index];
  if (!node.requires_grad) {
    throw TapeError("backward: input " + std::to_string(i) + " does not need a gradient");
  }
  return {tape_->gradient_buffer(index), tape_->node_shape(node)};
}

BackwardContext::GradientTarget BackwardContext::grad_input_target(std::size_t i) {
  const std::uint32_t index = inputs_[i];
  const TensorTape::Node& node = tape_->nodes_[index];
  if (!node.requires_grad) {
    throw TapeError("backward: input " + std::to_string(i) + " does not need a gradient");
  }
  bool fresh = false;
  double* buffer = tape_->gradient_buffer_unfilled(index, fresh);
  return {{buffer, tape_->node_shape(node)}, fresh};
}

bool BackwardContext::pass_grad_output(std::size_t i) {
  const std::uint32_t index = inputs_[i];
  const TensorTape::Node& node = tape_->nodes_[index];
  if (!node.requires_grad) {
    throw TapeError("backward: input " + std::to_string(i) + " does not need a gradient");
  }
  if (grad_output_overwritten_) {
    throw TapeError("backward: pass_grad_output after grad_output_as_scratch in the same node");
  }
  if (grad_output_passed_ || tape_->gradients_[index] != nullptr ||
      tape_->node_numel(node) != grad_output_.numel()) {
    return false;
  }
  // Two inputs sharing one buffer would add into each other's gradients, hence once per node.
  tape_->gradients_[index] = const_cast<double*>(grad_output_.values);
  grad_output_passed_ = true;
  return true;
}

MutableTensorView BackwardContext::grad_output_as_scratch() {
  if (grad_output_passed_) {
    throw TapeError("backward: grad_output_as_scratch after pass_grad_output in the same node");
  }
  grad_output_overwritten_ = true;
  return {const_cast<double*>(grad_output_.values), grad_output_.shape};
}

const Tensor& TensorGradients::operator[](std::size_t index) const {
  const auto it = std::lower_bound(
      leaves_.begin(), leaves_.end(), index,
      [](const std::pair<std::uint32_t, Tensor>& leaf, std::size_t i) { return leaf.first < i; });
  if (it == leaves_.end() || it->first != index) {
    throw TapeError("TensorGradients: node " + std::to_string(index) +
                    " is not a var() leaf of the tape (gradients are kept for leaves only)");
  }
  return it->second;
}

const Tensor& TensorGradients::operator[](TensorVar var) const {
  if (var.slot_ != slot_ || var.stamp_ != stamp_) {
    throw TapeError(
        "TensorGradients: the TensorVar was not recorded on the tape (or tape "
        "generation) these gradients were computed from");
  }
  return (*this)[var.idx()];
}

bool TensorVar::valid() const noexcept {
  return core::detail::TapeRegistry::is_current(slot_, stamp_);
}

TensorTape& TensorVar::tape() const {
  if (!core::detail::TapeRegistry::is_current(slot_, stamp_)) [[unlikely]]
    throw_unusable(stamp_, "TensorVar");
  return *static_cast<TensorTape*>(core::detail::TapeRegistry::tape(slot_));
}

TensorView TensorVar::view() const { return tape().view(*this); }
Device TensorVar::device() const { return tape().device(*this); }
ShapeView TensorVar::shape() const { return tape().values(*this).shape; }
std::size_t TensorVar::numel() const { return tape().values(*this).numel(); }
std::size_t TensorVar::ndim() const { return tape().values(*this).ndim(); }

Tensor TensorVar::value() const {
  const TensorTape& t = tape();
  const TensorView v = t.values(*this);
  if (t.device(*this) == Device::kCpu) return Tensor::from_view(v);
  Tensor copy = Tensor::zeros(Shape(v.shape.begin(), v.shape.end()), Device::kCuda);
  tensor::detail::copy_on_device(copy.mutable_cuda_data(), v.values, v.numel());
  return copy;
}

double TensorVar::item() const {
  const TensorTape& t = tape();
  const TensorView v = t.values(*this);
  if (v.numel() != 1) {
    throw ShapeError("item: the tensor has shape " + shape_string(v.shape) + ", not one element");
  }
  if (t.device(*this) == Device::kCpu) return v[0];
  double value = 0.0;
  tensor::detail::copy_to_host(&value, v.values, 1);
  return value;
}

namespace {

// to(): the gradient goes back across: a copy to the CPU waits for the GPU (the sweep's only
// wait, where CPU nodes read what GPU nodes wrote); a copy to the GPU is queued.
class ToDeviceOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return "to"; }
  bool runs_on_cuda() const noexcept override { return true; }
  void backward(BackwardContext& context) const override {
    const TensorView g = context.grad_output();
    const MutableTensorView gx = context.grad_input(0);
    const std::size_t n = g.numel();
    const auto from = static_cast<Device>(context.saved_ints()[0]);
    if (from == context.device()) {
      if (from == Device::kCpu) {
        for (std::size_t i = 0; i < n; ++i) gx[i] += g[i];
      } else {
        tensor::detail::add_on_device(gx.values, g.values, n);
      }
    } else if (context.device() == Device::kCuda) {  // x on the CPU
      std::vector<double> host(n);
      tensor::detail::copy_to_host(host.data(), g.values, n);
      for (std::size_t i = 0; i < n; ++i) gx[i] += host[i];
    } else {  // x on the GPU
      double* staged = tensor::detail::device_allocate(n, "to");
      tensor::detail::copy_to_device(staged, g.values, n);
      tensor::detail::add_on_device(gx.values, staged, n);
      tensor::detail::device_free(staged);
    }
  }
  static const ToDeviceOp& instance() {
    static const ToDeviceOp op;
    return op;
  }
};

}  // namespace

TensorVar to(TensorVar x, Device device) {
  TensorTape& tape = x.tape();
  const TensorView vx = tape.values(x);
  const Device from = tape.device(x);
  if (device == Device::kCuda) tensor::detail::require_cuda("to(Device::kCuda)");
  const TensorVar inputs[] = {x};
  const std::int64_t saved_from[] = {static_cast<std::int64_t>(from)};
  const std::uint32_t index = tape.begin_node_on(device, ToDeviceOp::instance(), inputs, vx.shape,
                                                 SavedData{{}, saved_from});
  const TensorTape::Node& node = tape.nodes_[index];
  const std::size_t n = vx.numel();
  if (from == Device::kCpu && device == Device::kCpu) {
    std::copy(vx.values, vx.values + n, node.values);
  } else if (from == Device::kCpu) {
    tensor::detail::copy_to_device(node.values, vx.values, n);
  } else if (device == Device::kCpu) {
    tensor::detail::copy_to_host(node.values, vx.values, n);
  } else {
    tensor::detail::copy_on_device(node.values, vx.values, n);
  }
  tape.finish_node(index);
  return TensorVar(tape.slot_, index, tape.stamp_);
}

TensorVar TensorVar::to(Device device) const { return maya::to(*this, device); }

}  // namespace maya
