// The tensor kernels compiled three times (baseline x86-64, x86-64-v3, x86-64-v4; core/simd.hpp)
// each run on purpose: every copy the CPU has against central differences and the composed
// twins, and the copies against each other. They differ only in rounding (FMA contracts a * b + c
// in the v3 and v4 copies), so they agree to a few ulps.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <maya/maya.hpp>
#include <string>
#include <vector>

#include "support/kernel_copies.hpp"
#include "support/weighted_losses.hpp"

namespace {

using maya::Activation;
using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya_test::weighted_sum;

// A loss that runs every cloned tensor kernel: broadcast binary ops (values and both partials,
// assigned and accumulated), constant ops on either side, unary ops without a vector kernel, the
// vector tanh, the fused dense layer (small products, activation derivative, bias sums) with
// every activation, in shapes with full vector blocks and tails.
TensorVar every_kernel(std::span<const TensorVar> x) {
  const TensorVar a = x[0];     // [9, 5]
  const TensorVar b = x[1];     // [5]
  const TensorVar w = x[2];     // [5, 12]
  const TensorVar bias = x[3];  // [12]
  TensorVar h = a * b + a / (2.0 + b * b) - maya::maximum(a, b) + maya::pow(1.5 + a * a, b);
  h = 0.5 * h + maya::sin(h) * maya::exp(-0.1 * h) + (1.0 - h) / 3.0;
  TensorVar total = maya::sum(maya::tanh(h) * maya::sqrt(1.0 + h * h));
  for (const Activation activation :
       {Activation::identity, Activation::tanh, Activation::sigmoid, Activation::relu}) {
    total = total + weighted_sum(maya::dense(h, w, bias, activation));
  }
  const TensorVar narrow = maya::dense(h, maya::slice(w, 1, 0, 2), maya::slice(bias, 0, 0, 2),
                                       Activation::tanh);  // a layer of two outputs
  return total + weighted_sum(narrow * narrow);
}

std::vector<Tensor> inputs() {
  return {Tensor::uniform({9, 5}, -1.0, 1.0, 1), Tensor::uniform({5}, 0.5, 1.5, 2),
          Tensor::uniform({5, 12}, -0.5, 0.5, 3), Tensor::uniform({12}, -0.2, 0.2, 4)};
}

// The loss and its gradients, flattened.
std::vector<double> loss_and_gradients() {
  const std::vector<Tensor> in = inputs();
  TensorTape tape;
  std::vector<TensorVar> x;
  for (const Tensor& t : in) x.push_back(tape.var(t));
  const TensorVar loss = every_kernel(x);
  const maya::TensorGradients g = tape.grad(loss);
  std::vector<double> out = {loss.item()};
  for (const TensorVar leaf : x) {
    const Tensor gradient = g[leaf];
    out.insert(out.end(), gradient.data().begin(), gradient.data().end());
  }
  return out;
}

class TensorKernels : public kernel_copies::EveryKernelCopy {};

TEST_P(TensorKernels, GradientMatchesCentralDifferences) {
  const std::vector<Tensor> in = inputs();
  const auto report = maya::gradcheck(
      [](TensorTape&, std::span<const TensorVar> x) { return every_kernel(x); }, in);
  for (std::size_t i = 0; i < in.size(); ++i) {
    EXPECT_LT(report.worst_error[i], 1e-7) << "input " << i << " entry " << report.worst_entry[i];
  }
}

TEST_P(TensorKernels, FusedDenseEqualsItsComposedTwin) {
  for (const Activation activation :
       {Activation::identity, Activation::tanh, Activation::sigmoid, Activation::relu}) {
    std::vector<Tensor> values[2];
    for (const bool fused : {true, false}) {
      TensorTape tape;
      const TensorVar x = tape.var(Tensor::uniform({33, 7}, -1.5, 1.5, 5));
      const TensorVar w = tape.var(Tensor::uniform({7, 20}, -1.0, 1.0, 6));
      const TensorVar b = tape.var(Tensor::uniform({20}, -0.5, 0.5, 7));
      TensorVar y = fused ? maya::dense(x, w, b, activation) : maya::matmul(x, w) + b;
      if (!fused && activation == Activation::tanh) y = maya::tanh(y);
      if (!fused && activation == Activation::sigmoid) y = maya::sigmoid(y);
      if (!fused && activation == Activation::relu) y = maya::relu(y);
      const maya::TensorGradients g = tape.grad(weighted_sum(y));
      values[fused ? 0 : 1] = {y.value(), g[x], g[w], g[b]};
    }
    for (std::size_t i = 0; i < 4; ++i) {
      EXPECT_TRUE(maya::allclose(values[0][i], values[1][i], 1e-13, 1e-13))
          << "activation " << static_cast<int>(activation) << " output " << i << ": max difference "
          << maya::max_abs_difference(values[0][i], values[1][i]);
    }
  }
}

MAYA_INSTANTIATE_FOR_EVERY_KERNEL_COPY(TensorKernels);

// Every copy the CPU has computes the same loss and gradients as the baseline copy, to rounding.
TEST(TensorKernelCopies, AgreeWithEachOther) {
  const auto results = kernel_copies::results_by_copy(loss_and_gradients);
  if (results.size() < 2) {
    GTEST_SKIP() << "this CPU (or this build) runs one copy of the kernels";
  }
  const std::vector<double>& baseline = results.front().second;
  double scale = 0.0;  // the largest value: the differences are rounding relative to it
  for (const double v : baseline) scale = std::max(scale, std::abs(v));
  for (const auto& [copy, values] : results) {
    ASSERT_EQ(values.size(), baseline.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      EXPECT_NEAR(values[i], baseline[i], 1e-13 * scale)
          << maya::core::simd::kernel_copy_name(copy) << " value " << i;
    }
  }
}

}  // namespace
