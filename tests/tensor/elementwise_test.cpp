#include <gtest/gtest.h>

#include <cmath>
#include <maya/maya.hpp>

#include "support/weighted_losses.hpp"

namespace {

using maya_test::weighted_sum;

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;

struct BinaryCase {
  const char* name;
  TensorVar (*op)(TensorVar, TensorVar);
  double low, high;  // input range (keeps pow, div well conditioned)
};

const BinaryCase kBinaryCases[] = {
    {"add", [](TensorVar a, TensorVar b) { return a + b; }, -1.0, 1.0},
    {"sub", [](TensorVar a, TensorVar b) { return a - b; }, -1.0, 1.0},
    {"mul", [](TensorVar a, TensorVar b) { return a * b; }, -1.0, 1.0},
    {"div", [](TensorVar a, TensorVar b) { return a / b; }, 0.5, 2.0},
    {"pow", [](TensorVar a, TensorVar b) { return maya::pow(a, b); }, 0.5, 2.0},
    {"maximum", [](TensorVar a, TensorVar b) { return maya::maximum(a, b); }, -1.0, 1.0},
    {"minimum", [](TensorVar a, TensorVar b) { return maya::minimum(a, b); }, -1.0, 1.0},
};

const std::pair<maya::Shape, maya::Shape> kShapePairs[] = {
    {{2, 3}, {2, 3}},    {{2, 3}, {3}}, {{2, 1}, {1, 3}}, {{}, {2, 3}},
    {{4, 1, 3}, {2, 1}}, {{1}, {5}},    {{3, 2}, {}},     {{2, 3, 4}, {2, 1, 4}},
};

}  // namespace

TEST(Elementwise, BinaryGradientsMatchCentralDifferencesUnderBroadcasting) {
  std::uint64_t seed = 1;
  for (const BinaryCase& c : kBinaryCases) {
    for (const auto& [sa, sb] : kShapePairs) {
      const Tensor a = Tensor::uniform(sa, c.low, c.high, seed++);
      const Tensor b = Tensor::uniform(sb, c.low, c.high, seed++);
      const Tensor inputs[] = {a, b};
      const auto report = maya::gradcheck(
          [&](TensorTape&, std::span<const TensorVar> x) { return weighted_sum(c.op(x[0], x[1])); },
          inputs);
      EXPECT_LT(report.max_error(), 1e-7)
          << c.name << " " << maya::shape_string(sa) << " x " << maya::shape_string(sb);
      EXPECT_EQ(report.analytic[0].shape(), sa);
      EXPECT_EQ(report.analytic[1].shape(), sb);
    }
  }
}

TEST(Elementwise, BroadcastGradientIsSummedOverBroadcastAxes) {
  TensorTape t;
  const TensorVar a = t.var(Tensor::ones({2, 3}));
  const TensorVar b = t.var(Tensor::from_data({1, 2, 3}, {3}));
  const TensorVar loss = maya::sum(a * b);
  const auto g = t.grad(loss);
  EXPECT_TRUE(maya::allclose(g[b], Tensor::from_data({2, 2, 2}, {3})));
  EXPECT_TRUE(maya::allclose(g[a], Tensor::from_data({1, 2, 3, 1, 2, 3}, {2, 3})));
}

TEST(Elementwise, ScalarOperandsOnEitherSide) {
  const Tensor x = Tensor::uniform({3, 2}, 0.5, 2.0, 5);
  const Tensor inputs[] = {x};
  const auto report = maya::gradcheck(
      [](TensorTape&, std::span<const TensorVar> v) {
        const TensorVar y = (2.0 + v[0]) * 3.0 - 1.5 / v[0] + (4.0 - v[0]) / 2.0 - v[0] * v[0];
        return weighted_sum(-maya::pow(y, 2.0) + maya::maximum(v[0], 1.0) +
                            maya::minimum(v[0], 1.0) + maya::scale(v[0], 0.25));
      },
      inputs);
  EXPECT_LT(report.max_error(), 1e-7);
}

TEST(Elementwise, IncompatibleShapesThrowNamingBothShapes) {
  TensorTape t;
  const TensorVar a = t.var(Tensor::zeros({2, 3}));
  const TensorVar b = t.var(Tensor::zeros({4}));
  try {
    (void)(a + b);
    FAIL() << "expected ShapeError";
  } catch (const maya::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("[4]"), std::string::npos);
  }
}

TEST(Elementwise, WhereSelectsAndSendsNoGradientToTheMask) {
  TensorTape t;
  const TensorVar mask = t.var(Tensor::from_data({1, 0, 1}, {3}));
  const TensorVar a = t.var(Tensor::from_data({1, 2, 3}, {3}));
  const TensorVar b = t.var(Tensor::from_data({10, 20, 30, 40, 50, 60}, {2, 3}));
  const TensorVar w = maya::where(mask, a, b);
  EXPECT_TRUE(maya::allclose(w.value(), Tensor::from_data({1, 20, 3, 1, 50, 3}, {2, 3})));
  const auto g = t.grad(maya::sum(w));
  EXPECT_TRUE(maya::allclose(g[a], Tensor::from_data({2, 0, 2}, {3})));
  EXPECT_TRUE(maya::allclose(g[b], Tensor::from_data({0, 1, 0, 0, 1, 0}, {2, 3})));
  EXPECT_TRUE(maya::allclose(g[mask], Tensor::zeros({3})));
}

TEST(Unary, GradientsMatchCentralDifferences) {
  struct Case {
    const char* name;
    TensorVar (*op)(TensorVar);
    double low, high;
  };
  const Case cases[] = {
      {"sin", maya::sin, -2, 2},
      {"cos", maya::cos, -2, 2},
      {"tan", maya::tan, -1, 1},
      {"exp", maya::exp, -2, 2},
      {"log", maya::log, 0.2, 3},
      {"sqrt", maya::sqrt, 0.2, 3},
      {"tanh", maya::tanh, -2, 2},
      {"sigmoid", maya::sigmoid, -4, 4},
      {"relu", maya::relu, -2, 2},
      {"softplus", maya::softplus, -4, 4},
      {"abs", maya::abs, -2, 2},
      {"square", maya::square, -2, 2},
      {"clamp", [](TensorVar x) { return maya::clamp(x, -0.5, 0.5); }, -2, 2},
      {"pow", [](TensorVar x) { return maya::pow(x, 2.5); }, 0.2, 2},
  };
  std::uint64_t seed = 7;
  for (const Case& c : cases) {
    const Tensor inputs[] = {Tensor::uniform({4, 3}, c.low, c.high, seed++)};
    const auto report = maya::gradcheck(
        [&](TensorTape&, std::span<const TensorVar> x) { return weighted_sum(c.op(x[0])); },
        inputs);
    EXPECT_LT(report.max_error(), 1e-7) << c.name;
  }
}

TEST(Unary, ConventionsAtNonDifferentiablePoints) {
  TensorTape t;
  const TensorVar x = t.var(Tensor::zeros({1}));
  const auto g_abs = t.grad(maya::sum(maya::abs(x)));
  EXPECT_EQ(g_abs[x].data()[0], 0.0);
  const auto g_relu = t.grad(maya::sum(maya::relu(x)));
  EXPECT_EQ(g_relu[x].data()[0], 0.0);
  const auto g_sqrt = t.grad(maya::sum(maya::sqrt(x)));
  EXPECT_TRUE(std::isinf(g_sqrt[x].data()[0]));
}

TEST(Unary, FiniteCheckNamesTheOp) {
  TensorTape t;
  t.set_finite_check(true);
  const TensorVar x = t.var(Tensor::from_data({1.0, -1.0}, {2}));
  try {
    (void)maya::log(x);
    FAIL() << "expected NonFiniteError";
  } catch (const maya::NonFiniteError& e) {
    EXPECT_NE(std::string(e.what()).find("log"), std::string::npos);
  }
  EXPECT_THROW((void)maya::clamp(x, 1.0, 0.0), maya::ValueError);
}
