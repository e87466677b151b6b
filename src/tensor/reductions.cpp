// Reductions. A reduction along an axis views the input as [outer, extent, inner] and the output
// as [outer, inner]; the backward pass broadcasts the output gradient back along the axis.
#include <cmath>
#include <string>

#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"

namespace maya {
namespace {

struct AxisSplit {
  std::size_t outer = 1;
  std::size_t extent = 1;
  std::size_t inner = 1;
};

AxisSplit split_at(ShapeView shape, std::size_t axis) {
  AxisSplit s;
  for (std::size_t i = 0; i < axis; ++i) s.outer *= shape[i];
  s.extent = shape[axis];
  for (std::size_t i = axis + 1; i < shape.size(); ++i) s.inner *= shape[i];
  return s;
}

Shape reduced_shape(ShapeView shape, std::size_t axis, bool keepdim) {
  Shape out(shape.begin(), shape.end());
  if (keepdim) {
    out[axis] = 1;
  } else {
    out.erase(out.begin() + static_cast<long>(axis));
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
    for (std::size_t i = 0; i < gx.numel(); ++i) gx[i] += g;
  }
  static const SumAllOp& instance() {
    static const SumAllOp op;
    return op;
  }
};

TensorVar record_sum_all(TensorVar x, bool mean) {
  TensorTape& tape = x.tape();
  const TensorView vx = tape.view(x);
  const std::size_t n = vx.numel();
  if (mean && n == 0) throw ShapeError("mean: the tensor is empty");
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
  const TensorView vx = tape.view(x);
  const std::size_t a = normalize_axis(axis, vx.ndim(), name);
  const AxisSplit s = split_at(vx.shape, a);
  if (mean && s.extent == 0) throw ShapeError(std::string(name) + ": axis has extent 0");
  const double factor = mean ? 1.0 / static_cast<double>(s.extent) : 1.0;
  const double saved[] = {factor};
  const std::int64_t ints[] = {static_cast<std::int64_t>(s.outer),
                               static_cast<std::int64_t>(s.extent),
                               static_cast<std::int64_t>(s.inner)};
  const Shape out_shape = reduced_shape(vx.shape, a, keepdim);
  return tape.record(
      SumAxisOp::instance(), {x}, out_shape,
      [&](MutableTensorView out) {
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

}  // namespace

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
