#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "contact_scenes.hpp"

namespace {

using namespace contact_test;
using maya::contact::SurfaceMaterial;
using maya::rigid::BodyShape;
using maya::rigid::RigidWorld2D;

HardContactOptions with_material(double friction, double restitution) {
  HardContactOptions options;
  options.material = {friction, restitution};
  options.ground_material = {friction, restitution};
  return options;
}

double momentum(const Tensor& state, const Tensor& mass, std::size_t axis) {
  double total = 0.0;
  for (std::size_t b = 0; b < mass.numel(); ++b) {
    const BodyState s = body(state, b);
    total += mass.data()[b] * (axis == 0 ? s.vx : s.vy);
  }
  return total;
}

}  // namespace

TEST(HardContactWorld, BoxRestsOnTheGroundWithoutDrift) {
  const HardContactWorld2D world(RigidWorld2D({BodyShape::box(1.0, 1.0)}, flat_ground()), {},
                                 with_material(0.5, 0.0));
  const Tensor initial = state_of({{0.0, 0.5, 0.0, 0.0, 0.0, 0.0}});
  const auto values = world.parameters({1.0}, initial);
  TensorTape tape;
  const HardContactParameters params = values.constants(tape);
  TensorVar state = tape.constant(initial);
  double deepest = 0.0;
  const double dt = 0.01;
  for (int i = 0; i < 1000; ++i) {  // 10 s
    state = world.step(state, params, dt);
    const BodyState s = body(state.value(), 0);
    deepest = std::max(deepest, 0.5 - s.y);
  }
  const BodyState end = body(state.value(), 0);
  // Penetration never exceeds the slop plus one step of free fall, g dt^2.
  EXPECT_LT(deepest, world.options().slop + 9.8 * dt * dt);
  EXPECT_GT(end.y, 0.5 - world.options().slop - 1e-6);
  EXPECT_NEAR(end.x, 0.0, 1e-9);
  EXPECT_NEAR(end.theta, 0.0, 1e-9);
  EXPECT_NEAR(end.vy, 0.0, 1e-6);
}

TEST(HardContactWorld, StackOfThreeBoxesStaysStanding) {
  const HardContactWorld2D world(
      RigidWorld2D({BodyShape::box(1.0, 1.0), BodyShape::box(1.0, 1.0), BodyShape::box(1.0, 1.0)},
                   flat_ground()),
      {}, with_material(0.6, 0.0));
  // Slightly offset boxes, dropped from a few millimetres.
  const Tensor initial = state_of({{0.0, 0.502, 0.0, 0.0, 0.0, 0.0},
                                   {0.05, 1.505, 0.0, 0.0, 0.0, 0.0},
                                   {-0.03, 2.51, 0.0, 0.0, 0.0, 0.0}});
  const auto values = world.parameters({1.0, 1.0, 1.0}, initial);
  TensorTape tape;
  const HardContactParameters params = values.constants(tape);
  TensorVar state = tape.constant(initial);
  for (int i = 0; i < 300; ++i) state = world.step(state, params, 0.01);  // 3 s
  const Tensor end = state.value();
  const double x0[3] = {0.0, 0.05, -0.03};
  for (std::size_t b = 0; b < 3; ++b) {
    const BodyState s = body(end, b);
    EXPECT_NEAR(s.x, x0[b], 1e-3) << "box " << b;
    EXPECT_NEAR(s.y, 0.5 + static_cast<double>(b), 5e-3) << "box " << b;
    EXPECT_NEAR(s.theta, 0.0, 1e-3) << "box " << b;
    EXPECT_NEAR(std::hypot(s.vx, s.vy), 0.0, 1e-3) << "box " << b;
  }
}

TEST(HardContactWorld, HeadOnElasticCollisionExchangesVelocities) {
  const HardContactWorld2D world(
      RigidWorld2D({BodyShape::circle(0.5), BodyShape::circle(0.5)}, empty_space()), {},
      with_material(0.0, 1.0));
  const Tensor initial =
      state_of({{-2.0, 0.0, 0.0, 1.5, 0.0, 0.0}, {0.0, 0.0, 0.0, 0.0, 0.0, 0.0}});
  const auto values = world.parameters({1.0, 1.0}, initial);
  TensorTape tape;
  const HardContactParameters params = values.constants(tape);
  TensorVar state = tape.constant(initial);
  for (int i = 0; i < 150; ++i) {
    state = world.step(state, params, 0.01);
    EXPECT_NEAR(momentum(state.value(), values.mass, 0), 1.5, 1e-12);
  }
  const Tensor end = state.value();
  EXPECT_NEAR(body(end, 0).vx, 0.0, 1e-6);
  EXPECT_NEAR(body(end, 1).vx, 1.5, 1e-6);
  EXPECT_NEAR(body(end, 0).vy, 0.0, 1e-12);
}

TEST(HardContactWorld, InelasticCollisionLosesThePredictedEnergy) {
  // Unequal masses, restitution e: the loss is (1 - e^2) mu_r (v1 - v2)^2 / 2.
  const double e = 0.5;
  const HardContactWorld2D world(
      RigidWorld2D({BodyShape::circle(0.3), BodyShape::circle(0.4)}, empty_space()), {},
      with_material(0.0, e));
  const Tensor initial =
      state_of({{-1.0, 0.0, 0.0, 2.0, 0.0, 0.0}, {0.5, 0.0, 0.0, -1.0, 0.0, 0.0}});
  const auto values = world.parameters({1.0, 2.0}, initial);
  TensorTape tape;
  const HardContactParameters params = values.constants(tape);
  TensorVar state = tape.constant(initial);
  const double before = maya::contact::kinetic_energy(initial, values.mass, values.inertia);
  for (int i = 0; i < 100; ++i) {
    state = world.step(state, params, 0.01);
    EXPECT_NEAR(momentum(state.value(), values.mass, 0), 0.0, 1e-12);
  }
  const double after = maya::contact::kinetic_energy(state.value(), values.mass, values.inertia);
  const double reduced = 1.0 * 2.0 / 3.0;
  EXPECT_NEAR(before - after, 0.5 * (1.0 - e * e) * reduced * 9.0, 1e-6);
  EXPECT_NEAR(body(state.value(), 0).vx, (2.0 - 2.0 - 2.0 * e * 3.0) / 3.0, 1e-6);
}

TEST(HardContactWorld, BouncingBallKeepsItsRestitution) {
  // A ball dropped on the ground leaves each impact at e times its arrival speed (Newton's law,
  // imposed in the impact step), so successive apexes fall by e^2.
  const double e = 0.6;
  const HardContactWorld2D world(RigidWorld2D({BodyShape::circle(0.1)}, flat_ground()), {},
                                 with_material(0.3, e));
  const Tensor initial = state_of({{0.0, 1.0, 0.0, 0.0, 0.0, 0.0}});
  const auto values = world.parameters({0.5}, initial);
  TensorTape tape;
  const HardContactParameters params = values.constants(tape);
  TensorVar state = tape.constant(initial);
  int bounces = 0;
  double arrival = 0.0;
  for (int i = 0; i < 1500 && bounces < 3; ++i) {
    const double before = body(state.value(), 0).vy;
    state = world.step(state, params, 1e-3);
    const double after = body(state.value(), 0).vy;
    if (before < -0.5 && after > 0.0) {
      EXPECT_NEAR(after, -e * before, 1e-7) << "bounce " << bounces;  // smoothing / lambda
      if (bounces > 0) {
        EXPECT_NEAR(-before / arrival, e, 0.02) << "bounce " << bounces;
      }
      arrival = -before;
      ++bounces;
    }
  }
  EXPECT_EQ(bounces, 3);
}

TEST(HardContactWorld, EveryCollisionConservesMomentum) {
  // Five balls of different masses in a glancing pile-up, with friction between them: linear and
  // angular momentum (about the origin) are conserved step by step.
  std::vector<BodyShape> shapes;
  std::vector<std::array<double, 6>> rows;
  std::vector<double> masses;
  for (int i = 0; i < 5; ++i) {
    shapes.push_back(BodyShape::circle(0.3 + 0.05 * i));
    rows.push_back(
        {1.2 * i - 2.4, 0.1 * (i % 2), 0.0, i == 0 ? 4.0 : -0.3 * i, 0.2 * i - 0.4, 0.5 * i});
    masses.push_back(1.0 + 0.3 * i);
  }
  shapes.push_back(BodyShape::box(0.6, 0.4));
  rows.push_back({0.0, 1.2, 0.3, 0.0, -2.0, 1.0});
  masses.push_back(1.5);
  const HardContactWorld2D world(RigidWorld2D(shapes, empty_space()), {}, with_material(0.3, 0.4));
  const Tensor initial = state_of(rows);
  const auto values = world.parameters(masses, initial);
  const auto angular = [&](const Tensor& s) {
    double total = 0.0;
    for (std::size_t b = 0; b < masses.size(); ++b) {
      const BodyState q = body(s, b);
      total += masses[b] * (q.x * q.vy - q.y * q.vx) + values.inertia.data()[b] * q.omega;
    }
    return total;
  };
  TensorTape tape;
  const HardContactParameters params = values.constants(tape);
  TensorVar state = tape.constant(initial);
  const double px = momentum(initial, values.mass, 0);
  const double py = momentum(initial, values.mass, 1);
  // Angular momentum changes by the impulses' moments about the point where they act, which is
  // where both bodies see it: conserved up to the position update's O(dt) lever error.
  const double l0 = angular(initial);
  for (int i = 0; i < 120; ++i) {
    state = world.step(state, params, 0.01);
    const Tensor s = state.value();
    ASSERT_NEAR(momentum(s, values.mass, 0), px, 1e-11) << "step " << i;
    ASSERT_NEAR(momentum(s, values.mass, 1), py, 1e-11) << "step " << i;
    // x+ = x + dt v+ changes r x m v by dt v+ x m v+ = 0: angular momentum is exact too.
    ASSERT_NEAR(angular(s), l0, 1e-10) << "step " << i;
  }
}

namespace {

// Gradients of a few steps against central differences in every input (state, mass, inertia,
// vertices, radii, applied wrench), with the solver run to 1e-13.
void expect_gradients_match(std::vector<BodyShape> shapes, maya::rigid::RigidWorldOptions bodies,
                            SurfaceMaterial material, const Tensor& initial,
                            const std::vector<double>& masses, const char* scene) {
  HardContactOptions options = with_material(material.friction, material.restitution);
  options.solver.tolerance = 1e-13;
  const HardContactWorld2D world(RigidWorld2D(std::move(shapes), std::move(bodies)), {}, options);
  auto values = world.parameters(masses, initial);
  values.applied = Tensor::uniform(values.applied.shape(), -0.5, 0.5, 5);
  const auto report = maya::gradcheck(
      [&](TensorTape&, std::span<const TensorVar> x) {
        return loss_of(rollout(world, x[0], parameters_of(x), 3, 0.01));
      },
      inputs_of(initial, values));
  for (std::size_t i = 0; i < report.worst_error.size(); ++i) {
    EXPECT_LT(report.worst_error[i], 1e-6) << scene << ": input " << i;
  }
}

}  // namespace

TEST(HardContactWorld, GradientMatchesCentralDifferencesBoxOnGroundAgainstBall) {
  // A box sliding and tipping on the ground (one corner down) into a ball, with friction and
  // the rigid world's velocity damping.
  maya::rigid::RigidWorldOptions damped = flat_ground();
  damped.linear_damping = 0.3;
  damped.angular_damping = 0.2;
  expect_gradients_match(
      {BodyShape::box(0.8, 0.5), BodyShape::circle(0.3)}, damped, {0.4, 0.0},
      state_of({{0.0, 0.248, 0.02, 1.0, -0.1, 0.3}, {0.68, 0.35, 0.0, -0.5, 0.0, 0.0}}), {1.2, 0.7},
      "box and ball");
}

TEST(HardContactWorld, GradientMatchesCentralDifferencesBoxOnBox) {
  // A tilted box landing on a box that rests flat on the ground: face, vertex and ground
  // contacts, sticking friction.
  expect_gradients_match(
      {BodyShape::box(1.0, 0.4), BodyShape::box(0.6, 0.3)}, flat_ground(), {0.8, 0.0},
      state_of({{0.0, 0.1995, 0.0, 0.0, 0.0, 0.0}, {0.1, 0.548, 0.05, 0.2, -0.3, 0.1}}), {2.0, 0.5},
      "box on box");
}

TEST(HardContactWorld, GradientMatchesCentralDifferencesThroughRestitution) {
  // Two balls meeting head-on with restitution 0.5 (the b_n = e J_n v- branch), no gravity.
  expect_gradients_match(
      {BodyShape::circle(0.25), BodyShape::circle(0.3)}, empty_space(), {0.2, 0.5},
      state_of({{-0.54, 0.02, 0.0, 1.0, 0.1, 0.5}, {0.0, 0.0, 0.0, -0.5, 0.0, 0.0}}), {1.0, 1.5},
      "restitution");
}

// Regression: with restitution 0 the bodies left separating (0.12350 and 0.12550 m/s): the
// contact stayed active after the collision, unloaded, and the barrier kept pushing. Unloaded
// contacts are now dropped, so both leave at the common velocity, to smoothing / lambda.
TEST(HardContactWorld, PerfectlyInelasticCollisionEndsWithEqualVelocities) {
  const HardContactWorld2D world(
      RigidWorld2D({BodyShape::circle(0.5), BodyShape::circle(0.5)}, empty_space()), {},
      with_material(0.0, 0.0));
  // Masses 1 and 3 meeting at 2.5 m/s: v' = (1 * 2 + 3 * (-0.5)) / 4 = 0.125. They first
  // overlap by 0.5 mm (within the slop), so after the collision the contact stays detected; before
  // the fix they left at 0.12406 and 0.12531 m/s, with d v'/d m1 = 0.46934.
  const Tensor initial =
      state_of({{-1.2245, 0.0, 0.0, 2.0, 0.0, 0.0}, {0.0, 0.0, 0.0, -0.5, 0.0, 0.0}});
  const auto values = world.parameters({1.0, 3.0}, initial);
  TensorTape tape;
  const HardContactParameters params = values.vars(tape);
  TensorVar state = tape.constant(initial);
  for (int i = 0; i < 100; ++i) state = world.step(state, params, 0.01);
  const Tensor end = state.value();
  EXPECT_NEAR(body(end, 0).vx, 0.125, 1e-8);
  EXPECT_NEAR(body(end, 1).vx, 0.125, 1e-8);
  // d v' / d m1 = (v1 - v') / (m1 + m2) = 1.875 / 4.
  const TensorVar velocity = maya::slice(state, 0, 1, 2);
  const TensorVar v0 = maya::sum(maya::slice(maya::slice(velocity, 1, 0, 1), 2, 0, 1));
  const maya::TensorGradients g = tape.grad(v0);
  EXPECT_NEAR(g[params.mass].at({0}), 0.46875, 1e-6);
  EXPECT_NEAR(g[params.mass].at({1}), (-0.5 - 0.125) / 4.0, 1e-6);
}

// Regression: a box 5 m under the ground left at 100 m/s (beta pen / dt).
TEST(HardContactWorld, DeepOverlapIsResolvedAtTheCappedCorrectionSpeed) {
  const HardContactWorld2D world(RigidWorld2D({BodyShape::box(1.0, 1.0)}, flat_ground()), {},
                                 with_material(0.5, 0.0));
  const Tensor initial = state_of({{0.0, -4.5, 0.0, 0.0, 0.0, 0.0}});
  const auto values = world.parameters({1.0}, initial);
  TensorTape tape;
  const HardContactParameters params = values.constants(tape);
  TensorVar state = tape.constant(initial);
  for (int i = 0; i < 10; ++i) {
    state = world.step(state, params, 0.01);
    EXPECT_LE(body(state.value(), 0).vy, world.options().max_correction_speed + 1e-6);
  }
  EXPECT_GT(body(state.value(), 0).vy, 0.5 * world.options().max_correction_speed);
}

// Regression: two circles at one centre had no normal and stayed fused, silently.
TEST(HardContactWorld, CoincidentCirclesAreGivenANormalAndSeparate) {
  const HardContactWorld2D world(
      RigidWorld2D({BodyShape::circle(0.5), BodyShape::circle(0.5)}, empty_space()), {},
      with_material(0.0, 0.0));
  const Tensor initial = state_of({{0.0, 0.0, 0.0, 0.0, 0.0, 0.0}, {0.0, 0.0, 0.0, 0.0, 0.0, 0.0}});
  const auto values = world.parameters({1.0, 1.0}, initial);
  TensorTape tape;
  const HardContactParameters params = values.constants(tape);
  TensorVar state = tape.constant(initial);
  for (int i = 0; i < 200; ++i) state = world.step(state, params, 0.01);
  const Tensor end = state.value();
  EXPECT_GT(body(end, 1).y - body(end, 0).y, 0.99);
  EXPECT_NEAR(body(end, 0).x, 0.0, 1e-12);
  EXPECT_NEAR(body(end, 0).y + body(end, 1).y, 0.0, 1e-9);  // momentum: the centre stays
}

// The fused step's node holds the world: the collision above, recorded through the world and a
// copy of it, gives the same closed-form gradient after both are destroyed.
TEST(HardContactWorld, TapeKeepsTheWorldAliveAfterTheWorldIsGone) {
  auto world = std::make_unique<HardContactWorld2D>(
      RigidWorld2D({BodyShape::circle(0.5), BodyShape::circle(0.5)}, empty_space()),
      std::vector<maya::contact::RevoluteJoint>{}, with_material(0.0, 0.0));
  auto copy = std::make_unique<HardContactWorld2D>(*world);
  const Tensor initial =
      state_of({{-1.2245, 0.0, 0.0, 2.0, 0.0, 0.0}, {0.0, 0.0, 0.0, -0.5, 0.0, 0.0}});
  const auto values = world->parameters({1.0, 3.0}, initial);
  TensorTape tape;
  const HardContactParameters params = values.vars(tape);
  TensorVar state = tape.constant(initial);
  for (int i = 0; i < 100; ++i) state = (i % 2 ? *copy : *world).step(state, params, 0.01);
  const TensorVar velocity = maya::slice(state, 0, 1, 2);
  const TensorVar v0 = maya::sum(maya::slice(maya::slice(velocity, 1, 0, 1), 2, 0, 1));
  world.reset();
  copy.reset();
  const maya::TensorGradients g = tape.grad(v0);
  EXPECT_NEAR(g[params.mass].at({0}), 0.46875, 1e-6);
  EXPECT_NEAR(g[params.mass].at({1}), (-0.5 - 0.125) / 4.0, 1e-6);
}
