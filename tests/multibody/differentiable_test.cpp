// The fused multibody step against central differences and against its composed twin; step
// Jacobians; gradients with respect to state, controls and model parameters.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <thread>

#include "maya/core/error.hpp"
#include "maya/core/gradient_error.hpp"
#include "maya/core/threads.hpp"
#include "maya/multibody/differentiable.hpp"
#include "maya/multibody/dynamics.hpp"
#include "maya/tensor/gradcheck.hpp"
#include "maya/tensor/ops.hpp"
#include "test_models.hpp"

namespace maya::multibody {
namespace {

// A random tree with a free base, every joint type, damping and three kinds of actuators.
Model actuated_tree(std::uint64_t seed) {
  const Model base = testing::random_tree(9, seed, true);
  std::vector<Body> bodies = base.bodies();
  for (Body& b : bodies) b.damping = 0.05;
  std::vector<Actuator> actuators(3);
  actuators[0] = {"torque", 4, ActuatorType::kTorque, 2.0, 0.0, 0.0, false, 0.0, 0.0};
  actuators[1] = {"servo", 1, ActuatorType::kPosition, 1.0, 5.0, 0.5, false, 0.0, 0.0};
  actuators[2] = {"speed", 8, ActuatorType::kVelocity, 1.0, 0.0, 2.0, false, 0.0, 0.0};
  return Model(std::move(bodies), std::move(actuators));
}

Tensor random_tensor(std::size_t n, std::uint64_t seed, double scale = 1.0) {
  return Tensor::uniform({n}, -scale, scale, seed);
}

Tensor from(const std::vector<double>& v) { return Tensor::from_data(v, {v.size()}); }

// sum(w * x) with fixed random weights, so every output entry's gradient is exercised.
TensorVar weighted_sum(TensorTape& tape, TensorVar x, std::uint64_t seed) {
  const TensorVar w = tape.constant(Tensor::uniform({x.numel()}, -1.0, 1.0, seed));
  return sum(x * w);
}

class FusedStep : public ::testing::TestWithParam<Integrator> {};

TEST_P(FusedStep, GradientMatchesCentralDifferencesForStateControlAndParameters) {
  const Model model = actuated_tree(11);
  const Tensor x = from(testing::random_state(model, 12));
  const Tensor u = random_tensor(model.nu(), 13);
  const Tensor p = from(model.parameters());
  const Integrator integrator = GetParam();
  const LossFunction loss = [&](TensorTape& tape, std::span<const TensorVar> in) {
    TensorVar s = in[0];
    for (int t = 0; t < 3; ++t) s = step(model, s, in[1], in[2], 0.01, integrator);
    return weighted_sum(tape, s, 14);
  };
  const Tensor inputs[] = {x, u, p};
  const GradcheckReport report = gradcheck(loss, inputs);
  EXPECT_LT(report.worst_error[0], 1e-6) << "state";
  EXPECT_LT(report.worst_error[1], 1e-6) << "control";
  EXPECT_LT(report.worst_error[2], 1e-6) << "parameters";
}

INSTANTIATE_TEST_SUITE_P(Both, FusedStep,
                         ::testing::Values(Integrator::kSemiImplicitEuler,
                                           Integrator::kRungeKutta4));

TEST(FusedStep, ValueMatchesThePlainStep) {
  const Model model = actuated_tree(21);
  const std::vector<double> x = testing::random_state(model, 22);
  const std::vector<double> u{0.3, -0.2, 0.5};
  const std::vector<double> p = model.parameters();
  TensorTape tape;
  const TensorVar out = step(model, tape.constant(from(x)), tape.constant(from(u)),
                             tape.constant(from(p)), 0.01, Integrator::kRungeKutta4);
  const std::vector<double> expected = step(model, p, x, u, 0.01, Integrator::kRungeKutta4);
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_DOUBLE_EQ(out.view()[i], expected[i]);
}

TEST(ComposedTwin, MatchesTheFusedStepInValueAndGradient) {
  const Model model = actuated_tree(31);
  const Tensor x = from(testing::random_state(model, 32));
  const Tensor u = random_tensor(model.nu(), 33);
  const Tensor p = from(model.parameters());
  TensorTape fused_tape, composed_tape;
  const auto run = [&](TensorTape& tape, bool fused) {
    const TensorVar xs = tape.var(x), us = tape.var(u), ps = tape.var(p);
    TensorVar s = xs;
    for (int t = 0; t < 4; ++t) {
      s = fused ? step(model, s, us, ps, 0.005) : step_composed(model, s, us, ps, 0.005);
    }
    const TensorVar loss = weighted_sum(tape, s, 34);
    const TensorGradients g = tape.grad(loss);
    return std::array<Tensor, 4>{s.value(), g[xs], g[us], g[ps]};
  };
  const auto a = run(fused_tape, true);
  const auto b = run(composed_tape, false);
  EXPECT_LT(max_abs_difference(a[0], b[0]), 1e-11);
  for (int k = 1; k < 4; ++k) {
    double scale = 1.0;
    for (double g : a[k].data()) scale = std::max(scale, std::abs(g));
    EXPECT_LT(max_abs_difference(a[k], b[k]), 1e-9 * scale) << "input " << k - 1;
  }
  // The twin is not the same code: its forward dynamics go through the mass matrix.
  EXPECT_GT(composed_tape.size(), fused_tape.size());
}

// Every node holds the model's ops and so its data: a model and its copy destroyed before grad()
// give the same gradient as ones still alive, through the fused step and the composed twin.
TEST(FusedStep, TapeKeepsTheModelAliveAfterTheModelIsGone) {
  const auto run = [](bool drop_models) {
    auto model = std::make_unique<Model>(actuated_tree(35));
    auto copy = std::make_unique<Model>(*model);
    const Tensor x = from(testing::random_state(*model, 36));
    const Tensor u = random_tensor(model->nu(), 37);
    const Tensor p = from(model->parameters());
    TensorTape tape;
    const TensorVar xs = tape.var(x), us = tape.var(u), ps = tape.var(p);
    TensorVar s = step(*model, xs, us, ps, 0.005);
    s = step_composed(*copy, s, us, ps, 0.005);
    s = step(*copy, s, us, ps, 0.005);
    const TensorVar loss = weighted_sum(tape, s, 38);
    if (drop_models) {
      model.reset();
      copy.reset();
    }
    const TensorGradients g = tape.grad(loss);
    return std::array<Tensor, 3>{g[xs], g[us], g[ps]};
  };
  const auto alive = run(false);
  const auto dropped = run(true);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(max_abs_difference(alive[k], dropped[k]), 0.0) << k;
}

TEST(ComposedTwin, GradientMatchesCentralDifferences) {
  const Model model = actuated_tree(41);
  const Tensor inputs[] = {from(testing::random_state(model, 42)), random_tensor(model.nu(), 43),
                           from(model.parameters())};
  const GradcheckReport report = gradcheck(
      [&](TensorTape& tape, std::span<const TensorVar> in) {
        return weighted_sum(tape, step_composed(model, in[0], in[1], in[2], 0.01), 44);
      },
      inputs);
  EXPECT_LT(report.max_error(), 1e-6);
}

TEST(StepJacobians, MatchCentralDifferencesForStateControlAndParameters) {
  const Model model = actuated_tree(51);
  const std::size_t T = 3, nx = model.nx(), nu = model.nu(), np = model.num_parameters();
  const std::vector<double> p = model.parameters();
  std::vector<double> xs, us;
  for (std::size_t t = 0; t < T; ++t) {
    const auto x = testing::random_state(model, 52 + t);
    xs.insert(xs.end(), x.begin(), x.end());
    const Tensor u = random_tensor(nu, 60 + t);
    us.insert(us.end(), u.data().begin(), u.data().end());
  }
  const StepJacobians J =
      step_jacobians(model, Tensor::from_data(xs, {T, nx}), Tensor::from_data(us, {T, nu}), p, 0.01,
                     Integrator::kRungeKutta4, true);
  ASSERT_EQ(J.state.shape(), (Shape{T, nx, nx}));
  ASSERT_EQ(J.control.shape(), (Shape{T, nx, nu}));
  ASSERT_EQ(J.parameters.shape(), (Shape{T, nx, np}));
  const double h = 1e-6;
  double worst = 0.0;
  for (std::size_t t = 0; t < T; ++t) {
    std::vector<double> x(xs.begin() + t * nx, xs.begin() + (t + 1) * nx);
    std::vector<double> u(us.begin() + t * nu, us.begin() + (t + 1) * nu);
    std::vector<double> pp = p;
    // Each block of the step's Jacobian against central differences, relative to the block's
    // largest entry (rows of positions are dt^2-small beside rows of velocities).
    const auto block = [&](std::vector<double>& v, const Tensor& jac, std::size_t cols) {
      std::vector<double> numeric(nx * cols);
      double floor = 0.0;
      for (std::size_t j = 0; j < cols; ++j) {
        const double keep = v[j];
        v[j] = keep + h;
        const auto plus = step(model, pp, x, u, 0.01, Integrator::kRungeKutta4);
        v[j] = keep - h;
        const auto minus = step(model, pp, x, u, 0.01, Integrator::kRungeKutta4);
        v[j] = keep;
        for (std::size_t i = 0; i < nx; ++i) {
          numeric[i * cols + j] = (plus[i] - minus[i]) / (2 * h);
          floor = std::max(floor, central_difference_floor(plus[i], h));
        }
      }
      const double* analytic = jac.data().data() + t * nx * cols;
      double scale = 0.0;
      for (std::size_t k = 0; k < nx * cols; ++k) {
        scale = std::max({scale, std::abs(analytic[k]), std::abs(numeric[k])});
      }
      for (std::size_t k = 0; k < nx * cols; ++k) {
        worst = std::max(worst, gradient_error(analytic[k], numeric[k], scale, floor));
      }
    };
    block(x, J.state, nx);
    block(u, J.control, nu);
    block(pp, J.parameters, np);
  }
  EXPECT_LT(worst, 1e-6);
}

// Batched over worlds: each world's blocks are that world's single-world Jacobians (same bits,
// with its own parameters), match central differences, and do not depend on the thread count.
TEST(StepJacobians, BatchedOverWorldsAndStepsMatchEachWorldAndCentralDifferences) {
  const Model model = actuated_tree(81);
  const std::size_t E = 3, T = 2, nx = model.nx(), nu = model.nu(), np = model.num_parameters();
  std::vector<double> xs, us, ps;
  for (std::size_t w = 0; w < E; ++w) {
    std::vector<double> p = model.parameters();
    p[0] *= 1.0 + 0.2 * static_cast<double>(w);  // each world its own first mass
    ps.insert(ps.end(), p.begin(), p.end());
    for (std::size_t t = 0; t < T; ++t) {
      const auto x = testing::random_state(model, 82 + 10 * w + t);
      xs.insert(xs.end(), x.begin(), x.end());
      const Tensor u = random_tensor(nu, 90 + 10 * w + t);
      us.insert(us.end(), u.data().begin(), u.data().end());
    }
  }
  const Tensor states = Tensor::from_data(xs, {E, T, nx});
  const Tensor controls = Tensor::from_data(us, {E, T, nu});
  const Tensor params = Tensor::from_data(ps, {E, np});
  for (const Integrator integrator : {Integrator::kSemiImplicitEuler, Integrator::kRungeKutta4}) {
    const StepJacobians J =
        batched_step_jacobians(model, states, controls, params, 0.01, integrator, true);
    ASSERT_EQ(J.state.shape(), (Shape{E, T, nx, nx}));
    ASSERT_EQ(J.control.shape(), (Shape{E, T, nx, nu}));
    ASSERT_EQ(J.parameters.shape(), (Shape{E, T, nx, np}));
    set_num_threads(2);
    const StepJacobians threaded =
        batched_step_jacobians(model, states, controls, params, 0.01, integrator, true);
    set_num_threads(1);
    EXPECT_TRUE(std::ranges::equal(threaded.state.data(), J.state.data()));
    EXPECT_TRUE(std::ranges::equal(threaded.control.data(), J.control.data()));
    EXPECT_TRUE(std::ranges::equal(threaded.parameters.data(), J.parameters.data()));
    double worst = 0.0;
    for (std::size_t w = 0; w < E; ++w) {
      const std::vector<double> p(ps.begin() + w * np, ps.begin() + (w + 1) * np);
      const StepJacobians one = step_jacobians(
          model,
          Tensor::from_data({xs.begin() + w * T * nx, xs.begin() + (w + 1) * T * nx}, {T, nx}),
          Tensor::from_data({us.begin() + w * T * nu, us.begin() + (w + 1) * T * nu}, {T, nu}), p,
          0.01, integrator, true);
      const auto same = [&](const Tensor& batch, const Tensor& single) {
        const std::size_t n = single.numel();
        return std::equal(single.data().begin(), single.data().end(),
                          batch.data().begin() + static_cast<long>(w * n));
      };
      EXPECT_TRUE(same(J.state, one.state)) << "world " << w;
      EXPECT_TRUE(same(J.control, one.control)) << "world " << w;
      EXPECT_TRUE(same(J.parameters, one.parameters)) << "world " << w;
      // Central differences of the last step of world w, in the state and the control.
      const std::size_t t = T - 1, k = w * T + t;
      std::vector<double> x(xs.begin() + k * nx, xs.begin() + (k + 1) * nx);
      std::vector<double> u(us.begin() + k * nu, us.begin() + (k + 1) * nu);
      const double h = 1e-6;
      const auto column = [&](std::vector<double>& v, std::size_t j, const Tensor& jac,
                              std::size_t cols) {
        const double keep = v[j];
        v[j] = keep + h;
        const auto plus = step(model, p, x, u, 0.01, integrator);
        v[j] = keep - h;
        const auto minus = step(model, p, x, u, 0.01, integrator);
        v[j] = keep;
        for (std::size_t i = 0; i < nx; ++i) {
          const double numeric = (plus[i] - minus[i]) / (2 * h);
          const double analytic = jac.data()[k * nx * cols + i * cols + j];
          worst = std::max(worst, std::abs(analytic - numeric) / std::max(1.0, std::abs(numeric)));
        }
      };
      for (std::size_t j = 0; j < nx; ++j) column(x, j, J.state, nx);
      for (std::size_t j = 0; j < nu; ++j) column(u, j, J.control, nu);
    }
    EXPECT_LT(worst, 1e-6);
  }
  // Shared parameters [np] are the same as every world carrying them.
  const StepJacobians shared = batched_step_jacobians(
      model, states, controls, Tensor::from_data(model.parameters(), {np}), 0.01);
  std::vector<double> repeated;
  const std::vector<double> p0 = model.parameters();
  for (std::size_t w = 0; w < E; ++w) repeated.insert(repeated.end(), p0.begin(), p0.end());
  const StepJacobians each =
      batched_step_jacobians(model, states, controls, Tensor::from_data(repeated, {E, np}), 0.01);
  EXPECT_TRUE(std::ranges::equal(shared.state.data(), each.state.data()));
  EXPECT_THROW(
      (void)batched_step_jacobians(model, states, Tensor::zeros({E, T + 1, nu}), params, 0.01),
      ShapeError);
  EXPECT_THROW(
      (void)batched_step_jacobians(model, states, controls, Tensor::zeros({E + 1, np}), 0.01),
      ShapeError);
  EXPECT_THROW((void)batched_step_jacobians(model, Tensor::zeros({T, nx}), controls, params, 0.01),
               ShapeError);
}

// Scratch lives in each tape's workspace, so tapes on different threads step one model at once
// and get the gradients one thread gets (both integrators, with and without the hand path).
TEST(FusedStep, TapesOnTwoThreadsAtOnceGiveTheOneThreadGradients) {
  const Model model = actuated_tree(101);
  const Tensor x = from(testing::random_state(model, 102));
  const Tensor u = random_tensor(model.nu(), 103);
  const Tensor p = from(model.parameters());
  const auto gradients = [&](Integrator integrator) {
    TensorTape tape;
    const TensorVar xs = tape.var(x), us = tape.var(u), ps = tape.var(p);
    TensorVar s = xs;
    for (int t = 0; t < 20; ++t) s = step(model, s, us, ps, 0.01, integrator);
    const TensorGradients g = tape.grad(weighted_sum(tape, s, 104));
    std::vector<double> all(g[xs].data().begin(), g[xs].data().end());
    all.insert(all.end(), g[us].data().begin(), g[us].data().end());
    all.insert(all.end(), g[ps].data().begin(), g[ps].data().end());
    return all;
  };
  for (const Integrator integrator : {Integrator::kSemiImplicitEuler, Integrator::kRungeKutta4}) {
    const std::vector<double> alone = gradients(integrator);
    std::vector<double> a, b;
    std::thread first([&] { a = gradients(integrator); });
    std::thread second([&] { b = gradients(integrator); });
    first.join();
    second.join();
    EXPECT_EQ(a, alone);
    EXPECT_EQ(b, alone);
  }
}

TEST(StepJacobians, RejectBadShapes) {
  const Model model = actuated_tree(61);
  const std::vector<double> p = model.parameters();
  EXPECT_THROW((void)step_jacobians(model, Tensor::zeros({2, 3}), Tensor::zeros({2, 3}), p, 0.01),
               ShapeError);
  TensorTape tape;
  EXPECT_THROW((void)step(model, tape.var(Tensor::zeros({3})), tape.var(Tensor::zeros({3})),
                          tape.var(from(p)), 0.01),
               ShapeError);
}

}  // namespace
}  // namespace maya::multibody

namespace maya::multibody {
namespace {

TEST(BodyPoint, IsTheForwardKinematicsAndDifferentiable) {
  const Model model = testing::hinge_chain(4, 0.1);
  std::vector<double> x(model.nx(), 0.0);
  TensorTape tape;
  const TensorVar tip =
      body_point(model, tape.constant(Tensor::from_data(x, {x.size()})),
                 tape.constant(Tensor::from_data(model.parameters(), {model.num_parameters()})), 3,
                 Vec3{0.0, 0.0, -0.1});
  EXPECT_NEAR(tip.view()[2], -0.4, 1e-12);  // the hanging chain's tip
  for (std::size_t i = 0; i < 4; ++i) x[i] = 0.2 * static_cast<double>(i + 1);
  const Tensor inputs[] = {Tensor::from_data(x, {x.size()}),
                           Tensor::from_data(model.parameters(), {model.num_parameters()})};
  const GradcheckReport report = gradcheck(
      [&](TensorTape& t, std::span<const TensorVar> in) {
        const TensorVar p = body_point(model, in[0], in[1], 3, Vec3{0.01, 0.02, -0.1});
        return sum(p * t.constant(Tensor::from_data({1.0, -2.0, 0.5}, {3})));
      },
      inputs);
  EXPECT_LT(report.max_error(), 1e-7);
}

}  // namespace
}  // namespace maya::multibody

namespace maya::multibody {
namespace {

// Three differentiation paths of one step agree: the fused node's adjoint (for semi-implicit
// Euler, the implicit-function form lambda = M^-1 g_qdd through recorded Newton-Euler; for RK4,
// the whole step recorded in reverse mode) against the forward-mode step Jacobians transposed.
TEST(FusedStep, AdjointEqualsStepJacobiansTransposedTimesTheGradient) {
  const Model base = actuated_tree(71);
  std::vector<Body> bodies = base.bodies();
  for (Body& b : bodies) {
    Geom g;
    g.type = ShapeType::kSphere;
    g.radius = 0.3;
    b.geoms = {g};
  }
  ModelOptions options;
  options.planes = {Plane{{0.1, 0.0, 1.0}, -0.3}};  // some spheres touch, some do not
  options.body_contact = false;  // the planes only (body_contact_test.cpp has the pairs)
  const Model model(bodies, base.actuators(), options);
  const std::vector<double> x = testing::random_state(model, 72);
  const std::vector<double> u{0.4, -0.3, 0.2};
  const std::vector<double> p = model.parameters();
  const std::size_t nx = model.nx(), nu = model.nu(), np = model.num_parameters();
  const std::vector<double> forces = contact_forces(model, p, x);
  std::size_t touching = 0;
  for (std::size_t c = 0; c < forces.size(); c += 3) touching += forces[c + 2] != 0.0 ? 1 : 0;
  EXPECT_GT(touching, 0U);
  EXPECT_LT(touching, model.contact_points().size());
  for (const Integrator integrator : {Integrator::kSemiImplicitEuler, Integrator::kRungeKutta4}) {
    const StepJacobians J =
        step_jacobians(model, Tensor::from_data(x, {1, nx}), Tensor::from_data(u, {1, nu}), p, 0.01,
                       integrator, true);
    TensorTape tape;
    const TensorVar xs = tape.var(from(x)), us = tape.var(from(u)), ps = tape.var(from(p));
    const TensorVar w = tape.constant(Tensor::uniform({nx}, -1.0, 1.0, 73));
    const TensorGradients g = tape.grad(sum(step(model, xs, us, ps, 0.01, integrator) * w));
    const auto contract = [&](const Tensor& jac, std::size_t cols, std::size_t j) {
      double s = 0.0;
      for (std::size_t i = 0; i < nx; ++i) s += w.view()[i] * jac.data()[i * cols + j];
      return s;
    };
    double worst = 0.0;
    for (std::size_t j = 0; j < nx; ++j) {
      worst = std::max(worst, std::abs(g[xs].data()[j] - contract(J.state, nx, j)));
    }
    for (std::size_t j = 0; j < nu; ++j) {
      worst = std::max(worst, std::abs(g[us].data()[j] - contract(J.control, nu, j)));
    }
    for (std::size_t j = 0; j < np; ++j) {
      const double scale = std::max(1.0, std::abs(contract(J.parameters, np, j)));
      worst = std::max(worst, std::abs(g[ps].data()[j] - contract(J.parameters, np, j)) / scale);
    }
    EXPECT_LT(worst, 1e-9) << (integrator == Integrator::kRungeKutta4 ? "RK4" : "Euler");
  }
}

}  // namespace
}  // namespace maya::multibody

namespace maya::multibody {
namespace {

TEST(FusedStep, ACopiedModelDifferentiatesAfterItsOriginalIsGone) {
  auto original = std::make_unique<Model>(actuated_tree(81));
  const Model copy = *original;
  const std::vector<double> x = testing::random_state(copy, 82);
  TensorTape tape;
  const TensorVar xs = tape.var(from(x));
  const TensorVar next = step(copy, xs, tape.constant(Tensor::zeros({copy.nu()})),
                              tape.constant(from(copy.parameters())), 0.01);
  original.reset();  // the copy's tape op must not refer to it
  const TensorGradients g = tape.grad(sum(next));
  double total = 0.0;
  for (double v : g[xs].data()) total += std::abs(v);
  EXPECT_GT(total, 0.0);
  EXPECT_TRUE(std::isfinite(total));
}

}  // namespace
}  // namespace maya::multibody

namespace maya::multibody {
namespace {

// A tree of hinges, slides and welds with every actuator kind, one joint past its limit and one
// control clamped: the case the hand-derived Newton-Euler reverse pass handles.
Model scalar_tree(std::uint64_t seed) {
  const Model base = testing::random_tree(8, seed, false);
  std::vector<Body> bodies = base.bodies();
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    if (bodies[i].joint == JointType::kSpherical) bodies[i].joint = JointType::kRevolute;
    bodies[i].damping = 0.02 * static_cast<double>(i);
    bodies[i].armature = 0.01;
  }
  bodies[4].limited = true;  // revolute, starts outside [lower, upper]
  bodies[4].lower = -2.0;
  bodies[4].upper = -1.5;
  std::vector<Actuator> actuators(4);
  actuators[0] = {"torque", 0, ActuatorType::kTorque, 1.5, 0.0, 0.0, false, 0.0, 0.0};
  actuators[1] = {"servo", 1, ActuatorType::kPosition, 1.0, 4.0, 0.3, false, 0.0, 0.0};
  actuators[2] = {"speed", 2, ActuatorType::kVelocity, 1.0, 0.0, 1.5, false, 0.0, 0.0};
  actuators[3] = {"clamped", 4, ActuatorType::kTorque, 1.0, 0.0, 0.0, true, -0.1, 0.1};
  return Model(std::move(bodies), std::move(actuators));
}

TEST(FusedStep, HandDerivedNewtonEulerAdjointMatchesJacobiansAndCentralDifferences) {
  const Model model = scalar_tree(91);
  const std::vector<double> x = testing::random_state(model, 92);
  const std::vector<double> u{0.3, -0.2, 0.5, 0.7};  // the last is clamped to 0.1
  const std::vector<double> p = model.parameters();
  const std::size_t nx = model.nx(), nu = model.nu();
  const StepJacobians J =
      step_jacobians(model, Tensor::from_data(x, {1, nx}), Tensor::from_data(u, {1, nu}), p, 0.01);
  TensorTape tape;
  const TensorVar xs = tape.var(from(x)), us = tape.var(from(u));
  const TensorVar w = tape.constant(Tensor::uniform({nx}, -1.0, 1.0, 93));
  const TensorGradients g = tape.grad(sum(step(model, xs, us, tape.constant(from(p)), 0.01) * w));
  for (std::size_t j = 0; j < nx; ++j) {
    double expected = 0.0;
    for (std::size_t i = 0; i < nx; ++i) expected += w.view()[i] * J.state.data()[i * nx + j];
    EXPECT_NEAR(g[xs].data()[j], expected, 1e-10 * (1.0 + std::abs(expected))) << "state " << j;
  }
  for (std::size_t j = 0; j < nu; ++j) {
    double expected = 0.0;
    for (std::size_t i = 0; i < nx; ++i) expected += w.view()[i] * J.control.data()[i * nu + j];
    EXPECT_NEAR(g[us].data()[j], expected, 1e-10 * (1.0 + std::abs(expected))) << "control " << j;
  }
  EXPECT_EQ(g[us].data()[3], 0.0);  // clamped
  const Tensor inputs[] = {from(x), from(u)};
  const GradcheckReport report = gradcheck(
      [&](TensorTape& t, std::span<const TensorVar> in) {
        TensorVar s = in[0];
        for (int k = 0; k < 3; ++k) s = step(model, s, in[1], t.constant(from(p)), 0.01);
        return weighted_sum(t, s, 94);
      },
      inputs);
  EXPECT_LT(report.max_error(), 1e-6);
}

}  // namespace
}  // namespace maya::multibody

namespace maya::multibody {
namespace {

TEST(FusedStep, ABlowUpIsANamedErrorNotNaNOnTheTape) {
  const Model model = testing::hinge_chain(3);
  std::vector<double> x(model.nx(), 0.0);
  x[3] = 1e200;
  TensorTape tape;
  try {
    (void)step(model, tape.var(from(x)), tape.constant(Tensor::zeros({0})),
               tape.constant(from(model.parameters())), 1e-3);
    FAIL() << "expected NonFiniteError";
  } catch (const NonFiniteError& e) {
    EXPECT_NE(std::string(e.what()).find("body 0 'link0'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("tape node"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace maya::multibody

namespace maya::multibody {
namespace {

Model with_implicit_damping(const Model& model) {
  ModelOptions options = model.options();
  options.implicit_damping = true;
  return Model(model.bodies(), model.actuators(), options);
}

TEST(ImplicitDamping, EveryAdjointPathMatchesTheJacobiansAndTheTwin) {
  for (const Model& model :
       {with_implicit_damping(actuated_tree(101)), with_implicit_damping(scalar_tree(102))}) {
    const std::vector<double> x = testing::random_state(model, 103);
    const Tensor u = random_tensor(model.nu(), 104);
    const std::vector<double> p = model.parameters();
    const std::size_t nx = model.nx(), nu = model.nu(), np = model.num_parameters();
    const StepJacobians J = step_jacobians(model, Tensor::from_data(x, {1, nx}), u.reshape({1, nu}),
                                           p, 0.02, Integrator::kSemiImplicitEuler, true);
    // With and without a parameter gradient (the hand-derived path needs none for hinge trees).
    for (const bool parameters : {true, false}) {
      TensorTape tape;
      const TensorVar xs = tape.var(from(x)), us = tape.var(u);
      const TensorVar ps = parameters ? tape.var(from(p)) : tape.constant(from(p));
      const TensorVar w = tape.constant(Tensor::uniform({nx}, -1.0, 1.0, 105));
      const TensorVar next = step(model, xs, us, ps, 0.02);
      const TensorGradients g = tape.grad(sum(next * w));
      const auto expect_contracted = [&](const Tensor& got, const Tensor& jac, std::size_t cols) {
        for (std::size_t j = 0; j < cols; ++j) {
          double expected = 0.0;
          for (std::size_t i = 0; i < nx; ++i) expected += w.view()[i] * jac.data()[i * cols + j];
          EXPECT_NEAR(got.data()[j], expected, 1e-9 * (1.0 + std::abs(expected))) << j;
        }
      };
      expect_contracted(g[xs], J.state, nx);
      expect_contracted(g[us], J.control, nu);
      if (parameters) expect_contracted(g[ps], J.parameters, np);
      // The composed twin (mass matrix + inverse dynamics, forward mode) in value.
      TensorTape twin;
      const TensorVar composed = step_composed(model, twin.constant(from(x)), twin.constant(u),
                                               twin.constant(from(p)), 0.02);
      EXPECT_LT(max_abs_difference(composed.value(), next.value()), 1e-11);
    }
    // Damping taken at the new velocity slows a joint more than the explicit step: the step
    // differs from the explicit one by O(dt^2).
    const std::vector<double> explicit_step =
        step(Model(model.bodies(), model.actuators(), ModelOptions{}), p, x,
             std::vector<double>(u.data().begin(), u.data().end()), 0.02);
    const std::vector<double> implicit_step =
        step(model, p, x, std::vector<double>(u.data().begin(), u.data().end()), 0.02);
    double difference = 0.0;
    for (std::size_t i = 0; i < nx; ++i) {
      difference = std::max(difference, std::abs(explicit_step[i] - implicit_step[i]));
    }
    EXPECT_GT(difference, 0.0);
  }
}

}  // namespace
}  // namespace maya::multibody

namespace maya::multibody {
namespace {

// The hand adjoint runs on what each step kept of its forward pass (no parameter gradient);
// with a parameter gradient the same steps take the recorded Newton-Euler path. Over many steps
// the two give the same state and control gradients.
TEST(FusedStep, KeptForwardPassMatchesTheRecordedPathOverManySteps) {
  const Model model = with_implicit_damping(scalar_tree(111));
  const std::vector<double> x = testing::random_state(model, 112);
  const Tensor u = random_tensor(model.nu(), 113);
  const std::vector<double> p = model.parameters();
  std::vector<Tensor> gradients;
  for (const bool parameters : {false, true}) {
    TensorTape tape;
    const TensorVar xs = tape.var(from(x)), us = tape.var(u);
    const TensorVar ps = parameters ? tape.var(from(p)) : tape.constant(from(p));
    TensorVar s = xs;
    for (int k = 0; k < 20; ++k) s = step(model, s, us, ps, 0.002);
    const TensorGradients g = tape.grad(weighted_sum(tape, s, 114));
    gradients.push_back(g[xs]);
    gradients.push_back(g[us]);
  }
  for (int b = 0; b < 2; ++b) {
    const Tensor& kept = gradients[b];
    const Tensor& recorded = gradients[b + 2];
    double largest = 0.0;
    for (double v : recorded.data()) largest = std::max(largest, std::abs(v));
    ASSERT_GT(largest, 0.0);
    EXPECT_LT(max_abs_difference(kept, recorded), 1e-10 * largest)
        << (b == 0 ? "state" : "control");
  }
}

}  // namespace
}  // namespace maya::multibody
