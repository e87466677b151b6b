// Every tensor op on the GPU against the same op on the CPU: values and gradients to 1e-12
// relative, including broadcasting and batched shapes.
#include <gtest/gtest.h>

#include <maya/maya.hpp>
#include <string>
#include <vector>

#include "gpu_harness.hpp"

namespace {

using maya::Shape;
using maya::Tensor;
using maya::TensorVar;
using maya_gpu_test::expect_same_on_gpu;
using maya_gpu_test::uniform;
using Inputs = std::span<const TensorVar>;

struct ShapePair {
  Shape a;
  Shape b;
};

const ShapePair kBroadcasts[] = {
    {{3, 4}, {3, 4}}, {{3, 4}, {4}},    {{4}, {3, 4}},       {{2, 1, 3}, {4, 1}},
    {{}, {3, 2}},     {{5, 1}, {1, 6}}, {{2, 3, 4}, {3, 1}}, {{1}, {7}},
};

TEST(GpuElementwise, BinaryOpsBroadcastLikeTheCpu) {
  MAYA_REQUIRE_GPU();
  std::uint64_t seed = 1;
  for (const ShapePair& shapes : kBroadcasts) {
    SCOPED_TRACE(maya::shape_string(shapes.a) + " op " + maya::shape_string(shapes.b));
    const std::vector<Tensor> signed_inputs = {uniform(shapes.a, -2.0, 2.0, seed++),
                                               uniform(shapes.b, -2.0, 2.0, seed++)};
    const std::vector<Tensor> positive_inputs = {uniform(shapes.a, 0.5, 2.0, seed++),
                                                 uniform(shapes.b, 0.5, 2.0, seed++)};
    expect_same_on_gpu(signed_inputs, [](Inputs v) { return v[0] + v[1]; });
    expect_same_on_gpu(signed_inputs, [](Inputs v) { return v[0] - v[1]; });
    expect_same_on_gpu(signed_inputs, [](Inputs v) { return v[0] * v[1]; });
    expect_same_on_gpu(positive_inputs, [](Inputs v) { return v[0] / v[1]; });
    expect_same_on_gpu(positive_inputs, [](Inputs v) { return maya::pow(v[0], v[1]); });
    expect_same_on_gpu(signed_inputs, [](Inputs v) { return maya::maximum(v[0], v[1]); });
    expect_same_on_gpu(signed_inputs, [](Inputs v) { return maya::minimum(v[0], v[1]); });
    // An operand used twice: its gradient accumulates from both uses.
    expect_same_on_gpu(signed_inputs, [](Inputs v) { return v[0] * v[1] + v[1]; });
  }
}

TEST(GpuElementwise, ConstantOperandsOnBothSides) {
  MAYA_REQUIRE_GPU();
  const std::vector<Tensor> x = {uniform({4, 5}, 0.5, 2.0, 7)};
  expect_same_on_gpu(x, [](Inputs v) { return v[0] + 2.5; });
  expect_same_on_gpu(x, [](Inputs v) { return 2.5 - v[0]; });
  expect_same_on_gpu(x, [](Inputs v) { return v[0] - 2.5; });
  expect_same_on_gpu(x, [](Inputs v) { return 3.0 * v[0]; });
  expect_same_on_gpu(x, [](Inputs v) { return 3.0 / v[0]; });
  expect_same_on_gpu(x, [](Inputs v) { return v[0] / 3.0; });
  expect_same_on_gpu(x, [](Inputs v) { return -v[0]; });
  expect_same_on_gpu(x, [](Inputs v) { return maya::pow(v[0], 2.5); });
  expect_same_on_gpu(x, [](Inputs v) { return maya::maximum(v[0], 1.0); });
  expect_same_on_gpu(x, [](Inputs v) { return maya::minimum(v[0], 1.0); });
  expect_same_on_gpu(x, [](Inputs v) { return maya::scale(v[0], 0.25); });
}

TEST(GpuUnary, EveryFunctionAndItsDerivative) {
  MAYA_REQUIRE_GPU();
  const std::vector<Tensor> any = {uniform({3, 7}, -2.0, 2.0, 11)};
  const std::vector<Tensor> positive = {uniform({3, 7}, 0.2, 3.0, 12)};
  const std::vector<Tensor> small = {uniform({3, 7}, -1.2, 1.2, 13)};
  expect_same_on_gpu(any, [](Inputs v) { return maya::sin(v[0]); });
  expect_same_on_gpu(any, [](Inputs v) { return maya::cos(v[0]); });
  expect_same_on_gpu(small, [](Inputs v) { return maya::tan(v[0]); });
  expect_same_on_gpu(any, [](Inputs v) { return maya::exp(v[0]); });
  expect_same_on_gpu(positive, [](Inputs v) { return maya::log(v[0]); });
  expect_same_on_gpu(positive, [](Inputs v) { return maya::sqrt(v[0]); });
  expect_same_on_gpu(any, [](Inputs v) { return maya::tanh(v[0]); });
  expect_same_on_gpu(any, [](Inputs v) { return maya::sigmoid(v[0]); });
  expect_same_on_gpu(any, [](Inputs v) { return maya::relu(v[0]); });
  expect_same_on_gpu(any, [](Inputs v) { return maya::softplus(v[0]); });
  expect_same_on_gpu(any, [](Inputs v) { return maya::abs(v[0]); });
  expect_same_on_gpu(any, [](Inputs v) { return maya::square(v[0]); });
  expect_same_on_gpu(any, [](Inputs v) { return maya::clamp(v[0], -0.5, 0.7); });
}

TEST(GpuReductions, SumAndMeanOverEveryAxis) {
  MAYA_REQUIRE_GPU();
  const std::vector<Tensor> x = {uniform({3, 4, 5}, -1.0, 1.0, 21)};
  expect_same_on_gpu(x, [](Inputs v) { return maya::sum(v[0]); });
  expect_same_on_gpu(x, [](Inputs v) { return maya::mean(v[0]); });
  for (long axis = -3; axis < 3; ++axis) {
    for (const bool keepdim : {false, true}) {
      expect_same_on_gpu(x, [=](Inputs v) { return maya::sum(v[0], axis, keepdim); });
      expect_same_on_gpu(x, [=](Inputs v) { return maya::mean(v[0], axis, keepdim); });
    }
  }
  // Long reductions take the block-per-output kernel.
  const std::vector<Tensor> tall = {uniform({3000, 3}, -1.0, 1.0, 22)};
  expect_same_on_gpu(tall, [](Inputs v) { return maya::sum(v[0], 0); });
  expect_same_on_gpu(tall, [](Inputs v) { return maya::mean(v[0]); });
  expect_same_on_gpu(
      x, [](Inputs v) { return maya::dot(maya::reshape(v[0], {60}), maya::reshape(v[0], {60})); });
}

TEST(GpuMatmul, MatricesVectorsAndBroadcastBatches) {
  MAYA_REQUIRE_GPU();
  const ShapePair cases[] = {
      {{3, 4}, {4, 5}},       {{4}, {4, 5}},       {{3, 4}, {4}},       {{4}, {4}},
      {{2, 3, 4}, {2, 4, 5}}, {{2, 3, 4}, {4, 5}}, {{3, 4}, {2, 4, 5}}, {{2, 1, 3, 4}, {5, 4, 2}},
      {{64, 33}, {33, 17}},   {{1, 4}, {4, 1}},
  };
  std::uint64_t seed = 30;
  for (const ShapePair& shapes : cases) {
    SCOPED_TRACE(maya::shape_string(shapes.a) + " x " + maya::shape_string(shapes.b));
    expect_same_on_gpu({uniform(shapes.a, -1.0, 1.0, seed++), uniform(shapes.b, -1.0, 1.0, seed++)},
                       [](Inputs v) { return maya::matmul(v[0], v[1]); });
  }
}

TEST(GpuDense, EveryActivationAndBatchedRows) {
  MAYA_REQUIRE_GPU();
  const maya::Activation activations[] = {maya::Activation::identity, maya::Activation::tanh,
                                          maya::Activation::sigmoid, maya::Activation::relu};
  const Shape rows[] = {{5, 4}, {4}, {2, 3, 4}, {700, 4}};
  std::uint64_t seed = 40;
  for (const Shape& x : rows) {
    for (const maya::Activation activation : activations) {
      SCOPED_TRACE(maya::shape_string(x) + " activation " + std::to_string(int(activation)));
      const std::vector<Tensor> inputs = {uniform(x, -1.0, 1.0, seed++),
                                          uniform({4, 3}, -1.0, 1.0, seed++),
                                          uniform({3}, -0.5, 0.5, seed++)};
      expect_same_on_gpu(inputs,
                         [=](Inputs v) { return maya::dense(v[0], v[1], v[2], activation); });
    }
  }
  // Wide layers: a warp per output element (inputs >= 32) and per input gradient (outputs >= 32).
  expect_same_on_gpu(
      {uniform({50, 4}, -1.0, 1.0, 53), uniform({4, 40}, -0.5, 0.5, 54),
       uniform({40}, -0.5, 0.5, 55)},
      [](Inputs v) { return maya::dense(v[0], v[1], v[2], maya::Activation::sigmoid); });
  expect_same_on_gpu(
      {uniform({9, 70}, -1.0, 1.0, 56), uniform({70, 33}, -0.5, 0.5, 57),
       uniform({33}, -0.5, 0.5, 58)},
      [](Inputs v) { return maya::dense(v[0], v[1], v[2], maya::Activation::relu); });
  // Narrow layers of long inner products (a warp per row forward) and short layers of wide
  // outputs (a warp per row of the input gradient), at the widths where those paths end.
  expect_same_on_gpu(
      {uniform({20, 40}, -1.0, 1.0, 70), uniform({40, 8}, -0.5, 0.5, 71),
       uniform({8}, -0.5, 0.5, 72)},
      [](Inputs v) { return maya::dense(v[0], v[1], v[2], maya::Activation::tanh); });
  expect_same_on_gpu(
      {uniform({17, 8}, -1.0, 1.0, 73), uniform({8, 35}, -0.5, 0.5, 74),
       uniform({35}, -0.5, 0.5, 75)},
      [](Inputs v) { return maya::dense(v[0], v[1], v[2], maya::Activation::sigmoid); });
  expect_same_on_gpu(
      {uniform({2, 3, 33}, -1.0, 1.0, 76), uniform({33, 5}, -0.5, 0.5, 77),
       uniform({5}, -0.5, 0.5, 78)},
      [](Inputs v) { return maya::dense(v[0], v[1], v[2], maya::Activation::identity); });
  expect_same_on_gpu(
      {uniform({6, 5}, -1.0, 1.0, 79), uniform({5, 12}, -0.5, 0.5, 80),
       uniform({12}, -0.5, 0.5, 81)},
      [](Inputs v) { return maya::dense(v[0], v[1], v[2], maya::Activation::tanh); });
  // A wider layer (the W3 shape).
  expect_same_on_gpu(
      {uniform({300, 64}, -1.0, 1.0, 50), uniform({64, 2}, -0.5, 0.5, 51),
       uniform({2}, -0.5, 0.5, 52)},
      [](Inputs v) { return maya::dense(v[0], v[1], v[2], maya::Activation::tanh); });
}

TEST(GpuShapeOps, CopiesViewsAndJoins) {
  MAYA_REQUIRE_GPU();
  const std::vector<Tensor> x = {uniform({2, 3, 4}, -1.0, 1.0, 60)};
  expect_same_on_gpu(x, [](Inputs v) { return maya::reshape(v[0], {6, 4}); });
  expect_same_on_gpu(x, [](Inputs v) { return maya::transpose(v[0]); });
  expect_same_on_gpu(x, [](Inputs v) { return maya::transpose(v[0], 0, 2); });
  expect_same_on_gpu(x, [](Inputs v) { return maya::permute(v[0], {1, 2, 0}); });
  expect_same_on_gpu(x, [](Inputs v) { return maya::slice(v[0], 2, 1, 4, 2); });
  expect_same_on_gpu(x, [](Inputs v) { return maya::slice(v[0], -2, 0, 2); });
  expect_same_on_gpu(x, [](Inputs v) { return maya::select(v[0], 1, -1); });
  expect_same_on_gpu(x, [](Inputs v) { return maya::squeeze(maya::unsqueeze(v[0], 1), 1); });
  expect_same_on_gpu(x, [](Inputs v) {
    return maya::broadcast_to(maya::slice(v[0], 1, 0, 1), {5, 2, 3, 4});
  });
  expect_same_on_gpu(x, [](Inputs v) { return maya::concat({v[0], v[0] * 2.0, v[0]}, 1); });
  expect_same_on_gpu(x, [](Inputs v) {
    return maya::concat({v[0], maya::slice(v[0], 2, 0, 1)}, 2);
  });
  expect_same_on_gpu(x, [](Inputs v) { return maya::stack({v[0], v[0] + 1.0}, 0); });
  expect_same_on_gpu(x, [](Inputs v) { return maya::stack({v[0], v[0] + 1.0}, -1); });
}

TEST(GpuIndexing, RepeatsAccumulateInTheCpuOrder) {
  MAYA_REQUIRE_GPU();
  const std::vector<Tensor> x = {uniform({5, 3}, -1.0, 1.0, 70)};
  const std::vector<std::int64_t> indices = {4, 0, 4, 2, 4, 1};
  expect_same_on_gpu(x, [&](Inputs v) { return maya::index_select(v[0], 0, indices); });
  expect_same_on_gpu(x, [&](Inputs v) {
    return maya::index_select(v[0], 1, std::vector<std::int64_t>{2, 2, 0});
  });
  const std::vector<Tensor> xs = {uniform({5, 3}, -1.0, 1.0, 71), uniform({6, 3}, -1.0, 1.0, 72)};
  expect_same_on_gpu(xs, [&](Inputs v) { return maya::index_add(v[0], 0, indices, v[1]); });
  const maya::IndexTensor index = maya::IndexTensor::from_data({1, 0, 2, 4, 4, 0}, {2, 3});
  expect_same_on_gpu(x, [&](Inputs v) { return maya::gather(v[0], 0, index); });
  const std::vector<Tensor> xsrc = {uniform({5, 3}, -1.0, 1.0, 73), uniform({3, 3}, -1.0, 1.0, 74)};
  expect_same_on_gpu(xsrc, [&](Inputs v) { return maya::scatter_add(v[0], 0, index, v[1]); });
}

}  // namespace
