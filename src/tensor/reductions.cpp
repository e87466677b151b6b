// Reductions. A reduction along an axis views the input as [outer, extent, inner] and the output
// as [outer, inner]; the backward pass broadcasts the output gradient back along the axis (to
// every entry for sum/mean, to the first arg-max/arg-min for max/min, scaled by x/|x| for norm).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"
#include "tensor/axis_split.hpp"
#include "tensor/gpu_ops.hpp"
#include "tensor/small_shape.hpp"

namespace maya {
namespace {

using tensor::detail::AxisSplit;
using tensor::detail::split_at;

tensor::detail::SmallShape reduced_shape(ShapeView shape, std::size_t axis, bool keepdim) {
  tensor::detail::SmallShape out(shape.begin(), shape.end());
  if (keepdim) {
    out[axis] = 1;
  } else {
    out.erase_at(axis);
  }
  return out;
}

// sum over all elements times saved()[0] (1 for sum, 1/n for mean).
class SumAllOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return "sum"; }
  void backward(BackwardContext& context) const override {
    const double g = context.grad_output()[0] * context.saved()[0];
    const MutableTensorView gx = context.grad_input(0);
    for (std::size_t i = 0, n = gx.numel(); i < n; ++i) gx[i] += g;
  }
  static const SumAllOp& instance() {
    static const SumAllOp op;
    return op;
  }
};

TensorVar record_sum_all(TensorVar x, bool mean) {
  TensorTape& tape = x.tape();
  const bool gpu = tensor::detail::on_cuda(tape, {x}, mean ? "mean" : "sum");
  const TensorView vx = gpu ? tape.values(x) : tape.view(x);
  const std::size_t n = vx.numel();
  if (mean && n == 0) throw ShapeError("mean: the tensor is empty");
  if (gpu) [[unlikely]]
    return tensor::detail::gpu::sum_all(x, mean);
  const double factor = mean ? 1.0 / static_cast<double>(n) : 1.0;
  const double saved[] = {factor};
  return tape.record(
      SumAllOp::instance(), {x}, ShapeView{},
      [&](MutableTensorView out) {
        double total = 0.0;
        for (std::size_t i = 0; i < n; ++i) total += vx[i];
        out[0] = total * factor;
      },
      SavedData{saved, {}});
}

// sum along one axis times saved()[0]; saved_ints = {outer, extent, inner}.
class SumAxisOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return "sum"; }
  void backward(BackwardContext& context) const override {
    const double factor = context.saved()[0];
    const auto split = context.saved_ints();
    const auto outer = static_cast<std::size_t>(split[0]);
    const auto extent = static_cast<std::size_t>(split[1]);
    const auto inner = static_cast<std::size_t>(split[2]);
    const TensorView g = context.grad_output();
    const MutableTensorView gx = context.grad_input(0);
    if (inner == 1) {  // the last axis: each output spreads over one contiguous row
      for (std::size_t o = 0; o < outer; ++o) {
        const double spread = g.values[o] * factor;
        for (std::size_t e = 0; e < extent; ++e) gx.values[o * extent + e] += spread;
      }
      return;
    }
    for (std::size_t o = 0; o < outer; ++o) {
      for (std::size_t e = 0; e < extent; ++e) {
        double* row = gx.values + (o * extent + e) * inner;
        const double* grow = g.values + o * inner;
        for (std::size_t i = 0; i < inner; ++i) row[i] += grow[i] * factor;
      }
    }
  }
  static const SumAxisOp& instance() {
    static const SumAxisOp op;
    return op;
  }
};

TensorVar record_sum_axis(TensorVar x, long axis, bool keepdim, bool mean, const char* name) {
  TensorTape& tape = x.tape();
  const bool gpu = tensor::detail::on_cuda(tape, {x}, name);
  const TensorView vx = gpu ? tape.values(x) : tape.view(x);
  const std::size_t a = normalize_axis(axis, vx.ndim(), name);
  const AxisSplit s = split_at(vx.shape, a);
  if (mean && s.extent == 0) throw ShapeError(std::string(name) + ": axis has extent 0");
  if (gpu) [[unlikely]]
    return tensor::detail::gpu::sum_axis(x, a, keepdim, mean);
  const double factor = mean ? 1.0 / static_cast<double>(s.extent) : 1.0;
  const double saved[] = {factor};
  const std::int64_t ints[] = {static_cast<std::int64_t>(s.outer),
                               static_cast<std::int64_t>(s.extent),
                               static_cast<std::int64_t>(s.inner)};
  const tensor::detail::SmallShape out_shape = reduced_shape(vx.shape, a, keepdim);
  return tape.record(
      SumAxisOp::instance(), {x}, out_shape,
      [&](MutableTensorView out) {
        if (s.inner == 1) {  // the last axis: one contiguous row per output, no row loops
          for (std::size_t o = 0; o < s.outer; ++o) {
            const double* row = vx.values + o * s.extent;
            double total = 0.0;
            for (std::size_t e = 0; e < s.extent; ++e) total += row[e];
            out.values[o] = total * factor;
          }
          return;
        }
        for (std::size_t o = 0; o < s.outer; ++o) {
          double* orow = out.values + o * s.inner;
          for (std::size_t i = 0; i < s.inner; ++i) orow[i] = 0.0;
          for (std::size_t e = 0; e < s.extent; ++e) {
            const double* row = vx.values + (o * s.extent + e) * s.inner;
            for (std::size_t i = 0; i < s.inner; ++i) orow[i] += row[i];
          }
          for (std::size_t i = 0; i < s.inner; ++i) orow[i] *= factor;
        }
      },
      SavedData{saved, ints});
}

struct MaxF {
  static constexpr const char* kName = "max";
  static constexpr auto kReduction = tensor::detail::gpu::AxisReduction::max;
  static bool better(double candidate, double best) { return candidate > best; }
};
struct MinF {
  static constexpr const char* kName = "min";
  static constexpr auto kReduction = tensor::detail::gpu::AxisReduction::min;
  static bool better(double candidate, double best) { return candidate < best; }
};

// True where `candidate` should replace `best`: strictly better, or the first NaN (a NaN
// anywhere along the axis makes the result NaN, as numpy.max does).
template <class F>
bool replaces(double candidate, double best) {
  return F::better(candidate, best) || (std::isnan(candidate) && !std::isnan(best));
}

// max/min along an axis; saved_ints = {outer, extent, inner}. The backward pass finds the first
// arg-max again as the first entry equal to the output (the forward keeps the first of ties), so
// no per-element indices are stored.
template <class F>
class ExtremumOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return F::kName; }
  void backward(BackwardContext& context) const override {
    const auto split = context.saved_ints();
    const auto outer = static_cast<std::size_t>(split[0]);
    const auto extent = static_cast<std::size_t>(split[1]);
    const auto inner = static_cast<std::size_t>(split[2]);
    const TensorView x = context.input(0);
    const TensorView out = context.output();
    const TensorView g = context.grad_output();
    const MutableTensorView gx = context.grad_input(0);
    for (std::size_t o = 0; o < outer; ++o) {
      for (std::size_t i = 0; i < inner; ++i) {
        const double best = out[o * inner + i];
        for (std::size_t e = 0; e < extent; ++e) {
          const std::size_t at = (o * extent + e) * inner + i;
          if (x[at] == best || (std::isnan(best) && std::isnan(x[at]))) {
            gx[at] += g[o * inner + i];
            break;
          }
        }
      }
    }
  }
  static const ExtremumOp& instance() {
    static const ExtremumOp op;
    return op;
  }
};

std::int64_t to_int(std::size_t value) { return static_cast<std::int64_t>(value); }

AxisSplit checked_split(const TensorView& vx, long axis, const char* name, std::size_t& a) {
  a = normalize_axis(axis, vx.ndim(), name);
  const AxisSplit s = split_at(vx.shape, a);
  if (s.extent == 0) {
    throw ShapeError(std::string(name) + ": cannot reduce axis " + std::to_string(axis) +
                     " of extent 0 (shape " + shape_string(vx.shape) + ")");
  }
  return s;
}

template <class F>
TensorVar record_extremum(TensorVar x, long axis, bool keepdim) {
  TensorTape& tape = x.tape();
  const bool gpu = tensor::detail::on_cuda(tape, {x}, F::kName);
  const TensorView vx = gpu ? tape.values(x) : tape.view(x);
  std::size_t a = 0;
  const AxisSplit s = checked_split(vx, axis, F::kName, a);
  const std::int64_t ints[] = {to_int(s.outer), to_int(s.extent), to_int(s.inner)};
  const tensor::detail::SmallShape out_shape = reduced_shape(vx.shape, a, keepdim);
  if (gpu) [[unlikely]] {
    return tensor::detail::gpu::axis_reduce(F::kReduction, x, out_shape, s.outer, s.extent,
                                            s.inner);
  }
  return tape.record(
      ExtremumOp<F>::instance(), {x}, out_shape,
      [&](MutableTensorView out) {
        for (std::size_t o = 0; o < s.outer; ++o) {
          double* orow = out.values + o * s.inner;
          const double* first = vx.values + o * s.extent * s.inner;
          std::copy(first, first + s.inner, orow);
          for (std::size_t e = 1; e < s.extent; ++e) {
            const double* row = first + e * s.inner;
            for (std::size_t i = 0; i < s.inner; ++i) {
              if (replaces<F>(row[i], orow[i])) orow[i] = row[i];
            }
          }
        }
      },
      SavedData{{}, ints});
}

// L2 norm along an axis; saved_ints = {outer, extent, inner}.
// d|x|/dx = x / |x|, taken as 0 at x = 0 (a subgradient; keeps zero-length springs finite).
class NormOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return "norm"; }
  void backward(BackwardContext& context) const override {
    const auto split = context.saved_ints();
    const auto outer = static_cast<std::size_t>(split[0]);
    const auto extent = static_cast<std::size_t>(split[1]);
    const auto inner = static_cast<std::size_t>(split[2]);
    const TensorView x = context.input(0);
    const TensorView out = context.output();
    const TensorView g = context.grad_output();
    const MutableTensorView gx = context.grad_input(0);
    for (std::size_t o = 0; o < outer; ++o) {
      for (std::size_t i = 0; i < inner; ++i) {
        const double length = out[o * inner + i];
        if (length == 0.0) continue;
        const double factor = g[o * inner + i] / length;
        for (std::size_t e = 0; e < extent; ++e) {
          const std::size_t at = (o * extent + e) * inner + i;
          gx[at] += factor * x[at];
        }
      }
    }
  }
  static const NormOp& instance() {
    static const NormOp op;
    return op;
  }
};

// <a, b> for 1-d a, b: d/da = g b, d/db = g a.
class DotOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return "dot"; }
  void backward(BackwardContext& context) const override {
    const TensorView a = context.input(0);
    const TensorView b = context.input(1);
    const double g = context.grad_output()[0];
    if (context.needs_grad(0)) {
      const MutableTensorView ga = context.grad_input(0);
      for (std::size_t i = 0; i < ga.numel(); ++i) ga[i] += g * b[i];
    }
    if (context.needs_grad(1)) {
      const MutableTensorView gb = context.grad_input(1);
      for (std::size_t i = 0; i < gb.numel(); ++i) gb[i] += g * a[i];
    }
  }
  static const DotOp& instance() {
    static const DotOp op;
    return op;
  }
};

}  // namespace

TensorVar max(TensorVar x, long axis, bool keepdim) {
  return record_extremum<MaxF>(x, axis, keepdim);
}
TensorVar min(TensorVar x, long axis, bool keepdim) {
  return record_extremum<MinF>(x, axis, keepdim);
}

TensorVar norm(TensorVar x, long axis, bool keepdim) {
  TensorTape& tape = x.tape();
  const bool gpu = tensor::detail::on_cuda(tape, {x}, "norm");
  const TensorView vx = gpu ? tape.values(x) : tape.view(x);
  const std::size_t a = normalize_axis(axis, vx.ndim(), "norm");
  const AxisSplit s = split_at(vx.shape, a);
  const std::int64_t ints[] = {to_int(s.outer), to_int(s.extent), to_int(s.inner)};
  const tensor::detail::SmallShape out_shape = reduced_shape(vx.shape, a, keepdim);
  if (gpu) [[unlikely]] {
    return tensor::detail::gpu::axis_reduce(tensor::detail::gpu::AxisReduction::norm, x, out_shape,
                                            s.outer, s.extent, s.inner);
  }
  return tape.record(
      NormOp::instance(), {x}, out_shape,
      [&](MutableTensorView out) {
        for (std::size_t o = 0; o < s.outer; ++o) {
          double* orow = out.values + o * s.inner;
          std::fill(orow, orow + s.inner, 0.0);
          for (std::size_t e = 0; e < s.extent; ++e) {
            const double* row = vx.values + (o * s.extent + e) * s.inner;
            for (std::size_t i = 0; i < s.inner; ++i) orow[i] += row[i] * row[i];
          }
          for (std::size_t i = 0; i < s.inner; ++i) orow[i] = std::sqrt(orow[i]);
        }
      },
      SavedData{{}, ints});
}

TensorVar dot(TensorVar a, TensorVar b) {
  TensorTape& tape = a.tape();
  const bool gpu = tensor::detail::on_cuda(tape, {a, b}, "dot");
  const TensorView va = gpu ? tape.values(a) : tape.view(a);
  const TensorView vb = gpu ? tape.values(b) : tape.view(b);
  if (va.ndim() != 1 || vb.ndim() != 1 || va.shape[0] != vb.shape[0]) {
    throw ShapeError("dot: expects two 1-d tensors of equal length, got " + shape_string(va.shape) +
                     " and " + shape_string(vb.shape));
  }
  if (gpu) [[unlikely]] {  // sum(a * b): two nodes on the GPU
    using tensor::detail::BinaryCode;
    return tensor::detail::gpu::sum_all(tensor::detail::gpu::binary(BinaryCode::mul, "mul", a, b),
                                        false);
  }
  return tape.record(DotOp::instance(), {a, b}, ShapeView{}, [&](MutableTensorView out) {
    double total = 0.0;
    for (std::size_t i = 0; i < va.numel(); ++i) total += va[i] * vb[i];
    out[0] = total;
  });
}

TensorVar sum(TensorVar x) { return record_sum_all(x, false); }
TensorVar mean(TensorVar x) { return record_sum_all(x, true); }
TensorVar sum(TensorVar x, long axis, bool keepdim) {
  return record_sum_axis(x, axis, keepdim, false, "sum");
}
TensorVar mean(TensorVar x, long axis, bool keepdim) {
  return record_sum_axis(x, axis, keepdim, true, "mean");
}

TensorVar TensorVar::sum() const { return maya::sum(*this); }
TensorVar TensorVar::sum(long axis, bool keepdim) const { return maya::sum(*this, axis, keepdim); }
TensorVar TensorVar::mean() const { return maya::mean(*this); }
TensorVar TensorVar::mean(long axis, bool keepdim) const {
  return maya::mean(*this, axis, keepdim);
}

}  // namespace maya
