// Hard contact in 3-D through maya::contact's solver: resting and sliding against closed forms and
// Coulomb's law with a cone (the friction exactly against a slip along no axis), energy on a
// drop, gradients of rollouts against central differences, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "maya/core/error.hpp"
#include "maya/multibody/differentiable.hpp"
#include "maya/multibody/dynamics.hpp"
#include "maya/multibody/hard_contact.hpp"
#include "maya/multibody/loaders.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace maya::multibody {
namespace {

constexpr double kG = 9.81;
using PL = ParameterLayout;

// One free body with one geom on the plane z = 0, under gravity tilted by `angle` towards the
// in-plane direction `heading` (radians from +x): an incline whose downhill runs along no axis.
Model single_body(Geom geom, double mass, std::array<double, 6> inertia, double angle,
                  double heading, double friction, double smoothing = 1e-10) {
  Body body;
  body.name = "body";
  body.joint = JointType::kFree;
  body.mass = mass;
  body.inertia = inertia;
  body.geoms = {geom};
  ModelOptions options;
  options.gravity = {kG * std::sin(angle) * std::cos(heading),
                     kG * std::sin(angle) * std::sin(heading), -kG * std::cos(angle)};
  options.planes = {Plane{}};
  options.friction = friction;
  options.contact_model = ContactModel::kHard;
  options.hard_contact.smoothing = smoothing;
  return Model({body}, {}, options);
}

constexpr double kHalf = 0.05;  // the box's half height

Model box(double angle, double heading, double friction, double smoothing = 1e-10) {
  Geom g;
  g.type = ShapeType::kBox;
  g.size = {0.1, 0.1, kHalf};
  const double m = 1.0;
  const double ixx = m * (0.1 * 0.1 + kHalf * kHalf) / 3.0, izz = m * (0.1 * 0.1 + 0.1 * 0.1) / 3.0;
  return single_body(g, m, {ixx, ixx, izz, 0, 0, 0}, angle, heading, friction, smoothing);
}

Model sphere(double radius, double mass, double friction) {
  Geom g;
  g.type = ShapeType::kSphere;
  g.radius = radius;
  const double I = 0.4 * mass * radius * radius;
  return single_body(g, mass, {I, I, I, 0, 0, 0}, 0.0, 0.0, friction);
}

std::array<double, 3> total_impulse(const std::vector<double>& impulses) {
  std::array<double, 3> sum{0, 0, 0};
  for (std::size_t i = 0; i < impulses.size(); ++i) sum[i % 3] += impulses[i];
  return sum;
}

TEST(HardContact, SphereRestsWithNormalImpulseMGDt) {
  const double m = 2.0, dt = 1e-3;
  const Model model = sphere(0.1, m, 0.5);
  const std::vector<double> p = model.parameters();
  std::vector<double> x = model.zero_state();
  x[2] = 0.1;
  for (int k = 0; k < 500; ++k) {
    const HardContactResult r = hard_contact_step(model, p, x, {}, dt);
    x = r.state;
    ASSERT_EQ(r.contacts, 1U);
    const auto f = total_impulse(r.impulses);
    if (k > 2) {
      EXPECT_NEAR(f[2], m * kG * dt, 1e-9 * m * kG * dt) << "step " << k;
    }
    EXPECT_NEAR(f[0], 0.0, 1e-12);
    EXPECT_NEAR(f[1], 0.0, 1e-12);
  }
  EXPECT_NEAR(x[2], 0.1, 1e-8);  // no sinking: the barrier leaves smoothing / lambda of a gap
  for (int k = 7; k < 13; ++k) EXPECT_NEAR(x[k], 0.0, 1e-8);
}

TEST(HardContact, BoxRestsOnFourCornersWithoutDrift) {
  const double dt = 1e-3;
  const Model model = box(0.0, 0.0, 0.5);
  const std::vector<double> p = model.parameters();
  std::vector<double> x = model.zero_state();
  x[2] = kHalf;
  HardContactResult r;
  for (int k = 0; k < 1000; ++k) {
    r = hard_contact_step(model, p, x, {}, dt);
    x = r.state;
  }
  EXPECT_EQ(r.contacts, 4U);  // the bottom corners; the top ones are beyond the margin
  const auto f = total_impulse(r.impulses);
  EXPECT_NEAR(f[2], kG * dt, 1e-9 * kG * dt);
  EXPECT_NEAR(x[0], 0.0, 1e-12);
  EXPECT_NEAR(x[1], 0.0, 1e-12);
  EXPECT_NEAR(x[2], kHalf, 1e-8);
  EXPECT_NEAR(x[3], 1.0, 1e-12);  // no rotation
  for (int k = 7; k < 13; ++k) EXPECT_NEAR(x[k], 0.0, 1e-8);
}

TEST(HardContact, StepAndRolloutSelectHardContactByTheModelOption) {
  const Model model = box(0.0, 0.0, 0.5);
  const std::vector<double> p = model.parameters();
  std::vector<double> x = model.zero_state();
  x[2] = kHalf + 0.01;
  const std::vector<double> a = hard_contact_step(model, p, x, {}, 1e-3).state;
  EXPECT_EQ(step(model, p, x, {}, 1e-3), a);
  const std::vector<double> states = rollout(model, p, x, {}, 1, 1e-3);
  EXPECT_EQ(std::vector<double>(states.begin() + 13, states.end()), a);
  // The tape's node gives the same numbers.
  TensorTape tape;
  const TensorVar xs = tape.var(Tensor::from_data(x, {x.size()}));
  const TensorVar us = tape.constant(Tensor::zeros({0}));
  const TensorVar ps = tape.constant(Tensor::from_data(p, {p.size()}));
  const TensorVar next = step(model, xs, us, ps, 1e-3);
  const TensorView v = tape.view(next);
  EXPECT_EQ(std::vector<double>(v.values, v.values + v.numel()), a);
}

// The smoothed barrier's share of a sliding contact's friction budget: each of the five pairs
// of the cone (four directions and the slip) holds about smoothing / slip of impulse off it, so
// |f_t| falls short of mu f_n by at most ~16 smoothing / slip per contact.
double barrier_deficit(std::size_t contacts, double smoothing, double slip) {
  return 16.0 * static_cast<double>(contacts) * smoothing / slip;
}

// Below the friction angle the box sticks: no creep beyond the barrier's smoothing / lambda
// (the smoothed penalty law creeps at eps s / sqrt(1 - s^2), about 4 mm/s here), vanishing with
// the smoothing, and friction holds the weight's slope part.
TEST(HardContact, BoxOnInclineBelowFrictionAngleSticks) {
  const double angle = 0.2, heading = 0.7, mu = 0.5, dt = 1e-3;
  const auto run = [&](double smoothing, double& max_slip, std::array<double, 3>& f) {
    const Model model = box(angle, heading, mu, smoothing);
    const std::vector<double> p = model.parameters();
    std::vector<double> x = model.zero_state();
    x[2] = kHalf;
    max_slip = 0.0;
    for (int k = 0; k < 1000; ++k) {
      const HardContactResult r = hard_contact_step(model, p, x, {}, dt);
      x = r.state;
      max_slip = std::max(max_slip, std::hypot(x[7], x[8]));
      f = total_impulse(r.impulses);
    }
    return std::hypot(x[0], x[1]);  // the distance crept in 1 s
  };
  double slip = 0.0, fine_slip = 0.0;
  std::array<double, 3> f{}, fine_f{};
  EXPECT_LT(run(1e-10, slip, f), 1e-6);
  EXPECT_LT(slip, 1e-6);
  EXPECT_LT(run(1e-12, fine_slip, fine_f), 1e-8);
  EXPECT_LT(fine_slip, slip / 30.0);  // creep is the smoothing's, not the law's
  EXPECT_NEAR(f[2], kG * std::cos(angle) * dt, 1e-8);
  EXPECT_NEAR(f[0], -kG * std::sin(angle) * std::cos(heading) * dt, 1e-8);
  EXPECT_NEAR(f[1], -kG * std::sin(angle) * std::sin(heading) * dt, 1e-8);
  EXPECT_LT(std::hypot(f[0], f[1]), mu * f[2]);  // strictly inside the cone
}

// Above it the box slides at g (sin - mu cos) along the downhill direction, which lies along no
// axis, with the friction on the cone, |f_t| = mu f_n, and exactly against the slip.
TEST(HardContact, BoxOnInclineAboveFrictionAngleSlidesAtCoulombAcceleration) {
  const double angle = 0.5, heading = 0.6, mu = 0.3, dt = 1e-3, smoothing = 1e-10;
  const Model model = box(angle, heading, mu, smoothing);
  const std::vector<double> p = model.parameters();
  std::vector<double> x = model.zero_state();
  x[2] = kHalf;
  const double a = kG * (std::sin(angle) - mu * std::cos(angle));
  for (int k = 0; k < 500; ++k) {
    const double speed = std::hypot(x[7], x[8]);
    const HardContactResult r = hard_contact_step(model, p, x, {}, dt);
    x = r.state;
    const double next_speed = std::hypot(x[7], x[8]);
    const double deficit = barrier_deficit(4, smoothing, next_speed);
    EXPECT_NEAR((next_speed - speed) / dt, a, deficit / dt) << "step " << k;
    EXPECT_NEAR(std::atan2(x[8], x[7]), heading, 1e-8);
    const auto f = total_impulse(r.impulses);
    EXPECT_NEAR(std::hypot(f[0], f[1]), mu * f[2], deficit) << "step " << k;
    const double cosine = (f[0] * x[7] + f[1] * x[8]) / (std::hypot(f[0], f[1]) * next_speed);
    EXPECT_LT(cosine, -1.0 + 1e-10);
  }
  EXPECT_NEAR(std::hypot(x[7], x[8]), a * 0.5, 1e-5 * a);
}

// A slip that turns: thrown across the incline, the box's slip direction rotates towards the
// downhill one, and the friction follows it, against the slip at every step, on the cone. Two
// independent 2-D cones (one per axis) would put mu f_n on each axis (|f_t| = sqrt(2) mu f_n).
TEST(HardContact, FrictionOpposesATurningSlipOnTheCone) {
  const double angle = 0.5, heading = 0.6, mu = 0.3, dt = 1e-3, smoothing = 1e-10;
  const Model model = box(angle, heading, mu, smoothing);
  const std::vector<double> p = model.parameters();
  std::vector<double> x = model.zero_state();
  x[2] = kHalf;
  x[7] = -1.5 * std::sin(heading);  // across the slope
  x[8] = 1.5 * std::cos(heading);
  const double first_direction = std::atan2(x[8], x[7]);
  for (int k = 0; k < 300; ++k) {
    const HardContactResult r = hard_contact_step(model, p, x, {}, dt);
    x = r.state;
    const auto f = total_impulse(r.impulses);
    const double speed = std::hypot(x[7], x[8]);
    EXPECT_NEAR(std::hypot(f[0], f[1]), mu * f[2], barrier_deficit(4, smoothing, speed))
        << "step " << k;
    const double cosine = (f[0] * x[7] + f[1] * x[8]) / (std::hypot(f[0], f[1]) * speed);
    EXPECT_LT(cosine, -1.0 + 1e-10) << "step " << k;
    EXPECT_LT(std::abs(x[10]) + std::abs(x[11]) + std::abs(x[12]), 1e-6);  // no spin
  }
  // The slip has turned by tens of degrees: a test of every direction in between.
  EXPECT_GT(std::abs(std::atan2(x[8], x[7]) - first_direction), 0.3);
}

TEST(HardContact, EnergyDoesNotGrowOnADrop) {
  const double dt = 1e-3;
  Geom g;
  g.type = ShapeType::kBox;
  g.size = {0.1, 0.1, 0.1};
  const double I = 2.0 * 0.01 / 3.0;  // a cube: gyroscopic terms vanish
  const Model model = single_body(g, 1.0, {I, I, I, 0, 0, 0}, 0.0, 0.0, 0.6, 1e-8);
  const std::vector<double> p = model.parameters();
  std::vector<double> x = model.zero_state();
  x[2] = 0.4;
  x[3] = std::cos(0.2);  // tilted about x, so a corner lands first
  x[4] = std::sin(0.2);
  x[7] = 0.5;
  x[10] = 2.0;
  x[12] = 1.0;
  double previous = energy(model, p, x).total();
  const double start = previous;
  for (int k = 0; k < 800; ++k) {
    x = hard_contact_step(model, p, x, {}, dt).state;
    const double e = energy(model, p, x).total();
    EXPECT_LE(e, previous + 1e-6) << "step " << k;
    previous = e;
  }
  EXPECT_LT(previous, start - 0.5);  // the impact is inelastic
  EXPECT_GT(x[2], 0.09);             // resting on the ground, not through it
}

// Loss: a fixed random weighting of the final state and of every step's impulses.
struct Rollout {
  const Model& model;
  std::size_t steps;
  double dt;
  std::vector<double> state_weights, impulse_weights;

  double plain(const std::vector<double>& x0, const std::vector<double>& controls,
               const std::vector<double>& p) const {
    std::vector<double> x = x0;
    double loss = 0.0;
    for (std::size_t t = 0; t < steps; ++t) {
      const std::vector<double> u(controls.begin() + static_cast<long>(t * model.nu()),
                                  controls.begin() + static_cast<long>((t + 1) * model.nu()));
      const HardContactResult r = hard_contact_step(model, p, x, u, dt);
      x = r.state;
      for (std::size_t k = 0; k < r.impulses.size(); ++k)
        loss += impulse_weights[k] * r.impulses[k];
    }
    for (std::size_t k = 0; k < x.size(); ++k) loss += state_weights[k] * x[k];
    return loss;
  }

  // Gradients with respect to x0, the controls and the parameters, through the tape.
  void gradient(const std::vector<double>& x0, const std::vector<double>& controls,
                const std::vector<double>& p, std::vector<double>& g_x, std::vector<double>& g_u,
                std::vector<double>& g_p) const {
    TensorTape tape;
    const TensorVar xs = tape.var(Tensor::from_data(x0, {x0.size()}));
    const TensorVar us = tape.var(Tensor::from_data(controls, {controls.size()}));
    const TensorVar ps = tape.var(Tensor::from_data(p, {p.size()}));
    const std::size_t points = model.contact_points().size();
    const TensorVar wi = tape.constant(Tensor::from_data(impulse_weights, {points, 3}));
    const TensorVar wx = tape.constant(Tensor::from_data(state_weights, {model.nx()}));
    TensorVar x = xs;
    TensorVar loss = tape.constant(Tensor::zeros({}));
    for (std::size_t t = 0; t < steps; ++t) {
      const auto nu = static_cast<long>(model.nu());
      const TensorVar u = slice(us, 0, static_cast<long>(t) * nu, static_cast<long>(t + 1) * nu);
      const HardContactVars r = hard_contact_step(model, x, u, ps, dt);
      x = r.state;
      loss = loss + sum(r.impulses * wi);
    }
    loss = loss + sum(x * wx);
    const TensorGradients g = tape.grad(loss);
    const auto copy = [](const Tensor& t) {
      const std::span<const double> values = t.data();
      return std::vector<double>(values.begin(), values.end());
    };
    g_x = copy(g[xs]);
    g_u = copy(g[us]);
    g_p = copy(g[ps]);
  }
};

// Central differences of `f` in every entry of `v` (the five-point stencil, error O(h^4): the
// barrier's curvature makes the three-point one's O(h^2) visible at 1e-6); the error relative
// to the largest entry.
template <class F>
double relative_error(const std::vector<double>& analytic, std::vector<double> v, F&& f,
                      double h = 1e-6) {
  double error = 0.0, scale = 1e-8;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double keep = v[i];
    const auto at = [&](double offset) {
      v[i] = keep + offset;
      const double value = f(v);
      v[i] = keep;
      return value;
    };
    const double fd = (8.0 * (at(h) - at(-h)) - (at(2.0 * h) - at(-2.0 * h))) / (12.0 * h);
    error = std::max(error, std::abs(fd - analytic[i]));
    scale = std::max(scale, std::abs(fd));
  }
  return error / scale;
}

std::vector<double> random_weights(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  std::vector<double> w(n);
  for (double& x : w) x = unit(rng);
  return w;
}

TEST(HardContactGradient, SlidingBoxMatchesCentralDifferences) {
  const Model model = box(0.5, 0.6, 0.3, 1e-8);
  std::vector<double> x0 = model.zero_state();
  x0[2] = kHalf + 1e-5;
  x0[7] = -0.4;  // sliding across the slope
  x0[8] = 0.3;
  x0[9] = -0.1;  // landing
  x0[10] = 0.05;
  const std::vector<double> p = model.parameters();
  // Settled onto its corners (a landing's barrier is too curved for central differences of
  // 1e-6; they agree there as h shrinks, to 7e-7 at h = 1e-7).
  for (int k = 0; k < 20; ++k) x0 = hard_contact_step(model, p, x0, {}, 1e-3).state;
  const Rollout rollout{model, 6, 1e-3, random_weights(model.nx(), 1),
                        random_weights(3 * model.contact_points().size(), 2)};
  std::vector<double> g_x, g_u, g_p;
  rollout.gradient(x0, {}, p, g_x, g_u, g_p);
  EXPECT_LT(relative_error(g_x, x0,
                           [&](const std::vector<double>& v) { return rollout.plain(v, {}, p); }),
            1e-6);
  EXPECT_LT(relative_error(g_p, p,
                           [&](const std::vector<double>& v) { return rollout.plain(x0, {}, v); }),
            1e-6);
  // Mass and friction matter (the loss weights the impulses, mu lambda_n of a sliding box).
  EXPECT_GT(std::abs(g_p[PL::kMass]), 1e-5);
  EXPECT_GT(std::abs(g_p[PL::kPerBody + PL::kFriction]), 1e-3);
}

// A driven tree: a cart sliding along x (motor), a vertical slide, and an arm on a hinge about y
// (motor) whose tip is a ball on the ground. Its mass matrix is dense; the controls push the ball
// along the ground against friction.
Model driven_arm(double smoothing = 1e-8) {
  std::vector<Body> bodies(3);
  bodies[0].name = "cart";
  bodies[0].joint = JointType::kPrismatic;
  bodies[0].axis = {1, 0, 0};
  bodies[0].mass = 0.5;
  bodies[0].inertia = {0.01, 0.01, 0.01, 0, 0, 0};
  bodies[1].name = "lift";
  bodies[1].parent = 0;
  bodies[1].joint = JointType::kPrismatic;
  bodies[1].axis = {0, 0, 1};
  bodies[1].mass = 0.5;
  bodies[1].inertia = {0.01, 0.01, 0.01, 0, 0, 0};
  bodies[1].joint_position = {0, 0, 0.05};
  bodies[2].name = "arm";
  bodies[2].parent = 1;
  bodies[2].joint = JointType::kRevolute;
  bodies[2].axis = {0, 1, 0};
  bodies[2].mass = 1.0;
  bodies[2].com = {0.15, 0, 0};
  bodies[2].inertia = {0.001, 0.01, 0.01, 0, 0, 0};
  Geom ball;
  ball.type = ShapeType::kSphere;
  ball.radius = 0.05;
  ball.position = {0.3, 0, 0};
  bodies[2].geoms = {ball};
  std::vector<Actuator> actuators(2);
  actuators[0].name = "push";
  actuators[0].body = 0;
  actuators[1].name = "twist";
  actuators[1].body = 2;
  ModelOptions options;
  options.planes = {Plane{}};
  options.friction = 0.4;
  options.contact_model = ContactModel::kHard;
  options.hard_contact.tolerance = 1e-12;  // central differences see the solver's residuals
  options.hard_contact.smoothing = smoothing;
  return Model(bodies, actuators, options);
}

TEST(HardContactGradient, DrivenArmMatchesCentralDifferencesInStateControlsAndParameters) {
  const Model model = driven_arm();
  std::vector<double> x0 = model.zero_state();
  x0[1] = 1e-5;                   // the lift: the ball just above the ground
  x0[3] = 0.2;                    // the cart moving
  x0[4] = -0.05;                  // the lift coming down
  x0[5] = 0.3;                    // the arm swinging its ball down
  for (int k = 0; k < 20; ++k) {  // landed
    x0 = hard_contact_step(model, model.parameters(), x0, std::vector<double>{3.0, -0.5}, 1e-3)
             .state;
  }
  const std::size_t steps = 6;
  std::vector<double> controls(steps * model.nu());
  for (std::size_t t = 0; t < steps; ++t) {
    controls[2 * t] = 3.0 + 0.2 * static_cast<double>(t);
    controls[2 * t + 1] = -0.5;
  }
  const std::vector<double> p = model.parameters();
  const Rollout rollout{model, steps, 1e-3, random_weights(model.nx(), 3),
                        random_weights(3 * model.contact_points().size(), 4)};
  // The ball is in contact and sliding at the end.
  {
    std::vector<double> x = x0;
    for (std::size_t t = 0; t < steps; ++t) {
      const HardContactResult r = hard_contact_step(
          model, p, x, std::vector<double>(controls.begin() + 2 * t, controls.begin() + 2 * t + 2),
          1e-3);
      x = r.state;
      if (t + 1 == steps) {
        ASSERT_GT(r.impulses[2], 1e-4);
      }
    }
  }
  std::vector<double> g_x, g_u, g_p;
  rollout.gradient(x0, controls, p, g_x, g_u, g_p);
  EXPECT_LT(
      relative_error(g_x, x0,
                     [&](const std::vector<double>& v) { return rollout.plain(v, controls, p); }),
      1e-6);
  // The controls' gradients are small (their effect over 6 ms), so a larger step keeps the
  // loss's rounding out of the difference.
  EXPECT_LT(relative_error(
                g_u, controls,
                [&](const std::vector<double>& v) { return rollout.plain(x0, v, p); }, 1e-4),
            1e-6);
  EXPECT_LT(
      relative_error(g_p, p,
                     [&](const std::vector<double>& v) { return rollout.plain(x0, controls, v); }),
      1e-6);
  EXPECT_GT(std::abs(g_p[2 * PL::kPerBody + PL::kMass]), 1e-4);      // the arm's mass
  EXPECT_GT(std::abs(g_p[3 * PL::kPerBody + PL::kFriction]), 1e-4);  // friction
}

// The fused node against its composed twin (problem node and update node in forward mode, the
// bare solve between them): the same step differentiated another way. Loss: weighted final state
// of a rollout; gradient with respect to state, controls and parameters.
void expect_twin_agrees(const Model& model, const std::vector<double>& x0,
                        const std::vector<double>& controls, std::size_t steps) {
  const std::vector<double> p = model.parameters();
  const std::vector<double> weights = random_weights(model.nx(), 9);
  std::vector<double> value[2], g_x[2], g_u[2], g_p[2];
  for (int twin = 0; twin < 2; ++twin) {
    TensorTape tape;
    const TensorVar xs = tape.var(Tensor::from_data(x0, {x0.size()}));
    const TensorVar us = tape.var(Tensor::from_data(controls, {controls.size()}));
    const TensorVar ps = tape.var(Tensor::from_data(p, {p.size()}));
    TensorVar x = xs;
    for (std::size_t t = 0; t < steps; ++t) {
      const auto nu = static_cast<long>(model.nu());
      const TensorVar u = slice(us, 0, static_cast<long>(t) * nu, static_cast<long>(t + 1) * nu);
      x = twin == 0 ? hard_contact_step(model, x, u, ps, 1e-3).state
                    : hard_contact_step_composed(model, x, u, ps, 1e-3);
    }
    const TensorView final_state = tape.view(x);
    value[twin].assign(final_state.values, final_state.values + final_state.numel());
    const TensorGradients g =
        tape.grad(sum(x * tape.constant(Tensor::from_data(weights, {model.nx()}))));
    const auto copy = [](const Tensor& t) {
      const std::span<const double> values = t.data();
      return std::vector<double>(values.begin(), values.end());
    };
    g_x[twin] = copy(g[xs]);
    g_u[twin] = copy(g[us]);
    g_p[twin] = copy(g[ps]);
  }
  for (std::size_t k = 0; k < value[0].size(); ++k) EXPECT_NEAR(value[0][k], value[1][k], 1e-12);
  const auto expect_close = [](const std::vector<double>& a, const std::vector<double>& b,
                               const char* what) {
    double scale = 1e-12;
    for (const double v : b) scale = std::max(scale, std::abs(v));
    for (std::size_t k = 0; k < a.size(); ++k) {
      EXPECT_NEAR(a[k], b[k], 1e-9 * scale) << what << " " << k;
    }
  };
  expect_close(g_x[0], g_x[1], "state");
  expect_close(g_u[0], g_u[1], "control");
  expect_close(g_p[0], g_p[1], "parameter");
}

TEST(HardContactGradient, FusedStepMatchesItsComposedTwin) {
  const Model box_model = box(0.5, 0.6, 0.3, 1e-8);
  std::vector<double> x0 = box_model.zero_state();
  x0[2] = kHalf;
  x0[7] = -0.4;
  x0[8] = 0.3;
  x0[10] = 0.05;
  expect_twin_agrees(box_model, x0, {}, 5);
  // At the default smoothing 1e-8 the two differ by 5e-8 (relative) on this tree: the transposed
  // KKT system's rounding, which grows as 1 / smoothing (at 1e-6 they agree to 1e-9).
  const Model arm = driven_arm(1e-6);
  std::vector<double> y0 = arm.zero_state();
  y0[1] = 1e-5;
  y0[3] = 0.2;
  y0[4] = -0.05;
  y0[5] = 0.3;
  std::vector<double> controls;
  for (int t = 0; t < 5; ++t) controls.insert(controls.end(), {3.0, -0.5});
  expect_twin_agrees(arm, y0, controls, 5);
}

// Step Jacobians (the fused node's adjoint, row by row) against five-point central differences
// of the plain step, column by column, at two states of a rollout. A position moves the contact
// offsets by h / dt, on the barrier's scale smoothing / lambda (~1e-6 m/s): h = 1e-8 keeps the
// differences in its linear range (at 1e-6 they are off by 3e-5; at 1e-8 they agree to 1e-9).
void expect_step_jacobians(const Model& model, std::vector<double> x, std::vector<double> u) {
  const std::vector<double> p = model.parameters();
  const std::size_t nx = model.nx(), nu = model.nu(), np = model.num_parameters();
  std::vector<double> states, controls;
  for (int t = 0; t < 2; ++t) {
    states.insert(states.end(), x.begin(), x.end());
    controls.insert(controls.end(), u.begin(), u.end());
    x = hard_contact_step(model, p, x, u, 1e-3).state;
  }
  const StepJacobians J = step_jacobians(model, Tensor::from_data(states, {2, nx}),
                                         Tensor::from_data(controls, {2, nu}), p, 1e-3,
                                         Integrator::kSemiImplicitEuler, true);
  for (std::size_t t = 0; t < 2; ++t) {
    const std::vector<double> xt(states.begin() + static_cast<long>(t * nx),
                                 states.begin() + static_cast<long>((t + 1) * nx));
    const std::vector<double> ut(controls.begin() + static_cast<long>(t * nu),
                                 controls.begin() + static_cast<long>((t + 1) * nu));
    // Column j of d x1 / d (block) against differences of the plain step in entry j.
    const auto check = [&](const Tensor& jacobian, std::size_t width, const char* what,
                           const auto& next_of, double h) {
      const std::span<const double> values = jacobian.data();
      double error = 0.0, scale = 1e-8;
      for (std::size_t j = 0; j < width; ++j) {
        std::vector<double> difference(nx, 0.0);
        const double weights[4] = {8.0, -8.0, -1.0, 1.0};
        const double offsets[4] = {h, -h, 2.0 * h, -2.0 * h};
        for (int k = 0; k < 4; ++k) {
          const std::vector<double> next = next_of(j, offsets[k]);
          for (std::size_t i = 0; i < nx; ++i) difference[i] += weights[k] * next[i] / (12.0 * h);
        }
        for (std::size_t i = 0; i < nx; ++i) {
          error = std::max(error, std::abs(values[(t * nx + i) * width + j] - difference[i]));
          scale = std::max(scale, std::abs(difference[i]));
        }
      }
      EXPECT_LT(error / scale, 1e-6) << what << " at step " << t;
    };
    check(
        J.state, nx, "d x1 / d x",
        [&](std::size_t j, double offset) {
          std::vector<double> y = xt;
          y[j] += offset;
          return hard_contact_step(model, p, y, ut, 1e-3).state;
        },
        1e-8);
    check(
        J.control, nu, "d x1 / d u",
        [&](std::size_t j, double offset) {
          std::vector<double> v = ut;
          v[j] += offset;
          return hard_contact_step(model, p, xt, v, 1e-3).state;
        },
        1e-4);
    check(
        J.parameters, np, "d x1 / d p",
        [&](std::size_t j, double offset) {
          std::vector<double> q = p;
          q[j] += offset;
          return hard_contact_step(model, q, xt, ut, 1e-3).state;
        },
        1e-8);
  }
}

TEST(HardContactGradient, StepJacobiansMatchCentralDifferences) {
  const Model box_model = box(0.5, 0.6, 0.3, 1e-8);
  std::vector<double> x0 = box_model.zero_state();
  x0[2] = kHalf;
  x0[7] = -0.4;
  x0[8] = 0.3;
  for (int k = 0; k < 20; ++k)
    x0 = hard_contact_step(box_model, box_model.parameters(), x0, {}, 1e-3).state;
  expect_step_jacobians(box_model, x0, {});
  const Model arm = driven_arm();
  std::vector<double> y0 = arm.zero_state();
  y0[1] = 1e-5;
  y0[3] = 0.2;
  y0[4] = -0.05;
  y0[5] = 0.3;
  for (int k = 0; k < 20; ++k)
    y0 = hard_contact_step(arm, arm.parameters(), y0, std::vector<double>{3.0, -0.5}, 1e-3).state;
  expect_step_jacobians(arm, y0, {3.0, -0.5});
  // Batched over two worlds with their own parameters: each world's block is the single call's.
  std::vector<double> p2 = arm.parameters();
  p2[3 * ParameterLayout::kPerBody + ParameterLayout::kFriction] = 0.6;
  std::vector<double> both_params = arm.parameters();
  both_params.insert(both_params.end(), p2.begin(), p2.end());
  std::vector<double> both_states = y0, both_controls = {3.0, -0.5, 3.0, -0.5};
  both_states.insert(both_states.end(), y0.begin(), y0.end());
  const StepJacobians batched =
      batched_step_jacobians(arm, Tensor::from_data(both_states, {2, 1, arm.nx()}),
                             Tensor::from_data(both_controls, {2, 1, arm.nu()}),
                             Tensor::from_data(both_params, {2, arm.num_parameters()}), 1e-3,
                             Integrator::kSemiImplicitEuler, true);
  const StepJacobians second = step_jacobians(arm, Tensor::from_data(y0, {1, arm.nx()}),
                                              Tensor::from_data({3.0, -0.5}, {1, arm.nu()}), p2,
                                              1e-3, Integrator::kSemiImplicitEuler, true);
  const std::size_t block = arm.nx() * arm.num_parameters();
  for (std::size_t k = 0; k < block; ++k) {
    EXPECT_EQ(batched.parameters.data()[block + k], second.parameters.data()[k]);
  }
}

#if MAYA_HAS_URDFDOM && MAYA_HAS_TINYXML2
// A robot from a file: a tree of 13 bodies (18 velocities, a dense mass matrix) with feet and
// trunk corners as contacts, unpowered, comes to rest carrying its weight.
TEST(HardContact, QuadrupedDroppedOnTheGroundCarriesItsWeight) {
  UrdfOptions floating;
  floating.floating_base = true;
  floating.ground_plane = true;
  const Model loaded =
      load_urdf(std::string(MAYA_SOURCE_DIR) + "/examples/robots/quadruped.urdf", floating);
  ModelOptions options = loaded.options();
  options.contact_model = ContactModel::kHard;
  const Model model(loaded.bodies(), loaded.actuators(), options);
  std::vector<double> x = model.zero_state();
  x[2] = 0.45;
  for (std::size_t leg = 0; leg < 4; ++leg) x[7 + 3 * leg + 2] = -0.5;  // knees bent in range
  const std::vector<double> p = model.parameters();
  const std::vector<double> u(model.nu(), 0.0);
  const double dt = 5e-4;
  HardContactResult r;
  for (int i = 0; i < 3000; ++i) {
    r = hard_contact_step(model, p, x, u, dt);
    x = r.state;
  }
  double weight = 0.0;
  for (const Body& b : model.bodies()) weight += b.mass * kG;
  EXPECT_NEAR(total_impulse(r.impulses)[2] / dt, weight, 0.01 * weight);
  EXPECT_GT(x[2], 0.05 - 1e-6);  // the trunk (0.1 m high) on or above the ground, not in it
  EXPECT_LT(energy(model, p, x).kinetic, 1e-3);  // at rest
}
#endif

template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const ValueError& e) {
    return e.what();
  }
  return "no ValueError";
}

TEST(HardContact, BadInputThrowsValueErrorNamingTheValue) {
  const Model model = box(0.0, 0.0, 0.5);
  const std::vector<double> x = model.zero_state();
  std::vector<double> p = model.parameters();
  p[PL::kPerBody + PL::kFriction] = -0.3;
  EXPECT_NE(message_of([&] { (void)hard_contact_step(model, p, x, {}, 1e-3); }).find("-0.3"),
            std::string::npos);
  p = model.parameters();
  p[PL::kMass] = -2.0;
  EXPECT_NE(message_of([&] { (void)hard_contact_step(model, p, x, {}, 1e-3); }).find("-2"),
            std::string::npos);
  p = model.parameters();
  EXPECT_NE(message_of([&] { (void)hard_contact_step(model, p, x, {}, -1e-3); }).find("dt"),
            std::string::npos);
  EXPECT_NE(
      message_of([&] { (void)step(model, p, x, {}, 1e-3, Integrator::kRungeKutta4); }).find("RK4"),
      std::string::npos);
  EXPECT_NE(message_of([&] { (void)contact_forces(model, model.parameters(), x); }).find("kHard"),
            std::string::npos);
  // The tape's step checks the same.
  TensorTape tape;
  p[PL::kPerBody + PL::kFriction] = -0.3;
  const TensorVar xs = tape.var(Tensor::from_data(x, {x.size()}));
  const TensorVar ps = tape.var(Tensor::from_data(p, {p.size()}));
  EXPECT_NE(message_of([&] {
              (void)hard_contact_step(model, xs, tape.constant(Tensor::zeros({0})), ps, 1e-3);
            }).find("-0.3"),
            std::string::npos);
  // Options are checked when the model is built.
  Body body = model.body(0);
  ModelOptions options = model.options();
  options.hard_contact.smoothing = -1e-8;
  EXPECT_NE(message_of([&] { Model bad({body}, {}, options); }).find("smoothing"),
            std::string::npos);
  options = model.options();
  options.hard_contact.stabilization = 1.5;
  EXPECT_NE(message_of([&] { Model bad({body}, {}, options); }).find("1.5"), std::string::npos);
  // Two free bodies that could touch each other are accepted: their pairs are hard contacts too
  // (hard_body_contact_test.cpp).
  Body other = body;
  other.name = "other";
  options = model.options();
  EXPECT_EQ(Model({body, other}, {}, options).contact_pairs().size(), 1U);
}

}  // namespace
}  // namespace maya::multibody
