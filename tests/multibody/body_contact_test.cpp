// Penalty contact between bodies: momentum and energy through a head-on collision, resting
// stacks against the Hunt-Crossley closed form, pair filtering, and the gradient of collision
// rollouts (fused step, composed twin, step Jacobians) against central differences.
#include <gtest/gtest.h>

#include <cmath>

#include "maya/multibody/differentiable.hpp"
#include "maya/multibody/dynamics.hpp"
#include "maya/multibody/loaders.hpp"
#include "maya/tensor/gradcheck.hpp"
#include "maya/tensor/ops.hpp"
#include "test_models.hpp"

namespace maya::multibody {
namespace {

constexpr double kG = 9.81;

using testing::body;
using testing::box;
using testing::capsule;
using testing::sphere;

ModelOptions no_gravity(double damping, double friction) {
  ModelOptions options;
  options.gravity = {0, 0, 0};
  options.contact_damping = damping;
  options.friction = friction;
  return options;
}

// Position and linear velocity of free root k: q = [x (3), quaternion (4)] per body, v = [v (3),
// w (3)] per body.
Vec3 position(const Model& m, const std::vector<double>& x, std::size_t k) {
  const std::size_t i = m.q_index(k);
  return {x[i], x[i + 1], x[i + 2]};
}
Vec3 velocity(const Model& m, const std::vector<double>& x, std::size_t k) {
  const std::size_t i = m.nq() + m.v_index(k);
  return {x[i], x[i + 1], x[i + 2]};
}

std::vector<double> run(const Model& model, std::vector<double> x, std::size_t steps, double dt) {
  const std::vector<double> p = model.parameters();
  for (std::size_t t = 0; t < steps; ++t) x = step(model, p, x, {}, dt);
  return x;
}

double kinetic_energy(const Model& model, const std::vector<double>& x) {
  double energy = 0.0;
  for (std::size_t k = 0; k < model.num_bodies(); ++k) {
    const Body& b = model.body(k);
    const std::size_t i = model.nq() + model.v_index(k);
    for (int a = 0; a < 3; ++a) {
      energy +=
          0.5 * b.mass * x[i + a] * x[i + a] + 0.5 * b.inertia[a] * x[i + 3 + a] * x[i + 3 + a];
    }
  }
  return energy;
}

TEST(BodyContact, HeadOnSpheresConserveMomentumAndWithoutDampingEnergy) {
  const Model model({body("a", sphere(0.1), 1.0, true), body("b", sphere(0.1), 2.0, true)}, {},
                    no_gravity(0.0, 0.0));
  ASSERT_EQ(model.contact_pairs().size(), 1U);
  std::vector<double> x = model.zero_state();
  x[model.q_index(0)] = -0.3;
  x[model.q_index(1)] = 0.3;
  x[model.nq() + model.v_index(0)] = 1.0;
  x[model.nq() + model.v_index(1)] = -0.5;
  const double p0 = 1.0 * 1.0 + 2.0 * -0.5, e0 = kinetic_energy(model, x);
  x = run(model, x, 8000, 1e-4);  // 0.8 s: the spheres met at 0.27 s and have parted
  const double va = velocity(model, x, 0)[0], vb = velocity(model, x, 1)[0];
  EXPECT_NEAR(1.0 * va + 2.0 * vb, p0, 1e-12);
  EXPECT_NEAR(kinetic_energy(model, x), e0, 1e-4 * e0);
  // An elastic collision's closed form: v_a' = ((m_a - m_b) v_a + 2 m_b v_b) / (m_a + m_b).
  EXPECT_NEAR(va, ((1.0 - 2.0) * 1.0 + 2 * 2.0 * -0.5) / 3.0, 1e-3);
  EXPECT_NEAR(vb, ((2.0 - 1.0) * -0.5 + 2 * 1.0 * 1.0) / 3.0, 1e-3);
  EXPECT_GT(position(model, x, 1)[0] - position(model, x, 0)[0], 0.2);
}

TEST(BodyContact, GlancingCollisionWithFrictionAndDampingConservesLinearMomentum) {
  const Model model({body("a", sphere(0.1), 1.0, true), body("b", capsule(0.08, 0.15), 1.5, true)},
                    {}, no_gravity(5.0, 0.6));
  std::vector<double> x = model.zero_state();
  x[model.q_index(0)] = -0.4;
  x[model.q_index(0) + 2] = 0.1;
  x[model.nq() + model.v_index(0)] = 2.0;
  x[model.nq() + model.v_index(0) + 4] = 20.0;  // spinning about y: friction acts
  const double e0 = kinetic_energy(model, x);
  x = run(model, x, 4000, 1e-4);
  const Vec3 va = velocity(model, x, 0), vb = velocity(model, x, 1);
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(1.0 * va[k] + 1.5 * vb[k], k == 0 ? 2.0 : 0.0, 1e-11) << k;
  }
  EXPECT_GT(std::abs(vb[2]), 1e-3);         // pushed off-centre and by friction
  EXPECT_LT(kinetic_energy(model, x), e0);  // damping and friction dissipate
}

// The resting depth of one contact carrying the weight w: k d^e = w.
double resting_depth(const Model& model, double weight) {
  return std::pow(weight / model.options().contact_stiffness,
                  1.0 / model.options().contact_exponent);
}

ModelOptions resting_options() {
  ModelOptions options;
  options.contact_damping = 20.0;
  options.friction = 0.5;
  return options;
}

TEST(BodyContact, SphereRestingOnAWeldedSphereCarriesItsWeight) {
  const Model model({body("base", sphere(0.2), 5.0, false), body("ball", sphere(0.1), 2.0, true)},
                    {}, resting_options());
  std::vector<double> x = model.zero_state();
  x[model.q_index(1) + 2] = 0.3;
  x = run(model, x, 4000, 2.5e-4);
  EXPECT_NEAR(position(model, x, 1)[2], 0.3 - resting_depth(model, 2.0 * kG), 1e-6);
  EXPECT_NEAR(velocity(model, x, 1)[2], 0.0, 1e-6);
}

TEST(BodyContact, CapsuleRestingOnABoxCarriesItsWeightOnBothEnds) {
  const Quaternion along_x{std::sqrt(0.5), 0.0, std::sqrt(0.5), 0.0};
  const Model model({body("table", box({0.5, 0.5, 0.1}), 10.0, false),
                     body("rod", capsule(0.05, 0.2, along_x), 1.0, true)},
                    {}, resting_options());
  std::vector<double> x = model.zero_state();
  x[model.q_index(1) + 2] = 0.15;
  x = run(model, x, 4000, 2.5e-4);
  EXPECT_NEAR(position(model, x, 1)[2], 0.15 - resting_depth(model, 0.5 * kG), 1e-6);
}

TEST(BodyContact, CrossedCapsulesAndStackedBoxesRestAtTheClosedForm) {
  const Quaternion along_x{std::sqrt(0.5), 0.0, std::sqrt(0.5), 0.0};
  const Quaternion along_y{std::sqrt(0.5), -std::sqrt(0.5), 0.0, 0.0};
  const Model crossed({body("low", capsule(0.05, 0.3, along_x), 4.0, false),
                       body("high", capsule(0.05, 0.3, along_y), 1.0, true)},
                      {}, resting_options());
  std::vector<double> x = crossed.zero_state();
  x[crossed.q_index(1) + 2] = 0.1;
  x = run(crossed, x, 4000, 2.5e-4);
  EXPECT_NEAR(position(crossed, x, 1)[2], 0.1 - resting_depth(crossed, kG), 1e-6);

  // A box on a box: its four lower corners inside the lower box, a quarter of the weight each.
  Body top = body("top", box({0.1, 0.1, 0.05}), 2.0, true);
  top.inertia = {0.02, 0.02, 0.02, 0, 0, 0};
  const Model stacked({body("floor", box({0.5, 0.5, 0.1}), 10.0, false), top}, {},
                      resting_options());
  std::vector<double> y = stacked.zero_state();
  y[stacked.q_index(1) + 2] = 0.15;
  y = run(stacked, y, 4000, 2.5e-4);
  EXPECT_NEAR(position(stacked, y, 1)[2], 0.15 - resting_depth(stacked, 0.5 * kG), 1e-6);
}

TEST(BodyContact, OffsetGeomsOnARotatedBodyMeetWhereTheyAre) {
  // Body a is turned a quarter about z, so its sphere at (0.5, 0, 0) in its frame is at
  // (0, 0.5, 0) in the world, overlapping b's sphere at (0, 0.58, 0) by 0.02 from below.
  Geom offset = sphere(0.05);
  offset.position = {0.5, 0.0, 0.0};
  const Model model({body("a", offset, 1.0, true), body("b", sphere(0.05), 1.0, true)}, {},
                    no_gravity(0.0, 0.0));
  std::vector<double> x = model.zero_state();
  x[model.q_index(0) + 3] = std::sqrt(0.5);  // quaternion (w, x, y, z)
  x[model.q_index(0) + 6] = std::sqrt(0.5);
  x[model.q_index(1) + 1] = 0.58;
  x = run(model, x, 1, 1e-4);
  EXPECT_GT(velocity(model, x, 1)[1], 0.0);  // pushed up along y
  EXPECT_NEAR(velocity(model, x, 1)[0], 0.0, 1e-12);
  EXPECT_LT(velocity(model, x, 0)[1], 0.0);
}

TEST(BodyContact, PairsSkipParentsWeldedBodiesMasksAndTheOption) {
  Body root = body("root", sphere(0.1), 1.0, true);
  Body child = body("child", sphere(0.1), 1.0, false);
  child.parent = 0;
  child.joint = JointType::kRevolute;
  child.axis = {0, 1, 0};
  Body grandchild = body("grandchild", sphere(0.1), 1.0, false);
  grandchild.parent = 1;
  grandchild.joint = JointType::kRevolute;
  grandchild.axis = {0, 1, 0};
  const Model chain({root, child, grandchild});
  ASSERT_EQ(chain.contact_pairs().size(), 1U);  // root and grandchild only
  EXPECT_EQ(chain.contact_pairs()[0].body_a, 0);
  EXPECT_EQ(chain.contact_pairs()[0].body_b, 2);
  // Two bodies welded to the world never collide.
  EXPECT_TRUE(Model({body("a", sphere(0.1), 1.0, false), body("b", box({1, 1, 1}), 1.0, false)})
                  .contact_pairs()
                  .empty());
  // Bitmasks: contype 2 meets conaffinity 2 only.
  Body masked = body("m", sphere(0.1), 1.0, true);
  masked.geoms[0].contype = 2;
  masked.geoms[0].conaffinity = 2;
  EXPECT_TRUE(Model({body("a", sphere(0.1), 1.0, true), masked}).contact_pairs().empty());
  ModelOptions off;
  off.body_contact = false;
  EXPECT_TRUE(Model({body("a", sphere(0.1), 1.0, true), body("b", sphere(0.1), 1.0, true)}, {}, off)
                  .contact_pairs()
                  .empty());
  // A box is always geom_b of its pair.
  const Model mixed(
      {body("a", box({0.1, 0.1, 0.1}), 1.0, true), body("b", sphere(0.1), 1.0, true)});
  EXPECT_EQ(mixed.contact_pairs()[0].geom_b.type, ShapeType::kBox);
  EXPECT_EQ(mixed.contact_pairs()[0].body_b, 0);
}

TEST(BodyContact, MjcfContypeAndConaffinityChooseThePairs) {
  if (!mjcf_available()) GTEST_SKIP() << "built without tinyxml2";
  const Model model = parse_mjcf(R"(<mujoco><worldbody>
      <body name="a"><freejoint/><geom type="sphere" size="0.1" contype="1" conaffinity="1"/></body>
      <body name="b"><freejoint/><geom type="sphere" size="0.1" contype="2" conaffinity="2"/></body>
      <body name="c"><freejoint/><geom type="sphere" size="0.1" contype="2" conaffinity="1"/></body>
    </worldbody></mujoco>)");
  // a-b: 1 & 2 = 0 both ways; a-c: c's contype 2 & a's conaffinity 1 = 0, a's 1 & c's 1 = 1;
  // b-c: b's 2 & c's 1 = 0, c's 2 & b's 2 = 2.
  ASSERT_EQ(model.contact_pairs().size(), 2U);
  const Model off = parse_mjcf(R"(<mujoco><option><flag contact="disable"/></option><worldbody>
      <body name="a"><freejoint/><geom type="sphere" size="0.1"/></body>
      <body name="b"><freejoint/><geom type="sphere" size="0.1"/></body>
    </worldbody></mujoco>)");
  EXPECT_TRUE(off.contact_pairs().empty());
}

// Every shape pair in contact at once: a sphere, a capsule and a box, free, and a welded box,
// moving into each other with spin; a plane too. Inertias of order 0.01 kg m^2 keep the central
// differences' absolute step (1e-6) small relative to them.
Model pile() {
  const Quaternion tilted{std::cos(0.3), std::sin(0.3), 0.0, 0.0};
  const Body b = body("box", box({0.1, 0.08, 0.06}), 1.2, true);
  ModelOptions options;
  options.contact_damping = 3.0;
  options.friction = 0.4;
  options.contact_stiffness = 2e4;
  options.planes = {Plane{{0, 0, 1}, -0.5}};
  const Quaternion along_x{std::sqrt(0.5), 0.0, std::sqrt(0.5), 0.0};
  std::vector<Body> bodies{body("ball", sphere(0.1), 1.0, true),
                           body("rod", capsule(0.06, 0.12, tilted), 0.8, true), b,
                           body("block", box({0.2, 0.2, 0.05}), 3.0, false, {0, 0, -0.3}),
                           body("bar", capsule(0.05, 0.1, along_x), 0.7, true)};
  for (Body& each : bodies) each.inertia = {0.01, 0.012, 0.014, 0, 0, 0};
  return Model(bodies, {}, options);
}

std::vector<double> pile_state(const Model& model) {
  std::vector<double> x = model.zero_state();
  const auto place = [&](std::size_t k, Vec3 at, Vec3 v, Vec3 w) {
    for (int a = 0; a < 3; ++a) {
      x[model.q_index(k) + a] = at[a];
      x[model.nq() + model.v_index(k) + a] = v[a];
      x[model.nq() + model.v_index(k) + 3 + a] = w[a];
    }
  };
  // Overlapping a little already: ball-rod, ball-box, rod-box, rod-bar, box-block (its corners).
  place(0, {-0.08, 0.0, -0.05}, {0.5, 0.1, -0.2}, {1.0, -2.0, 0.5});
  place(1, {0.05, 0.0, 0.0}, {-0.3, 0.0, 0.1}, {0.0, 1.5, -1.0});
  place(2, {0.0, 0.0, -0.195}, {0.1, -0.2, -0.3}, {0.5, 0.3, -0.8});
  place(4, {0.05, 0.0, 0.17}, {0.0, 0.1, -0.2}, {0.3, 0.0, 0.4});
  return x;
}

TEST(BodyContact, CollisionRolloutGradientMatchesCentralDifferences) {
  const Model model = pile();
  ASSERT_EQ(model.contact_pairs().size(), 10U);  // every two of the five bodies
  const std::vector<double> x0 = pile_state(model);
  const Tensor inputs[] = {Tensor::from_data(x0, {x0.size()}),
                           Tensor::from_data(model.parameters(), {model.num_parameters()})};
  for (const Integrator integrator : {Integrator::kSemiImplicitEuler, Integrator::kRungeKutta4}) {
    const GradcheckReport report = gradcheck(
        [&](TensorTape& tape, std::span<const TensorVar> in) {
          const TensorVar u = tape.constant(Tensor::zeros({0}));
          TensorVar s = in[0];
          for (int t = 0; t < 6; ++t) s = step(model, s, u, in[1], 5e-4, integrator);
          const TensorVar w = tape.constant(Tensor::uniform({s.numel()}, -1, 1, 7));
          return sum(s * w);
        },
        inputs);
    for (std::size_t input = 0; input < 2; ++input) {
      const std::size_t at = report.worst_entry[input];
      EXPECT_LT(report.worst_error[input], 1e-6)
          << (integrator == Integrator::kRungeKutta4 ? "rk4" : "euler") << " input " << input
          << " entry " << at << ": " << report.analytic[input].data()[at] << " vs "
          << report.numeric[input].data()[at];
    }
    // The contact material reaches the rollout through the pairs.
    const std::size_t material = ParameterLayout::kPerBody * model.num_bodies();
    EXPECT_GT(std::abs(report.analytic[1].data()[material + ParameterLayout::kContactStiffness]),
              1e-9);
    EXPECT_GT(std::abs(report.analytic[1].data()[material + ParameterLayout::kFriction]), 1e-9);
  }
}

TEST(BodyContact, FusedStepMatchesTheComposedTwinAndTheStepJacobians) {
  const Model model = pile();
  const std::vector<double> x0 = pile_state(model);
  const Tensor x = Tensor::from_data(x0, {x0.size()});
  const Tensor p = Tensor::from_data(model.parameters(), {model.num_parameters()});
  const Tensor weights = Tensor::uniform({x0.size()}, -1, 1, 11);
  const auto run_twin = [&](bool fused) {
    TensorTape tape;
    const TensorVar xs = tape.var(x), ps = tape.var(p), u = tape.constant(Tensor::zeros({0}));
    TensorVar s = xs;
    for (int t = 0; t < 3; ++t) {
      s = fused ? step(model, s, u, ps, 5e-4) : step_composed(model, s, u, ps, 5e-4);
    }
    const TensorGradients g = tape.grad(sum(s * tape.constant(weights)));
    return std::array<Tensor, 3>{s.value(), g[xs], g[ps]};
  };
  const auto fused = run_twin(true), composed = run_twin(false);
  for (int k = 0; k < 3; ++k) {
    double scale = 1.0, gap = 0.0;
    for (std::size_t i = 0; i < fused[k].numel(); ++i) {
      scale = std::max(scale, std::abs(fused[k].data()[i]));
      gap = std::max(gap, std::abs(fused[k].data()[i] - composed[k].data()[i]));
    }
    EXPECT_LT(gap, (k == 0 ? 1e-11 : 1e-9) * scale) << k;
  }
  // One step's adjoint is J^T g with J from forward mode, for both integrators.
  for (const Integrator integrator : {Integrator::kSemiImplicitEuler, Integrator::kRungeKutta4}) {
    TensorTape tape;
    const TensorVar xs = tape.var(x), ps = tape.var(p);
    const TensorVar next = step(model, xs, tape.constant(Tensor::zeros({0})), ps, 5e-4, integrator);
    const TensorGradients g = tape.grad(sum(next * tape.constant(weights)));
    const StepJacobians J =
        step_jacobians(model, Tensor::from_data(x0, {1, x0.size()}), Tensor::zeros({1, 0}),
                       model.parameters(), 5e-4, integrator, true);
    const std::size_t nx = model.nx(), np = model.num_parameters();
    double scale = 1.0, gap = 0.0;
    for (std::size_t j = 0; j < nx; ++j) {
      double jt_g = 0.0;
      for (std::size_t i = 0; i < nx; ++i) jt_g += J.state.data()[i * nx + j] * weights.data()[i];
      scale = std::max(scale, std::abs(jt_g));
      gap = std::max(gap, std::abs(jt_g - g[xs].data()[j]));
    }
    for (std::size_t j = 0; j < np; ++j) {
      double jt_g = 0.0;
      for (std::size_t i = 0; i < nx; ++i) {
        jt_g += J.parameters.data()[i * np + j] * weights.data()[i];
      }
      gap = std::max(gap, std::abs(jt_g - g[ps].data()[j]));
    }
    EXPECT_LT(gap, 1e-9 * scale) << (integrator == Integrator::kRungeKutta4 ? "rk4" : "euler");
  }
}

}  // namespace
}  // namespace maya::multibody
