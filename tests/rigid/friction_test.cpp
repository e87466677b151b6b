// Smoothed Coulomb friction and penalty contact at rest: a resting box stays put, a sliding box
// stops where Coulomb's law says (plus the smoothing's own, predicted, extra distance), and on a
// slope below the friction angle the smoothing lets a box creep at its closed-form speed.
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
using maya::rigid::RigidWorld2D;
using maya::rigid::RigidWorldOptions;

constexpr double kGravity = 9.8;

TEST(Friction, DroppedBoxSettlesAndStaysPutFor10Seconds) {
  // W4's box and contact (k = 1e4, c = 30, mu = 0.5), dropped from 1 cm with a 0.05 rad tilt.
  const RigidWorld2D world({BodyShape::box(0.2, 0.1)});
  const auto values = world.parameters_from_masses({1.0}, {1e4, 30.0, 0.5});
  TensorTape tape;
  const auto params = values.constants(tape);
  TensorVar state = tape.constant(rigid_test::state_of({{0.0, 0.06, 0.05, 0.0, 0.0, 0.0}}));
  Tensor at_five_seconds;
  for (int step = 1; step <= 10000; ++step) {
    state = world.step(state, params, 1e-3);
    if (step == 5000) at_five_seconds = state.value();
  }
  const auto s = state.view();
  // Flat on both bottom corners, each carrying m g / 2: pen = m g / (2 k).
  EXPECT_NEAR(s[1], 0.05 - kGravity / (2.0 * 1e4), 1e-9);
  EXPECT_NEAR(s[2], 0.0, 1e-9);
  for (int i = 3; i < 6; ++i) EXPECT_LT(std::abs(s[i]), 1e-9) << "velocity " << i;
  // The landing slides it less than a millimetre; after that, no drift at all.
  EXPECT_LT(std::abs(s[0]), 1e-3);
  EXPECT_LT(maya::max_abs_difference(state.value(), at_five_seconds), 1e-12);
}

// Distance a box sliding at v0 needs to stop under f = -mu m g tanh(v / eps):
//   d = 1/(mu g) int_0^v0 v coth(v / eps) dv = v0^2 / (2 mu g) + pi^2 eps^2 / (12 mu g) + O(e^(-2
//   v0/eps)),
// and semi-implicit Euler stops v0 dt / 2 short of a constant deceleration's distance.
TEST(Friction, SlidingBoxStopsAtCoulombsDistancePlusTheSmoothingTerm) {
  const double v0 = 1.0, mu = 0.5, dt = 1e-4;
  for (const double eps : {0.01, 0.03}) {
    RigidWorldOptions options;
    options.friction_smoothing = eps;
    // A flat box: a tall one rocks when friction starts and stops, which moves it ~1e-5 more.
    const RigidWorld2D world({BodyShape::box(0.4, 0.02)}, options);
    const auto values = world.parameters_from_masses({1.0}, {1e4, 30.0, mu});
    TensorTape tape;
    const auto params = values.constants(tape);
    const double rest_height = 0.01 - kGravity / (2.0 * 1e4);
    TensorVar state = tape.constant(rigid_test::state_of({{0.0, rest_height, 0.0, v0, 0.0, 0.0}}));
    for (int step = 0; step < 6000; ++step) state = world.step(state, params, dt);
    const double coulomb = v0 * v0 / (2.0 * mu * kGravity);
    const double smoothing =
        std::numbers::pi * std::numbers::pi * eps * eps / (12.0 * mu * kGravity);
    EXPECT_LT(std::abs(state.view()[3]), 1e-9) << "eps " << eps;
    EXPECT_NEAR(state.view()[0], coulomb + smoothing - v0 * dt / 2.0, 0.1 * smoothing)
        << "eps " << eps;
  }
}

// On a slope of angle a with tan a < mu, tanh smoothing balances gravity at a creep speed:
//   mu m g cos a tanh(v / eps) = m g sin a  =>  v = eps atanh(tan a / mu).
TEST(Friction, BoxOnASlopeCreepsAtTheSmoothingsClosedFormSpeed) {
  const double slope = std::atan(0.25), mu = 0.5, eps = 0.01;
  RigidWorldOptions options;
  options.grounds = {
      maya::rigid::GroundPlane::through({0.0, 0.0}, {-std::sin(slope), std::cos(slope)})};
  const RigidWorld2D world({BodyShape::box(0.4, 0.02)}, options);
  const auto values = world.parameters_from_masses({1.0}, {1e4, 30.0, mu});
  TensorTape tape;
  const auto params = values.constants(tape);
  // At rest on the slope at its equilibrium depth.
  const double depth = kGravity * std::cos(slope) / (2.0 * 1e4);
  const double lift = 0.01 - depth;
  TensorVar state = tape.constant(rigid_test::state_of(
      {{-lift * std::sin(slope), lift * std::cos(slope), slope, 0.0, 0.0, 0.0}}));
  for (int step = 0; step < 3000; ++step) state = world.step(state, params, 1e-3);
  const auto s = state.view();
  const double down_slope_speed = -(s[3] * std::cos(slope) + s[4] * std::sin(slope));
  EXPECT_NEAR(down_slope_speed, eps * std::atanh(std::tan(slope) / mu), 1e-6);
}

}  // namespace
