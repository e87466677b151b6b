// The fused dense layer y = f(x w + b): one tape node instead of matmul, add and f. It keeps only
// y (f' is a function of the output for every activation offered), and its backward pass turns
// the output gradient into g * f'(y) in place before the three products.
#include <algorithm>
#include <cstdint>
#include <string>

#include "core/simd.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"
#include "tensor/gpu_ops.hpp"
#include "tensor/small_gemm.hpp"
#include "tensor/small_shape.hpp"
#include "tensor/vector_math.hpp"

namespace maya {
namespace {

using namespace core::simd;  // the kernels' vector vocabulary (V4, load4, ...)

void apply_activation(Activation activation, double* values, std::size_t n) {
  switch (activation) {
    case Activation::identity: return;
    case Activation::tanh: tensor::detail::vector_tanh(values, values, n); return;
    case Activation::sigmoid: tensor::detail::vector_sigmoid(values, values, n); return;
    case Activation::relu:
      for (std::size_t i = 0; i < n; ++i) values[i] = values[i] > 0.0 ? values[i] : 0.0;
      return;
  }
}

// g f'(y), with f' written through the output y.
template <Activation A>
MAYA_INLINE double times_derivative(double g, double y) noexcept {
  if constexpr (A == Activation::tanh) return g * (1.0 - y * y);
  if constexpr (A == Activation::sigmoid) return g * (y * (1.0 - y));
  if constexpr (A == Activation::relu) return y > 0.0 ? g : 0.0;
  return g;  // identity
}

// dz[r, j] = g[r, j] f'(y[r, j]) (dz may be g itself; not written for the identity) and, when
// Sums, sums[j] += dz[r, j]: one pass for the activation's derivative and the bias gradient.
template <Activation A, bool Sums>
MAYA_INLINE void derivative_rows(const double* y, const double* g, double* dz,
                                 double* __restrict sums, std::size_t m, std::size_t n) noexcept {
  for (std::size_t r = 0; r < m; ++r) {
    for (std::size_t j = 0; j < n; ++j) {
      double d = g[r * n + j];
      if constexpr (A != Activation::identity)
        dz[r * n + j] = d = times_derivative<A>(d, y[r * n + j]);
      if constexpr (Sums) sums[j] += d;
    }
  }
}

// The same over a narrow gradient (n = 1, 2 or 4 columns), seen as one flat array: eight
// partial sums hold column l % n in lane l, so the sums neither wait on each other row by row
// nor leave the vector registers.
template <Activation A>
MAYA_INLINE void derivative_flat(const double* y, const double* g, double* dz,
                                 double* __restrict sums, std::size_t m, std::size_t n) noexcept {
  constexpr std::size_t kLanes = 8;
  double partial[kLanes] = {};
  const std::size_t total = m * n;
  std::size_t i = 0;
  for (; i + kLanes <= total; i += kLanes) {
    for (std::size_t l = 0; l < kLanes; ++l) {
      double d = g[i + l];
      if constexpr (A != Activation::identity) dz[i + l] = d = times_derivative<A>(d, y[i + l]);
      partial[l] += d;
    }
  }
  for (; i < total; ++i) {
    double d = g[i];
    if constexpr (A != Activation::identity) dz[i] = d = times_derivative<A>(d, y[i]);
    partial[i % kLanes] += d;
  }
  for (std::size_t l = 0; l < kLanes; ++l) sums[l % n] += partial[l];
}

template <Activation A>
MAYA_INLINE void derivative_rows(const double* y, const double* g, double* dz, double* sums,
                                 bool accumulate, std::size_t m, std::size_t n) noexcept {
  if (sums == nullptr) return derivative_rows<A, false>(y, g, dz, nullptr, m, n);
  if (!accumulate) std::fill(sums, sums + n, 0.0);
  if (n == 1 || n == 2 || n == 4) return derivative_flat<A>(y, g, dz, sums, m, n);
  derivative_rows<A, true>(y, g, dz, sums, m, n);
}

// g = dz = g f'(y) in place (m rows of n), and the bias gradient sums (+)= column sums of dz
// when sums is given.
struct MultiplyByDerivative {
  MAYA_INLINE static void run(Activation activation, const double* y, double* g, double* sums,
                              bool accumulate, std::size_t m, std::size_t n) noexcept {
    switch (activation) {
      case Activation::identity: break;
      case Activation::tanh:
        return derivative_rows<Activation::tanh>(y, g, g, sums, accumulate, m, n);
      case Activation::sigmoid:
        return derivative_rows<Activation::sigmoid>(y, g, g, sums, accumulate, m, n);
      case Activation::relu:
        return derivative_rows<Activation::relu>(y, g, g, sums, accumulate, m, n);
    }
  }
};
void multiply_by_derivative(Activation activation, const double* y, double* g, double* sums,
                            bool accumulate, std::size_t m, std::size_t n) noexcept {
  run_kernel<MultiplyByDerivative>(activation, y, g, sums, accumulate, m, n);
}

// sums[j] (+)= sum_r z[r, j]: the bias gradient of an identity layer.
struct AddColumnSums {
  MAYA_INLINE static void run(const double* z, double* sums, bool accumulate, std::size_t m,
                              std::size_t n) noexcept {
    derivative_rows<Activation::identity>(nullptr, z, nullptr, sums, accumulate, m, n);
  }
};
void add_column_sums(const double* z, double* sums, bool accumulate, std::size_t m,
                     std::size_t n) noexcept {
  run_kernel<AddColumnSums>(z, sums, accumulate, m, n);
}

// saved_ints: {m, k, n, activation}; x is viewed as m rows of k.
class DenseOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return "dense"; }

  // z = x w + b, y = f(z):  dz = g f'(y),  dx = dz w^T,  dw = x^T dz,  db = column sums of dz.
  void backward(BackwardContext& context) const override {
    const auto ints = context.saved_ints();
    const auto m = static_cast<std::size_t>(ints[0]);
    const auto k = static_cast<std::size_t>(ints[1]);
    const auto n = static_cast<std::size_t>(ints[2]);
    const auto activation = static_cast<Activation>(ints[3]);
    const double* dz = context.grad_output().values;
    double* db = nullptr;
    bool db_accumulate = false;
    if (context.needs_grad(2)) {
      const BackwardContext::GradientTarget target = context.grad_input_target(2);
      db = target.view.values;
      db_accumulate = !target.fresh;
    }
    if (activation != Activation::identity) {
      // The output gradient becomes dz in place; the bias gradient is summed in the same pass.
      double* scratch = context.grad_output_as_scratch().values;
      multiply_by_derivative(activation, context.output().values, scratch, db, db_accumulate, m, n);
    } else if (db != nullptr) {
      add_column_sums(dz, db, db_accumulate, m, n);
    }
    if (context.needs_grad(1)) {
      const BackwardContext::GradientTarget dw = context.grad_input_target(1);
      tensor::detail::gemm_tn(context.input(0).values, dz, dw.view.values, m, k, n, !dw.fresh);
    }
    if (context.needs_grad(0)) {
      const BackwardContext::GradientTarget dx = context.grad_input_target(0);
      tensor::detail::gemm_nt(dz, context.input(1).values, dx.view.values, m, n, k, !dx.fresh);
    }
  }

  static const DenseOp& instance() {
    static const DenseOp op;
    return op;
  }
};

[[noreturn]] void throw_dense(const std::string& what, ShapeView x, ShapeView w, ShapeView b) {
  throw ShapeError("dense: " + what + ": x " + shape_string(x) + ", w " + shape_string(w) + ", b " +
                   shape_string(b));
}

}  // namespace

TensorVar dense(TensorVar x, TensorVar w, TensorVar b, Activation activation) {
  TensorTape& tape = x.tape();
  const bool gpu = tensor::detail::on_cuda(tape, {x, w, b}, "dense");
  const TensorView vx = gpu ? tape.values(x) : tape.view(x);
  const TensorView vw = gpu ? tape.values(w) : tape.view(w);
  const TensorView vb = gpu ? tape.values(b) : tape.view(b);
  if (vw.ndim() != 2) throw_dense("w must be 2-D [in, out]", vx.shape, vw.shape, vb.shape);
  if (vx.ndim() == 0 || vx.shape.back() != vw.shape[0]) {
    throw_dense("x's last axis must equal w's rows", vx.shape, vw.shape, vb.shape);
  }
  if (vb.ndim() != 1 || vb.shape[0] != vw.shape[1]) {
    throw_dense("b must be 1-D with w's column count", vx.shape, vw.shape, vb.shape);
  }
  switch (activation) {
    case Activation::identity:
    case Activation::tanh:
    case Activation::sigmoid:
    case Activation::relu: break;
    default:
      throw ValueError("dense: unknown activation " + std::to_string(static_cast<int>(activation)));
  }
  if (gpu) [[unlikely]]
    return tensor::detail::gpu::dense(x, w, b, activation);

  const std::size_t k = vw.shape[0];
  const std::size_t n = vw.shape[1];
  const std::size_t m = numel_of(vx.shape.first(vx.ndim() - 1));
  tensor::detail::SmallShape out_shape(vx.shape);
  out_shape[out_shape.size() - 1] = n;
  const std::int64_t ints[] = {static_cast<std::int64_t>(m), static_cast<std::int64_t>(k),
                               static_cast<std::int64_t>(n), static_cast<std::int64_t>(activation)};
  return tape.record(
      DenseOp::instance(), {x, w, b}, ShapeView(out_shape.data(), out_shape.size()),
      [&](MutableTensorView out) {
        tensor::detail::gemm_nn_bias(vx.values, vw.values, vb.values, out.values, m, k, n);
        apply_activation(activation, out.values, out.numel());
      },
      SavedData{{}, ints});
}

}  // namespace maya
