// The tensor ops on Device::kCuda: each records a node whose fill and backward queue kernels
// (tensor/cuda/*.cu, cuBLAS) on maya's stream. Shapes were validated by the public op before it
// came here; gradients of broadcast operands are summed back with deterministic reductions.
#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "maya/core/error.hpp"
#include "tensor/cuda/kernels.hpp"
#include "tensor/device_runtime.hpp"
#include "tensor/gpu_ops.hpp"

namespace maya::tensor::detail {
namespace gpu {
namespace {

using kernels::Indexer;
using kernels::ReducePlan;

std::vector<std::int64_t> strides_of(ShapeView shape) {
  std::vector<std::int64_t> strides(shape.size(), 1);
  for (std::size_t d = shape.size(); d-- > 1;) {
    strides[d - 1] = strides[d] * static_cast<std::int64_t>(shape[d]);
  }
  return strides;
}

void check_dims(std::size_t ndim, const char* name) {
  if (ndim > static_cast<std::size_t>(kernels::kMaxDims)) {
    throw ShapeError(std::string(name) + ": tensors on cuda have at most " +
                     std::to_string(kernels::kMaxDims) + " dimensions, got " +
                     std::to_string(ndim));
  }
}

// Iteration over `shape`; operand k's strides are those of `operand_shape[k]` broadcast to it.
Indexer broadcast_indexer(ShapeView shape, std::initializer_list<ShapeView> operands,
                          const char* name) {
  check_dims(shape.size(), name);
  Indexer ix;
  ix.ndim = static_cast<int>(shape.size());
  for (std::size_t d = 0; d < shape.size(); ++d) ix.shape[d] = static_cast<std::int64_t>(shape[d]);
  int k = 0;
  for (const ShapeView operand : operands) {
    const std::vector<std::int64_t> strides = strides_of(operand);
    const std::size_t lead = shape.size() - operand.size();
    for (std::size_t d = 0; d < operand.size(); ++d) {
      ix.stride[k][lead + d] = operand[d] == 1 ? 0 : strides[d];
    }
    ++k;
  }
  return ix;
}

// dst (shape `target`, trailing-aligned to `full`) += sum of src (contiguous, shape `full`) over
// the axes where target is 1 or missing.
void sum_to_shape(const double* src, ShapeView full, ShapeView target, double* dst, bool accumulate,
                  const char* name) {
  check_dims(full.size(), name);
  const std::vector<std::int64_t> strides = strides_of(full);
  const std::size_t lead = full.size() - target.size();
  ReducePlan plan;
  plan.outputs = 1;
  plan.count = 1;
  for (std::size_t d = 0; d < full.size(); ++d) {
    const std::size_t t = d < lead ? 1 : target[d - lead];
    const auto extent = static_cast<std::int64_t>(full[d]);
    if (t == full[d]) {
      plan.kept.shape[plan.kept.ndim] = extent;
      plan.kept.stride[0][plan.kept.ndim++] = strides[d];
      plan.outputs *= full[d];
    } else {
      plan.reduced.shape[plan.reduced.ndim] = extent;
      plan.reduced.stride[0][plan.reduced.ndim++] = strides[d];
      plan.count *= full[d];
    }
  }
  kernels::reduce_sum(plan, src, dst, 1.0, accumulate);
}

// Scratch device memory for one backward step, returned to the pool at scope exit (queued).
class Scratch {
 public:
  Scratch(std::size_t count, const char* name) : values_(device_allocate(count, name)) {}
  ~Scratch() { device_free(values_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  [[nodiscard]] double* get() const noexcept { return values_; }

 private:
  double* values_;
};

// ---- elementwise ----

class BinaryGpuOp final : public TensorOp {
 public:
  BinaryGpuOp(BinaryCode code, const char* name) : code_(code), name_(name) {}
  std::string_view name() const noexcept override { return name_; }
  bool runs_on_cuda() const noexcept override { return true; }
  void backward(BackwardContext& context) const override {
    const TensorView a = context.input(0);
    const TensorView b = context.input(1);
    const TensorView out = context.output();
    const TensorView g = context.grad_output();
    const Indexer ix = broadcast_indexer(out.shape, {a.shape, b.shape}, name_);
    for (int operand = 0; operand < 2; ++operand) {
      if (!context.needs_grad(operand)) continue;
      const TensorView x = operand == 0 ? a : b;
      const bool full = x.numel() == out.numel() && x.ndim() == out.ndim();
      const bool unit = code_ == BinaryCode::add || (code_ == BinaryCode::sub && operand == 0);
      if (full && unit && context.pass_grad_output(operand)) continue;
      if (full) {
        const BackwardContext::GradientTarget target = context.grad_input_target(operand);
        kernels::binary_partials(code_, operand, ix, out.numel(), a.values, b.values, out.values,
                                 g.values, target.view.values, !target.fresh);
      } else {
        const Scratch scratch(out.numel(), name_);
        kernels::binary_partials(code_, operand, ix, out.numel(), a.values, b.values, out.values,
                                 g.values, scratch.get(), false);
        sum_to_shape(scratch.get(), out.shape, x.shape, context.grad_input(operand).values, true,
                     name_);
      }
    }
  }

 private:
  BinaryCode code_;
  const char* name_;
};

const BinaryGpuOp& binary_op(BinaryCode code) {
  static const BinaryGpuOp ops[] = {
      {BinaryCode::add, "add"},         {BinaryCode::sub, "sub"}, {BinaryCode::mul, "mul"},
      {BinaryCode::div, "div"},         {BinaryCode::pow, "pow"}, {BinaryCode::maximum, "maximum"},
      {BinaryCode::minimum, "minimum"},
  };
  return ops[static_cast<int>(code)];
}

// saved()[0] = c, saved_ints()[0] = left.
class ConstantGpuOp final : public TensorOp {
 public:
  ConstantGpuOp(BinaryCode code, const char* name) : code_(code), name_(name) {}
  std::string_view name() const noexcept override { return name_; }
  bool runs_on_cuda() const noexcept override { return true; }
  void backward(BackwardContext& context) const override {
    const TensorView x = context.input(0);
    const double c = context.saved()[0];
    const bool left = context.saved_ints()[0] != 0;
    const bool unit = code_ == BinaryCode::add || (code_ == BinaryCode::sub && !left);
    if (unit && context.pass_grad_output(0)) return;
    const BackwardContext::GradientTarget target = context.grad_input_target(0);
    kernels::constant_partials(code_, left, x.numel(), x.values, c, context.output().values,
                               context.grad_output().values, target.view.values, !target.fresh);
  }

 private:
  BinaryCode code_;
  const char* name_;
};

const ConstantGpuOp& constant_op(BinaryCode code) {
  static const ConstantGpuOp ops[] = {
      {BinaryCode::add, "add"},         {BinaryCode::sub, "sub"}, {BinaryCode::mul, "mul"},
      {BinaryCode::div, "div"},         {BinaryCode::pow, "pow"}, {BinaryCode::maximum, "maximum"},
      {BinaryCode::minimum, "minimum"},
  };
  return ops[static_cast<int>(code)];
}

// saved() = {lo, hi} for clamp.
class UnaryGpuOp final : public TensorOp {
 public:
  UnaryGpuOp(UnaryCode code, const char* name) : code_(code), name_(name) {}
  std::string_view name() const noexcept override { return name_; }
  bool runs_on_cuda() const noexcept override { return true; }
  void backward(BackwardContext& context) const override {
    const TensorView x = context.input(0);
    const double lo = context.saved().empty() ? 0.0 : context.saved()[0];
    const double hi = context.saved().empty() ? 0.0 : context.saved()[1];
    const BackwardContext::GradientTarget target = context.grad_input_target(0);
    kernels::unary_partials(code_, x.numel(), x.values, context.output().values, lo, hi,
                            context.grad_output().values, target.view.values, !target.fresh);
  }

 private:
  UnaryCode code_;
  const char* name_;
};

const UnaryGpuOp& unary_op(UnaryCode code) {
  static const UnaryGpuOp ops[] = {
      {UnaryCode::sin, "sin"},     {UnaryCode::cos, "cos"},
      {UnaryCode::tan, "tan"},     {UnaryCode::exp, "exp"},
      {UnaryCode::log, "log"},     {UnaryCode::sqrt, "sqrt"},
      {UnaryCode::tanh, "tanh"},   {UnaryCode::sigmoid, "sigmoid"},
      {UnaryCode::relu, "relu"},   {UnaryCode::softplus, "softplus"},
      {UnaryCode::abs, "abs"},     {UnaryCode::square, "square"},
      {UnaryCode::clamp, "clamp"},
  };
  return ops[static_cast<int>(code)];
}

// ---- reductions: saved() = {scale}, saved_ints() = {axis} (absent for a full reduction) ----

class SumGpuOp final : public TensorOp {
 public:
  explicit SumGpuOp(const char* name) : name_(name) {}
  std::string_view name() const noexcept override { return name_; }
  bool runs_on_cuda() const noexcept override { return true; }
  void backward(BackwardContext& context) const override {
    const TensorView x = context.input(0);
    const double scale = context.saved()[0];
    Indexer ix;
    if (context.saved_ints().empty()) {
      ix.ndim = 1;
      ix.shape[0] = static_cast<std::int64_t>(x.numel());
      ix.stride[0][0] = 0;
    } else {
      // g has x's shape without the axis: its strides over x's shape, 0 along the axis.
      const auto axis = static_cast<std::size_t>(context.saved_ints()[0]);
      std::vector<std::size_t> g_shape(x.shape.begin(), x.shape.end());
      g_shape[axis] = 1;
      ix = broadcast_indexer(x.shape, {ShapeView(g_shape)}, name_);
    }
    const BackwardContext::GradientTarget target = context.grad_input_target(0);
    kernels::gather_strided(ix, x.numel(), 0, context.grad_output().values, target.view.values,
                            scale, !target.fresh);
  }

 private:
  const char* name_;
};

// ---- matmul: saved_ints() = {m, k, n, batch, a batched, b batched} ----

struct MatmulShapes {
  std::size_t m = 0, k = 0, n = 0, batch = 1;
  std::vector<std::size_t> batch_shape, a_full, b_full;  // a, b as [batch..., m, k] / [k, n]
  std::vector<std::size_t> a_shape, b_shape;             // a, b promoted to >= 2-D
  std::vector<std::size_t> out_shape;
};

MatmulShapes matmul_shapes(ShapeView sa, ShapeView sb) {
  MatmulShapes s;
  if (sa.empty() || sb.empty()) {
    throw ShapeError("matmul: both operands need at least one dimension, got " + shape_string(sa) +
                     " x " + shape_string(sb));
  }
  s.a_shape.assign(sa.begin(), sa.end());
  s.b_shape.assign(sb.begin(), sb.end());
  if (sa.size() == 1) s.a_shape.insert(s.a_shape.begin(), 1);
  if (sb.size() == 1) s.b_shape.push_back(1);
  s.m = s.a_shape[s.a_shape.size() - 2];
  s.k = s.a_shape.back();
  s.n = s.b_shape.back();
  if (s.b_shape[s.b_shape.size() - 2] != s.k) {
    throw ShapeError("matmul: inner dimensions differ: " + shape_string(sa) + " x " +
                     shape_string(sb));
  }
  const ShapeView batch_a(s.a_shape.data(), s.a_shape.size() - 2);
  const ShapeView batch_b(s.b_shape.data(), s.b_shape.size() - 2);
  s.batch_shape = broadcast_shapes(batch_a, batch_b, "matmul");
  s.batch = numel_of(s.batch_shape);
  s.a_full = s.batch_shape;
  s.a_full.push_back(s.m);
  s.a_full.push_back(s.k);
  s.b_full = s.batch_shape;
  s.b_full.push_back(s.k);
  s.b_full.push_back(s.n);
  s.out_shape = s.batch_shape;
  if (sa.size() > 1) s.out_shape.push_back(s.m);
  if (sb.size() > 1) s.out_shape.push_back(s.n);
  return s;
}

// An operand as [batch, rows, cols] with a batch stride: itself when its batch is the full one or
// a single matrix (stride 0), else an expanded copy in `scratch`.
const double* batched_operand(const double* values, ShapeView shape, ShapeView full,
                              std::size_t matrix, std::size_t batch, std::int64_t& stride,
                              std::vector<double*>& scratch) {
  const std::size_t count = numel_of(shape);
  if (count == batch * matrix) {
    stride = static_cast<std::int64_t>(matrix);
    return values;
  }
  if (count == matrix) {
    stride = 0;
    return values;
  }
  double* expanded = device_allocate(numel_of(full), "matmul");
  scratch.push_back(expanded);
  const Indexer ix = broadcast_indexer(full, {shape}, "matmul");
  kernels::gather_strided(ix, numel_of(full), 0, values, expanded, 1.0, false);
  stride = static_cast<std::int64_t>(matrix);
  return expanded;
}

void free_all(std::vector<double*>& scratch) {
  for (double* p : scratch) device_free(p);
  scratch.clear();
}

class MatmulGpuOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return "matmul"; }
  bool runs_on_cuda() const noexcept override { return true; }
  void backward(BackwardContext& context) const override {
    const TensorView a = context.input(0);
    const TensorView b = context.input(1);
    const MatmulShapes s = matmul_shapes(a.shape, b.shape);
    const double* g = context.grad_output().values;
    std::vector<double*> scratch;
    try {
      std::int64_t stride_a = 0;
      std::int64_t stride_b = 0;
      const double* pa =
          batched_operand(a.values, s.a_shape, s.a_full, s.m * s.k, s.batch, stride_a, scratch);
      const double* pb =
          batched_operand(b.values, s.b_shape, s.b_full, s.k * s.n, s.batch, stride_b, scratch);
      const auto stride_g = static_cast<std::int64_t>(s.m * s.n);
      if (context.needs_grad(0)) {
        // dA = dC B^T, per batch; summed over a broadcast batch.
        if (a.numel() == s.batch * s.m * s.k) {
          const BackwardContext::GradientTarget t = context.grad_input_target(0);
          kernels::gemm(false, true, s.m, s.k, s.n, g, pb, t.view.values, t.fresh ? 0.0 : 1.0,
                        s.batch, stride_g, stride_b, static_cast<std::int64_t>(s.m * s.k));
        } else {
          const Scratch full(s.batch * s.m * s.k, "matmul");
          kernels::gemm(false, true, s.m, s.k, s.n, g, pb, full.get(), 0.0, s.batch, stride_g,
                        stride_b, static_cast<std::int64_t>(s.m * s.k));
          sum_to_shape(full.get(), s.a_full, s.a_shape, context.grad_input(0).values, true,
                       "matmul");
        }
      }
      if (context.needs_grad(1)) {
        // dB = A^T dC.
        if (b.numel() == s.batch * s.k * s.n) {
          const BackwardContext::GradientTarget t = context.grad_input_target(1);
          kernels::gemm(true, false, s.k, s.n, s.m, pa, g, t.view.values, t.fresh ? 0.0 : 1.0,
                        s.batch, stride_a, stride_g, static_cast<std::int64_t>(s.k * s.n));
        } else {
          const Scratch full(s.batch * s.k * s.n, "matmul");
          kernels::gemm(true, false, s.k, s.n, s.m, pa, g, full.get(), 0.0, s.batch, stride_a,
                        stride_g, static_cast<std::int64_t>(s.k * s.n));
          sum_to_shape(full.get(), s.b_full, s.b_shape, context.grad_input(1).values, true,
                       "matmul");
        }
      }
    } catch (...) {
      free_all(scratch);
      throw;
    }
    free_all(scratch);
  }
};

// ---- dense: saved_ints() = {m, k, n, activation} ----

class DenseGpuOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return "dense"; }
  bool runs_on_cuda() const noexcept override { return true; }
  void backward(BackwardContext& context) const override {
    const auto ints = context.saved_ints();
    const auto m = static_cast<std::size_t>(ints[0]);
    const auto k = static_cast<std::size_t>(ints[1]);
    const auto n = static_cast<std::size_t>(ints[2]);
    const auto activation = static_cast<kernels::ActivationCode>(ints[3]);
    // dz = g act'(y) is formed inside both kernels: the output gradient stays as it is.
    const double* g = context.grad_output().values;
    const double* y = context.output().values;
    BackwardContext::GradientTarget gx{};
    BackwardContext::GradientTarget gw{};
    BackwardContext::GradientTarget gb{};
    if (context.needs_grad(0)) gx = context.grad_input_target(0);
    if (context.needs_grad(1)) gw = context.grad_input_target(1);
    if (context.needs_grad(2)) gb = context.grad_input_target(2);
    const double* x = context.input(0).values;
    const double* w = context.input(1).values;
    if (x == w && gx.view.values != nullptr && gw.view.values != nullptr) {
      // dense(a, a, b): both gradients land in one buffer, so one launch after the other.
      kernels::dense_backward(x, w, g, y, gx.view.values, nullptr, nullptr, m, k, n, activation,
                              !gx.fresh, false, false);
      kernels::dense_backward(x, w, g, y, nullptr, gw.view.values, gb.view.values, m, k, n,
                              activation, false, !gw.fresh, !gb.fresh);
      return;
    }
    kernels::dense_backward(x, w, g, y, gx.view.values, gw.view.values, gb.view.values, m, k, n,
                            activation, !gx.fresh, !gw.fresh, !gb.fresh);
  }
};

// ---- shape ops ----

class FlatCopyGpuOp final : public TensorOp {
 public:
  explicit FlatCopyGpuOp(const char* name) : name_(name) {}
  std::string_view name() const noexcept override { return name_; }
  bool runs_on_cuda() const noexcept override { return true; }
  void backward(BackwardContext& context) const override {
    if (context.pass_grad_output(0)) return;
    const TensorView g = context.grad_output();
    add_on_device(context.grad_input(0).values, g.values, g.numel());
  }

 private:
  const char* name_;
};

// saved_ints() = {base, stride per output axis}.
class StridedGpuOp final : public TensorOp {
 public:
  explicit StridedGpuOp(const char* name) : name_(name) {}
  std::string_view name() const noexcept override { return name_; }
  bool runs_on_cuda() const noexcept override { return true; }
  void backward(BackwardContext& context) const override {
    const TensorView g = context.grad_output();
    const auto ints = context.saved_ints();
    Indexer ix;
    ix.ndim = static_cast<int>(g.ndim());
    bool repeats = false;
    for (std::size_t d = 0; d < g.ndim(); ++d) {
      ix.shape[d] = static_cast<std::int64_t>(g.shape[d]);
      ix.stride[0][d] = ints[1 + d];
      repeats = repeats || (ints[1 + d] == 0 && g.shape[d] > 1);
    }
    double* gx = context.grad_input(0).values;
    if (!repeats) {
      kernels::scatter_add_strided(ix, g.numel(), ints[0], g.values, gx);
      return;
    }
    // broadcast_to: x's elements are the kept axes in order; sum over the repeated ones.
    const std::vector<std::int64_t> g_strides = strides_of(g.shape);
    ReducePlan plan;
    plan.outputs = 1;
    plan.count = 1;
    for (std::size_t d = 0; d < g.ndim(); ++d) {
      Indexer& part = ints[1 + d] == 0 && g.shape[d] > 1 ? plan.reduced : plan.kept;
      part.shape[part.ndim] = static_cast<std::int64_t>(g.shape[d]);
      part.stride[0][part.ndim++] = g_strides[d];
      (&part == &plan.kept ? plan.outputs : plan.count) *= g.shape[d];
    }
    kernels::reduce_sum(plan, g.values, gx, 1.0, true);
  }

 private:
  const char* name_;
};

// saved_ints() = {outer}.
class ConcatGpuOp final : public TensorOp {
 public:
  explicit ConcatGpuOp(const char* name) : name_(name) {}
  std::string_view name() const noexcept override { return name_; }
  bool runs_on_cuda() const noexcept override { return true; }
  void backward(BackwardContext& context) const override {
    const TensorView g = context.grad_output();
    const auto outer = static_cast<std::size_t>(context.saved_ints()[0]);
    const std::size_t rows = std::max<std::size_t>(outer, 1);
    const std::size_t row = g.numel() / rows;
    // A tensor joined with itself gets one gradient buffer for two parts: those go one kernel
    // after the other (the first assigns, the next add), never both in one kernel.
    bool repeated = false;
    for (std::size_t p = 0; p < context.num_inputs(); ++p) {
      for (std::size_t q = 0; q < p; ++q) {
        repeated = repeated || context.input(p).values == context.input(q).values;
      }
    }
    if (!repeated && context.num_inputs() <= static_cast<std::size_t>(kernels::kMaxParts)) {
      // One kernel: each element of g goes to its part's gradient.
      kernels::RowParts parts;
      parts.count = static_cast<int>(context.num_inputs());
      std::size_t offset = 0;
      for (std::size_t p = 0; p < context.num_inputs(); ++p) {
        const std::size_t width = context.input(p).numel() / rows;
        parts.width[p] = static_cast<std::int64_t>(width);
        parts.offset[p] = static_cast<std::int64_t>(offset);
        if (context.needs_grad(p)) {
          const BackwardContext::GradientTarget t = context.grad_input_target(p);
          parts.gradients[p] = t.view.values;
          parts.accumulate[p] = !t.fresh;
        }
        offset += width;
      }
      kernels::split_rows(parts, outer, row, g.values);
      return;
    }
    std::size_t offset = 0;
    for (std::size_t p = 0; p < context.num_inputs(); ++p) {
      const std::size_t part_row = context.input(p).numel() / rows;
      if (context.needs_grad(p)) {
        Indexer ix;
        ix.ndim = 2;
        ix.shape[0] = static_cast<std::int64_t>(outer);
        ix.shape[1] = static_cast<std::int64_t>(part_row);
        ix.stride[0][0] = static_cast<std::int64_t>(row);
        ix.stride[0][1] = 1;
        const BackwardContext::GradientTarget t = context.grad_input_target(p);
        kernels::gather_strided(ix, outer * part_row, static_cast<std::int64_t>(offset), g.values,
                                t.view.values, 1.0, !t.fresh);
      }
      offset += part_row;
    }
  }

 private:
  const char* name_;
};

// ---- maps: input 1 is a constant of int64 bit patterns; saved_ints() = section offsets ----

// Bit patterns of int64 values in a float64 tensor on the GPU (copied, never computed with).
Tensor index_tensor(const std::vector<std::int64_t>& values) {
  std::vector<double> bits(values.size());
  if (!values.empty()) std::memcpy(bits.data(), values.data(), values.size() * sizeof(double));
  const std::size_t count = bits.size();
  return Tensor::from_data(std::move(bits), {count}, Device::kCuda);
}

// CSR of `items` grouped by `targets` (t in [0, count)), each group in input order.
void append_csr(std::span<const std::int64_t> targets, std::span<const std::int64_t> items,
                std::size_t count, std::vector<std::int64_t>& out) {
  std::vector<std::int64_t> offsets(count + 1, 0);
  for (const std::int64_t t : targets) ++offsets[static_cast<std::size_t>(t) + 1];
  for (std::size_t t = 0; t < count; ++t) offsets[t + 1] += offsets[t];
  std::vector<std::int64_t> cursor(offsets.begin(), offsets.end() - 1);
  std::vector<std::int64_t> grouped(targets.size());
  for (std::size_t p = 0; p < targets.size(); ++p) {
    grouped[static_cast<std::size_t>(cursor[static_cast<std::size_t>(targets[p])]++)] = items[p];
  }
  out.insert(out.end(), offsets.begin(), offsets.end());
  out.insert(out.end(), grouped.begin(), grouped.end());
}

const std::int64_t* as_ints(const double* bits) {
  return reinterpret_cast<const std::int64_t*>(bits);
}

// Gather: bits = [map (N) | csr offsets (X + 1) | csr items (N)].
class GatherGpuOp final : public TensorOp {
 public:
  explicit GatherGpuOp(const char* name) : name_(name) {}
  std::string_view name() const noexcept override { return name_; }
  bool runs_on_cuda() const noexcept override { return true; }
  void backward(BackwardContext& context) const override {
    if (!context.needs_grad(0)) return;
    const TensorView x = context.input(0);
    const std::int64_t* bits = as_ints(context.input(1).values);
    const std::size_t n = context.output().numel();
    kernels::csr_sum(bits + n, bits + n + x.numel() + 1, x.numel(), context.grad_output().values,
                     context.grad_input(0).values, true);
  }

 private:
  const char* name_;
};

// Scatter: bits = [csr offsets (X + 1) | csr source items (P) | source map (S)].
class ScatterGpuOp final : public TensorOp {
 public:
  explicit ScatterGpuOp(const char* name) : name_(name) {}
  std::string_view name() const noexcept override { return name_; }
  bool runs_on_cuda() const noexcept override { return true; }
  void backward(BackwardContext& context) const override {
    const TensorView x = context.input(0);
    const TensorView source = context.input(1);
    const TensorView g = context.grad_output();
    const std::int64_t* bits = as_ints(context.input(2).values);
    const auto pairs = static_cast<std::size_t>(context.saved_ints()[0]);
    if (context.needs_grad(1)) {
      const std::int64_t* map = bits + x.numel() + 1 + pairs;
      kernels::gather_map(map, source.numel(), g.values, context.grad_input(1).values, true);
    }
    if (context.needs_grad(0) && !context.pass_grad_output(0)) {
      add_on_device(context.grad_input(0).values, g.values, g.numel());
    }
  }

 private:
  const char* name_;
};

template <class Op>
const Op& named_op(const char* name) {
  // One op object per name, for the life of the program (ops must outlive their tapes); tapes on
  // several threads may ask at once.
  static std::mutex mutex;
  static std::vector<std::unique_ptr<Op>> ops;
  const std::lock_guard<std::mutex> lock(mutex);
  for (const auto& op : ops) {
    if (op->name() == std::string_view(name)) return *op;
  }
  ops.push_back(std::make_unique<Op>(name));
  return *ops.back();
}

// ---- fused elementwise programs: saved() / saved_ints() as tensor/fused_program.hpp encodes ----

class FusedGpuOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return "fused"; }
  bool runs_on_cuda() const noexcept override { return true; }
  void backward(BackwardContext& context) const override {
    fused::Program program;
    fused::decode(context.saved(), context.saved_ints(), program);
    const TensorView out = context.output();
    const std::size_t count = static_cast<std::size_t>(program.num_inputs);
    if (out.numel() == 0) {  // nothing reaches the inputs: their gradients stay zero
      for (std::size_t k = 0; k < count; ++k) {
        if (context.needs_grad(k)) (void)context.grad_input(k);
      }
      return;
    }
    ShapeView shapes[fused::kMaxInputs];
    kernels::FusedPointers pointers;
    // Broadcast inputs: their gradient at every output element, then summed to their shape.
    std::unique_ptr<Scratch> scratch[fused::kMaxInputs];
    for (std::size_t k = 0; k < count; ++k) {
      const TensorView x = context.input(k);
      shapes[k] = x.shape;
      pointers.inputs[k] = x.values;
      if (!context.needs_grad(k)) continue;
      if (x.numel() == out.numel()) {
        const BackwardContext::GradientTarget target = context.grad_input_target(k);
        pointers.gradients[k] = target.view.values;
        pointers.accumulate[k] = !target.fresh;
      } else {
        scratch[k] = std::make_unique<Scratch>(out.numel(), "fused");
        pointers.gradients[k] = scratch[k]->get();
      }
    }
    const fused::Layout layout =
        fused::make_layout(out.shape, std::span<const ShapeView>(shapes, count));
    kernels::fused_backward(program, layout, out.numel(), pointers, context.grad_output().values);
    for (std::size_t k = 0; k < count; ++k) {
      if (scratch[k] == nullptr) continue;
      sum_to_shape(scratch[k]->get(), out.shape, shapes[k], context.grad_input(k).values, true,
                   "fused");
    }
  }
};

// ---- max / min / norm along an axis: saved_ints() = {code, outer, extent, inner} ----

class AxisReduceGpuOp final : public TensorOp {
 public:
  explicit AxisReduceGpuOp(const char* name) : name_(name) {}
  std::string_view name() const noexcept override { return name_; }
  bool runs_on_cuda() const noexcept override { return true; }
  void backward(BackwardContext& context) const override {
    const auto ints = context.saved_ints();
    const BackwardContext::GradientTarget target = context.grad_input_target(0);
    kernels::axis_reduce_backward(
        static_cast<kernels::AxisReduceCode>(ints[0]), static_cast<std::size_t>(ints[1]),
        static_cast<std::size_t>(ints[2]), static_cast<std::size_t>(ints[3]),
        context.input(0).values, context.output().values, context.grad_output().values,
        target.view.values, !target.fresh);
  }

 private:
  const char* name_;
};

}  // namespace

TensorVar binary(BinaryCode code, const char* name, TensorVar a, TensorVar b) {
  TensorTape& tape = a.tape();
  const TensorView va = tape.values(a);
  const TensorView vb = tape.values(b);
  const Shape out_shape = broadcast_shapes(va.shape, vb.shape, name);
  const Indexer ix = broadcast_indexer(out_shape, {va.shape, vb.shape}, name);
  return tape.record(binary_op(code), {a, b}, out_shape, [&](MutableTensorView out) {
    kernels::binary_values(code, ix, out.numel(), va.values, vb.values, out.values);
  });
}

TensorVar constant(BinaryCode code, const char*, TensorVar x, double c, bool left) {
  TensorTape& tape = x.tape();
  const TensorView vx = tape.values(x);
  const double saved[] = {c};
  const std::int64_t ints[] = {left ? 1 : 0};
  return tape.record(
      constant_op(code), {x}, vx.shape,
      [&](MutableTensorView out) {
        kernels::constant_values(code, left, out.numel(), vx.values, c, out.values);
      },
      SavedData{saved, ints});
}

TensorVar unary(UnaryCode code, const char*, TensorVar x, double lo, double hi) {
  TensorTape& tape = x.tape();
  const TensorView vx = tape.values(x);
  const double bounds[] = {lo, hi};
  const SavedData saved = code == UnaryCode::clamp ? SavedData{bounds, {}} : SavedData{};
  return tape.record(
      unary_op(code), {x}, vx.shape,
      [&](MutableTensorView out) {
        kernels::unary_values(code, out.numel(), vx.values, lo, hi, out.values);
      },
      saved);
}

TensorVar sum_all(TensorVar x, bool mean) {
  static const SumGpuOp sum_op("sum");
  static const SumGpuOp mean_op("mean");
  TensorTape& tape = x.tape();
  const TensorView vx = tape.values(x);
  const double scale = mean ? 1.0 / static_cast<double>(vx.numel()) : 1.0;
  ReducePlan plan;
  plan.outputs = 1;
  plan.count = vx.numel();
  plan.reduced.ndim = 1;
  plan.reduced.shape[0] = static_cast<std::int64_t>(vx.numel());
  plan.reduced.stride[0][0] = 1;
  const double saved[] = {scale};
  return tape.record(
      mean ? mean_op : sum_op, {x}, ShapeView{},
      [&](MutableTensorView out) {
        kernels::reduce_sum(plan, vx.values, out.values, scale, false);
      },
      SavedData{saved, {}});
}

TensorVar sum_axis(TensorVar x, std::size_t axis, bool keepdim, bool mean) {
  static const SumGpuOp sum_op("sum");
  static const SumGpuOp mean_op("mean");
  TensorTape& tape = x.tape();
  const TensorView vx = tape.values(x);
  const char* name = mean ? "mean" : "sum";
  check_dims(vx.ndim(), name);
  const std::vector<std::int64_t> strides = strides_of(vx.shape);
  ReducePlan plan;
  plan.outputs = 1;
  Shape out_shape;
  for (std::size_t d = 0; d < vx.ndim(); ++d) {
    if (d == axis) {
      plan.reduced.ndim = 1;
      plan.reduced.shape[0] = static_cast<std::int64_t>(vx.shape[d]);
      plan.reduced.stride[0][0] = strides[d];
      plan.count = vx.shape[d];
      if (keepdim) out_shape.push_back(1);
      continue;
    }
    plan.kept.shape[plan.kept.ndim] = static_cast<std::int64_t>(vx.shape[d]);
    plan.kept.stride[0][plan.kept.ndim++] = strides[d];
    plan.outputs *= vx.shape[d];
    out_shape.push_back(vx.shape[d]);
  }
  const double scale = mean ? 1.0 / static_cast<double>(vx.shape[axis]) : 1.0;
  const double saved[] = {scale};
  const std::int64_t ints[] = {static_cast<std::int64_t>(axis)};
  return tape.record(
      mean ? mean_op : sum_op, {x}, out_shape,
      [&](MutableTensorView out) {
        kernels::reduce_sum(plan, vx.values, out.values, scale, false);
      },
      SavedData{saved, ints});
}

TensorVar matmul(TensorVar a, TensorVar b) {
  static const MatmulGpuOp op;
  TensorTape& tape = a.tape();
  const TensorView va = tape.values(a);
  const TensorView vb = tape.values(b);
  const MatmulShapes s = matmul_shapes(va.shape, vb.shape);
  check_dims(s.a_full.size(), "matmul");
  return tape.record(op, {a, b}, s.out_shape, [&](MutableTensorView out) {
    std::vector<double*> scratch;
    try {
      std::int64_t stride_a = 0;
      std::int64_t stride_b = 0;
      const double* pa =
          batched_operand(va.values, s.a_shape, s.a_full, s.m * s.k, s.batch, stride_a, scratch);
      const double* pb =
          batched_operand(vb.values, s.b_shape, s.b_full, s.k * s.n, s.batch, stride_b, scratch);
      kernels::gemm(false, false, s.m, s.n, s.k, pa, pb, out.values, 0.0, s.batch, stride_a,
                    stride_b, static_cast<std::int64_t>(s.m * s.n));
    } catch (...) {
      free_all(scratch);
      throw;
    }
    free_all(scratch);
  });
}

TensorVar dense(TensorVar x, TensorVar w, TensorVar b, Activation activation) {
  static const DenseGpuOp op;
  TensorTape& tape = x.tape();
  const TensorView vx = tape.values(x);
  const TensorView vw = tape.values(w);
  const TensorView vb = tape.values(b);
  const std::size_t k = vw.shape[0];
  const std::size_t n = vw.shape[1];
  const std::size_t m = numel_of(vx.shape.first(vx.ndim() - 1));
  Shape out_shape(vx.shape.begin(), vx.shape.end());
  out_shape.back() = n;
  const auto code = static_cast<kernels::ActivationCode>(activation);
  const std::int64_t ints[] = {static_cast<std::int64_t>(m), static_cast<std::int64_t>(k),
                               static_cast<std::int64_t>(n), static_cast<std::int64_t>(activation)};
  return tape.record(
      op, {x, w, b}, out_shape,
      [&](MutableTensorView out) {
        kernels::dense_forward(vx.values, vw.values, vb.values, out.values, m, k, n, code);
      },
      SavedData{{}, ints});
}

TensorVar flat_copy(const char* name, TensorVar x, ShapeView out_shape) {
  TensorTape& tape = x.tape();
  const TensorView vx = tape.values(x);
  return tape.record(named_op<FlatCopyGpuOp>(name), {x}, out_shape, [&](MutableTensorView out) {
    copy_on_device(out.values, vx.values, out.numel());
  });
}

TensorVar strided(const char* name, TensorVar x, ShapeView out_shape,
                  std::span<const std::int64_t> ints) {
  TensorTape& tape = x.tape();
  const TensorView vx = tape.values(x);
  check_dims(out_shape.size(), name);
  Indexer ix;
  ix.ndim = static_cast<int>(out_shape.size());
  for (std::size_t d = 0; d < out_shape.size(); ++d) {
    ix.shape[d] = static_cast<std::int64_t>(out_shape[d]);
    ix.stride[0][d] = ints[1 + d];
  }
  return tape.record(
      named_op<StridedGpuOp>(name), {x}, out_shape,
      [&](MutableTensorView out) {
        kernels::gather_strided(ix, out.numel(), ints[0], vx.values, out.values, 1.0, false);
      },
      SavedData{{}, ints});
}

TensorVar concat_rows(const char* name, std::span<const TensorVar> parts, ShapeView out_shape,
                      std::size_t outer) {
  TensorTape& tape = parts[0].tape();
  const std::int64_t ints[] = {static_cast<std::int64_t>(outer)};
  const std::size_t rows = std::max<std::size_t>(outer, 1);
  return tape.record(
      named_op<ConcatGpuOp>(name), parts, out_shape,
      [&](MutableTensorView out) {
        const std::size_t row = out.numel() / rows;
        if (parts.size() <= static_cast<std::size_t>(kernels::kMaxParts)) {
          kernels::RowParts joined;
          joined.count = static_cast<int>(parts.size());
          std::size_t offset = 0;
          for (std::size_t p = 0; p < parts.size(); ++p) {
            const TensorView part = tape.values(parts[p]);
            joined.values[p] = part.values;
            joined.width[p] = static_cast<std::int64_t>(part.numel() / rows);
            joined.offset[p] = static_cast<std::int64_t>(offset);
            offset += part.numel() / rows;
          }
          kernels::join_rows(joined, outer, row, out.values);
          return;
        }
        std::size_t offset = 0;
        for (const TensorVar p : parts) {
          const TensorView part = tape.values(p);
          const std::size_t part_row = part.numel() / rows;
          // out[o, offset + j] += part[o, j] over a zeroed output: each element is written once.
          if (offset == 0) fill_zero(out.values, out.numel());
          Indexer target;
          target.ndim = 2;
          target.shape[0] = static_cast<std::int64_t>(outer);
          target.shape[1] = static_cast<std::int64_t>(part_row);
          target.stride[0][0] = static_cast<std::int64_t>(row);
          target.stride[0][1] = 1;
          kernels::scatter_add_strided(target, outer * part_row, static_cast<std::int64_t>(offset),
                                       part.values, out.values);
          offset += part_row;
        }
      },
      SavedData{{}, ints});
}

TensorVar gather_map(const char* name, TensorVar x, ShapeView out_shape,
                     std::span<const std::int64_t> map) {
  TensorTape& tape = x.tape();
  const TensorView vx = tape.values(x);
  std::vector<std::int64_t> bits(map.begin(), map.end());
  std::vector<std::int64_t> items(map.size());
  for (std::size_t i = 0; i < items.size(); ++i) items[i] = static_cast<std::int64_t>(i);
  append_csr(map, items, vx.numel(), bits);
  const TensorVar table = tape.constant(index_tensor(bits));
  const double* table_values = tape.values(table).values;
  return tape.record(
      named_op<GatherGpuOp>(name), {x, table}, out_shape, [&](MutableTensorView out) {
        kernels::gather_map(as_ints(table_values), out.numel(), vx.values, out.values, false);
      });
}

TensorVar scatter_pairs(const char* name, TensorVar x, TensorVar source,
                        std::span<const std::int64_t> pairs) {
  TensorTape& tape = x.tape();
  const TensorView vx = tape.values(x);
  const TensorView vs = tape.values(source);
  const std::size_t count = pairs.size() / 2;
  std::vector<std::int64_t> targets(count);
  std::vector<std::int64_t> items(count);
  std::vector<std::int64_t> source_map(vs.numel(), -1);
  for (std::size_t p = 0; p < count; ++p) {
    targets[p] = pairs[2 * p];
    items[p] = pairs[2 * p + 1];
    source_map[static_cast<std::size_t>(items[p])] = targets[p];
  }
  std::vector<std::int64_t> bits;
  append_csr(targets, items, vx.numel(), bits);
  bits.insert(bits.end(), source_map.begin(), source_map.end());
  const TensorVar table = tape.constant(index_tensor(bits));
  const double* table_values = tape.values(table).values;
  const std::int64_t ints[] = {static_cast<std::int64_t>(count)};
  const std::size_t n = vx.numel();
  return tape.record(
      named_op<ScatterGpuOp>(name), {x, source, table}, vx.shape,
      [&](MutableTensorView out) {
        copy_on_device(out.values, vx.values, n);
        const std::int64_t* csr = as_ints(table_values);
        kernels::csr_sum(csr, csr + n + 1, n, vs.values, out.values, true);
      },
      SavedData{{}, ints});
}

TensorVar fused(std::span<const TensorVar> inputs, ShapeView out_shape,
                std::span<const double> saved, std::span<const std::int64_t> ints) {
  static const FusedGpuOp op;
  TensorTape& tape = inputs[0].tape();
  fused::Program program;
  fused::decode(saved, ints, program);
  ShapeView shapes[fused::kMaxInputs];
  kernels::FusedPointers pointers;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const TensorView v = tape.values(inputs[k]);
    shapes[k] = v.shape;
    pointers.inputs[k] = v.values;
  }
  const fused::Layout layout =
      fused::make_layout(out_shape, std::span<const ShapeView>(shapes, inputs.size()));
  return tape.record(
      op, inputs, out_shape,
      [&](MutableTensorView out) {
        kernels::fused_forward(program, layout, out.numel(), pointers, out.values);
      },
      SavedData{saved, ints});
}

TensorVar axis_reduce(AxisReduction reduction, TensorVar x, ShapeView out_shape, std::size_t outer,
                      std::size_t extent, std::size_t inner) {
  static const AxisReduceGpuOp ops[] = {AxisReduceGpuOp("max"), AxisReduceGpuOp("min"),
                                        AxisReduceGpuOp("norm")};
  TensorTape& tape = x.tape();
  const TensorView vx = tape.values(x);
  const auto code = static_cast<kernels::AxisReduceCode>(static_cast<int>(reduction));
  const std::int64_t ints[] = {static_cast<std::int64_t>(reduction),
                               static_cast<std::int64_t>(outer), static_cast<std::int64_t>(extent),
                               static_cast<std::int64_t>(inner)};
  return tape.record(
      ops[static_cast<int>(reduction)], {x}, out_shape,
      [&](MutableTensorView out) {
        kernels::axis_reduce(code, outer, extent, inner, vx.values, out.values);
      },
      SavedData{{}, ints});
}

}  // namespace gpu

}  // namespace maya::tensor::detail
