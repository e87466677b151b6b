// Fused elementwise nodes against their composed twin (the same body recorded op by op): values
// and gradients to 1e-12 relative, under broadcasting; central differences; errors.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <maya/maya.hpp>
#include <vector>

#include "support/weighted_losses.hpp"

namespace {

using maya::ElementwiseProgram;
using maya::FusedValue;
using maya::Shape;
using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya_test::weighted_sum;

double relative_error(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  if (a.shape() != b.shape()) return 1.0;
  double diff = 0.0;
  double norm = 0.0;
  for (std::size_t i = 0; i < a.numel(); ++i) {
    if (!std::isfinite(a.data()[i]) || !std::isfinite(b.data()[i])) return 1.0;
    diff += (a.data()[i] - b.data()[i]) * (a.data()[i] - b.data()[i]);
    norm += b.data()[i] * b.data()[i];
  }
  return norm > 0.0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

struct Result {
  Tensor value;
  std::vector<Tensor> gradients;
};

Result run(const std::vector<Tensor>& inputs,
           const std::function<TensorVar(std::span<const TensorVar>)>& body) {
  TensorTape tape;
  std::vector<TensorVar> vars;
  for (const Tensor& input : inputs) vars.push_back(tape.var(input));
  const TensorVar out = body(vars);
  const maya::TensorGradients g = tape.grad(weighted_sum(out));
  Result r{out.value(), {}};
  for (const TensorVar v : vars) r.gradients.push_back(g[v]);
  return r;
}

void expect_same(const Result& fused, const Result& composed) {
  EXPECT_LE(relative_error(fused.value, composed.value), 1e-12);
  ASSERT_EQ(fused.gradients.size(), composed.gradients.size());
  for (std::size_t i = 0; i < fused.gradients.size(); ++i) {
    EXPECT_LE(relative_error(fused.gradients[i], composed.gradients[i]), 1e-12) << "input " << i;
  }
}

// The integrator step of the policy rollout benchmark, and its position update.
constexpr auto kVelocity = [](auto v, auto a) { return v + 0.01 * (5.0 * a - 0.5 * v); };
constexpr auto kPosition = [](auto x, auto v, auto a) {
  return x + 0.01 * (v + 0.01 * (5.0 * a - 0.5 * v));
};

// Every function once (27 instructions), and the binary forms and where (17).
constexpr auto kFunctions = [](auto x, auto y) {
  using maya::abs, maya::clamp, maya::cos, maya::exp, maya::log, maya::relu, maya::sigmoid,
      maya::sin, maya::softplus, maya::sqrt, maya::square, maya::tan;
  auto s = sin(x) * cos(y) + tan(0.3 * x);
  auto t = exp(0.5 * y) / (2.0 + sigmoid(x)) - log(1.5 + square(y));
  auto u = sqrt(1.0 + abs(x)) + softplus(y) + relu(x - 0.1) + clamp(y, -0.4, 0.4);
  return s + t + u;
};
constexpr auto kSelect = [](auto x, auto y, auto m) {
  using maya::maximum, maya::minimum, maya::pow, maya::square, maya::tanh, maya::where;
  auto v = maximum(x, y) - minimum(x, 0.7) + maximum(y, 0.2);
  auto w = pow(1.2 + square(x), y) + pow(1.0 + square(y), 1.5) - 3.0 / (4.0 + tanh(x));
  return where(m, v, w);
};

Tensor mask(Shape shape, std::uint64_t seed) {
  Tensor m = Tensor::uniform(std::move(shape), -1.0, 1.0, seed);
  for (double& v : m.mutable_data()) v = v > 0.0 ? 1.0 : 0.0;
  return m;
}

}  // namespace

TEST(Fused, IntegratorStepMatchesComposedUnderBroadcasting) {
  const ElementwiseProgram position = ElementwiseProgram::build<3>("position", kPosition);
  EXPECT_EQ(position.num_inputs(), 3u);
  EXPECT_EQ(position.instructions().size(), 7u);
  const std::vector<std::vector<Shape>> cases = {
      {{5, 2}, {5, 2}, {5, 2}}, {{5, 2}, {2}, {5, 1}}, {{}, {3, 4}, {1}},
      {{2, 1, 3}, {4, 1}, {3}}, {{1}, {1}, {1}},       {{0, 2}, {2}, {0, 2}},
  };
  std::uint64_t seed = 10;
  for (const auto& shapes : cases) {
    std::vector<Tensor> inputs;
    for (const Shape& s : shapes) inputs.push_back(Tensor::uniform(s, -1.0, 1.0, seed++));
    const Result fused = run(inputs, [&](std::span<const TensorVar> x) {
      return maya::fused(position, {x[0], x[1], x[2]});
    });
    const Result composed =
        run(inputs, [&](std::span<const TensorVar> x) { return kPosition(x[0], x[1], x[2]); });
    expect_same(fused, composed);
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      EXPECT_EQ(fused.gradients[i].shape(), shapes[i]);
    }
  }
}

TEST(Fused, EveryFunctionMatchesComposed) {
  const ElementwiseProgram functions = ElementwiseProgram::build<2>("functions", kFunctions);
  const ElementwiseProgram select = ElementwiseProgram::build<3>("select", kSelect);
  const std::vector<Tensor> inputs = {Tensor::uniform({4, 6}, -1.0, 1.0, 3),
                                      Tensor::uniform({6}, -1.0, 1.0, 4), mask({4, 1}, 5)};
  expect_same(
      run(inputs,
          [&](std::span<const TensorVar> v) {
            return maya::fused(functions, {v[0], v[1]}) + maya::fused(select, {v[0], v[1], v[2]});
          }),
      run(inputs, [&](std::span<const TensorVar> v) {
        return kFunctions(v[0], v[1]) + kSelect(v[0], v[1], v[2]);
      }));
}

TEST(Fused, GradientsMatchCentralDifferences) {
  const ElementwiseProgram functions = ElementwiseProgram::build<2>("functions", kFunctions);
  const ElementwiseProgram select = ElementwiseProgram::build<3>("select", kSelect);
  const Tensor inputs[] = {Tensor::uniform({3, 4}, -1.0, 1.0, 6),
                           Tensor::uniform({4}, -1.0, 1.0, 7), mask({3, 1}, 8)};
  const auto report = maya::gradcheck(
      [&](TensorTape&, std::span<const TensorVar> v) {
        return weighted_sum(maya::fused(functions, {v[0], v[1]}) *
                            maya::fused(select, {v[0], v[1], v[2]}));
      },
      inputs);
  EXPECT_LT(report.worst_error[0], 1e-7);
  EXPECT_LT(report.worst_error[1], 1e-7);
  // No gradient reaches the mask (where's convention).
  for (const double g : report.analytic[2].data()) EXPECT_EQ(g, 0.0);
}

TEST(Fused, RepeatedInputAndConstantsAccumulate) {
  const ElementwiseProgram velocity = ElementwiseProgram::build<2>("velocity", kVelocity);
  TensorTape tape;
  const TensorVar v = tape.var(Tensor::uniform({3, 2}, -1.0, 1.0, 1));
  const TensorVar a = tape.constant(Tensor::uniform({3, 2}, -1.0, 1.0, 2));
  // v reaches the loss twice: through both inputs of the fused node, and directly.
  const TensorVar out = maya::fused(velocity, {v, v}) + maya::fused(velocity, {v, a});
  const maya::TensorGradients g = tape.grad(maya::sum(out));
  // d/dv [v + 0.01 (5 v - 0.5 v)] + d/dv [v + 0.01 (5 a - 0.5 v)] = 1.045 + 0.995.
  for (const double d : g[v].data()) EXPECT_NEAR(d, 2.04, 1e-14);
}

TEST(Fused, IdentityAndInputOutputs) {
  const ElementwiseProgram first =
      ElementwiseProgram::build<2>("first", [](FusedValue x, FusedValue) { return x; });
  TensorTape tape;
  const TensorVar x = tape.var(Tensor::from_data({1.0, 2.0}, {2}));
  const TensorVar y = tape.var(Tensor::from_data({3.0}, {1}));
  const TensorVar out = maya::fused(first, {x, y});
  EXPECT_EQ(out.value().data()[1], 2.0);
  const maya::TensorGradients g = tape.grad(maya::sum(out * out));
  EXPECT_EQ(g[x].data()[1], 4.0);
  EXPECT_EQ(g[y].data()[0], 0.0);
}

TEST(Fused, BadProgramsAndInputsThrow) {
  EXPECT_THROW((void)ElementwiseProgram::build<9>("wide", [](auto... v) { return (v + ...); }),
               maya::ValueError);
  EXPECT_THROW((void)ElementwiseProgram::build<1>("long",
                                                  [](FusedValue x) {
                                                    for (int i = 0; i < 40; ++i) x = x + 1.0;
                                                    return x;
                                                  }),
               maya::ValueError);
  const ElementwiseProgram velocity = ElementwiseProgram::build<2>("velocity", kVelocity);
  TensorTape tape;
  const TensorVar a = tape.var(Tensor::ones({2, 3}));
  const TensorVar b = tape.var(Tensor::ones({4}));
  EXPECT_THROW((void)maya::fused(velocity, {a}), maya::ValueError);
  EXPECT_THROW((void)maya::fused(velocity, {a, b}), maya::ShapeError);
  TensorTape other;
  const TensorVar c = other.var(Tensor::ones({2, 3}));
  EXPECT_THROW((void)maya::fused(velocity, {a, c}), maya::TapeError);
  EXPECT_THROW((void)ElementwiseProgram::build<1>(
                   "clamp", [](FusedValue x) { return maya::clamp(x, 1.0, 0.0); }),
               maya::ValueError);
}
