// Hard contact between bodies: stacks carry their weights (impulse m g dt per pair), a head-on
// inelastic impact conserves momentum, rollouts' gradients against central differences, the fused
// step against its composed twin and the step Jacobians; and the pairs' rows of contact_forces.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "maya/multibody/differentiable.hpp"
#include "maya/multibody/dynamics.hpp"
#include "maya/multibody/hard_contact.hpp"
#include "maya/tensor/gradcheck.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace maya::multibody {
namespace {

constexpr double kG = 9.81;

Geom sphere(double radius) {
  Geom g;
  g.type = ShapeType::kSphere;
  g.radius = radius;
  return g;
}
Geom capsule(double radius, double half_length, Quaternion orientation = {1, 0, 0, 0}) {
  Geom g;
  g.type = ShapeType::kCapsule;
  g.radius = radius;
  g.half_length = half_length;
  g.orientation = orientation;
  return g;
}
Geom box(Vec3 half) {
  Geom g;
  g.type = ShapeType::kBox;
  g.size = half;
  return g;
}

// A free body (a root with a free joint) or a body welded to the world at `at`.
Body body(const std::string& name, Geom geom, double mass, bool free, Vec3 at = {0, 0, 0}) {
  Body b;
  b.name = name;
  b.joint = free ? JointType::kFree : JointType::kFixed;
  b.joint_position = free ? Vec3{0, 0, 0} : at;
  b.mass = mass;
  const double i = 0.4 * mass * 0.01;
  b.inertia = {i, i, i, 0, 0, 0};
  b.geoms = {geom};
  return b;
}

ModelOptions hard(double friction, Vec3 gravity = {0, 0, -kG}) {
  ModelOptions options;
  options.gravity = gravity;
  options.friction = friction;
  options.contact_model = ContactModel::kHard;
  options.hard_contact.smoothing = 1e-10;
  return options;
}

void place(const Model& model, std::vector<double>& x, std::size_t k, Vec3 at, Vec3 v = {0, 0, 0},
           Vec3 w = {0, 0, 0}) {
  for (int a = 0; a < 3; ++a) {
    x[model.q_index(k) + a] = at[a];
    x[model.nq() + model.v_index(k) + a] = v[a];
    x[model.nq() + model.v_index(k) + 3 + a] = w[a];
  }
}

// The index of the pair of bodies i and j, and the sign of its rows for body j (+1 when j is the
// pair's body_b, which the rows are the impulse on).
std::pair<std::size_t, double> pair_of(const Model& model, int i, int j) {
  for (std::size_t k = 0; k < model.contact_pairs().size(); ++k) {
    const ContactPair& pair = model.contact_pairs()[k];
    if (pair.body_a == i && pair.body_b == j) return {k, 1.0};
    if (pair.body_a == j && pair.body_b == i) return {k, -1.0};
  }
  ADD_FAILURE() << "no pair of bodies " << i << " and " << j;
  return {0, 1.0};
}

// The impulse row of pair (i, j) on body j.
Vec3 pair_impulse(const Model& model, const std::vector<double>& impulses, int i, int j) {
  const auto [k, sign] = pair_of(model, i, j);
  const std::size_t row = model.contact_points().size() + k;
  return {sign * impulses[3 * row], sign * impulses[3 * row + 1], sign * impulses[3 * row + 2]};
}

TEST(HardBodyContact, SphereOnAWeldedSphereCarriesItsWeight) {
  const Model model({body("base", sphere(0.2), 5.0, false), body("ball", sphere(0.1), 2.0, true)},
                    {}, hard(0.5));
  ASSERT_EQ(model.contact_pairs().size(), 1U);
  std::vector<double> x = model.zero_state();
  place(model, x, 1, {0, 0, 0.305});
  const std::vector<double> p = model.parameters();
  const double dt = 1e-3;
  HardContactResult r;
  for (int k = 0; k < 400; ++k) {
    r = hard_contact_step(model, p, x, {}, dt);
    x = r.state;
  }
  ASSERT_EQ(r.impulses.size(), 3U);  // [P + Q, 3]: no planes, one pair
  EXPECT_EQ(r.contacts, 1U);
  const Vec3 on_ball = pair_impulse(model, r.impulses, 0, 1);
  EXPECT_NEAR(on_ball[2], 2.0 * kG * dt, 1e-9 * 2.0 * kG * dt);
  EXPECT_NEAR(on_ball[0], 0.0, 1e-12);
  EXPECT_NEAR(on_ball[1], 0.0, 1e-12);
  EXPECT_NEAR(x[model.q_index(1) + 2], 0.3, 1e-6);  // on top, not in it
  EXPECT_NEAR(x[model.nq() + model.v_index(1) + 2], 0.0, 1e-9);
}

// A ball on a box on a welded table: each pair carries the weight above it.
TEST(HardBodyContact, StackCarriesTheWeightsAboveEachPair) {
  const Model model(
      {body("table", box({0.5, 0.5, 0.1}), 10.0, false),
       body("block", box({0.1, 0.1, 0.05}), 1.0, true), body("ball", sphere(0.05), 0.5, true)},
      {}, hard(0.5));
  std::vector<double> x = model.zero_state();
  place(model, x, 1, {0.02, -0.03, 0.152});
  place(model, x, 2, {0.04, 0.01, 0.255});
  const std::vector<double> p = model.parameters();
  const double dt = 1e-3;
  HardContactResult r;
  for (int k = 0; k < 500; ++k) {
    r = hard_contact_step(model, p, x, {}, dt);
    x = r.state;
  }
  const Vec3 on_ball = pair_impulse(model, r.impulses, 1, 2);
  const Vec3 on_block = pair_impulse(model, r.impulses, 0, 1);
  const Vec3 ball_table = pair_impulse(model, r.impulses, 0, 2);
  EXPECT_NEAR(on_ball[2], 0.5 * kG * dt, 1e-8 * kG * dt);
  EXPECT_NEAR(on_block[2], 1.5 * kG * dt, 1e-8 * kG * dt);
  for (int a = 0; a < 3; ++a) EXPECT_EQ(ball_table[a], 0.0);
  for (int a = 0; a < 2; ++a) {
    EXPECT_NEAR(on_ball[a], 0.0, 1e-10);
    EXPECT_NEAR(on_block[a], 0.0, 1e-10);
  }
  EXPECT_EQ(r.contacts, 5U);  // the block's four lower corners, the ball
  EXPECT_NEAR(x[model.q_index(1) + 2], 0.15, 1e-6);
  EXPECT_NEAR(x[model.q_index(2) + 2], 0.25, 1e-6);
  EXPECT_LT(energy(model, p, x).kinetic, 1e-12);
}

TEST(HardBodyContact, HeadOnImpactIsInelasticAndConservesMomentum) {
  const Model model({body("a", sphere(0.1), 1.0, true), body("b", sphere(0.1), 2.0, true)}, {},
                    hard(0.0, {0, 0, 0}));
  std::vector<double> x = model.zero_state();
  place(model, x, 0, {-0.3, 0, 0}, {1.0, 0, 0});
  place(model, x, 1, {0.3, 0, 0}, {-0.5, 0, 0});
  const std::vector<double> p = model.parameters();
  double total = 0.0;  // on b, along x
  for (int k = 0; k < 600; ++k) {
    const HardContactResult r = hard_contact_step(model, p, x, {}, 1e-3);
    x = r.state;
    total += r.impulses[0];
  }
  const double va = x[model.nq() + model.v_index(0)], vb = x[model.nq() + model.v_index(1)];
  EXPECT_NEAR(1.0 * va + 2.0 * vb, 0.0, 1e-12);  // p0 = 1 - 2 * 0.5
  // Inelastic: the impulse that stops them is the reduced mass times the closing speed, and they
  // move on together at the centre of mass's velocity (0). What is left is the barrier's: an
  // unloaded contact keeps lambda s = smoothing with lambda = m_red s, so they part at
  // s = sqrt(smoothing / m_red), 1.2e-5 m/s.
  EXPECT_NEAR(total, (2.0 / 3.0) * 1.5, 1e-4);
  EXPECT_LT(vb - va, 5e-5);
  EXPECT_GT(vb - va, 0.0);
  const double gap = x[model.q_index(1)] - x[model.q_index(0)];
  EXPECT_NEAR(gap, 0.2, 2e-5);
}

TEST(HardBodyContact, GlancingImpactWithFrictionConservesLinearAndAngularMomentum) {
  const Model model({body("a", sphere(0.1), 1.0, true), body("b", capsule(0.08, 0.15), 1.5, true)},
                    {}, hard(0.6, {0, 0, 0}));
  std::vector<double> x = model.zero_state();
  place(model, x, 0, {-0.4, 0, 0.1}, {2.0, 0, 0}, {0, 20.0, 0});
  const std::vector<double> p = model.parameters();
  const auto momentum = [&](const std::vector<double>& s) {
    // Linear momentum, and angular momentum about the origin (inertias are isotropic).
    std::array<double, 6> h{};
    for (std::size_t k = 0; k < 2; ++k) {
      const double m = model.body(k).mass, I = model.body(k).inertia[0];
      const double* r = s.data() + model.q_index(k);
      const double* v = s.data() + model.nq() + model.v_index(k);
      const double* q = r + 3;  // the body's angular velocity is in its frame: rotate to world
      const double w = q[0], qx = q[1], qy = q[2], qz = q[3];
      const double R[9] = {
          1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - w * qz),      2 * (qx * qz + w * qy),
          2 * (qx * qy + w * qz),      1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - w * qx),
          2 * (qx * qz - w * qy),      2 * (qy * qz + w * qx),      1 - 2 * (qx * qx + qy * qy)};
      for (int a = 0; a < 3; ++a) {
        h[a] += m * v[a];
        double omega = 0.0;
        for (int b = 0; b < 3; ++b) omega += R[3 * a + b] * v[3 + b];
        h[3 + a] += I * omega;
      }
      h[3] += m * (r[1] * v[2] - r[2] * v[1]);
      h[4] += m * (r[2] * v[0] - r[0] * v[2]);
      h[5] += m * (r[0] * v[1] - r[1] * v[0]);
    }
    return h;
  };
  const std::array<double, 6> before = momentum(x);
  for (int k = 0; k < 400; ++k) x = hard_contact_step(model, p, x, {}, 1e-3).state;
  const std::array<double, 6> after = momentum(x);
  for (int a = 0; a < 6; ++a) EXPECT_NEAR(after[a], before[a], 1e-10) << a;
  EXPECT_GT(std::abs(x[model.nq() + model.v_index(1) + 2]), 1e-3);  // friction pushed b along z
}

// Every kind of pair moving into each other with spin and slip, hard contact, on a plane: a ball,
// a tilted capsule and a box, free, a welded block and a free bar.
Model pile() {
  const Quaternion tilted{std::cos(0.3), std::sin(0.3), 0.0, 0.0};
  const Quaternion along_x{std::sqrt(0.5), 0.0, std::sqrt(0.5), 0.0};
  ModelOptions options = hard(0.4);
  options.hard_contact.smoothing = 1e-6;
  options.planes = {Plane{{0, 0, 1}, -0.5}};
  std::vector<Body> bodies{body("ball", sphere(0.1), 1.0, true),
                           body("rod", capsule(0.06, 0.12, tilted), 0.8, true),
                           body("box", box({0.1, 0.08, 0.06}), 1.2, true),
                           body("block", box({0.2, 0.2, 0.05}), 3.0, false, {0, 0, -0.3}),
                           body("bar", capsule(0.05, 0.1, along_x), 0.7, true)};
  for (Body& each : bodies) each.inertia = {0.01, 0.012, 0.014, 0, 0, 0};
  return Model(bodies, {}, options);
}

std::vector<double> pile_state(const Model& model) {
  std::vector<double> x = model.zero_state();
  place(model, x, 0, {-0.08, 0.0, -0.05}, {0.5, 0.1, -0.2}, {1.0, -2.0, 0.5});
  place(model, x, 1, {0.05, 0.0, 0.0}, {-0.3, 0.0, 0.1}, {0.0, 1.5, -1.0});
  place(model, x, 2, {0.0, 0.0, -0.19}, {0.1, -0.2, -0.3}, {0.5, 0.3, -0.8});
  place(model, x, 4, {0.05, 0.0, 0.17}, {0.0, 0.1, -0.2}, {0.3, 0.0, 0.4});
  return x;
}

std::vector<double> random_weights(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  std::vector<double> w(n);
  for (double& v : w) v = unit(rng);
  return w;
}

constexpr int kSteps = 4;
constexpr double kDt = 1e-3;

// A fixed weighting of the final state and of every step's impulses (pairs' rows included).
double plain_loss(const Model& model, std::vector<double> x, const std::vector<double>& p,
                  const std::vector<double>& wx, const std::vector<double>& wi) {
  double loss = 0.0;
  for (int t = 0; t < kSteps; ++t) {
    const HardContactResult r = hard_contact_step(model, p, x, {}, kDt);
    x = r.state;
    for (std::size_t k = 0; k < r.impulses.size(); ++k) loss += wi[k] * r.impulses[k];
  }
  for (std::size_t k = 0; k < x.size(); ++k) loss += wx[k] * x[k];
  return loss;
}

TEST(HardBodyContactGradient, PileRolloutMatchesCentralDifferences) {
  const Model model = pile();
  const std::vector<double> x0 = pile_state(model), p = model.parameters();
  const std::size_t rows = model.contact_points().size() + model.contact_pairs().size();
  const std::vector<double> wx = random_weights(model.nx(), 3), wi = random_weights(3 * rows, 4);
  {
    const HardContactResult first = hard_contact_step(model, p, x0, {}, kDt);
    ASSERT_GE(first.contacts, 8U);  // pairs of every kind and the block's corners
  }
  TensorTape tape;
  const TensorVar xs = tape.var(Tensor::from_data(x0, {x0.size()}));
  const TensorVar ps = tape.var(Tensor::from_data(p, {p.size()}));
  const TensorVar u = tape.constant(Tensor::zeros({0}));
  const TensorVar wi_var = tape.constant(Tensor::from_data(wi, {rows, 3}));
  TensorVar s = xs, loss = tape.constant(Tensor::zeros({}));
  for (int t = 0; t < kSteps; ++t) {
    const HardContactVars r = hard_contact_step(model, s, u, ps, kDt);
    s = r.state;
    loss = loss + sum(r.impulses * wi_var);
  }
  loss = loss + sum(s * tape.constant(Tensor::from_data(wx, {wx.size()})));
  EXPECT_NEAR(loss.value().item(), plain_loss(model, x0, p, wx, wi), 1e-12);
  const TensorGradients g = tape.grad(loss);
  // Five-point central differences (the barrier's curvature shows in the three-point stencil).
  const auto check = [&](const Tensor& analytic, std::vector<double> v, bool is_state) {
    const double h = 1e-6;
    double error = 0.0, scale = 1e-8;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const double keep = v[i];
      const auto at = [&](double offset) {
        v[i] = keep + offset;
        const double value =
            is_state ? plain_loss(model, v, p, wx, wi) : plain_loss(model, x0, v, wx, wi);
        v[i] = keep;
        return value;
      };
      const double fd = (8.0 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12.0 * h);
      error = std::max(error, std::abs(fd - analytic.data()[i]));
      scale = std::max(scale, std::abs(fd));
    }
    return error / scale;
  };
  EXPECT_LT(check(g[xs], x0, true), 1e-6);
  EXPECT_LT(check(g[ps], p, false), 1e-6);
  // The friction coefficient reaches the loss through the pairs and the plane.
  const std::size_t material = ParameterLayout::kPerBody * model.num_bodies();
  EXPECT_GT(std::abs(g[ps].data()[material + ParameterLayout::kFriction]), 1e-9);
}

TEST(HardBodyContactGradient, FusedStepMatchesItsComposedTwinAndTheStepJacobians) {
  const Model model = pile();
  const std::vector<double> x0 = pile_state(model);
  const Tensor x = Tensor::from_data(x0, {x0.size()});
  const Tensor p = Tensor::from_data(model.parameters(), {model.num_parameters()});
  const Tensor weights = Tensor::from_data(random_weights(x0.size(), 11), {x0.size()});
  const auto run_twin = [&](bool fused) {
    TensorTape tape;
    const TensorVar xs = tape.var(x), ps = tape.var(p), u = tape.constant(Tensor::zeros({0}));
    TensorVar s = xs;
    for (int t = 0; t < 3; ++t) {
      s = fused ? hard_contact_step(model, s, u, ps, kDt).state
                : hard_contact_step_composed(model, s, u, ps, kDt);
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
    EXPECT_LT(gap, (k == 0 ? 1e-12 : 1e-8) * scale) << k;
  }
  // The step Jacobians (step_jacobians dispatches on kHard) against central differences.
  const std::vector<double> params = model.parameters();
  const StepJacobians J =
      step_jacobians(model, Tensor::from_data(x0, {1, x0.size()}), Tensor::zeros({1, 0}), params,
                     kDt, Integrator::kSemiImplicitEuler, true);
  const std::size_t nx = model.nx(), np = model.num_parameters();
  const auto column_error = [&](const Tensor& jacobian, std::size_t width, auto&& next) {
    double error = 0.0, scale = 1e-8;
    const double h = 1e-7;
    for (std::size_t j = 0; j < width; ++j) {
      const std::vector<double> plus = next(j, h), minus = next(j, -h);
      for (std::size_t i = 0; i < nx; ++i) {
        const double fd = (plus[i] - minus[i]) / (2 * h);
        error = std::max(error, std::abs(fd - jacobian.data()[i * width + j]));
        scale = std::max(scale, std::abs(fd));
      }
    }
    return error / scale;
  };
  EXPECT_LT(column_error(J.state, nx,
                         [&](std::size_t j, double offset) {
                           std::vector<double> y = x0;
                           y[j] += offset;
                           return hard_contact_step(model, params, y, {}, kDt).state;
                         }),
            1e-6);
  EXPECT_LT(column_error(J.parameters, np,
                         [&](std::size_t j, double offset) {
                           std::vector<double> q = params;
                           q[j] += offset;
                           return hard_contact_step(model, q, x0, {}, kDt).state;
                         }),
            1e-6);
}

// Penalty contact: contact_forces' pair rows carry the weight of a resting ball, on plain
// numbers and on the tape, and differentiate to central differences.
TEST(BodyContactForces, PairRowsCarryTheWeightAndDifferentiate) {
  ModelOptions options;
  options.contact_damping = 20.0;
  options.friction = 0.5;
  options.planes = {Plane{{0, 0, 1}, -0.25}};
  const Model model({body("base", sphere(0.2), 5.0, false), body("ball", sphere(0.1), 2.0, true)},
                    {}, options);
  std::vector<double> x = model.zero_state();
  place(model, x, 1, {0, 0, 0.3});
  const std::vector<double> p = model.parameters();
  for (int k = 0; k < 4000; ++k) x = step(model, p, x, {}, 2.5e-4);
  const std::size_t points = model.contact_points().size();
  ASSERT_EQ(points, 2U);  // each sphere against the plane
  const std::vector<double> f = contact_forces(model, p, x);
  ASSERT_EQ(f.size(), 3 * (points + 1));
  const auto [k, sign] = pair_of(model, 0, 1);
  EXPECT_NEAR(sign * f[3 * (points + k) + 2], 2.0 * kG, 1e-6);
  // The welded base is clear of the plane, 5 cm above it: no force there.
  for (int a = 0; a < 3; ++a) EXPECT_EQ(f[a], 0.0);
  TensorTape tape;
  const TensorVar xs = tape.var(Tensor::from_data(x, {x.size()}));
  const TensorVar ps = tape.var(Tensor::from_data(p, {p.size()}));
  const TensorVar forces = contact_forces(model, xs, ps);
  ASSERT_EQ(forces.value().shape(), (Shape{points + 1, 3}));
  for (std::size_t i = 0; i < f.size(); ++i) EXPECT_EQ(forces.value().data()[i], f[i]);
  // Moving and sliding, so that friction and damping enter.
  place(model, x, 1, {0.01, 0.0, 0.299}, {0.2, -0.1, -0.05}, {0.0, 1.0, 0.5});
  const Tensor inputs[] = {Tensor::from_data(x, {x.size()}), Tensor::from_data(p, {p.size()})};
  const GradcheckReport report = gradcheck(
      [&](TensorTape& t, std::span<const TensorVar> in) {
        const TensorVar w = t.constant(Tensor::uniform({points + 1, 3}, -1, 1, 5));
        return sum(contact_forces(model, in[0], in[1]) * w);
      },
      inputs);
  EXPECT_LT(report.worst_error[0], 1e-6);
  EXPECT_LT(report.worst_error[1], 1e-6);
}

}  // namespace
}  // namespace maya::multibody
