// Penalty contact in 3-D: resting, rolling and sliding on an incline against Coulomb's law and
// closed forms; contact forces as differentiable outputs.
#include <gtest/gtest.h>

#include <cmath>

#include "maya/multibody/differentiable.hpp"
#include "maya/multibody/dynamics.hpp"
#include "maya/tensor/gradcheck.hpp"
#include "maya/tensor/ops.hpp"

namespace maya::multibody {
namespace {

constexpr double kG = 9.81;

// One free body with one geom above the plane z = 0; the incline is modelled by tilting gravity
// by `angle` about y (downhill is +x).
Model single_body(Geom geom, double mass, std::array<double, 6> inertia, double angle,
                  double friction) {
  Body body;
  body.name = "body";
  body.joint = JointType::kFree;
  body.mass = mass;
  body.inertia = inertia;
  body.geoms = {geom};
  ModelOptions options;
  options.gravity = {kG * std::sin(angle), 0.0, -kG * std::cos(angle)};
  options.planes = {Plane{}};
  options.friction = friction;
  options.contact_damping = 10.0;
  return Model({body}, {}, options);
}

Model box(double angle, double friction) {
  Geom g;
  g.type = ShapeType::kBox;
  g.size = {0.1, 0.1, 0.05};
  const double m = 1.0;
  const double ixx = m * (0.1 * 0.1 + 0.05 * 0.05) / 3.0, izz = m * (0.1 * 0.1 + 0.1 * 0.1) / 3.0;
  return single_body(g, m, {ixx, ixx, izz, 0, 0, 0}, angle, friction);
}

std::vector<double> simulate(const Model& model, std::vector<double> x, double seconds,
                             double dt = 5e-4) {
  const std::vector<double> p = model.parameters();
  const auto steps = static_cast<std::size_t>(std::lround(seconds / dt));
  for (std::size_t i = 0; i < steps; ++i) x = step(model, p, x, {}, dt);
  return x;
}

// Sum of the contact forces, world frame.
std::array<double, 3> total_force(const Model& model, const std::vector<double>& x) {
  const std::vector<double> f = contact_forces(model, model.parameters(), x);
  std::array<double, 3> sum{0, 0, 0};
  for (std::size_t i = 0; i < f.size(); ++i) sum[i % 3] += f[i];
  return sum;
}

TEST(Contact, SphereRestsWithHuntCrossleyDepthAndWeightAsNormalForce) {
  Geom g;
  g.type = ShapeType::kSphere;
  g.radius = 0.1;
  const double I = 0.4 * 0.1 * 0.1;
  const Model model = single_body(g, 2.0, {I, I, I, 0, 0, 0}, 0.0, 1.0);
  std::vector<double> x = model.zero_state();
  x[2] = 0.1;
  x = simulate(model, x, 1.0);
  const double depth = std::pow(2.0 * kG / model.options().contact_stiffness, 1.0 / 1.5);
  EXPECT_NEAR(x[2], 0.1 - depth, 1e-6);
  const auto f = total_force(model, x);
  EXPECT_NEAR(f[2], 2.0 * kG, 1e-3);
  EXPECT_NEAR(f[0], 0.0, 1e-6);
}

TEST(Contact, CapsuleLyingDownRestsOnBothEnds) {
  Geom g;
  g.type = ShapeType::kCapsule;
  g.radius = 0.05;
  g.half_length = 0.2;
  g.orientation = {std::sqrt(0.5), 0.0, std::sqrt(0.5), 0.0};  // its axis along world x
  const Model model = single_body(g, 1.0, {0.01, 0.02, 0.02, 0, 0, 0}, 0.0, 1.0);
  std::vector<double> x = model.zero_state();
  x[2] = 0.05;
  x = simulate(model, x, 1.0);
  const std::vector<double> f = contact_forces(model, model.parameters(), x);
  ASSERT_EQ(f.size(), 6U);
  EXPECT_NEAR(f[2], 0.5 * kG, 1e-3);
  EXPECT_NEAR(f[5], 0.5 * kG, 1e-3);
}

TEST(Contact, BoxOnInclineBelowFrictionAngleStaysAtCoulombCreep) {
  const double angle = 0.2, mu = 0.5;
  const Model model = box(angle, mu);
  std::vector<double> x = model.zero_state();
  x[2] = 0.05;
  x = simulate(model, x, 1.0);
  // Smoothed Coulomb: mu N v / sqrt(v^2 + eps^2) = m g sin: v = eps s / sqrt(1 - s^2).
  const double s = std::tan(angle) / mu, eps = model.options().friction_smoothing;
  EXPECT_NEAR(x[7], eps * s / std::sqrt(1.0 - s * s), 5e-5);
  const auto f = total_force(model, x);
  EXPECT_NEAR(f[2], kG * std::cos(angle), 1e-3);
  EXPECT_NEAR(-f[0], kG * std::sin(angle), 1e-3);  // friction holds the weight's slope part
  EXPECT_LT(std::abs(f[0]), mu * f[2]);            // inside the cone
}

TEST(Contact, BoxOnInclineAboveFrictionAngleSlidesAtCoulombAcceleration) {
  const double angle = 0.5, mu = 0.3;
  const Model model = box(angle, mu);
  std::vector<double> x = model.zero_state();
  x[2] = 0.05;
  x = simulate(model, x, 0.05);  // settle onto the plane
  const double v0 = x[7];
  x = simulate(model, x, 0.5);
  const double acceleration = (x[7] - v0) / 0.5;
  EXPECT_NEAR(acceleration, kG * (std::sin(angle) - mu * std::cos(angle)), 0.01);
  const auto f = total_force(model, x);
  EXPECT_NEAR(-f[0] / f[2], mu, 1e-3);  // on the cone while sliding
}

TEST(Contact, SphereRollsDownAnInclineAtFiveSeventhsGSine) {
  Geom g;
  g.type = ShapeType::kSphere;
  g.radius = 0.1;
  const double I = 0.4 * 0.1 * 0.1;
  const double angle = 0.3;
  const Model model = single_body(g, 1.0, {I, I, I, 0, 0, 0}, angle, 1.0);
  std::vector<double> x = model.zero_state();
  x[2] = 0.1 - 1e-4;
  x = simulate(model, x, 0.05);
  const double v0 = x[7];
  x = simulate(model, x, 0.5);
  EXPECT_NEAR((x[7] - v0) / 0.5, 5.0 / 7.0 * kG * std::sin(angle), 0.01);
  // Rolling without slipping: the spin about y is v / r.
  EXPECT_NEAR(x[11], x[7] / 0.1, 0.01 * x[7] / 0.1);
}

TEST(Contact, ForcesAndStepsThroughContactAreDifferentiable) {
  const Model model = box(0.4, 0.3);
  std::vector<double> x0 = model.zero_state();
  x0[2] = 0.05;
  x0 = simulate(model, x0, 0.2);  // sliding, four corners in contact
  x0[10] = 0.3;                   // and a little spin about x: the corners load unevenly
  const Tensor inputs[] = {Tensor::from_data(x0, {x0.size()}),
                           Tensor::from_data(model.parameters(), {model.num_parameters()})};
  const GradcheckReport forces = gradcheck(
      [&](TensorTape& tape, std::span<const TensorVar> in) {
        const TensorVar f = contact_forces(model, in[0], in[1]);
        const TensorVar w = tape.constant(Tensor::uniform(f.value().shape(), -1, 1, 3));
        return sum(f * w);
      },
      inputs);
  EXPECT_LT(forces.max_error(), 1e-6);
  const GradcheckReport steps = gradcheck(
      [&](TensorTape& tape, std::span<const TensorVar> in) {
        const TensorVar u = tape.constant(Tensor::zeros({0}));
        TensorVar s = in[0];
        for (int t = 0; t < 5; ++t) s = step(model, s, u, in[1], 5e-4);
        const TensorVar w = tape.constant(Tensor::uniform({s.numel()}, -1, 1, 4));
        return sum(s * w);
      },
      inputs);
  EXPECT_LT(steps.max_error(), 1e-6);
  // The friction coefficient reaches the sliding speed.
  const std::size_t friction = ParameterLayout::kPerBody + ParameterLayout::kFriction;
  EXPECT_GT(std::abs(steps.analytic[1].data()[friction]), 1e-6);
}

}  // namespace
}  // namespace maya::multibody
