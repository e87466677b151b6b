// Hard contact between bodies: stacks carry their weights (impulse m g dt per pair), a head-on
// inelastic impact conserves momentum, rollouts' gradients against central differences, the fused
// step against its composed twin and the step Jacobians; the pairs' rows of contact_forces; and a
// capsule against a box along its whole segment, under both contact models.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
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
#include "test_models.hpp"

namespace maya::multibody {
namespace {

constexpr double kG = 9.81;

using testing::body;
using testing::box;
using testing::capsule;
using testing::sphere;

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

// The largest gap between `analytic` and five-point central differences of f at v (the barrier's
// curvature shows in the three-point stencil), relative to the largest difference quotient.
template <class F>
double fd_error(const Tensor& analytic, std::vector<double> v, F&& f) {
  const double h = 1e-6;
  double error = 0.0, scale = 1e-8;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double keep = v[i];
    const auto at = [&](double offset) {
      v[i] = keep + offset;
      const double value = f(v);
      v[i] = keep;
      return value;
    };
    const double fd = (8.0 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12.0 * h);
    error = std::max(error, std::abs(fd - analytic.data()[i]));
    scale = std::max(scale, std::abs(fd));
  }
  return error / scale;
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
  const auto check = [&](const Tensor& analytic, const std::vector<double>& v, bool is_state) {
    return fd_error(analytic, v, [&](const std::vector<double>& y) {
      return is_state ? plain_loss(model, y, p, wx, wi) : plain_loss(model, x0, y, wx, wi);
    });
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

// ---- a capsule against a box along its whole segment ----

// v rotated by the unit quaternion q (w, x, y, z).
Vec3 rotate(const double* q, Vec3 v) {
  const double w = q[0];
  const Vec3 u{q[1], q[2], q[3]};
  const Vec3 t{2 * (u[1] * v[2] - u[2] * v[1]), 2 * (u[2] * v[0] - u[0] * v[2]),
               2 * (u[0] * v[1] - u[1] * v[0])};
  return {v[0] + w * t[0] + (u[1] * t[2] - u[2] * t[1]),
          v[1] + w * t[1] + (u[2] * t[0] - u[0] * t[2]),
          v[2] + w * t[2] + (u[0] * t[1] - u[1] * t[0])};
}

const Quaternion kAlongX{std::sqrt(0.5), 0.0, std::sqrt(0.5), 0.0};  // the capsule's z onto x

// A capsule (radius 0.05, 0.6 long) lying along x on a welded table 0.4 long in x, its centre
// 5 cm off the table's: both ends overhang, and it rests on the table's two edges x = -+0.2.
Model overhanging(ModelOptions options) {
  return Model({body("table", box({0.2, 0.3, 0.1}), 10.0, false),
                body("rod", capsule(0.05, 0.3, kAlongX), 1.0, true)},
               {}, options);
}

// The height of the rod's segment above world x = s, at state x.
double segment_height(const Model& model, const std::vector<double>& x, double s) {
  const double* q = x.data() + model.q_index(1);
  const Vec3 end0 = rotate(q + 3, {-0.3, 0, 0}), end1 = rotate(q + 3, {0.3, 0, 0});
  const double t = (s - q[0] - end0[0]) / (end1[0] - end0[0]);
  return q[2] + end0[2] + t * (end1[2] - end0[2]);
}

TEST(CapsuleBox, OverhangingCapsuleSplitsItsWeightAsStaticsSays) {
  ModelOptions options;
  options.contact_damping = 20.0;
  options.friction = 0.5;
  const Model model = overhanging(options);
  std::vector<double> x = model.zero_state();
  place(model, x, 1, {0.05, 0, 0.15});
  const std::vector<double> p = model.parameters();
  for (int k = 0; k < 6000; ++k) x = step(model, p, x, {}, 2.5e-4);
  // Statics: contacts at x = -+0.2 under a weight at 0.05 carry W (0.2 -+ 0.05) / 0.4, and each
  // sinks to k d^e = F (the segment's height over an edge is the table's top + r - d).
  const double W = kG, k = model.options().contact_stiffness, e = model.options().contact_exponent;
  const double near = W * 0.25 / 0.4, far = W * 0.15 / 0.4;
  const double d_near = std::pow(near / k, 1.0 / e), d_far = std::pow(far / k, 1.0 / e);
  EXPECT_NEAR(segment_height(model, x, 0.2), 0.15 - d_near, 1e-6);
  EXPECT_NEAR(segment_height(model, x, -0.2), 0.15 - d_far, 1e-6);
  // The tilt, the two depths' difference (4.5e-4 m), to half a percent.
  const double tilt = segment_height(model, x, -0.2) - segment_height(model, x, 0.2);
  EXPECT_NEAR(tilt, d_near - d_far, 5e-3 * (d_near - d_far));
  const std::vector<double> f = contact_forces(model, p, x);
  const auto [pair, sign] = pair_of(model, 0, 1);
  EXPECT_NEAR(sign * f[3 * pair + 2], W, 1e-6);
}

TEST(CapsuleBox, OverhangingCapsuleRestsLevelUnderHardContact) {
  const Model model = overhanging(hard(0.5));
  std::vector<double> x = model.zero_state();
  place(model, x, 1, {0.05, 0, 0.152});
  const std::vector<double> p = model.parameters();
  const double dt = 1e-3;
  HardContactResult r;
  for (int k = 0; k < 600; ++k) {
    r = hard_contact_step(model, p, x, {}, dt);
    x = r.state;
  }
  EXPECT_EQ(r.contacts, 2U);  // the two edges: the ends hang in the air
  EXPECT_NEAR(pair_impulse(model, r.impulses, 0, 1)[2], kG * dt, 1e-8 * kG * dt);
  // Level and at rest: the edges' impulses balance the weight's moment about the centre.
  EXPECT_NEAR(segment_height(model, x, 0.2), 0.15, 1e-6);
  EXPECT_NEAR(segment_height(model, x, -0.2), 0.15, 1e-6);
  EXPECT_LT(energy(model, p, x).kinetic, 1e-12);
}

// A capsule tilted 45 degrees in the xz-plane over the table's edge (x = 0.2, z = 0.1), its axis
// 4 cm from the edge: no part of the segment is over the table, and it touches at its point
// closest to the edge, 1 cm deep, pushed along the perpendicular from the edge.
TEST(CapsuleBox, CapsuleAcrossAnEdgeTouchesAtItsClosestPoint) {
  const double angle =
      0.75 * std::numbers::pi;  // the capsule's z onto (sin, 0, cos): down and outwards
  const Quaternion tilted{std::cos(angle / 2), 0.0, std::sin(angle / 2), 0.0};
  ModelOptions options;
  options.gravity = {0, 0, 0};
  const Model model({body("table", box({0.2, 0.3, 0.1}), 10.0, false),
                     body("rod", capsule(0.05, 0.2, tilted), 1.0, true)},
                    {}, options);
  const Vec3 n{std::sqrt(0.5), 0.0, std::sqrt(0.5)};  // perpendicular to the axis, up and out
  std::vector<double> x = model.zero_state();
  place(model, x, 1, {0.2 + 0.04 * n[0], 0.05, 0.1 + 0.04 * n[2]});
  const std::vector<double> f = contact_forces(model, model.parameters(), x);
  const auto [pair, sign] = pair_of(model, 0, 1);
  const double expected = model.options().contact_stiffness * std::pow(0.01, 1.5);
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(sign * f[3 * pair + a], expected * n[a], 1e-9) << a;
}

// Both kinds of capsule-box contact (over the table, across an edge) moving, in a short rollout.
Model capsules(ModelOptions options) {
  const double angle = 0.75 * std::numbers::pi;
  const Quaternion tilted{std::cos(angle / 2), 0.0, std::sin(angle / 2), 0.0};
  std::vector<Body> bodies{body("table", box({0.2, 0.3, 0.1}), 10.0, false),
                           body("rod", capsule(0.05, 0.3, kAlongX), 1.0, true),
                           body("leaner", capsule(0.05, 0.2, tilted), 0.8, true)};
  for (Body& each : bodies) each.inertia = {0.01, 0.012, 0.014, 0, 0, 0};
  return Model(bodies, {}, options);
}

std::vector<double> capsules_state(const Model& model) {
  std::vector<double> x = model.zero_state();
  place(model, x, 1, {0.05, -0.1, 0.148}, {0.2, 0.1, -0.1}, {0.3, -0.5, 0.2});
  place(model, x, 2, {0.2 + 0.045 * std::sqrt(0.5), 0.2, 0.1 + 0.045 * std::sqrt(0.5)},
        {-0.1, 0.2, -0.3}, {0.2, 0.4, -0.1});
  return x;
}

TEST(CapsuleBox, PenaltyRolloutGradientMatchesCentralDifferences) {
  ModelOptions options;
  options.contact_damping = 3.0;
  options.friction = 0.4;
  options.contact_stiffness = 2e4;
  const Model model = capsules(options);
  const std::vector<double> x0 = capsules_state(model);
  const std::vector<double> f0 = contact_forces(model, model.parameters(), x0);
  ASSERT_EQ(f0.size(), 3U * 3U);  // three pairs: table-rod, table-leaner, rod-leaner
  EXPECT_GT(std::abs(f0[3 * pair_of(model, 0, 1).first + 2]), 1.0);
  EXPECT_GT(std::abs(f0[3 * pair_of(model, 0, 2).first + 2]), 1.0);
  const Tensor inputs[] = {Tensor::from_data(x0, {x0.size()}),
                           Tensor::from_data(model.parameters(), {model.num_parameters()})};
  const GradcheckReport report = gradcheck(
      [&](TensorTape& tape, std::span<const TensorVar> in) {
        const TensorVar u = tape.constant(Tensor::zeros({0}));
        TensorVar s = in[0];
        for (int t = 0; t < 6; ++t) s = step(model, s, u, in[1], 5e-4);
        const TensorVar w = tape.constant(Tensor::uniform({s.numel()}, -1, 1, 7));
        return sum(s * w);
      },
      inputs);
  EXPECT_LT(report.worst_error[0], 1e-6);
  EXPECT_LT(report.worst_error[1], 1e-6);
}

TEST(CapsuleBox, HardRolloutGradientMatchesCentralDifferencesAndTheTwin) {
  ModelOptions options = hard(0.4);
  options.hard_contact.smoothing = 1e-6;
  const Model model = capsules(options);
  const std::vector<double> x0 = capsules_state(model), p = model.parameters();
  ASSERT_EQ(hard_contact_step(model, p, x0, {}, kDt).contacts, 3U);  // two ends, one edge
  const std::size_t rows = model.contact_pairs().size();
  const std::vector<double> wx = random_weights(model.nx(), 5), wi = random_weights(3 * rows, 6);
  const auto run = [&](bool fused) {
    TensorTape tape;
    const TensorVar xs = tape.var(Tensor::from_data(x0, {x0.size()}));
    const TensorVar ps = tape.var(Tensor::from_data(p, {p.size()}));
    const TensorVar u = tape.constant(Tensor::zeros({0}));
    TensorVar s = xs, loss = tape.constant(Tensor::zeros({}));
    for (int t = 0; t < kSteps; ++t) {
      if (fused) {
        const HardContactVars r = hard_contact_step(model, s, u, ps, kDt);
        s = r.state;
        loss = loss + sum(r.impulses * tape.constant(Tensor::from_data(wi, {rows, 3})));
      } else {
        s = hard_contact_step_composed(model, s, u, ps, kDt);
      }
    }
    loss = loss + sum(s * tape.constant(Tensor::from_data(wx, {wx.size()})));
    const TensorGradients g = tape.grad(loss);
    return std::array<Tensor, 2>{g[xs], g[ps]};
  };
  const auto fused = run(true);
  EXPECT_LT(fd_error(fused[0], x0,
                     [&](const std::vector<double>& y) { return plain_loss(model, y, p, wx, wi); }),
            1e-6);
  EXPECT_LT(
      fd_error(fused[1], p,
               [&](const std::vector<double>& q) { return plain_loss(model, x0, q, wx, wi); }),
      1e-6);
  // The twin differentiates the state alone: compare it with the fused step on a state-only loss.
  const std::vector<double> no_impulses(3 * rows, 0.0);
  const auto twin = run(false);
  EXPECT_LT(fd_error(twin[0], x0,
                     [&](const std::vector<double>& y) {
                       return plain_loss(model, y, p, wx, no_impulses);
                     }),
            1e-6);
}

}  // namespace
}  // namespace maya::multibody
