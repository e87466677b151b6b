// The reverse sweep hands an op's output gradient to an input that takes it unchanged (x + y,
// x - c) and lets the first op to reach an input assign instead of add. These tests build graphs
// where that could go wrong (an input used twice by one op, a passed buffer that later receives
// more contributions, two inputs of one op that could both take the buffer) and check every
// gradient against central differences.
#include <gtest/gtest.h>

#include <maya/maya.hpp>
#include <string_view>
#include <vector>

#include "support/weighted_losses.hpp"

namespace {

using maya_test::weighted_sum;

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;

void expect_gradients_match(const maya::LossFunction& loss, const std::vector<Tensor>& inputs) {
  const maya::GradcheckReport report = maya::gradcheck(loss, inputs);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_LT(report.worst_error[i], 1e-8) << "input " << i;
  }
}

std::vector<Tensor> two_inputs() {
  return {Tensor::uniform({3, 4}, -1.0, 1.0, 1), Tensor::uniform({3, 4}, -1.0, 1.0, 2)};
}

TEST(GradientBuffers, SameInputTwiceInOneOp) {
  expect_gradients_match(
      [](TensorTape&, std::span<const TensorVar> x) {
        return weighted_sum(maya::sin(x[0] + x[0]) + maya::sin(x[1] - x[1] + x[1] * x[1]));
      },
      two_inputs());
}

TEST(GradientBuffers, TwoInputsOfOneAddStayApart) {
  // a + b could hand the output gradient to both; a and b then receive different further terms.
  expect_gradients_match(
      [](TensorTape&, std::span<const TensorVar> x) {
        const TensorVar a = maya::tanh(x[0]);
        const TensorVar b = maya::exp(x[1] * 0.5);
        return weighted_sum(a + b) + weighted_sum(a * 3.0) + weighted_sum(maya::square(b));
      },
      two_inputs());
}

TEST(GradientBuffers, PassedBufferLaterReceivesMoreContributions) {
  // y takes z's gradient buffer through z = y + 1, then gets y * x[1]'s contribution added.
  expect_gradients_match(
      [](TensorTape&, std::span<const TensorVar> x) {
        const TensorVar y = maya::sin(x[0]);
        const TensorVar z = y + 1.0;
        return weighted_sum(maya::square(z)) + weighted_sum(y * x[1]) + weighted_sum(2.0 - y);
      },
      two_inputs());
}

TEST(GradientBuffers, ChainOfPassesEndsInALeaf) {
  expect_gradients_match(
      [](TensorTape&, std::span<const TensorVar> x) {
        return weighted_sum(((x[0] + x[1]) - 3.0) + 1.0) + maya::sum(x[0] * x[0]);
      },
      two_inputs());
}

TEST(GradientBuffers, BroadcastOperandsAccumulate) {
  expect_gradients_match(
      [](TensorTape&, std::span<const TensorVar> x) {
        const TensorVar row = maya::slice(x[1], 0, 0, 1);  // [1, 4], broadcast over rows
        return weighted_sum(maya::tanh(x[0] + row) - row * x[0]);
      },
      two_inputs());
}

TEST(GradientBuffers, MatmulAssignsThenAccumulates) {
  expect_gradients_match(
      [](TensorTape&, std::span<const TensorVar> x) {
        const TensorVar w = maya::reshape(x[1], {4, 3});
        const TensorVar h = maya::matmul(x[0], w);  // [3, 3]
        return weighted_sum(maya::tanh(maya::matmul(h, h))) + weighted_sum(x[0] * 0.5) +
               weighted_sum(maya::matmul(x[0], w) * 2.0);
      },
      two_inputs());
}

TEST(GradientBuffers, RepeatedSweepsGiveTheSameGradient) {
  TensorTape tape;
  const TensorVar x = tape.var(Tensor::uniform({5}, -1.0, 1.0, 3));
  const TensorVar y = maya::sin(x) + 1.0;
  const TensorVar loss = weighted_sum(y + y * x);
  const Tensor first = tape.grad(loss)[x];
  const Tensor second = tape.grad(loss)[x];
  EXPECT_TRUE(maya::allclose(first, second, 0.0, 0.0));
}

// An op may overwrite its output gradient (grad_output_as_scratch) or hand it to an input
// (pass_grad_output), never both: the input would receive the overwritten values.
class ScratchThenPassOp final : public maya::TensorOp {
 public:
  explicit ScratchThenPassOp(bool scratch_first) : scratch_first_(scratch_first) {}
  std::string_view name() const noexcept override { return "scratch_then_pass"; }
  void backward(maya::BackwardContext& context) const override {
    if (scratch_first_) {
      (void)context.grad_output_as_scratch();
      (void)context.pass_grad_output(0);
    } else {
      (void)context.pass_grad_output(0);
      (void)context.grad_output_as_scratch();
    }
  }

 private:
  bool scratch_first_;
};

TEST(GradientBuffers, ScratchAndPassExcludeEachOther) {
  for (const bool scratch_first : {true, false}) {
    const ScratchThenPassOp op(scratch_first);
    TensorTape tape;
    const TensorVar x = tape.var(Tensor::ones({3}));
    const TensorVar y = tape.record(op, {x}, x.shape(), [&](maya::MutableTensorView out) {
      for (std::size_t i = 0; i < out.numel(); ++i) out[i] = x.value().data()[i];
    });
    EXPECT_THROW((void)tape.grad(maya::sum(y)), maya::TapeError) << scratch_first;
  }
}

}  // namespace
