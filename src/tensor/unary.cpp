// Unary elementwise ops. Each functor gives the value and the derivative from the input x and
// the output y (tanh' = 1 - y^2 and exp' = y reuse the output instead of recomputing).
#include <cmath>
#include <string>

#include "core/simd.hpp"
#include "maya/ad/scalar_op.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"
#include "tensor/gpu_ops.hpp"
#include "tensor/gradient_write.hpp"
#include "tensor/vector_math.hpp"

namespace maya {
namespace {

using namespace core::simd;  // the kernels' vector vocabulary (V4, load4, ...)

struct SinF {
  static constexpr const char* kName = "sin";
  static constexpr tensor::detail::UnaryCode kCode = tensor::detail::UnaryCode::sin;
  static double value(double x) { return std::sin(x); }
  static double derivative(double x, double) { return std::cos(x); }
};
struct CosF {
  static constexpr const char* kName = "cos";
  static constexpr tensor::detail::UnaryCode kCode = tensor::detail::UnaryCode::cos;
  static double value(double x) { return std::cos(x); }
  static double derivative(double x, double) { return -std::sin(x); }
};
struct TanF {
  static constexpr const char* kName = "tan";
  static constexpr tensor::detail::UnaryCode kCode = tensor::detail::UnaryCode::tan;
  static double value(double x) { return std::tan(x); }
  static double derivative(double, double y) { return 1.0 + y * y; }
};
struct ExpF {
  static constexpr const char* kName = "exp";
  static constexpr tensor::detail::UnaryCode kCode = tensor::detail::UnaryCode::exp;
  static double value(double x) { return std::exp(x); }
  static void vector(const double* in, double* out, std::size_t n) {
    tensor::detail::vector_exp(in, out, n);
  }
  static double derivative(double, double y) { return y; }
};
struct LogF {
  static constexpr const char* kName = "log";
  static constexpr tensor::detail::UnaryCode kCode = tensor::detail::UnaryCode::log;
  static double value(double x) { return std::log(x); }
  static double derivative(double x, double) { return 1.0 / x; }
};
struct SqrtF {
  static constexpr const char* kName = "sqrt";
  static constexpr tensor::detail::UnaryCode kCode = tensor::detail::UnaryCode::sqrt;
  static double value(double x) { return std::sqrt(x); }
  static double derivative(double, double y) { return 0.5 / y; }
};
struct TanhF {
  static constexpr const char* kName = "tanh";
  static constexpr tensor::detail::UnaryCode kCode = tensor::detail::UnaryCode::tanh;
  static double value(double x) { return std::tanh(x); }
  static void vector(const double* in, double* out, std::size_t n) {
    tensor::detail::vector_tanh(in, out, n);
  }
  static double derivative(double, double y) { return 1.0 - y * y; }
};
struct SigmoidF {
  static constexpr const char* kName = "sigmoid";
  static constexpr tensor::detail::UnaryCode kCode = tensor::detail::UnaryCode::sigmoid;
  static double value(double x) { return ad::detail::stable_sigmoid(x); }
  static void vector(const double* in, double* out, std::size_t n) {
    tensor::detail::vector_sigmoid(in, out, n);
  }
  static double derivative(double, double y) { return y * (1.0 - y); }
};
struct ReluF {
  static constexpr const char* kName = "relu";
  static constexpr tensor::detail::UnaryCode kCode = tensor::detail::UnaryCode::relu;
  static double value(double x) { return x > 0.0 ? x : 0.0; }
  static double derivative(double x, double) { return x > 0.0 ? 1.0 : 0.0; }
};
struct SoftplusF {
  static constexpr const char* kName = "softplus";
  static constexpr tensor::detail::UnaryCode kCode = tensor::detail::UnaryCode::softplus;
  static double value(double x) {
    return x > 0.0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
  }
  static double derivative(double x, double) { return ad::detail::stable_sigmoid(x); }
};
struct AbsF {
  static constexpr const char* kName = "abs";
  static constexpr tensor::detail::UnaryCode kCode = tensor::detail::UnaryCode::abs;
  static double value(double x) { return std::abs(x); }
  static double derivative(double x, double) { return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0); }
};
struct SquareF {
  static constexpr const char* kName = "square";
  static constexpr tensor::detail::UnaryCode kCode = tensor::detail::UnaryCode::square;
  static double value(double x) { return x * x; }
  static double derivative(double x, double) { return 2.0 * x; }
};

// The loops of the ops below, compiled for each instruction set (simd.hpp).

// out = F(x), for the functors without a vector kernel of their own.
template <class F>
struct UnaryValues {
  MAYA_INLINE static void run(const double* x, double* out, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) out[i] = F::value(x[i]);
  }
};
template <class F>
void unary_values(const double* x, double* out, std::size_t n) noexcept {
  run_kernel<UnaryValues<F>>(x, out, n);
}

// gx (=, or += unless kAssign) g F'(x), with F' written through the input x and output y.
template <class F, bool kAssign>
struct UnaryPartials {
  MAYA_INLINE static void run(const double* x, const double* y, const double* g, double* gx,
                              std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
      if constexpr (kAssign) {
        gx[i] = g[i] * F::derivative(x[i], y[i]);
      } else {
        gx[i] += g[i] * F::derivative(x[i], y[i]);
      }
    }
  }
};
template <class F, bool kAssign>
void unary_partials(const double* x, const double* y, const double* g, double* gx,
                    std::size_t n) noexcept {
  run_kernel<UnaryPartials<F, kAssign>>(x, y, g, gx, n);
}

template <class F>
class UnaryOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return F::kName; }
  void backward(BackwardContext& context) const override {
    const TensorView x = context.input(0);
    const TensorView y = context.output();
    const TensorView g = context.grad_output();
    const BackwardContext::GradientTarget target = context.grad_input_target(0);
    if (target.fresh) {
      unary_partials<F, true>(x.values, y.values, g.values, target.view.values, x.numel());
    } else {
      unary_partials<F, false>(x.values, y.values, g.values, target.view.values, x.numel());
    }
  }
  static const UnaryOp& instance() {
    static const UnaryOp op;
    return op;
  }
};

// Functors with a vectorized kernel (F::vector) use it for the forward pass.
template <class F>
concept HasVectorKernel = requires(const double* in, double* out) {
  F::vector(in, out, 1);
};

template <class F>
TensorVar record_unary(TensorVar x) {
  TensorTape& tape = x.tape();
  if (tensor::detail::on_cuda(tape, {x}, F::kName)) [[unlikely]]
    return tensor::detail::gpu::unary(F::kCode, F::kName, x);
  const TensorView vx = tape.view(x);
  return tape.record(UnaryOp<F>::instance(), {x}, vx.shape, [&](MutableTensorView out) {
    const std::size_t n = out.numel();
    if constexpr (HasVectorKernel<F>) {
      F::vector(vx.values, out.values, n);
    } else {
      unary_values<F>(vx.values, out.values, n);
    }
  });
}

class ClampOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return "clamp"; }
  void backward(BackwardContext& context) const override {
    const TensorView x = context.input(0);
    const TensorView g = context.grad_output();
    const double lo = context.saved()[0];
    const double hi = context.saved()[1];
    tensor::detail::write_gradient(
        context, 0, x.numel(), [&](std::size_t i) { return x[i] > lo && x[i] < hi ? g[i] : 0.0; });
  }
  static const ClampOp& instance() {
    static const ClampOp op;
    return op;
  }
};

}  // namespace

TensorVar sin(TensorVar x) { return record_unary<SinF>(x); }
TensorVar cos(TensorVar x) { return record_unary<CosF>(x); }
TensorVar tan(TensorVar x) { return record_unary<TanF>(x); }
TensorVar exp(TensorVar x) { return record_unary<ExpF>(x); }
TensorVar log(TensorVar x) { return record_unary<LogF>(x); }
TensorVar sqrt(TensorVar x) { return record_unary<SqrtF>(x); }
TensorVar tanh(TensorVar x) { return record_unary<TanhF>(x); }
TensorVar sigmoid(TensorVar x) { return record_unary<SigmoidF>(x); }
TensorVar relu(TensorVar x) { return record_unary<ReluF>(x); }
TensorVar softplus(TensorVar x) { return record_unary<SoftplusF>(x); }
TensorVar abs(TensorVar x) { return record_unary<AbsF>(x); }
TensorVar square(TensorVar x) { return record_unary<SquareF>(x); }

TensorVar clamp(TensorVar x, double lo, double hi) {
  if (!(lo <= hi)) {
    throw ValueError("clamp: lower bound " + std::to_string(lo) + " exceeds upper bound " +
                     std::to_string(hi));
  }
  TensorTape& tape = x.tape();
  if (tensor::detail::on_cuda(tape, {x}, "clamp")) [[unlikely]]
    return tensor::detail::gpu::unary(tensor::detail::UnaryCode::clamp, "clamp", x, lo, hi);
  const TensorView vx = tape.view(x);
  const double saved[] = {lo, hi};
  return tape.record(
      ClampOp::instance(), {x}, vx.shape,
      [&](MutableTensorView out) {
        for (std::size_t i = 0, n = out.numel(); i < n; ++i)
          out[i] = std::min(std::max(vx[i], lo), hi);
      },
      SavedData{saved, {}});
}

// Method forms.
TensorVar TensorVar::sin() const { return maya::sin(*this); }
TensorVar TensorVar::cos() const { return maya::cos(*this); }
TensorVar TensorVar::exp() const { return maya::exp(*this); }
TensorVar TensorVar::log() const { return maya::log(*this); }
TensorVar TensorVar::sqrt() const { return maya::sqrt(*this); }
TensorVar TensorVar::tanh() const { return maya::tanh(*this); }
TensorVar TensorVar::relu() const { return maya::relu(*this); }
TensorVar TensorVar::square() const { return maya::square(*this); }
TensorVar TensorVar::abs() const { return maya::abs(*this); }

}  // namespace maya
