#include <gtest/gtest.h>

#include <cmath>
#include <maya/maya.hpp>
#include <maya/optim/optim.hpp>
#include <string>

#include "optim/problems.hpp"

namespace {

using maya::Tensor;
using maya::optim::Bounds;
using maya::optim::ParameterSet;
using maya::optim::Sgd;
using maya::optim::Status;
namespace problems = maya::optim::problems;

}  // namespace

TEST(Sgd, FirstStepIsLearningRateTimesGradient) {
  ParameterSet parameters;
  parameters.add("x", Tensor::from_data({1.0, -2.0}, {2}));
  Sgd sgd(parameters, {.learning_rate = 0.1, .momentum = 0.9});
  sgd.step({Tensor::from_data({3.0, 4.0}, {2})});
  EXPECT_DOUBLE_EQ(parameters.value("x").at({0}), 1.0 - 0.3);
  EXPECT_DOUBLE_EQ(parameters.value("x").at({1}), -2.0 - 0.4);
  // Heavy ball: the second step is lr (momentum b + g) = 0.1 (0.9 * 3 + 3).
  sgd.step({Tensor::from_data({3.0, 0.0}, {2})});
  EXPECT_DOUBLE_EQ(parameters.value("x").at({0}), 0.7 - 0.1 * (0.9 * 3.0 + 3.0));
  EXPECT_EQ(sgd.iterations(), 2u);
}

TEST(Sgd, MinimizesConvexQuadratic) {
  const auto quadratic = problems::Quadratic::random(8, 0.5, 5.0, 3);
  for (const bool nesterov : {false, true}) {
    ParameterSet parameters;
    parameters.add("x", Tensor::zeros({8}));
    Sgd sgd(parameters, {.learning_rate = 0.05, .momentum = 0.5, .nesterov = nesterov});
    const auto result = sgd.minimize(quadratic, {.max_iterations = 2000, .tolerance = 1e-8});
    EXPECT_TRUE(result.converged) << result.message;
    EXPECT_LE(result.gradient_norm, 1e-8);
    // |x - x*| <= |g| / lambda_min with lambda_min >= 0.5.
    EXPECT_LT(
        maya::max_abs_difference(parameters.value("x"), Tensor::from_data(quadratic.x_star, {8})),
        2e-8);
  }
}

TEST(Sgd, MomentumMinimizesRosenbrockTenTimesFasterThanPlainDescent) {
  std::size_t plain_iterations = 0;
  for (const double momentum : {0.0, 0.9}) {
    ParameterSet parameters;
    parameters.add("x", problems::rosenbrock_start(2));
    Sgd sgd(parameters, {.learning_rate = 1e-3, .momentum = momentum, .nesterov = momentum > 0});
    const auto result =
        sgd.minimize(problems::rosenbrock, {.max_iterations = 50000, .tolerance = 1e-6});
    EXPECT_TRUE(result.converged) << result.message;
    // The valley's smallest curvature is about 0.4, so |g| <= 1e-6 puts x within ~1e-5.
    EXPECT_LT(problems::distance_to_ones(parameters.value("x")), 1e-5);
    if (momentum == 0.0) {
      plain_iterations = result.iterations;
    } else {
      EXPECT_LT(result.iterations * 10, plain_iterations);
    }
  }
}

TEST(Sgd, MinimumOutsideTheBoxLandsOnTheBoundary) {
  // f = 1/2 |x - c|^2 with c outside [0, 1]^3 in two coordinates: the minimizer is clamp(c).
  const Tensor target = Tensor::from_data({2.0, -3.0, 0.25}, {3});
  const maya::optim::Objective objective = [&](std::span<const Tensor> values,
                                               std::span<Tensor> gradients) {
    double loss = 0.0;
    for (std::size_t i = 0; i < 3; ++i) {
      const double r = values[0].data()[i] - target.data()[i];
      loss += 0.5 * r * r;
      gradients[0].mutable_data()[i] = r;
    }
    return loss;
  };
  ParameterSet parameters;
  parameters.add("x", Tensor::full({3}, 0.5), Bounds::between(0.0, 1.0));
  Sgd sgd(parameters, {.learning_rate = 0.3, .momentum = 0.5});
  const auto result =
      sgd.minimize(objective, {
                                  .max_iterations = 500,
                                  .tolerance = 1e-10,
                                  .callback =
                                      [&](const maya::optim::Progress&) {
                                        for (const double x : parameters.value("x").data()) {
                                          EXPECT_GE(x, 0.0);
                                          EXPECT_LE(x, 1.0);
                                        }
                                      },
                              });
  EXPECT_TRUE(result.converged) << result.message;
  EXPECT_EQ(parameters.value("x").at({0}), 1.0);
  EXPECT_EQ(parameters.value("x").at({1}), 0.0);
  EXPECT_NEAR(parameters.value("x").at({2}), 0.25, 1e-10);
}

TEST(Sgd, RejectsBadSettings) {
  ParameterSet parameters;
  parameters.add("x", Tensor::zeros({2}));
  EXPECT_THROW(Sgd(parameters, {.learning_rate = 0.0}), maya::ValueError);
  EXPECT_THROW(Sgd(parameters, {.learning_rate = -1e-3}), maya::ValueError);
  EXPECT_THROW(Sgd(parameters, {.learning_rate = NAN}), maya::ValueError);
  EXPECT_THROW(Sgd(parameters, {.momentum = 1.0}), maya::ValueError);
  EXPECT_THROW(Sgd(parameters, {.momentum = -0.1}), maya::ValueError);
  EXPECT_THROW(Sgd(parameters, {.nesterov = true}), maya::ValueError);
  EXPECT_THROW(Sgd(parameters, {.weight_decay = -1.0}), maya::ValueError);
  Sgd sgd(parameters);
  EXPECT_THROW(static_cast<void>(sgd.minimize(problems::rosenbrock, {.tolerance = -1.0})),
               maya::ValueError);
  EXPECT_THROW(static_cast<void>(sgd.minimize(maya::optim::Objective{})), maya::ValueError);
}

TEST(Sgd, StepRejectsMismatchedOrNonFiniteGradients) {
  ParameterSet parameters;
  parameters.add("stiffness", Tensor::zeros({2}));
  Sgd sgd(parameters);
  EXPECT_THROW(sgd.step({Tensor::zeros({3})}), maya::ShapeError);
  EXPECT_THROW(sgd.step({Tensor::zeros({2}), Tensor::zeros({2})}), maya::ShapeError);
  try {
    sgd.step({Tensor::from_data({0.0, NAN}, {2})});
    FAIL() << "no exception";
  } catch (const maya::NonFiniteError& e) {
    EXPECT_NE(std::string(e.what()).find("'stiffness' entry 1 is nan at iteration 0"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(sgd.iterations(), 0u);
}

TEST(Sgd, NanLossNamesTheIteration) {
  ParameterSet parameters;
  parameters.add("x", Tensor::scalar(0.0));
  Sgd sgd(parameters, {.learning_rate = 0.5});
  // Loss (x - 4)^2 that turns NaN once x passes 1: x goes 0, 4 (at iteration 1).
  const auto objective = [](std::span<const Tensor> values, std::span<Tensor> gradients) {
    const double x = values[0].item();
    gradients[0].mutable_data()[0] = 2.0 * (x - 4.0);
    return x > 1.0 ? NAN : (x - 4.0) * (x - 4.0);
  };
  try {
    static_cast<void>(sgd.minimize(objective));
    FAIL() << "no exception";
  } catch (const maya::NonFiniteError& e) {
    EXPECT_NE(std::string(e.what()).find("loss nan at iteration 1"), std::string::npos) << e.what();
  }
}
