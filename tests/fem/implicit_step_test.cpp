#include <gtest/gtest.h>

#include <cmath>
#include <maya/maya.hpp>
#include <vector>

#include "fem/fem_support.hpp"

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::fem::BodyParameters;
using maya::fem::Energy;
using maya::fem::SoftBody;
namespace fem = maya::fem;

Tensor moving_state(const SoftBody& body, std::uint64_t seed) {
  const Tensor& rest = body.mesh().rest_positions();
  Tensor velocity = Tensor::uniform(rest.shape(), -0.2, 0.2, seed);
  for (std::size_t i = 0; i < body.num_vertices(); ++i) {
    velocity.mutable_data()[i * body.dim()] += 0.3;
    velocity.mutable_data()[i * body.dim() + 1] -= 0.5;
  }
  return SoftBody::make_state(fem_test::deformed(rest, 0.003, seed + 1), velocity);
}

TensorVar weighted(TensorVar x) {
  const Tensor w = Tensor::uniform(maya::Shape(x.shape().begin(), x.shape().end()), -1, 1, 78);
  return maya::sum(x * x.tape().constant(w));
}

}  // namespace

// The implicit function theorem's gradient (one adjoint solve per step) against central
// differences of the whole Newton-solved rollout: in 2-D with pinned vertices, in 3-D with
// ground contact, damping and friction.
TEST(ImplicitStep, GradientMatchesCentralDifferences) {
  for (const std::size_t dim : {2, 3}) {
    maya::fem::SoftBodyOptions options;
    options.energy = dim == 2 ? Energy::kStVenantKirchhoff : Energy::kStableNeoHookean;
    if (dim == 2) {
      options.pinned = {0, 4};
    } else {
      options.ground = {.enabled = true,
                        .height = 0.005,
                        .up_axis = 1,
                        .stiffness = 2e3,
                        .damping = 2e3,
                        .friction = 0.5,
                        .slip_velocity = 0.05};
    }
    const SoftBody body(fem_test::small_mesh(dim), options);
    const Tensor inputs[] = {Tensor::from_data({1.0}, {1}), Tensor::from_data({0.3}, {1}),
                             Tensor::from_data({1.0}, {1}), body.mesh().rest_positions(),
                             moving_state(body, 50)};
    const auto report = maya::gradcheck(
        [&](TensorTape&, std::span<const TensorVar> x) {
          const BodyParameters params = fem::parameters(body, x[3], x[0] * 1e4, x[1], x[2] * 1e3);
          TensorVar state = x[4];
          for (int t = 0; t < 10; ++t) state = fem::step_implicit(body, state, params, 5e-3);
          return weighted(state);
        },
        inputs);
    const char* names[] = {"E", "nu", "density", "rest positions", "initial state"};
    for (std::size_t i = 0; i < 5; ++i) {
      EXPECT_LT(report.worst_error[i], 1e-6) << dim << "-D, gradient w.r.t. " << names[i];
    }
  }
}

TEST(ImplicitStep, AgreesWithExplicitStepsAsDtShrinks) {
  // Both are first-order: their difference after 0.02 s halves when dt halves.
  const SoftBody body(fem_test::small_mesh_2d(), {.energy = Energy::kCorotational});
  const auto difference = [&](double dt) {
    TensorTape tape;
    const BodyParameters params = fem::parameters(
        body, tape.constant(body.mesh().rest_positions()), tape.constant(Tensor::scalar(1e4)),
        tape.constant(Tensor::scalar(0.3)), tape.constant(Tensor::scalar(1e3)));
    TensorVar explicit_state = tape.constant(moving_state(body, 5));
    TensorVar implicit_state = explicit_state;
    const int steps = static_cast<int>(std::lround(0.02 / dt));
    for (int t = 0; t < steps; ++t) {
      explicit_state = fem::step_explicit(body, explicit_state, params, dt);
      implicit_state = fem::step_implicit(body, implicit_state, params, dt);
    }
    return maya::max_abs_difference(explicit_state.value(), implicit_state.value());
  };
  const double coarse = difference(4e-4);
  const double fine = difference(2e-4);
  EXPECT_LT(fine, 0.6 * coarse);
  EXPECT_LT(fine, 1e-2);
}

TEST(ImplicitStep, ThrowsConvergenceErrorWhenNewtonFails) {
  const SoftBody body(fem_test::small_mesh_2d(), {.energy = Energy::kStableNeoHookean});
  TensorTape tape;
  const BodyParameters params = fem::parameters(
      body, tape.constant(body.mesh().rest_positions()), tape.constant(Tensor::scalar(1e4)),
      tape.constant(Tensor::scalar(0.3)), tape.constant(Tensor::scalar(1e3)));
  const TensorVar state = tape.constant(moving_state(body, 5));
  try {
    (void)fem::step_implicit(body, state, params, 1e-2, {.max_iterations = 1});
    FAIL() << "expected maya::ConvergenceError";
  } catch (const maya::ConvergenceError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("step_implicit"), std::string::npos) << message;
    EXPECT_NE(message.find("did not converge in 1 iterations"), std::string::npos) << message;
  }
}

TEST(ImplicitStep, ConjugateGradientSolverGivesTheSameStepAndGradient) {
  const SoftBody body(fem_test::small_mesh_3d(), {.energy = Energy::kCorotational});
  Tensor results[2][2];
  for (const auto solver :
       {maya::fem::LinearSolver::kLdlt, maya::fem::LinearSolver::kConjugateGradient}) {
    TensorTape tape;
    const TensorVar youngs = tape.var(Tensor::scalar(1e4));
    const BodyParameters params =
        fem::parameters(body, tape.constant(body.mesh().rest_positions()), youngs,
                        tape.constant(Tensor::scalar(0.3)), tape.constant(Tensor::scalar(1e3)));
    const TensorVar state0 = tape.var(moving_state(body, 5));
    TensorVar state = state0;
    for (int t = 0; t < 5; ++t) {
      state =
          fem::step_implicit(body, state, params, 1e-2, {.solver = solver, .cg_tolerance = 1e-14});
    }
    const auto g = tape.grad(weighted(state));
    const int k = solver == maya::fem::LinearSolver::kLdlt ? 0 : 1;
    results[k][0] = state.value();
    results[k][1] = g[state0];
  }
  EXPECT_TRUE(maya::allclose(results[0][0], results[1][0], 1e-9, 1e-12));
  EXPECT_TRUE(maya::allclose(results[0][1], results[1][1], 1e-7, 1e-9));
}

// Under heavy compression the exact Hessian turns indefinite: conjugate gradient then meets
// negative curvature, Newton falls back to the projected Hessian and the adjoint solve to LDLT.
// Both solvers must still agree on the steps and the gradient.
TEST(ImplicitStep, ConjugateGradientHandlesAnIndefiniteHessianUnderCompression) {
  maya::fem::SoftBodyOptions options;
  options.energy = Energy::kStableNeoHookean;
  options.gravity = {0.0, -3000.0, 0.0};
  options.ground = {.enabled = true,
                    .height = 0.0,
                    .up_axis = 1,
                    .stiffness = 1e6,
                    .damping = 1e4,
                    .friction = 0.0,
                    .slip_velocity = 0.01};
  const SoftBody body(
      maya::fem::box_mesh(
          {.size_x = 0.1, .size_y = 0.1, .size_z = 0.1, .cells_x = 2, .cells_y = 2, .cells_z = 2}),
      options);
  Tensor results[2][2];
  for (const auto solver :
       {maya::fem::LinearSolver::kLdlt, maya::fem::LinearSolver::kConjugateGradient}) {
    TensorTape tape;
    const TensorVar youngs = tape.var(Tensor::scalar(1e5));
    const BodyParameters params =
        fem::parameters(body, tape.constant(body.mesh().rest_positions()), youngs,
                        tape.constant(Tensor::scalar(0.45)), tape.constant(Tensor::scalar(1e3)));
    TensorVar state = tape.constant(body.rest_state());
    for (int t = 0; t < 15; ++t) {
      state = fem::step_implicit(body, state, params, 2e-3,
                                 {.max_iterations = 100, .solver = solver, .cg_tolerance = 1e-14});
    }
    const auto g = tape.grad(weighted(state));
    const int k = solver == maya::fem::LinearSolver::kLdlt ? 0 : 1;
    results[k][0] = state.value();
    results[k][1] = g[youngs];
  }
  EXPECT_LT(maya::max_abs_difference(results[0][0], results[1][0]), 1e-9);
  EXPECT_NEAR(results[1][1].item(), results[0][1].item(), 1e-6 * std::abs(results[0][1].item()));
}

TEST(StaticEquilibrium, GradientMatchesCentralDifferences) {
  const maya::fem::Mesh mesh = fem_test::small_mesh_2d();
  const SoftBody body(mesh, {.energy = Energy::kStableNeoHookean, .pinned = {0, 4, 8}});
  const Tensor inputs[] = {Tensor::from_data({1.0}, {1}), Tensor::from_data({0.3}, {1}),
                           Tensor::from_data({1.0}, {1}), mesh.rest_positions(),
                           fem_test::deformed(mesh.rest_positions(), 0.002, 4)};
  const auto report = maya::gradcheck(
      [&](TensorTape&, std::span<const TensorVar> x) {
        const BodyParameters params = fem::parameters(body, x[3], x[0] * 1e4, x[1], x[2] * 1e3);
        return weighted(fem::static_equilibrium(body, x[4], params)) * 10.0;
      },
      inputs);
  const char* names[] = {"E", "nu", "density", "rest positions", "positions"};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_LT(report.worst_error[i], 1e-6) << "gradient w.r.t. " << names[i];
  }
}
