#include <gtest/gtest.h>

#include <cmath>
#include <maya/maya.hpp>
#include <maya/optim/optim.hpp>

#include "optim/problems.hpp"

namespace {

using maya::Tensor;
using maya::optim::Adam;
using maya::optim::Bounds;
using maya::optim::ParameterSet;
using maya::optim::Positive;
namespace problems = maya::optim::problems;

}  // namespace

TEST(Adam, BiasCorrectedFirstStepMovesEveryEntryByTheLearningRate) {
  ParameterSet parameters;
  parameters.add("x", Tensor::zeros({3}));
  Adam adam(parameters, {.learning_rate = 0.01});
  // m_hat = g and v_hat = g^2 after one step, so each entry moves by lr g / (|g| + eps).
  const double gradient[] = {1e-4, -3.0, 1e5};
  adam.step({Tensor::from_data({gradient[0], gradient[1], gradient[2]}, {3})});
  for (std::size_t i = 0; i < 3; ++i) {
    const double expected = -0.01 * gradient[i] / (std::abs(gradient[i]) + 1e-8);
    EXPECT_NEAR(parameters.value("x").at({i}), expected, 1e-15);
    EXPECT_NEAR(std::abs(parameters.value("x").at({i})), 0.01, 1e-5);
  }
}

TEST(Adam, MinimizesConvexQuadratic) {
  const auto quadratic = problems::Quadratic::random(8, 0.5, 5.0, 3);
  ParameterSet parameters;
  parameters.add("x", Tensor::zeros({8}));
  Adam adam(parameters, {.learning_rate = 0.03});
  const auto result = adam.minimize(quadratic, {.max_iterations = 3000, .tolerance = 1e-8});
  EXPECT_TRUE(result.converged) << result.message;
  EXPECT_LT(
      maya::max_abs_difference(parameters.value("x"), Tensor::from_data(quadratic.x_star, {8})),
      2e-8);
}

TEST(Adam, MinimizesRosenbrock) {
  ParameterSet parameters;
  parameters.add("x", problems::rosenbrock_start(2));
  Adam adam(parameters, {.learning_rate = 0.01});
  const auto result =
      adam.minimize(problems::rosenbrock, {.max_iterations = 10000, .tolerance = 1e-6});
  EXPECT_TRUE(result.converged) << result.message;
  EXPECT_LT(problems::distance_to_ones(parameters.value("x")), 1e-5);
  EXPECT_EQ(result.loss_history.size(), result.iterations + 1);
  EXPECT_EQ(result.loss_history.back(), result.loss);
}

TEST(Adam, WeightDecayMinimizesTheL2PenalizedLoss) {
  // f = 1/2 |x - c|^2 + decay/2 |x|^2 has its minimum at c / (1 + decay).
  const Tensor target = Tensor::from_data({1.0, -2.0, 4.0}, {3});
  const auto objective = [&](std::span<const Tensor> values, std::span<Tensor> gradients) {
    double loss = 0.0;
    for (std::size_t i = 0; i < 3; ++i) {
      const double r = values[0].data()[i] - target.data()[i];
      loss += 0.5 * r * r;
      gradients[0].mutable_data()[i] = r;
    }
    return loss;
  };
  ParameterSet parameters;
  parameters.add("x", Tensor::zeros({3}));
  Adam adam(parameters, {.learning_rate = 0.05, .weight_decay = 0.25});
  static_cast<void>(adam.minimize(objective, {.max_iterations = 5000, .tolerance = 0.0}));
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(parameters.value("x").at({i}), target.data()[i] / 1.25, 1e-8);
  }
}

TEST(Adam, MinimumOutsideTheBoxLandsOnTheBoundary) {
  ParameterSet parameters;
  parameters.add("x", Tensor::from_data({0.0, 0.0}, {2}), Bounds::at_most(0.5));
  Adam adam(parameters, {.learning_rate = 0.01});
  // Rosenbrock with x <= 0.5: the constrained minimum is (0.5, 0.25), where df/dx = -1 pushes out.
  const auto result =
      adam.minimize(problems::rosenbrock, {.max_iterations = 20000, .tolerance = 1e-7});
  EXPECT_TRUE(result.converged) << result.message;
  EXPECT_EQ(parameters.value("x").at({0}), 0.5);
  EXPECT_NEAR(parameters.value("x").at({1}), 0.25, 1e-8);
}

TEST(Adam, PositiveParameterStaysPositiveWhereTheLossPullsItBelowZero) {
  // Loss (k + 1)^2 would drive k to -1; through Positive it approaches 0 from above.
  ParameterSet parameters;
  parameters.add("stiffness", Tensor::scalar(3.0), Positive::softplus());
  Adam adam(parameters, {.learning_rate = 0.1});
  const auto objective = [](std::span<const Tensor> values, std::span<Tensor> gradients) {
    const double k = values[0].item();
    gradients[0].mutable_data()[0] = 2.0 * (k + 1.0);
    return (k + 1.0) * (k + 1.0);
  };
  for (int i = 0; i < 2000; ++i) {
    static_cast<void>(adam.step(objective));
    ASSERT_GT(parameters.value("stiffness").item(), 0.0) << "step " << i;
  }
  EXPECT_LT(parameters.value("stiffness").item(), 1e-2);
}

TEST(Adam, RejectsBadSettings) {
  ParameterSet parameters;
  parameters.add("x", Tensor::zeros({2}));
  EXPECT_THROW(Adam(parameters, {.learning_rate = 0.0}), maya::ValueError);
  EXPECT_THROW(Adam(parameters, {.learning_rate = INFINITY}), maya::ValueError);
  EXPECT_THROW(Adam(parameters, {.beta1 = 1.0}), maya::ValueError);
  EXPECT_THROW(Adam(parameters, {.beta2 = -0.5}), maya::ValueError);
  EXPECT_THROW(Adam(parameters, {.epsilon = 0.0}), maya::ValueError);
  EXPECT_THROW(Adam(parameters, {.weight_decay = -1e-3}), maya::ValueError);
  Adam adam(parameters);
  EXPECT_THROW(adam.step({Tensor::zeros({2, 1})}), maya::ShapeError);
}
