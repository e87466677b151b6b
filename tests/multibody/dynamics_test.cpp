// Forward dynamics (ABA) against the mass matrix (CRBA) and inverse dynamics (RNEA), energy
// conservation, and closed forms: the small-angle pendulum period and free fall.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>

#include "maya/core/error.hpp"
#include "maya/multibody/dynamics.hpp"
#include "test_models.hpp"

namespace maya::multibody {
namespace {

using testing::hinge_chain;
using testing::random_state;
using testing::random_tree;

std::span<const double> head(const std::vector<double>& x, std::size_t n) { return {x.data(), n}; }
std::span<const double> tail(const std::vector<double>& x, std::size_t from) {
  return {x.data() + from, x.size() - from};
}

class RandomTrees : public ::testing::TestWithParam<bool> {};

TEST_P(RandomTrees, AbaSatisfiesMassMatrixTimesAccelerationPlusBiasEqualsTau) {
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    const Model model = random_tree(9, seed, GetParam(), seed % 2 == 0 ? 0.05 : 0.0);
    const std::vector<double> params = model.parameters();
    const std::vector<double> x = random_state(model, seed + 100);
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(-2.0, 2.0);
    std::vector<double> tau(model.nv());
    for (double& t : tau) t = unit(rng);
    const auto q = head(x, model.nq());
    const auto qdot = tail(x, model.nq());
    const std::vector<double> qdd = forward_dynamics(model, params, q, qdot, tau);
    const std::vector<double> M = mass_matrix(model, params, q);
    const std::vector<double> zero(model.nv(), 0.0);
    const std::vector<double> bias = inverse_dynamics(model, params, q, qdot, zero);
    const std::vector<double> rnea = inverse_dynamics(model, params, q, qdot, qdd);
    const std::size_t nv = model.nv();
    for (std::size_t i = 0; i < nv; ++i) {
      double lhs = bias[i];
      for (std::size_t j = 0; j < nv; ++j) lhs += M[i * nv + j] * qdd[j];
      EXPECT_NEAR(lhs, tau[i], 1e-9 * (1.0 + std::abs(tau[i]))) << "seed " << seed << " dof " << i;
      EXPECT_NEAR(rnea[i], tau[i], 1e-9 * (1.0 + std::abs(tau[i])));
      EXPECT_NEAR(M[i * nv + (nv - 1 - i)], M[(nv - 1 - i) * nv + i], 1e-12);  // symmetric
    }
  }
}

INSTANTIATE_TEST_SUITE_P(FixedAndFreeBase, RandomTrees, ::testing::Values(false, true));

// Hinges about coordinate axes in unrotated joint frames take ABA's planar inertia turn (the
// mass matrix does not): the same identity on a tree of them, every axis and both signs, with a
// slide and a weld between, offsets and centres of mass off every axis.
TEST(CoordinateAxisHinges, AbaSatisfiesMassMatrixTimesAccelerationPlusBiasEqualsTau) {
  const Vec3 axes[] = {{0.0, 1.0, 0.0},  {0.0, 0.0, 1.0},  {1.0, 0.0, 0.0},
                       {0.0, -1.0, 0.0}, {0.0, 0.0, -1.0}, {-1.0, 0.0, 0.0}};
  std::vector<Body> bodies;
  for (std::size_t i = 0; i < 8; ++i) {
    Body b;
    b.name = "link" + std::to_string(i);
    b.parent = i < 2 ? static_cast<int>(i) - 1 : static_cast<int>(i) - 2;  // two branches
    b.joint = i == 3 ? JointType::kPrismatic : i == 5 ? JointType::kFixed : JointType::kRevolute;
    b.joint_position = {0.1, 0.02 * static_cast<double>(i), -0.03};
    b.axis = axes[i % 6];
    b.mass = 0.1 + 0.01 * static_cast<double>(i);
    b.com = {0.05, -0.01, 0.02};
    b.inertia = {2e-4, 3e-4, 1e-4, 1e-5, -2e-5, 3e-5};
    b.damping = 0.01;
    bodies.push_back(b);
  }
  const Model model(std::move(bodies));
  const std::vector<double> params = model.parameters();
  const std::vector<double> x = random_state(model, 7);
  std::vector<double> tau(model.nv());
  for (std::size_t k = 0; k < tau.size(); ++k) tau[k] = 0.1 * std::sin(static_cast<double>(k));
  const auto q = head(x, model.nq());
  const auto qdot = tail(x, model.nq());
  const std::vector<double> qdd = forward_dynamics(model, params, q, qdot, tau);
  const std::vector<double> M = mass_matrix(model, params, q);
  const std::vector<double> bias =
      inverse_dynamics(model, params, q, qdot, std::vector<double>(model.nv(), 0.0));
  const std::size_t nv = model.nv();
  for (std::size_t i = 0; i < nv; ++i) {
    double lhs = bias[i];
    for (std::size_t j = 0; j < nv; ++j) lhs += M[i * nv + j] * qdd[j];
    EXPECT_NEAR(lhs, tau[i], 1e-12 * (1.0 + std::abs(tau[i]))) << "dof " << i;
  }
}

TEST(MassMatrix, IsPositiveDefiniteAndMatchesKineticEnergy) {
  const Model model = random_tree(8, 7, true);
  const std::vector<double> params = model.parameters();
  const std::vector<double> x = random_state(model, 77);
  const std::size_t nv = model.nv();
  const std::vector<double> M = mass_matrix(model, params, head(x, model.nq()));
  double quadratic = 0.0;
  for (std::size_t i = 0; i < nv; ++i) {
    for (std::size_t j = 0; j < nv; ++j)
      quadratic += x[model.nq() + i] * M[i * nv + j] * x[model.nq() + j];
  }
  EXPECT_GT(quadratic, 0.0);
  EXPECT_NEAR(0.5 * quadratic, energy(model, params, x).kinetic, 1e-10);
}

class Integrators : public ::testing::TestWithParam<Integrator> {};

TEST_P(Integrators, EnergyIsConservedWithoutDamping) {
  const Model model = random_tree(6, 3, true);
  const std::vector<double> params = model.parameters();
  std::vector<double> x = random_state(model, 5);
  const double e0 = energy(model, params, x).total();
  const double dt = GetParam() == Integrator::kRungeKutta4 ? 1e-3 : 1e-4;
  const std::vector<double> u;
  const std::vector<double> states = rollout(model, params, x, u, 2000, dt, GetParam());
  const std::vector<double> last(states.end() - static_cast<std::ptrdiff_t>(model.nx()),
                                 states.end());
  const double e1 = energy(model, params, last).total();
  // RK4 drifts at O(dt^4); semi-implicit Euler oscillates at O(dt) around the true energy.
  const double tolerance = GetParam() == Integrator::kRungeKutta4 ? 1e-6 : 2e-2;
  EXPECT_NEAR(e1, e0, tolerance * (1.0 + std::abs(e0)));
  // Quaternions stay unit.
  const std::size_t at = model.q_index(0) + 3;
  const double norm = std::sqrt(last[at] * last[at] + last[at + 1] * last[at + 1] +
                                last[at + 2] * last[at + 2] + last[at + 3] * last[at + 3]);
  EXPECT_NEAR(norm, 1.0, 1e-12);
}

INSTANTIATE_TEST_SUITE_P(Both, Integrators,
                         ::testing::Values(Integrator::kSemiImplicitEuler,
                                           Integrator::kRungeKutta4));

TEST(Pendulum, SmallAnglePeriodMatchesTwoPiSqrtLOverG) {
  // A point-like bob of mass 1 at distance L below a hinge: period 2 pi sqrt(L / g).
  const double L = 0.5, g = 9.81;
  Body bob;
  bob.name = "bob";
  bob.joint = JointType::kRevolute;
  bob.axis = {0.0, 1.0, 0.0};
  bob.mass = 1.0;
  bob.com = {0.0, 0.0, -L};
  bob.inertia = {1e-8, 1e-8, 1e-8, 0.0, 0.0, 0.0};
  const Model model({bob});
  const std::vector<double> params = model.parameters();
  const double dt = 1e-3;
  std::vector<double> x{0.01, 0.0};
  // Time between the first two downward zero crossings of the angle.
  double previous = x[0], t = 0.0;
  std::vector<double> crossings;
  const std::vector<double> u;
  while (crossings.size() < 3 && t < 10.0) {
    x = step(model, params, x, u, dt, Integrator::kRungeKutta4);
    t += dt;
    if (previous > 0.0 && x[0] <= 0.0) crossings.push_back(t - dt * x[0] / (x[0] - previous));
    previous = x[0];
  }
  ASSERT_EQ(crossings.size(), 3U);
  const double period = crossings[2] - crossings[1];
  EXPECT_NEAR(period, 2.0 * std::numbers::pi * std::sqrt(L / g), 1e-4);
}

TEST(FreeBody, FallsAsHalfGTSquaredAndSpinsFreely) {
  Body ball;
  ball.name = "ball";
  ball.joint = JointType::kFree;
  ball.mass = 2.0;
  ball.inertia = {0.1, 0.2, 0.3, 0.0, 0.0, 0.0};
  const Model model({ball});
  const std::vector<double> params = model.parameters();
  std::vector<double> x = model.zero_state();
  x[2] = 10.0;  // height
  x[7] = 1.0;   // vx
  x[12] = 2.0;  // spin about the body z axis (a principal axis: stays steady)
  const double dt = 1e-3;
  const std::size_t steps = 1000;
  const std::vector<double> states =
      rollout(model, params, x, std::vector<double>{}, steps, dt, Integrator::kRungeKutta4);
  const double* last = states.data() + steps * model.nx();
  const double t = dt * steps;
  EXPECT_NEAR(last[0], 1.0 * t, 1e-9);
  EXPECT_NEAR(last[2], 10.0 - 0.5 * 9.81 * t * t, 1e-9);
  // Rotation by 2 t about z: q = (cos t, 0, 0, sin t).
  EXPECT_NEAR(last[3], std::cos(t), 1e-9);
  EXPECT_NEAR(last[6], std::sin(t), 1e-9);
  EXPECT_NEAR(last[12], 2.0, 1e-9);
}

TEST(FreeBody, TorqueFreeAsymmetricTopConservesEnergyAndAngularMomentum) {
  Body top;
  top.name = "top";
  top.joint = JointType::kFree;
  top.mass = 1.0;
  top.inertia = {0.1, 0.2, 0.3, 0.0, 0.0, 0.0};
  ModelOptions options;
  options.gravity = {0.0, 0.0, 0.0};
  const Model model({top}, {}, options);
  const std::vector<double> params = model.parameters();
  std::vector<double> x = model.zero_state();
  x[10] = 0.1, x[11] = 3.0, x[12] = 0.1;  // near the unstable intermediate axis
  const auto world_momentum = [&](const std::vector<double>& s) {
    const double w[3] = {s[10], s[11], s[12]};
    const double L_body[3] = {0.1 * w[0], 0.2 * w[1], 0.3 * w[2]};
    const double qw = s[3], qx = s[4], qy = s[5], qz = s[6];
    const double R[9] = {
        1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - qw * qz),     2 * (qx * qz + qw * qy),
        2 * (qx * qy + qw * qz),     1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - qw * qx),
        2 * (qx * qz - qw * qy),     2 * (qy * qz + qw * qx),     1 - 2 * (qx * qx + qy * qy)};
    return std::array<double, 3>{R[0] * L_body[0] + R[1] * L_body[1] + R[2] * L_body[2],
                                 R[3] * L_body[0] + R[4] * L_body[1] + R[5] * L_body[2],
                                 R[6] * L_body[0] + R[7] * L_body[1] + R[8] * L_body[2]};
  };
  const auto L0 = world_momentum(x);
  const double e0 = energy(model, params, x).total();
  for (int i = 0; i < 5000; ++i) x = step(model, params, x, {}, 1e-3, Integrator::kRungeKutta4);
  const auto L1 = world_momentum(x);
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(L1[k], L0[k], 1e-7);
  EXPECT_NEAR(energy(model, params, x).total(), e0, 1e-7);
  // The spin has flipped away from the intermediate axis at some point (Dzhanibekov): the body
  // rate about y is no longer near 3.
  EXPECT_LT(x[11], 2.9);
}

TEST(Chain, DampedChainLosesEnergyMonotonically) {
  const Model model = hinge_chain(7, 0.1, 0.1, 0.01);
  const std::vector<double> params = model.parameters();
  std::vector<double> x(model.nx(), 0.0);
  for (std::size_t i = 0; i < 7; ++i) x[i] = 0.1;
  double previous = energy(model, params, x).total();
  for (int i = 0; i < 200; ++i) {
    x = step(model, params, x, {}, 1e-3, Integrator::kRungeKutta4);
    const double e = energy(model, params, x).total();
    EXPECT_LE(e, previous + 1e-12);
    previous = e;
  }
}

// RK4 on the manifold converges at fourth order in the rotation too: halving dt divides the error
// of the state after 1 s (against the same method at dt 1.25e-4) by about 16, for a tumbling free
// body and a chain of ball joints on a free base. Semi-implicit Euler's error halves.
// Measured (dt 8e-3, 4e-3, 2e-3): body 3.1e-7, 2.0e-8, 1.2e-9 (ratios 16.0, 16.0); ball chain
// 6.8e-7, 4.5e-8, 2.9e-9 (15.3, 15.6).
Model tumbling_body() {
  Body top;
  top.name = "top";
  top.joint = JointType::kFree;
  top.mass = 1.5;
  top.inertia = {0.1, 0.2, 0.25, 0.01, 0.0, -0.02};
  return Model({top});
}

Model ball_chain() {
  std::vector<Body> bodies;
  for (std::size_t i = 0; i < 4; ++i) {
    Body b;
    b.name = "link" + std::to_string(i);
    b.parent = static_cast<int>(i) - 1;
    b.joint = i == 0 ? JointType::kFree : JointType::kSpherical;
    b.joint_position = {0.0, 0.0, i == 0 ? 0.0 : -0.3};
    b.mass = 0.5 + 0.2 * static_cast<double>(i);
    b.com = {0.02, 0.0, -0.15};
    b.inertia = {0.02, 0.025, 0.01, 0.001, 0.0, 0.0};
    b.damping = i == 0 ? 0.0 : 0.01;
    bodies.push_back(b);
  }
  return Model(std::move(bodies));
}

double state_error(const Model& model, Integrator integrator, const std::vector<double>& x0,
                   double dt, const std::vector<double>& reference) {
  const auto steps = static_cast<std::size_t>(std::lround(1.0 / dt));
  const std::vector<double> states =
      rollout(model, model.parameters(), x0, {}, steps, dt, integrator);
  double worst = 0.0;
  for (std::size_t k = 0; k < model.nx(); ++k) {
    worst = std::max(worst, std::abs(states[steps * model.nx() + k] - reference[k]));
  }
  return worst;
}

class ConvergenceOrder : public ::testing::TestWithParam<int> {};

TEST_P(ConvergenceOrder, Rk4IsFourthOrderOnQuaternionsAndEulerFirstOrder) {
  const Model model = GetParam() == 0 ? tumbling_body() : ball_chain();
  std::vector<double> x0 = random_state(model, 91);
  // Tumbling fast, so that the errors at these steps stay well above rounding.
  const double speed = GetParam() == 0 ? 12.0 : 3.0;
  for (std::size_t k = model.nq(); k < model.nx(); ++k) x0[k] *= speed;
  const double fine = 1.25e-4;
  const std::vector<double> reference_states =
      rollout(model, model.parameters(), x0, {}, 8000, fine, Integrator::kRungeKutta4);
  const std::vector<double> reference(reference_states.end() - static_cast<long>(model.nx()),
                                      reference_states.end());
  double previous_rk4 = 0.0, previous_euler = 0.0;
  for (const double dt : {8e-3, 4e-3, 2e-3}) {
    const double rk4 = state_error(model, Integrator::kRungeKutta4, x0, dt, reference);
    const double euler = state_error(model, Integrator::kSemiImplicitEuler, x0, dt, reference);
    if (previous_rk4 > 0.0) {
      const double rk4_ratio = previous_rk4 / rk4, euler_ratio = previous_euler / euler;
      EXPECT_GT(rk4_ratio, 13.0) << "dt " << dt << ": RK4 errors " << previous_rk4 << ", " << rk4;
      EXPECT_LT(rk4_ratio, 19.0) << "dt " << dt << ": RK4 errors " << previous_rk4 << ", " << rk4;
      EXPECT_GT(euler_ratio, 1.6) << "dt " << dt;
      EXPECT_LT(euler_ratio, 2.5) << "dt " << dt;
    }
    EXPECT_LT(rk4, 1e-5) << "dt " << dt;
    previous_rk4 = rk4;
    previous_euler = euler;
  }
}

INSTANTIATE_TEST_SUITE_P(FreeBodyAndBallChain, ConvergenceOrder, ::testing::Values(0, 1));

// A caller's workspace gives the same numbers as the call's own, and is reused across calls.
TEST(Workspace, PassedInGivesTheSameStepsAsTheCallsOwn) {
  const Model model = random_tree(6, 5, true);
  const std::vector<double> params = model.parameters();
  std::vector<double> x = random_state(model, 6);
  Workspace workspace;
  for (const Integrator integrator : {Integrator::kSemiImplicitEuler, Integrator::kRungeKutta4}) {
    std::vector<double> a = x, b = x;
    for (int t = 0; t < 20; ++t) {
      a = step(model, params, a, {}, 1e-3, integrator);
      b = step(model, params, b, {}, 1e-3, integrator, &workspace);
    }
    EXPECT_EQ(a, b);
    EXPECT_EQ(rollout(model, params, x, {}, 20, 1e-3, integrator),
              rollout(model, params, x, {}, 20, 1e-3, integrator, &workspace));
  }
  EXPECT_EQ(mass_matrix(model, params, head(x, model.nq())),
            mass_matrix(model, params, head(x, model.nq()), &workspace));
}

TEST(Errors, WrongLengthsAndBadDtAreRejected) {
  const Model model = hinge_chain(2);
  const std::vector<double> params = model.parameters();
  const std::vector<double> x(model.nx(), 0.0);
  EXPECT_THROW((void)step(model, params, std::vector<double>(3), {}, 1e-3), ShapeError);
  EXPECT_THROW((void)step(model, params, x, {}, 0.0), ValueError);
  EXPECT_THROW((void)step(model, std::vector<double>(2), x, {}, 1e-3), ShapeError);
}

TEST(Errors, BlowUpIsReportedByStepAndBody) {
  const Model model = hinge_chain(3);
  const std::vector<double> params = model.parameters();
  std::vector<double> x(model.nx(), 0.0);
  x[3] = 1e200;  // absurd speed overflows
  try {
    (void)rollout(model, params, x, {}, 10, 1e-3);
    FAIL() << "expected NonFiniteError";
  } catch (const NonFiniteError& e) {
    EXPECT_NE(std::string(e.what()).find("body"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("step"), std::string::npos) << e.what();
  }
}

TEST(Errors, ModelValidationNamesTheBody) {
  Body b;
  b.name = "bad";
  b.joint = JointType::kRevolute;
  b.mass = -1.0;
  EXPECT_THROW(Model({b}), ValueError);
  b.mass = 1.0;
  b.inertia = {1.0, 1.0, 5.0, 0.0, 0.0, 0.0};  // breaks the triangle inequality
  EXPECT_THROW(Model({b}), ValueError);
  b.inertia = {1.0, 1.0, 1.0, 0.0, 0.0, 0.0};
  b.axis = {0.0, 0.0, 0.0};
  try {
    (void)Model({b});
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("'bad'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("axis"), std::string::npos);
  }
  b.axis = {0.0, 0.0, 1.0};
  b.parent = 0;  // itself: a loop
  EXPECT_THROW(Model({b}), ValueError);
}

}  // namespace
}  // namespace maya::multibody
