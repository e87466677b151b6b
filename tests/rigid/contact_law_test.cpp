#include <gtest/gtest.h>

#include <cmath>
#include <maya/maya.hpp>
#include <numbers>

#include "rigid/rigid_scenes.hpp"

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::rigid::BodyShape;
using maya::rigid::NormalForceLaw;
using maya::rigid::RigidWorld2D;
using maya::rigid::RigidWorldOptions;

TEST(KelvinVoigt, RestitutionClosedFormAndItsInverse) {
  EXPECT_DOUBLE_EQ(maya::rigid::kelvin_voigt_restitution(1e4, 0.0, 1.0), 1.0);
  // zeta = 30 / (2 * 100) = 0.15
  EXPECT_NEAR(maya::rigid::kelvin_voigt_damping_ratio(1e4, 30.0, 1.0), 0.15, 1e-15);
  EXPECT_NEAR(maya::rigid::kelvin_voigt_restitution(1e4, 30.0, 1.0),
              std::exp(-0.15 * std::numbers::pi / std::sqrt(1.0 - 0.0225)), 1e-15);
  EXPECT_EQ(maya::rigid::kelvin_voigt_restitution(1e4, 200.0, 1.0), 0.0);  // critically damped
  for (const double e : {0.1, 0.5, 0.9, 1.0}) {
    const double c = maya::rigid::kelvin_voigt_damping_for_restitution(e, 2e4, 0.3);
    EXPECT_NEAR(maya::rigid::kelvin_voigt_restitution(2e4, c, 0.3), e, 1e-14);
  }
  EXPECT_THROW((void)maya::rigid::kelvin_voigt_restitution(-1.0, 1.0, 1.0), maya::ValueError);
  EXPECT_THROW((void)maya::rigid::kelvin_voigt_restitution(1.0, -1.0, 1.0), maya::ValueError);
  EXPECT_THROW((void)maya::rigid::kelvin_voigt_restitution(1.0, 1.0, 0.0), maya::ValueError);
  EXPECT_THROW((void)maya::rigid::kelvin_voigt_damping_for_restitution(0.0, 1.0, 1.0),
               maya::ValueError);
}

// A ball of mass 1 and radius 0.1 that reaches the ground at speed 1 without gravity: the speed
// after it leaves, and the vertical speed change of every step in contact.
struct Bounce {
  double restitution;
  double min_step_impulse;
};

Bounce bounce(NormalForceLaw law, double stiffness, double damping, double dt) {
  RigidWorldOptions options;
  options.gravity = {0.0, 0.0};
  options.normal_law = law;
  const RigidWorld2D world({BodyShape::circle(0.1)}, options);
  const auto values = world.parameters_from_masses({1.0}, {stiffness, damping, 0.5});
  TensorTape tape;
  const auto params = values.constants(tape);
  TensorVar state = tape.constant(rigid_test::state_of({{0.0, 0.1, 0.0, 0.0, -1.0, 0.0}}));
  double min_impulse = INFINITY;
  for (int step = 0; step < 100000; ++step) {
    const double vy = state.view()[4];
    state = world.step(state, params, dt);
    min_impulse = std::min(min_impulse, state.view()[4] - vy);
    if (state.view()[1] > 0.1 && state.view()[4] > 0.0) break;
  }
  return {state.view()[4], min_impulse};
}

TEST(KelvinVoigt, BallBounceRestitutionMatchesTheClosedForm) {
  for (const double zeta : {0.05, 0.2, 0.5}) {
    const double damping = 2.0 * zeta * std::sqrt(1e4 * 1.0);
    const double expected = maya::rigid::kelvin_voigt_restitution(1e4, damping, 1.0);
    const Bounce measured = bounce(NormalForceLaw::kKelvinVoigt, 1e4, damping, 1e-5);
    // Semi-implicit Euler and the step at which contact ends add O(omega dt) = 1e-3.
    EXPECT_NEAR(measured.restitution, expected, 2e-3) << "zeta " << zeta;
  }
}

TEST(HuntCrossley, NeverPullsAndRestitutionFallsWithDamping) {
  double previous = 1.0;
  for (const double damping : {0.1, 0.3, 1.0}) {
    const Bounce measured = bounce(NormalForceLaw::kHuntCrossley, 1e6, damping, 1e-5);
    EXPECT_GE(measured.min_step_impulse, 0.0) << "damping " << damping;
    EXPECT_LT(measured.restitution, previous);
    EXPECT_GT(measured.restitution, 0.0);
    previous = measured.restitution;
  }
}

// Seed v0.7: a ball dropped on the ground bounces; the derivative of its height at time T with
// respect to the drop height, the initial velocity and the stiffness matches central differences.
TEST(PenaltyGround, DroppedBallHeightGradientMatchesCentralDifferences) {
  const RigidWorld2D world({BodyShape::circle(0.1)});
  const auto values = world.parameters_from_masses({1.0}, {1e4, 10.0, 0.5});
  // The stiffness enters in units of 1e4 N/m, so that the difference's step (1e-6) moves it by
  // 1e-2 N/m and the height by more than its rounding noise.
  constexpr double kStiffnessUnit = 1e4;
  const Tensor inputs[] = {rigid_test::state_of({{0.0, 0.5, 0.0, 0.0, 0.3, 0.0}}),
                           Tensor::ones(values.stiffness.shape())};
  const auto height_at_end = [&](TensorTape& tape, std::span<const TensorVar> x) {
    maya::rigid::RigidParameters params = values.constants(tape);
    params.stiffness = x[1] * kStiffnessUnit;
    TensorVar state = x[0];
    for (int step = 0; step < 700; ++step) state = world.step(state, params, 1e-3);
    return maya::select(maya::select(maya::dynamics::positions_of(state), 0, 0), 0, 1);
  };
  const auto report = maya::gradcheck(height_at_end, inputs);
  EXPECT_LT(report.worst_error[0], 1e-6);
  EXPECT_LT(report.worst_error[1], 1e-6);
  // The ball has bounced (it is rising at T) and every derivative asked for is non-trivial.
  TensorTape check;
  const TensorVar x[] = {check.var(inputs[0]), check.var(inputs[1])};
  EXPECT_GT(height_at_end(check, x).item(), 0.1);
  const Tensor& g_state = report.analytic[0];
  EXPECT_GT(std::abs(g_state.data()[1]), 0.1);                            // d y_T / d y_0
  EXPECT_GT(std::abs(g_state.data()[4]), 0.01);                           // d y_T / d vy_0
  EXPECT_GT(std::abs(report.analytic[1].item()), 1e-6 * kStiffnessUnit);  // d y_T / d k
}

}  // namespace
