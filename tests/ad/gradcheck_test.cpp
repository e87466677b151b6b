// The scalar gradcheck: it passes exact gradients, measures error relative to the derivative's
// size, and fails on NaN.
#include "maya/ad/gradcheck.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "maya/ad/var_math.hpp"
#include "maya/core/error.hpp"

namespace {

using maya::Tape;
using maya::Var;

TEST(ScalarGradcheck, PassesTheTapesGradientOfASmoothFunction) {
  // f(a, b) = sin(a b) exp(-a) + b^2: the tape and central differences agree to ~1e-9.
  const auto f = [](Tape&, std::span<const Var> x) {
    return (x[0] * x[1]).sin() * (-x[0]).exp() + x[1] * x[1];
  };
  const std::vector<double> at = {0.7, -1.3};
  const maya::ScalarGradcheckReport report = maya::gradcheck(f, at);
  ASSERT_EQ(report.analytic.size(), 2u);
  const double a = at[0], b = at[1];
  EXPECT_NEAR(report.analytic[0], b * std::cos(a * b) * std::exp(-a) - std::sin(a * b) * std::exp(-a),
              1e-14);
  EXPECT_LT(report.max_error(), 1e-7);
}

TEST(ScalarGradcheck, SmallDerivativesAreJudgedRelativeToTheirOwnSize) {
  // d/dx (1e-5 x^2) at 1 is 2e-5, far above the floor eps |y| / h ~ 2e-15: the error is
  // relative to 2e-5 (a measure with a floor of 1 would call a 10% error 2e-6).
  const auto f = [](Tape&, std::span<const Var> x) { return 1e-5 * x[0] * x[0]; };
  const std::vector<double> at = {1.0};
  const maya::ScalarGradcheckReport report = maya::gradcheck(f, at);
  EXPECT_DOUBLE_EQ(report.analytic[0], 2e-5);
  const double relative = std::abs(report.analytic[0] - report.numeric[0]) /
                          std::max(std::abs(report.analytic[0]), std::abs(report.numeric[0]));
  EXPECT_DOUBLE_EQ(report.error[0], relative);
  EXPECT_LT(report.max_error(), 1e-6);
}

TEST(ScalarGradcheck, NaNFailsAndBadStepsAreRejected) {
  const auto nan_slope = [](Tape&, std::span<const Var> x) { return x[0].sqrt(); };
  const std::vector<double> at = {0.0};  // sqrt's derivative is infinite at 0, the difference NaN
  const maya::ScalarGradcheckReport report = maya::gradcheck(nan_slope, at);
  EXPECT_FALSE(report.max_error() <= 1e-6);
  const auto f = [](Tape&, std::span<const Var> x) { return x[0] * x[0]; };
  EXPECT_THROW((void)maya::gradcheck(f, at, std::nan("")), maya::ValueError);
  EXPECT_THROW((void)maya::gradcheck(f, at, -1e-6), maya::ValueError);
}

}  // namespace
