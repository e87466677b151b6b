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
