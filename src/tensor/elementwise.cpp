// Binary elementwise ops with broadcasting. Each op is a functor of value and partials; one
// template records it and one template sweeps it, summing a broadcast operand's gradient back.
#include <cmath>
#include <string>

#include "core/simd.hpp"
#include "maya/tensor/fused.hpp"
#include "maya/tensor/ops.hpp"
#include "tensor/broadcast.hpp"
#include "tensor/gpu_ops.hpp"

namespace maya {
namespace {

using namespace core::simd;  // the kernels' vector vocabulary (V4, load4, ...)

struct AddF {
  static constexpr const char* kName = "add";
  static constexpr tensor::detail::BinaryCode kCode = tensor::detail::BinaryCode::add;
  static constexpr bool kUnitA = true, kUnitB = true;  // partials exactly 1
  static double value(double a, double b) { return a + b; }
  static double d_a(double, double, double) { return 1.0; }
  static double d_b(double, double, double) { return 1.0; }
};
struct SubF {
  static constexpr const char* kName = "sub";
  static constexpr tensor::detail::BinaryCode kCode = tensor::detail::BinaryCode::sub;
  static constexpr bool kUnitA = true, kUnitB = false;
  static double value(double a, double b) { return a - b; }
  static double d_a(double, double, double) { return 1.0; }
  static double d_b(double, double, double) { return -1.0; }
};
struct MulF {
  static constexpr const char* kName = "mul";
  static constexpr tensor::detail::BinaryCode kCode = tensor::detail::BinaryCode::mul;
  static constexpr bool kUnitA = false, kUnitB = false;
  static double value(double a, double b) { return a * b; }
  static double d_a(double, double b, double) { return b; }
  static double d_b(double a, double, double) { return a; }
};
struct DivF {
  static constexpr const char* kName = "div";
  static constexpr tensor::detail::BinaryCode kCode = tensor::detail::BinaryCode::div;
  static constexpr bool kUnitA = false, kUnitB = false;
  static double value(double a, double b) { return a / b; }
  static double d_a(double, double b, double) { return 1.0 / b; }
  static double d_b(double, double b, double out) { return -out / b; }  // d(a/b)/db = -a/b^2
};
struct PowF {
  static constexpr const char* kName = "pow";
  static constexpr tensor::detail::BinaryCode kCode = tensor::detail::BinaryCode::pow;
  static constexpr bool kUnitA = false, kUnitB = false;
  static double value(double a, double b) { return std::pow(a, b); }
  static double d_a(double a, double b, double) {
    return b == 0.0 ? 0.0 : b * std::pow(a, b - 1.0);
  }
  // d(a^b)/db = a^b log a, taken as 0 where a^b = 0.
  static double d_b(double a, double, double out) { return out == 0.0 ? 0.0 : out * std::log(a); }
};
struct MaximumF {
  static constexpr const char* kName = "maximum";
  static constexpr tensor::detail::BinaryCode kCode = tensor::detail::BinaryCode::maximum;
  static constexpr bool kUnitA = false, kUnitB = false;
  static double value(double a, double b) { return a >= b ? a : b; }
  static double d_a(double a, double b, double) { return a >= b ? 1.0 : 0.0; }
  static double d_b(double a, double b, double) { return a >= b ? 0.0 : 1.0; }
};
struct MinimumF {
  static constexpr const char* kName = "minimum";
  static constexpr tensor::detail::BinaryCode kCode = tensor::detail::BinaryCode::minimum;
  static constexpr bool kUnitA = false, kUnitB = false;
  static double value(double a, double b) { return a <= b ? a : b; }
  static double d_a(double a, double b, double) { return a <= b ? 1.0 : 0.0; }
  static double d_b(double a, double b, double) { return a <= b ? 0.0 : 1.0; }
};

// The loops of the ops below, compiled for each instruction set (simd.hpp): a batch of states
// plus a bias, or a state times a constant, runs in the CPU's widest vectors.

// out = F(a, b) over a broadcast plan.
template <class F>
struct BinaryValues {
  MAYA_INLINE static void run(const tensor::detail::BroadcastPlan& plan, const double* a,
                              const double* b, double* out) noexcept {
    tensor::detail::for_each_broadcast(plan, [&](std::size_t i, std::size_t ia, std::size_t ib) {
      out[i] = F::value(a[ia], b[ib]);
    });
  }
};
template <class F>
void binary_values(const tensor::detail::BroadcastPlan& plan, const double* a, const double* b,
                   double* out) noexcept {
  run_kernel<BinaryValues<F>>(plan, a, b, out);
}

// Operand kInput's gradient gx (=, or += unless kAssign) g dF/d(operand) over a broadcast plan.
template <class F, std::size_t kInput, bool kAssign>
struct BinaryPartials {
  MAYA_INLINE static void run(const tensor::detail::BroadcastPlan& plan, const double* a,
                              const double* b, const double* out, const double* g,
                              double* gx) noexcept {
    tensor::detail::for_each_broadcast(plan, [&](std::size_t i, std::size_t ia, std::size_t ib) {
      const double partial =
          kInput == 0 ? F::d_a(a[ia], b[ib], out[i]) : F::d_b(a[ia], b[ib], out[i]);
      double& target = gx[kInput == 0 ? ia : ib];
      if constexpr (kAssign) {
        target = g[i] * partial;
      } else {
        target += g[i] * partial;
      }
    });
  }
};
template <class F, std::size_t kInput, bool kAssign>
void binary_partials(const tensor::detail::BroadcastPlan& plan, const double* a, const double* b,
                     const double* out, const double* g, double* gx) noexcept {
  run_kernel<BinaryPartials<F, kInput, kAssign>>(plan, a, b, out, g, gx);
}

// out = F(x, c), or F(c, x) when kLeft.
template <class F, bool kLeft>
struct ConstantValues {
  MAYA_INLINE static void run(const double* x, double c, double* out, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) out[i] = kLeft ? F::value(c, x[i]) : F::value(x[i], c);
  }
};
template <class F, bool kLeft>
void constant_values(const double* x, double c, double* out, std::size_t n) noexcept {
  run_kernel<ConstantValues<F, kLeft>>(x, c, out, n);
}

// gx (=, or += unless kAssign) g dF/dx for F(x, c), or F(c, x) when kLeft.
template <class F, bool kLeft, bool kAssign>
struct ConstantPartials {
  MAYA_INLINE static void run(const double* x, double c, const double* out, const double* g,
                              double* gx, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
      const double partial = kLeft ? F::d_b(c, x[i], out[i]) : F::d_a(x[i], c, out[i]);
      if constexpr (kAssign) {
        gx[i] = g[i] * partial;
      } else {
        gx[i] += g[i] * partial;
      }
    }
  }
};
template <class F, bool kLeft, bool kAssign>
void constant_partials(const double* x, double c, const double* out, const double* g, double* gx,
                       std::size_t n) noexcept {
  run_kernel<ConstantPartials<F, kLeft, kAssign>>(x, c, out, g, gx, n);
}

template <class F>
class BinaryOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return F::kName; }

  void backward(BackwardContext& context) const override {
    const TensorView a = context.input(0);
    const TensorView b = context.input(1);
    const TensorView out = context.output();
    const TensorView g = context.grad_output();
    const tensor::detail::BroadcastPlan plan =
        tensor::detail::plan_broadcast(a.shape, b.shape, F::kName);
    if (context.needs_grad(0)) write_operand<F::kUnitA, 0>(context, plan, a, b, out, g);
    if (context.needs_grad(1)) write_operand<F::kUnitB, 1>(context, plan, a, b, out, g);
  }

  static const BinaryOp& instance() {
    static const BinaryOp op;
    return op;
  }

 private:
  // Adds g dF/d(operand) of every output element into operand kInput's gradient. An operand of
  // the output's size is visited once per element, so a fresh buffer is assigned, or, with a
  // unit partial (kUnit), takes over the output's gradient without a pass.
  template <bool kUnit, std::size_t kInput>
  static void write_operand(BackwardContext& context, const tensor::detail::BroadcastPlan& plan,
                            TensorView a, TensorView b, TensorView out, TensorView g) {
    const std::size_t operand_numel = kInput == 0 ? a.numel() : b.numel();
    const bool full = operand_numel == plan.numel;
    if (kUnit && full && context.pass_grad_output(kInput)) return;
    const BackwardContext::GradientTarget target =
        full ? context.grad_input_target(kInput)
             : BackwardContext::GradientTarget{context.grad_input(kInput), false};
    if (target.fresh) {
      binary_partials<F, kInput, true>(plan, a.values, b.values, out.values, g.values,
                                       target.view.values);
    } else {
      binary_partials<F, kInput, false>(plan, a.values, b.values, out.values, g.values,
                                        target.view.values);
    }
  }
};

template <class F>
TensorVar record_binary(TensorVar a, TensorVar b) {
  TensorTape& tape = a.tape();
  if (tensor::detail::on_cuda(tape, {a, b}, F::kName)) [[unlikely]]
    return tensor::detail::gpu::binary(F::kCode, F::kName, a, b);
  const TensorView va = tape.view(a);
  const TensorView vb = tape.view(b);
  const tensor::detail::BroadcastPlan plan =
      tensor::detail::plan_broadcast(va.shape, vb.shape, F::kName);
  return tape.record(BinaryOp<F>::instance(), {a, b}, plan.out_shape, [&](MutableTensorView out) {
    binary_values<F>(plan, va.values, vb.values, out.values);
  });
}

// op(x, c), or op(c, x) when kLeft, for a constant c kept in the node's saved data.
template <class F, bool kLeft>
class ConstantOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return F::kName; }
  void backward(BackwardContext& context) const override {
    const TensorView x = context.input(0);
    const TensorView out = context.output();
    const TensorView g = context.grad_output();
    const double c = context.saved()[0];
    if ((kLeft ? F::kUnitB : F::kUnitA) && context.pass_grad_output(0)) return;
    const BackwardContext::GradientTarget target = context.grad_input_target(0);
    if (target.fresh) {
      constant_partials<F, kLeft, true>(x.values, c, out.values, g.values, target.view.values,
                                        x.numel());
    } else {
      constant_partials<F, kLeft, false>(x.values, c, out.values, g.values, target.view.values,
                                         x.numel());
    }
  }
  static const ConstantOp& instance() {
    static const ConstantOp op;
    return op;
  }
};

template <class F, bool kLeft>
TensorVar record_constant(TensorVar x, double c) {
  TensorTape& tape = x.tape();
  if (tensor::detail::on_cuda(tape, {x}, F::kName)) [[unlikely]]
    return tensor::detail::gpu::constant(F::kCode, F::kName, x, c, kLeft);
  const TensorView vx = tape.view(x);
  const double saved[] = {c};
  return tape.record(
      ConstantOp<F, kLeft>::instance(), {x}, vx.shape,
      [&](MutableTensorView out) {
        constant_values<F, kLeft>(vx.values, c, out.values, out.numel());
      },
      SavedData{saved, {}});
}

template <class F>
TensorVar record_constant_right(TensorVar x, double c) {
  return record_constant<F, false>(x, c);
}

template <class F>
TensorVar record_constant_left(double c, TensorVar x) {
  return record_constant<F, true>(x, c);
}

class WhereOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return "where"; }
  void backward(BackwardContext& context) const override {
    const TensorView mask = context.input(0);
    const TensorView g = context.grad_output();
    for (std::size_t operand = 1; operand <= 2; ++operand) {
      if (!context.needs_grad(operand)) continue;
      const MutableTensorView gx = context.grad_input(operand);
      const auto mask_strides = tensor::detail::broadcast_strides(mask.shape, g.shape);
      const auto x_strides = tensor::detail::broadcast_strides(gx.shape, g.shape);
      const bool take_when = operand == 1;
      walk(g.shape, mask_strides, x_strides, [&](std::size_t i, std::size_t im, std::size_t ix) {
        if ((mask[im] != 0.0) == take_when) gx[ix] += g[i];
      });
    }
  }

  // body(out_index, offset_1, offset_2) over `shape` with two stride sets.
  template <class Body>
  static void walk(ShapeView shape, const tensor::detail::SmallShape& s1,
                   const tensor::detail::SmallShape& s2, Body&& body) {
    tensor::detail::BroadcastPlan plan;
    plan.out_shape.assign(shape.begin(), shape.end());
    plan.numel = numel_of(shape);
    plan.kind = tensor::detail::BroadcastPlan::Kind::kGeneral;
    plan.stride_a = s1;
    plan.stride_b = s2;
    if (shape.empty()) {
      if (plan.numel == 1) body(0, 0, 0);
      return;
    }
    tensor::detail::for_each_broadcast(plan, body);
  }

  static const WhereOp& instance() {
    static const WhereOp op;
    return op;
  }
};

}  // namespace

TensorVar operator+(TensorVar a, TensorVar b) { return record_binary<AddF>(a, b); }
TensorVar operator-(TensorVar a, TensorVar b) { return record_binary<SubF>(a, b); }
TensorVar operator*(TensorVar a, TensorVar b) { return record_binary<MulF>(a, b); }
TensorVar operator/(TensorVar a, TensorVar b) { return record_binary<DivF>(a, b); }
TensorVar operator+(TensorVar a, double b) { return record_constant_right<AddF>(a, b); }
TensorVar operator+(double a, TensorVar b) { return record_constant_right<AddF>(b, a); }
TensorVar operator-(TensorVar a, double b) { return record_constant_right<AddF>(a, -b); }
TensorVar operator-(double a, TensorVar b) { return record_constant_left<SubF>(a, b); }
TensorVar operator*(TensorVar a, double b) { return record_constant_right<MulF>(a, b); }
TensorVar operator*(double a, TensorVar b) { return record_constant_right<MulF>(b, a); }
TensorVar operator/(TensorVar a, double b) { return record_constant_right<DivF>(a, b); }
TensorVar operator/(double a, TensorVar b) { return record_constant_left<DivF>(a, b); }
TensorVar operator-(TensorVar a) { return record_constant_right<MulF>(a, -1.0); }
TensorVar neg(TensorVar a) { return -a; }
TensorVar scale(TensorVar x, double factor) { return record_constant_right<MulF>(x, factor); }
TensorVar pow(TensorVar base, TensorVar exponent) { return record_binary<PowF>(base, exponent); }
TensorVar pow(TensorVar base, double exponent) {
  return record_constant_right<PowF>(base, exponent);
}
TensorVar maximum(TensorVar a, TensorVar b) { return record_binary<MaximumF>(a, b); }
TensorVar minimum(TensorVar a, TensorVar b) { return record_binary<MinimumF>(a, b); }
TensorVar maximum(TensorVar a, double b) { return record_constant_right<MaximumF>(a, b); }
TensorVar minimum(TensorVar a, double b) { return record_constant_right<MinimumF>(a, b); }

TensorVar where(TensorVar mask, TensorVar a, TensorVar b) {
  TensorTape& tape = mask.tape();
  if (tensor::detail::on_cuda(tape, {mask, a, b}, "where")) [[unlikely]] {
    // One fused node: the select instruction, which passes no gradient to the mask.
    static const ElementwiseProgram program = ElementwiseProgram::build<3>(
        "where", [](FusedValue m, FusedValue x, FusedValue y) { return where(m, x, y); });
    return fused(program, {mask, a, b});
  }
  const TensorView vm = tape.view(mask);
  const TensorView va = tape.view(a);
  const TensorView vb = tape.view(b);
  tensor::detail::SmallShape ab;
  tensor::detail::broadcast_shape_into(va.shape, vb.shape, "where", ab);
  tensor::detail::SmallShape out_shape;
  tensor::detail::broadcast_shape_into(vm.shape, ab, "where", out_shape);
  const auto sm = tensor::detail::broadcast_strides(vm.shape, out_shape);
  const auto sa = tensor::detail::broadcast_strides(va.shape, out_shape);
  const auto sb = tensor::detail::broadcast_strides(vb.shape, out_shape);
  return tape.record(WhereOp::instance(), {mask, a, b}, out_shape, [&](MutableTensorView out) {
    WhereOp::walk(out_shape, sm, sa, [&](std::size_t i, std::size_t im, std::size_t ia) {
      out[i] = vm[im] != 0.0 ? va[ia] : 0.0;
    });
    WhereOp::walk(out_shape, sm, sb, [&](std::size_t i, std::size_t im, std::size_t ib) {
      if (vm[im] == 0.0) out[i] = vb[ib];
    });
  });
}

}  // namespace maya
