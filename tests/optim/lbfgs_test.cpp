#include <gtest/gtest.h>

#include <cmath>
#include <maya/maya.hpp>
#include <maya/optim/optim.hpp>
#include <string>

#include "optim/problems.hpp"

namespace {

using maya::Tensor;
using maya::optim::Bounds;
using maya::optim::Lbfgs;
using maya::optim::LbfgsOptions;
using maya::optim::LineSearch;
using maya::optim::ParameterSet;
using maya::optim::Positive;
using maya::optim::Status;
namespace problems = maya::optim::problems;

}  // namespace

TEST(Lbfgs, MinimizesConvexQuadraticInFewIterations) {
  const auto quadratic = problems::Quadratic::random(12, 0.5, 5.0, 3);
  ParameterSet parameters;
  parameters.add("x", Tensor::zeros({12}));
  Lbfgs lbfgs(parameters, {.history = 20});
  const auto result = lbfgs.minimize(quadratic, {.max_iterations = 100, .tolerance = 1e-10});
  EXPECT_TRUE(result.converged) << result.message;
  EXPECT_EQ(result.status, Status::kGradientTolerance);
  EXPECT_LE(result.gradient_norm, 1e-10);
  // With exact curvature pairs and history >= n, L-BFGS behaves like BFGS: a few sweeps of n.
  EXPECT_LT(result.iterations, 40u);
  const Tensor expected = Tensor::from_data(quadratic.x_star, {12});
  EXPECT_LT(maya::max_abs_difference(parameters.value("x"), expected), 1e-9);
}

TEST(Lbfgs, MinimizesRosenbrockTo1e8InUnder100Iterations) {
  for (const LineSearch search : {LineSearch::kStrongWolfe, LineSearch::kBacktracking}) {
    ParameterSet parameters;
    parameters.add("x", problems::rosenbrock_start(2));
    Lbfgs lbfgs(parameters, {.line_search = search});
    const auto result =
        lbfgs.minimize(problems::rosenbrock, {.max_iterations = 100, .tolerance = 1e-10});
    EXPECT_TRUE(result.converged) << result.message;
    EXPECT_LT(result.iterations, 100u);
    EXPECT_LT(problems::distance_to_ones(parameters.value("x")), 1e-8);
    EXPECT_LT(result.loss, 1e-16);
  }
}

TEST(Lbfgs, MinimizesExtendedRosenbrock) {
  ParameterSet parameters;
  parameters.add("x", problems::rosenbrock_start(10));
  Lbfgs lbfgs(parameters);
  const auto result =
      lbfgs.minimize(problems::rosenbrock, {.max_iterations = 200, .tolerance = 1e-10});
  EXPECT_TRUE(result.converged) << result.message;
  EXPECT_LT(problems::distance_to_ones(parameters.value("x")), 1e-8);
}

TEST(Lbfgs, MinimumOutsideTheBoxLandsOnTheBoundary) {
  // Rosenbrock on [-2, 0.5]^2: the constrained minimum is (0.5, 0.25), where df/dx = -1 < 0.
  ParameterSet parameters;
  parameters.add("x", Tensor::from_data({-1.2, 0.5}, {2}), Bounds::between(-2.0, 0.5));
  Lbfgs lbfgs(parameters);
  const auto result =
      lbfgs.minimize(problems::rosenbrock, {.max_iterations = 200, .tolerance = 1e-10});
  EXPECT_TRUE(result.converged) << result.message;
  EXPECT_EQ(parameters.value("x").at({0}), 0.5);
  EXPECT_NEAR(parameters.value("x").at({1}), 0.25, 1e-10);
}

TEST(Lbfgs, BoundedQuadraticSatisfiesTheOptimalityConditions) {
  // A coupled quadratic whose free minimizer lies partly outside [-1, 1]^n: at the solution every
  // entry is either strictly inside with zero gradient or on a bound with the gradient pointing
  // out.
  auto quadratic = problems::Quadratic::random(10, 0.5, 3.0, 7);
  for (double& x : quadratic.x_star) x *= 2.0;
  for (std::size_t i = 0; i < quadratic.n; ++i) {
    quadratic.b[i] = 0.0;
    for (std::size_t j = 0; j < quadratic.n; ++j) {
      quadratic.b[i] += quadratic.a[i * quadratic.n + j] * quadratic.x_star[j];
    }
  }
  ParameterSet parameters;
  parameters.add("x", Tensor::zeros({10}), Bounds::between(-1.0, 1.0));
  Lbfgs lbfgs(parameters);
  const auto result = lbfgs.minimize(quadratic, {.max_iterations = 200, .tolerance = 1e-10});
  ASSERT_TRUE(result.converged) << result.message;
  Tensor gradient = Tensor::zeros({10});
  const Tensor values[] = {parameters.value("x")};
  static_cast<void>(quadratic(values, std::span<Tensor>(&gradient, 1)));
  std::size_t on_bounds = 0;
  for (std::size_t i = 0; i < 10; ++i) {
    const double x = values[0].at({i});
    const double g = gradient.at({i});
    if (x == 1.0) {
      EXPECT_LE(g, 0.0) << i;
      ++on_bounds;
    } else if (x == -1.0) {
      EXPECT_GE(g, 0.0) << i;
      ++on_bounds;
    } else {
      EXPECT_GT(x, -1.0);
      EXPECT_LT(x, 1.0);
      EXPECT_LT(std::abs(g), 1e-9) << i;
    }
  }
  EXPECT_GT(on_bounds, 0u);
}

TEST(Lbfgs, RecoversAPositiveDecayRateFromData) {
  // y = amplitude exp(-rate t) with the rate fitted through Positive::exp, recorded on a tape.
  const Tensor times = Tensor::linspace(0.0, 2.0, 21);
  Tensor observed = times;
  for (double& y : observed.mutable_data()) y = 1.3 * std::exp(-2.5 * y);
  ParameterSet parameters;
  parameters.add("rate", Tensor::scalar(0.1), Positive::exp());
  parameters.add("amplitude", Tensor::scalar(1.0));
  Lbfgs lbfgs(parameters);
  const auto objective =
      maya::optim::tape_objective([&](maya::TensorTape& tape, std::span<const maya::TensorVar> p) {
        const maya::TensorVar model = p[1] * maya::exp(-(p[0] * tape.constant(times)));
        return maya::sum(maya::square(model - tape.constant(observed)));
      });
  const auto result = lbfgs.minimize(objective, {.max_iterations = 100, .tolerance = 1e-12});
  EXPECT_TRUE(result.converged) << result.message;
  EXPECT_NEAR(parameters.value("rate").item(), 2.5, 1e-9);
  EXPECT_NEAR(parameters.value("amplitude").item(), 1.3, 1e-9);
}

TEST(Lbfgs, NaNBeyondTheDomainShortensTheStepInsteadOfFailing) {
  // f = -x - 10 log(2 - x) is NaN for x >= 2 and has its minimum at x = -8. From far away the
  // quasi-Newton steps overshoot into the NaN region; the line search must back off.
  std::size_t nan_evaluations = 0;
  const auto objective = [&](std::span<const Tensor> values, std::span<Tensor> gradients) {
    const double x = values[0].item();
    gradients[0].mutable_data()[0] = -1.0 + 10.0 / (2.0 - x);
    if (x >= 2.0) ++nan_evaluations;
    return x >= 2.0 ? NAN : -x - 10.0 * std::log(2.0 - x);
  };
  ParameterSet parameters;
  parameters.add("x", Tensor::scalar(-1000.0));
  Lbfgs lbfgs(parameters);
  const auto result = lbfgs.minimize(objective, {.max_iterations = 100, .tolerance = 1e-10});
  EXPECT_TRUE(result.converged) << result.message;
  EXPECT_NEAR(parameters.value("x").item(), -8.0, 1e-9);
  EXPECT_GT(nan_evaluations, 0u);
}

TEST(Lbfgs, LineSearchFailureIsAStatusFromMinimizeAndAnErrorFromStep) {
  // A gradient with the wrong sign: every "descent" direction raises the loss.
  const auto wrong_gradient = [](std::span<const Tensor> values, std::span<Tensor> gradients) {
    const double x = values[0].item();
    gradients[0].mutable_data()[0] = -2.0 * x;
    return x * x;
  };
  ParameterSet parameters;
  parameters.add("x", Tensor::scalar(1.0));
  Lbfgs lbfgs(parameters);
  const auto result = lbfgs.minimize(wrong_gradient);
  EXPECT_FALSE(result.converged);
  EXPECT_EQ(result.status, Status::kLineSearchFailed);
  EXPECT_NE(result.message.find("line search failed at iteration 0"), std::string::npos)
      << result.message;
  EXPECT_EQ(parameters.value("x").item(), 1.0);  // left at the last accepted point
  EXPECT_THROW(static_cast<void>(lbfgs.step(wrong_gradient)), maya::ConvergenceError);
}

TEST(Lbfgs, CallbackSeesEveryIterateAndTheLossNeverIncreases) {
  ParameterSet parameters;
  parameters.add("x", problems::rosenbrock_start(4));
  Lbfgs lbfgs(parameters, {.history = 5});
  std::vector<maya::optim::Progress> seen;
  const auto result = lbfgs.minimize(
      problems::rosenbrock,
      {.max_iterations = 25, .tolerance = 0.0, .callback = [&](const maya::optim::Progress& p) {
         seen.push_back(p);
       }});
  EXPECT_EQ(result.status, Status::kMaxIterations);
  EXPECT_FALSE(result.converged);
  EXPECT_EQ(result.iterations, 25u);
  ASSERT_EQ(seen.size(), 26u);
  ASSERT_EQ(result.loss_history.size(), 26u);
  for (std::size_t k = 0; k < seen.size(); ++k) {
    EXPECT_EQ(seen[k].iteration, k);
    EXPECT_EQ(seen[k].loss, result.loss_history[k]);
    if (k > 0) {
      EXPECT_LE(seen[k].loss, seen[k - 1].loss);
      EXPECT_GT(seen[k].evaluations, seen[k - 1].evaluations);
    }
  }
  EXPECT_EQ(seen.back().gradient_norm, result.gradient_norm);
  EXPECT_EQ(seen.back().evaluations, result.evaluations);
  EXPECT_LE(lbfgs.history_size(), 5u);
}

TEST(Lbfgs, LossToleranceStopsWhenTheLossStallsTheWayScipyFtolDoes) {
  ParameterSet parameters;
  parameters.add("x", problems::rosenbrock_start(2));
  Lbfgs lbfgs(parameters);
  const auto result = lbfgs.minimize(
      problems::rosenbrock, {.max_iterations = 100, .tolerance = 0.0, .loss_tolerance = 1e-6});
  EXPECT_TRUE(result.converged) << result.message;
  EXPECT_EQ(result.status, Status::kLossTolerance);
  const double before = result.loss_history[result.loss_history.size() - 2];
  EXPECT_LE(std::abs(before - result.loss), 1e-6 * std::max({1.0, before, result.loss}));
}

TEST(Lbfgs, StepReusesTheLastGradientWhileTheParametersAreUnchanged) {
  std::size_t evaluations = 0;
  const auto counted = [&](std::span<const Tensor> values, std::span<Tensor> gradients) {
    ++evaluations;
    return problems::rosenbrock(values, gradients);
  };
  ParameterSet parameters;
  parameters.add("x", problems::rosenbrock_start(2));
  Lbfgs lbfgs(parameters);
  double previous = INFINITY;
  std::size_t line_search_evaluations = 0;
  for (int i = 0; i < 10; ++i) {
    const std::size_t before = evaluations;
    const double loss = lbfgs.step(counted);
    EXPECT_LT(loss, previous);
    previous = loss;
    if (i > 0) line_search_evaluations += evaluations - before;
  }
  EXPECT_EQ(lbfgs.iterations(), 10u);
  // Only the first step evaluates the starting point; later ones start from the cached point.
  std::size_t reference = 0;
  ParameterSet again;
  again.add("x", problems::rosenbrock_start(2));
  Lbfgs fresh(again);
  const auto result = fresh.minimize(counted, {.max_iterations = 10, .tolerance = 0.0});
  reference = result.evaluations;
  EXPECT_EQ(evaluations - reference, reference);  // same path, same number of evaluations
  EXPECT_GT(line_search_evaluations, 0u);
  // Moving the parameters by hand invalidates the cache.
  parameters.set_value(0, Tensor::from_data({0.0, 0.0}, {2}));
  const std::size_t before = evaluations;
  static_cast<void>(lbfgs.step(counted));
  EXPECT_GE(evaluations - before, 2u);
}

TEST(Lbfgs, RejectsBadSettings) {
  ParameterSet parameters;
  parameters.add("x", Tensor::zeros({2}));
  EXPECT_THROW(Lbfgs(parameters, {.history = 0}), maya::ValueError);
  EXPECT_THROW(Lbfgs(parameters, {.c1 = 0.9, .c2 = 0.5}), maya::ValueError);
  EXPECT_THROW(Lbfgs(parameters, {.c1 = 0.0}), maya::ValueError);
  EXPECT_THROW(Lbfgs(parameters, {.c2 = 1.0}), maya::ValueError);
  EXPECT_THROW(Lbfgs(parameters, {.max_line_search_evaluations = 0}), maya::ValueError);
  Lbfgs lbfgs(parameters);
  EXPECT_THROW(static_cast<void>(lbfgs.minimize(problems::rosenbrock, {.loss_tolerance = -1.0})),
               maya::ValueError);
}

TEST(Lbfgs, NanLossAtTheStartNamesTheIteration) {
  ParameterSet parameters;
  parameters.add("x", Tensor::zeros({2}));
  Lbfgs lbfgs(parameters);
  const auto nan_loss = [](std::span<const Tensor>, std::span<Tensor>) { return NAN; };
  try {
    static_cast<void>(lbfgs.minimize(nan_loss));
    FAIL() << "no exception";
  } catch (const maya::NonFiniteError& e) {
    EXPECT_NE(std::string(e.what()).find("loss nan at iteration 0"), std::string::npos) << e.what();
  }
}
