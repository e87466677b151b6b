#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <maya/maya.hpp>
#include <string>

#include "support/weighted_losses.hpp"

namespace {

using maya_test::weighted_sum;

using maya::Shape;
using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;

std::string shape_error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const maya::ShapeError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected maya::ShapeError";
  return {};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

using AxisOp = TensorVar (*)(TensorVar, long, bool);

struct AxisCase {
  const char* name;
  AxisOp op;
};

const AxisCase kAxisCases[] = {
    {"sum", [](TensorVar x, long a, bool k) { return maya::sum(x, a, k); }},
    {"mean", [](TensorVar x, long a, bool k) { return maya::mean(x, a, k); }},
    {"max", [](TensorVar x, long a, bool k) { return maya::max(x, a, k); }},
    {"min", [](TensorVar x, long a, bool k) { return maya::min(x, a, k); }},
    {"norm", [](TensorVar x, long a, bool k) { return maya::norm(x, a, k); }},
};

const Shape kShapes[] = {{5}, {3, 4}, {2, 3, 4}, {1, 4, 1}};

}  // namespace

TEST(Reductions, AxisGradientsMatchCentralDifferences) {
  std::uint64_t seed = 21;
  for (const AxisCase& c : kAxisCases) {
    for (const Shape& shape : kShapes) {
      const long ndim = static_cast<long>(shape.size());
      for (long axis = -ndim; axis < ndim; ++axis) {
        for (const bool keepdim : {false, true}) {
          // Uniform draws: ties (where max/min are not differentiable) have probability zero.
          const Tensor inputs[] = {Tensor::uniform(shape, -1, 1, seed++)};
          const auto report = maya::gradcheck(
              [&](TensorTape&, std::span<const TensorVar> x) {
                return weighted_sum(c.op(x[0], axis, keepdim));
              },
              inputs);
          EXPECT_LT(report.max_error(), 1e-7) << c.name << " " << maya::shape_string(shape)
                                              << " axis " << axis << " keepdim " << keepdim;
        }
      }
    }
  }
}

TEST(Reductions, OutputShapesDropOrKeepTheAxis) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::zeros({2, 3, 4}));
  const TensorVar dropped = maya::max(x, 1);
  EXPECT_EQ(Shape(dropped.shape().begin(), dropped.shape().end()), (Shape{2, 4}));
  const TensorVar kept = maya::norm(x, -1, true);
  EXPECT_EQ(Shape(kept.shape().begin(), kept.shape().end()), (Shape{2, 3, 1}));
}

TEST(Reductions, MaxAndMinValuesAlongAnAxis) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::from_data({3, -1, 4, 1, 5, -9}, {2, 3}));
  EXPECT_TRUE(maya::allclose(maya::max(x, 0).value(), Tensor::from_data({3, 5, 4}, {3}), 0, 0));
  EXPECT_TRUE(maya::allclose(maya::min(x, 1).value(), Tensor::from_data({-1, -9}, {2}), 0, 0));
  EXPECT_TRUE(
      maya::allclose(maya::max(x, 1, true).value(), Tensor::from_data({4, 5}, {2, 1}), 0, 0));
}

TEST(Reductions, MaxGradientGoesToTheFirstArgmaxOnTies) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::from_data({2, 7, 7, 1, 1, 0}, {2, 3}));
  const auto g_max = t.grad(maya::sum(maya::max(x, 1)));
  EXPECT_TRUE(maya::allclose(g_max[x], Tensor::from_data({0, 1, 0, 1, 0, 0}, {2, 3}), 0, 0));
  const auto g_min = t.grad(maya::sum(maya::min(x, 1)));
  EXPECT_TRUE(maya::allclose(g_min[x], Tensor::from_data({1, 0, 0, 0, 0, 1}, {2, 3}), 0, 0));
}

TEST(Reductions, MaxPropagatesNaN) {
  TensorTape t;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const TensorVar x = t.var(Tensor::from_data({1, nan, 3}, {3}));
  EXPECT_TRUE(std::isnan(maya::max(x, 0).item()));
  EXPECT_TRUE(std::isnan(maya::min(x, 0).item()));
}

TEST(Reductions, NormValueAndZeroVectorGradientIsZero) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::from_data({3, 4, 0, 0}, {2, 2}));
  const TensorVar lengths = maya::norm(x, 1);
  EXPECT_TRUE(maya::allclose(lengths.value(), Tensor::from_data({5, 0}, {2}), 0, 0));
  const auto g = t.grad(maya::sum(lengths));
  // d|x|/dx = x/|x| for the first row; 0 at the zero vector by convention.
  EXPECT_TRUE(maya::allclose(g[x], Tensor::from_data({0.6, 0.8, 0, 0}, {2, 2})));
  EXPECT_TRUE(std::isfinite(g[x].data()[2]));
}

TEST(Reductions, DotValueAndGradients) {
  TensorTape t;
  const TensorVar a = t.var(Tensor::from_data({1, 2, 3}, {3}));
  const TensorVar b = t.var(Tensor::from_data({4, 5, 6}, {3}));
  const TensorVar d = maya::dot(a, b);
  EXPECT_EQ(d.ndim(), 0u);
  EXPECT_EQ(d.item(), 32.0);
  const auto g = t.grad(d);
  EXPECT_TRUE(maya::allclose(g[a], b.value(), 0, 0));
  EXPECT_TRUE(maya::allclose(g[b], a.value(), 0, 0));

  const Tensor inputs[] = {Tensor::uniform({6}, -1, 1, 4), Tensor::uniform({6}, -1, 1, 5)};
  const auto report = maya::gradcheck(
      [](TensorTape&, std::span<const TensorVar> x) { return maya::square(maya::dot(x[0], x[1])); },
      inputs);
  EXPECT_LT(report.max_error(), 1e-7);
}

TEST(Reductions, FullSumAndMeanAreZeroDimensional) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::from_data({1, 2, 3, 4}, {2, 2}));
  EXPECT_EQ(maya::sum(x).ndim(), 0u);
  EXPECT_EQ(maya::sum(x).item(), 10.0);
  EXPECT_EQ(maya::mean(x).item(), 2.5);
  const auto g = t.grad(maya::mean(x));
  EXPECT_TRUE(maya::allclose(g[x], Tensor::full({2, 2}, 0.25), 0, 0));
}

TEST(Reductions, BadAxisNamesOpAndDimensions) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::zeros({2, 3}));
  for (const AxisCase& c : kAxisCases) {
    const std::string message = shape_error_of([&] { (void)c.op(x, 2, false); });
    EXPECT_TRUE(contains(message, std::string(c.name) + ": axis 2")) << message;
    EXPECT_TRUE(contains(message, "2 dimensions")) << message;
    EXPECT_TRUE(contains(shape_error_of([&] { (void)c.op(x, -3, false); }), "axis -3"));
  }
  const TensorVar s = t.var(Tensor::scalar(1.0));
  EXPECT_TRUE(contains(shape_error_of([&] { (void)maya::max(s, 0); }), "max: axis 0"));
}

TEST(Reductions, MaxOfAnEmptyAxisNamesTheShape) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::zeros({2, 0}));
  const std::string message = shape_error_of([&] { (void)maya::max(x, 1); });
  EXPECT_TRUE(contains(message, "max")) << message;
  EXPECT_TRUE(contains(message, "[2, 0]")) << message;
  EXPECT_TRUE(contains(shape_error_of([&] { (void)maya::min(x, -1); }), "min"));
}

TEST(Reductions, DotRejectsMismatchedOrNonVectorOperands) {
  TensorTape t;
  const TensorVar a = t.var(Tensor::zeros({3}));
  const TensorVar b = t.var(Tensor::zeros({4}));
  const TensorVar m = t.var(Tensor::zeros({2, 3}));
  EXPECT_EQ(shape_error_of([&] { (void)maya::dot(a, b); }),
            "dot: expects two 1-d tensors of equal length, got [3] and [4]");
  EXPECT_EQ(shape_error_of([&] { (void)maya::dot(m, a); }),
            "dot: expects two 1-d tensors of equal length, got [2, 3] and [3]");
}

TEST(Reductions, NonScalarLossIsRejectedByGrad) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::zeros({2, 3}));
  const std::string message = shape_error_of([&] { (void)t.grad(maya::sum(x, 0)); });
  EXPECT_TRUE(contains(message, "grad")) << message;
  EXPECT_TRUE(contains(message, "[3]")) << message;
}
