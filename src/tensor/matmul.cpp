// matmul as numpy.matmul. Every case is reduced to a list of (A_b, B_b) row-major matrix pairs
// of m x k and k x n: a 1-d left operand is a 1 x k row, a 1-d right operand a k x 1 column
// (that axis is then dropped from the result), and leading batch axes broadcast. The pair
// offsets are saved on the tape, so the backward pass is two products per batch entry
// (small_gemm.hpp: direct kernels for skinny shapes, Eigen's GEMM otherwise).
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"
#include "tensor/broadcast.hpp"
#include "tensor/gpu_ops.hpp"
#include "tensor/small_gemm.hpp"

namespace maya {
namespace {

// saved_ints layout: {m, k, n, batch, a_0, b_0, a_1, b_1, ...} with a_i, b_i the index of the
// i-th output matrix's operands among A's and B's matrices.
constexpr std::size_t kHeader = 4;

class MatmulOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return "matmul"; }

  // C_b = A_b B_b  =>  dA_b += dC_b B_b^T,  dB_b += A_b^T dC_b, summed over the batch entries
  // that share a (broadcast) operand.
  void backward(BackwardContext& context) const override {
    const auto ints = context.saved_ints();
    const auto m = static_cast<std::size_t>(ints[0]);
    const auto k = static_cast<std::size_t>(ints[1]);
    const auto n = static_cast<std::size_t>(ints[2]);
    const auto batch = static_cast<std::size_t>(ints[3]);
    const double* g = context.grad_output().values;
    const auto a_at = [&](std::size_t i) {
      return static_cast<std::size_t>(ints[kHeader + 2 * i]);
    };
    const auto b_at = [&](std::size_t i) {
      return static_cast<std::size_t>(ints[kHeader + 2 * i + 1]);
    };
    if (context.needs_grad(0)) {
      const double* b = context.input(1).values;
      // One product writes all of dA: assign when nothing reached it yet.
      const BackwardContext::GradientTarget target =
          batch == 1 ? context.grad_input_target(0)
                     : BackwardContext::GradientTarget{context.grad_input(0), false};
      for (std::size_t i = 0; i < batch; ++i) {
        tensor::detail::gemm_nt(g + i * m * n, b + b_at(i) * k * n,
                                target.view.values + a_at(i) * m * k, m, n, k, !target.fresh);
      }
    }
    if (context.needs_grad(1)) {
      const double* a = context.input(0).values;
      const BackwardContext::GradientTarget target =
          batch == 1 ? context.grad_input_target(1)
                     : BackwardContext::GradientTarget{context.grad_input(1), false};
      for (std::size_t i = 0; i < batch; ++i) {
        tensor::detail::gemm_tn(a + a_at(i) * m * k, g + i * m * n,
                                target.view.values + b_at(i) * k * n, m, k, n, !target.fresh);
      }
    }
  }

  static const MatmulOp& instance() {
    static const MatmulOp op;
    return op;
  }
};

[[noreturn]] void throw_matmul(const std::string& what, ShapeView a, ShapeView b) {
  throw ShapeError("matmul: " + what + ": " + shape_string(a) + " x " + shape_string(b));
}

// NumPy's rule, checked here so the error can name the full operand shapes.
bool broadcastable(ShapeView a, ShapeView b) noexcept {
  for (std::size_t i = 1; i <= std::min(a.size(), b.size()); ++i) {
    const std::size_t ea = a[a.size() - i];
    const std::size_t eb = b[b.size() - i];
    if (ea != eb && ea != 1 && eb != 1) return false;
  }
  return true;
}

}  // namespace

TensorVar matmul(TensorVar a, TensorVar b) {
  TensorTape& tape = a.tape();
  if (tensor::detail::on_cuda(tape, {a, b}, "matmul")) [[unlikely]]
    return tensor::detail::gpu::matmul(a, b);
  const TensorView va = tape.view(a);
  const TensorView vb = tape.view(b);
  const ShapeView sa = va.shape;
  const ShapeView sb = vb.shape;
  if (sa.empty() || sb.empty()) throw_matmul("operands must have at least one dimension", sa, sb);

  const bool a_vector = sa.size() == 1;
  const bool b_vector = sb.size() == 1;
  const std::size_t m = a_vector ? 1 : sa[sa.size() - 2];
  const std::size_t k = sa.back();
  const std::size_t kb = b_vector ? sb[0] : sb[sb.size() - 2];
  const std::size_t n = b_vector ? 1 : sb.back();
  if (k != kb) throw_matmul("inner dimensions differ", sa, sb);

  const ShapeView batch_a = sa.first(a_vector ? 0 : sa.size() - 2);
  const ShapeView batch_b = sb.first(b_vector ? 0 : sb.size() - 2);
  const std::size_t batch_ndim = std::max(batch_a.size(), batch_b.size());
  if (!broadcastable(batch_a, batch_b)) {
    throw_matmul("batch dimensions cannot be broadcast", sa, sb);
  }

  // [m, n] with the axis of a vector operand dropped: [m, n], [n], [m] or [].
  std::size_t plain_shape[2] = {m, n};
  ShapeView out_view(plain_shape + (a_vector ? 1 : 0), (a_vector ? 0 : 1) + (b_vector ? 0 : 1));
  Shape out_shape;
  // Pair offsets. Plain 2-d / vector products (the common, tiny case) use a stack buffer.
  std::int64_t plain[kHeader + 2] = {0, 0, 0, 1, 0, 0};
  std::vector<std::int64_t> batched;
  std::span<std::int64_t> ints(plain);
  if (batch_ndim > 0) {
    const tensor::detail::BroadcastPlan plan =
        tensor::detail::plan_broadcast(batch_a, batch_b, "matmul");
    out_shape.assign(plan.out_shape.begin(), plan.out_shape.end());
    batched.assign(kHeader, 0);
    batched.reserve(kHeader + 2 * plan.numel);
    tensor::detail::for_each_broadcast(plan, [&](std::size_t, std::size_t ia, std::size_t ib) {
      batched.push_back(static_cast<std::int64_t>(ia));
      batched.push_back(static_cast<std::int64_t>(ib));
    });
    batched[3] = static_cast<std::int64_t>(plan.numel);
    ints = batched;
  }
  ints[0] = static_cast<std::int64_t>(m);
  ints[1] = static_cast<std::int64_t>(k);
  ints[2] = static_cast<std::int64_t>(n);
  const auto batch = static_cast<std::size_t>(ints[3]);
  if (batch_ndim > 0) {
    if (!a_vector) out_shape.push_back(m);
    if (!b_vector) out_shape.push_back(n);
    out_view = out_shape;
  }

  return tape.record(
      MatmulOp::instance(), {a, b}, out_view,
      [&](MutableTensorView out) {
        for (std::size_t i = 0; i < batch; ++i) {
          tensor::detail::gemm_nn(
              va.values + static_cast<std::size_t>(ints[kHeader + 2 * i]) * m * k,
              vb.values + static_cast<std::size_t>(ints[kHeader + 2 * i + 1]) * k * n,
              out.values + i * m * n, m, k, n, false);
        }
      },
      SavedData{{}, ints});
}

TensorVar TensorVar::matmul(TensorVar other) const { return maya::matmul(*this, other); }

}  // namespace maya
