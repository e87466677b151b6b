#include <gtest/gtest.h>

#include <cmath>
#include <maya/maya.hpp>
#include <memory>
#include <string>
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

// A soft body that starts with its lowest vertices below the ground, moving down and sideways,
// so the rollout exercises contact, damping and friction.
maya::fem::SoftBodyOptions falling_options(Energy energy) {
  maya::fem::SoftBodyOptions options;
  options.energy = energy;
  options.ground = {.enabled = true,
                    .height = 0.005,
                    .up_axis = 1,
                    .stiffness = 2e3,
                    .damping = 2e3,
                    .friction = 0.5,
                    .slip_velocity = 0.05};
  return options;
}

Tensor moving_state(const SoftBody& body, std::uint64_t seed) {
  const Tensor& rest = body.mesh().rest_positions();
  Tensor velocity = Tensor::uniform(rest.shape(), -0.2, 0.2, seed);
  for (std::size_t i = 0; i < body.num_vertices(); ++i) {
    velocity.mutable_data()[i * body.dim()] += 0.3;
    velocity.mutable_data()[i * body.dim() + 1] -= 0.5;
  }
  return SoftBody::make_state(fem_test::deformed(rest, 0.003, seed + 1), velocity);
}

TensorVar weighted_state(TensorVar state) {
  const Tensor w =
      Tensor::uniform(maya::Shape(state.shape().begin(), state.shape().end()), -1, 1, 77);
  return maya::sum(state * state.tape().constant(w));
}

}  // namespace

// Inputs: E / 1e4, nu, density / 1e3, rest positions, initial state; each scaled to O(1) so
// the central differences see well-scaled inputs.
TEST(ExplicitStep, GradientMatchesCentralDifferences) {
  for (const std::size_t dim : {2, 3}) {
    const Energy energy = dim == 2 ? Energy::kCorotational : Energy::kStableNeoHookean;
    const SoftBody body(fem_test::small_mesh(dim), falling_options(energy));
    const Tensor inputs[] = {Tensor::from_data({1.0}, {1}), Tensor::from_data({0.3}, {1}),
                             Tensor::from_data({1.0}, {1}), body.mesh().rest_positions(),
                             moving_state(body, 40)};
    const auto report = maya::gradcheck(
        [&](TensorTape&, std::span<const TensorVar> x) {
          const BodyParameters params = fem::parameters(body, x[3], x[0] * 1e4, x[1], x[2] * 1e3);
          TensorVar state = x[4];
          for (int t = 0; t < 30; ++t) state = fem::step_explicit(body, state, params, 1e-3);
          return weighted_state(state);
        },
        inputs);
    const char* names[] = {"E", "nu", "density", "rest positions", "initial state"};
    for (std::size_t i = 0; i < 5; ++i) {
      EXPECT_LT(report.worst_error[i], 1e-6) << dim << "-D, gradient w.r.t. " << names[i];
    }
  }
}

// The fused step against its composed twin over 100 steps of a body that hits the ground, with
// pinned vertices, per-element Lame parameters and a time-varying actuation.
TEST(ExplicitStep, FusedEqualsComposedInValuesAndGradientsOver100Steps) {
  for (const std::size_t dim : {2, 3}) {
    maya::fem::SoftBodyOptions options = falling_options(Energy::kStableNeoHookean);
    options.pinned = {2};
    const SoftBody body(fem_test::small_mesh(dim), options);
    const std::size_t m = body.num_elements();
    const Tensor inputs[] = {moving_state(body, 60),
                             body.mesh().rest_positions(),
                             Tensor::uniform({m}, 3e3, 5e3, 61),
                             Tensor::uniform({m}, 5e3, 8e3, 62),
                             Tensor::uniform({m}, 800, 1200, 63),
                             Tensor::uniform({m}, -1, 1, 64)};
    Tensor final_state[2];
    Tensor gradients[2][6];
    for (const bool composed : {false, true}) {
      TensorTape tape;
      std::vector<TensorVar> x;
      for (const Tensor& input : inputs) x.push_back(tape.var(input));
      BodyParameters params;
      params.rest = fem::rest_shape(body, x[1]);
      params.lame = {x[2], x[3]};
      params.mass = fem::lumped_masses(body, params.rest, x[4]);
      TensorVar state = x[0];
      for (int t = 0; t < 100; ++t) {
        params.actuation = x[5] * (500.0 * std::sin(0.1 * t));
        state = composed ? fem::step_explicit_composed(body, state, params, 1e-3)
                         : fem::step_explicit(body, state, params, 1e-3);
      }
      const auto g = tape.grad(weighted_state(state));
      final_state[composed] = state.value();
      for (int i = 0; i < 6; ++i) gradients[composed][i] = g[x[static_cast<std::size_t>(i)]];
    }
    EXPECT_TRUE(maya::allclose(final_state[0], final_state[1], 1e-12, 1e-14)) << dim << "-D";
    const char* names[] = {"state", "rest positions", "mu", "lambda", "density", "actuation"};
    for (int i = 0; i < 6; ++i) {
      double scale = 0.0;
      for (const double v : gradients[1][i].data()) scale = std::max(scale, std::abs(v));
      EXPECT_LE(maya::max_abs_difference(gradients[0][i], gradients[1][i]), 1e-11 * scale)
          << dim << "-D, gradient w.r.t. " << names[i];
    }
  }
}

TEST(ExplicitStep, ConservesMomentumWithoutGravityOrGround) {
  for (const std::size_t dim : {2, 3}) {
    const SoftBody body(fem_test::small_mesh(dim), {.gravity = std::vector<double>(dim, 0.0)});
    TensorTape tape;
    const BodyParameters params = fem::parameters(
        body, tape.constant(body.mesh().rest_positions()), tape.constant(Tensor::scalar(1e4)),
        tape.constant(Tensor::scalar(0.3)), tape.constant(Tensor::scalar(1e3)));
    const auto momentum = [&](TensorVar state) {
      std::vector<double> total(dim, 0.0);
      const auto values = state.view();
      const std::size_t n = body.num_vertices();
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t k = 0; k < dim; ++k) {
          total[k] += params.mass.view()[i] * values[n * dim + i * dim + k];
        }
      }
      return total;
    };
    TensorVar state = tape.constant(moving_state(body, 3));
    const std::vector<double> start = momentum(state);
    for (int t = 0; t < 300; ++t) state = fem::step_explicit(body, state, params, 1e-4);
    const std::vector<double> end = momentum(state);
    for (std::size_t k = 0; k < dim; ++k) EXPECT_NEAR(end[k], start[k], 1e-13) << dim << "-D";
  }
}

TEST(ExplicitStep, PinnedVerticesStayWhereTheyAre) {
  const maya::fem::Mesh mesh = fem_test::small_mesh_2d();
  const SoftBody body(mesh, {.pinned = {0, 4, 8}});
  TensorTape tape;
  const BodyParameters params = fem::parameters(
      body, tape.constant(mesh.rest_positions()), tape.constant(Tensor::scalar(1e4)),
      tape.constant(Tensor::scalar(0.3)), tape.constant(Tensor::scalar(1e3)));
  TensorVar state = tape.constant(body.rest_state());
  for (int t = 0; t < 200; ++t) state = fem::step_explicit(body, state, params, 1e-3);
  for (const std::size_t v : {0, 4, 8}) {
    for (std::size_t k = 0; k < 2; ++k) {
      EXPECT_EQ(state.value().at({0, v, k}), mesh.rest_positions().at({v, k}));
      EXPECT_EQ(state.value().at({1, v, k}), 0.0);
    }
  }
  EXPECT_LT(state.value().at({0, 11, 1}), mesh.rest_positions().at({11, 1}) - 1e-3);  // it sags
}

TEST(ExplicitStep, GroundStopsAFallingBody) {
  maya::fem::SoftBodyOptions options = falling_options(Energy::kStableNeoHookean);
  options.ground.stiffness = 1e5;
  options.ground.damping = 1e5;
  const SoftBody body(fem_test::small_mesh_2d(), options);
  TensorTape tape;
  const BodyParameters params = fem::parameters(
      body, tape.constant(body.mesh().rest_positions()), tape.constant(Tensor::scalar(1e4)),
      tape.constant(Tensor::scalar(0.3)), tape.constant(Tensor::scalar(1e3)));
  // Dropped from 5 cm above the ground (its lowest vertex), moving down at 0.5 m/s.
  Tensor start_state = body.rest_state();
  const std::size_t n = body.num_vertices();
  for (std::size_t i = 0; i < n; ++i) {
    start_state.mutable_data()[2 * i + 1] += 0.07;
    start_state.mutable_data()[2 * n + 2 * i + 1] = -0.5;
  }
  TensorVar state = tape.constant(start_state);
  // The weight (about 590 N per metre of thickness) on the bottom vertices sinks them by a few
  // mm (m g / k per vertex); the impact at about 1.3 m/s may push deeper, never through.
  double lowest = 1.0;
  double lowest_late = 1.0;
  for (int t = 0; t < 1500; ++t) {
    state = fem::step_explicit(body, state, params, 1e-3);
    for (std::size_t i = 0; i < n; ++i) {
      lowest = std::min(lowest, state.view()[2 * i + 1]);
      if (t >= 1000) lowest_late = std::min(lowest_late, state.view()[2 * i + 1]);
    }
  }
  EXPECT_GT(lowest, 0.005 - 0.03);
  EXPECT_GT(lowest_late, 0.005 - 0.01);
  EXPECT_LT(lowest_late, 0.005);  // resting on the ground, not bouncing above it
}

// Every material against the composed twin, whose elastic, ground and rigid forces are tensor
// ops too (no fused node on its tape): 30 steps through ground contact with damping and
// friction, pinned vertices, per-element parameters and actuation.
TEST(ExplicitStep, FusedEqualsComposedForEveryMaterial) {
  for (const std::size_t dim : {2, 3}) {
    for (const Energy energy : fem_test::kEnergies) {
      maya::fem::SoftBodyOptions options = falling_options(energy);
      options.pinned = {1};
      const SoftBody body(fem_test::small_mesh(dim), options);
      const std::size_t m = body.num_elements();
      const Tensor inputs[] = {moving_state(body, 70),
                               body.mesh().rest_positions(),
                               Tensor::uniform({m}, 3e3, 5e3, 71),
                               Tensor::uniform({m}, 5e3, 8e3, 72),
                               Tensor::uniform({m}, 800, 1200, 73),
                               Tensor::uniform({m}, -1, 1, 74)};
      Tensor final_state[2];
      Tensor gradients[2][6];
      for (const bool composed : {false, true}) {
        TensorTape tape;
        std::vector<TensorVar> x;
        for (const Tensor& input : inputs) x.push_back(tape.var(input));
        BodyParameters params;
        params.rest = fem::rest_shape(body, x[1]);
        params.lame = {x[2], x[3]};
        params.mass = fem::lumped_masses(body, params.rest, x[4]);
        params.actuation = 300.0 * x[5];
        TensorVar state = x[0];
        for (int t = 0; t < 30; ++t) {
          state = composed ? fem::step_explicit_composed(body, state, params, 1e-3)
                           : fem::step_explicit(body, state, params, 1e-3);
        }
        const auto g = tape.grad(weighted_state(state));
        final_state[composed] = state.value();
        for (int i = 0; i < 6; ++i) gradients[composed][i] = g[x[static_cast<std::size_t>(i)]];
      }
      const std::string where =
          std::to_string(dim) + "-D " + std::string(maya::fem::to_string(energy));
      EXPECT_TRUE(maya::allclose(final_state[0], final_state[1], 1e-12, 1e-14)) << where;
      const char* names[] = {"state", "rest positions", "mu", "lambda", "density", "actuation"};
      for (int i = 0; i < 6; ++i) {
        double scale = 0.0;
        for (const double v : gradients[1][i].data()) scale = std::max(scale, std::abs(v));
        EXPECT_GT(scale, 0.0) << where << ", gradient w.r.t. " << names[i];
        EXPECT_LE(maya::max_abs_difference(gradients[0][i], gradients[1][i]), 1e-10 * scale)
            << where << ", gradient w.r.t. " << names[i];
      }
    }
  }
}

// The composed ground forces against the fused node, in value and in both adjoints.
TEST(GroundForces, FusedEqualsComposed) {
  for (const std::size_t dim : {2, 3}) {
    const SoftBody body(fem_test::small_mesh(dim), falling_options(Energy::kLinear));
    const Tensor state = moving_state(body, 80);
    const std::size_t nd = body.num_vertices() * dim;
    const Tensor positions = Tensor::from_data(
        std::vector<double>(state.data().begin(), state.data().begin() + nd), {nd / dim, dim});
    const Tensor velocities = Tensor::from_data(
        std::vector<double>(state.data().begin() + nd, state.data().end()), {nd / dim, dim});
    Tensor value[2], g_x[2], g_v[2];
    for (const bool composed : {false, true}) {
      TensorTape tape;
      const TensorVar x = tape.var(positions);
      const TensorVar v = tape.var(velocities);
      const TensorVar f =
          composed ? fem::ground_forces_composed(body, x, v) : fem::ground_forces(body, x, v);
      const Tensor w = Tensor::uniform({nd / dim, dim}, -1, 1, 81);
      const auto g = tape.grad(maya::sum(f * tape.constant(w)));
      value[composed] = f.value();
      g_x[composed] = g[x];
      g_v[composed] = g[v];
    }
    double touching = 0.0;
    for (const double f : value[0].data()) touching += std::abs(f);
    EXPECT_GT(touching, 0.0) << dim << "-D: no vertex touches the ground";
    EXPECT_TRUE(maya::allclose(value[0], value[1], 1e-13, 1e-12)) << dim << "-D";
    EXPECT_TRUE(maya::allclose(g_x[0], g_x[1], 1e-13, 1e-12)) << dim << "-D";
    EXPECT_TRUE(maya::allclose(g_v[0], g_v[1], 1e-13, 1e-12)) << dim << "-D";
  }
}

// Every node a step records holds the body's model: a body dropped before grad() gives the same
// gradient as one still alive.
TEST(SoftBody, TapeKeepsTheModelAliveAfterTheBodyIsGone) {
  const auto run = [](bool drop_body) {
    auto body = std::make_unique<SoftBody>(fem_test::small_mesh(2),
                                           falling_options(Energy::kStableNeoHookean));
    const Tensor start = moving_state(*body, 90);
    const Tensor rest = body->mesh().rest_positions();
    TensorTape tape;
    const TensorVar youngs = tape.var(Tensor::from_data({1e4}, {1}));
    const TensorVar x0 = tape.var(start);
    const TensorVar rest_positions = tape.var(rest);
    const BodyParameters params =
        fem::parameters(*body, rest_positions, youngs, tape.constant(Tensor::from_data({0.3}, {1})),
                        tape.constant(Tensor::from_data({1e3}, {1})));
    TensorVar state = x0;
    for (int t = 0; t < 5; ++t) state = fem::step_explicit(*body, state, params, 1e-3);
    state = fem::step_implicit(*body, state, params, 1e-3);
    const TensorVar loss = weighted_state(state);
    if (drop_body) body.reset();
    const auto g = tape.grad(loss);
    return std::vector<Tensor>{g[youngs], g[x0], g[rest_positions]};
  };
  const std::vector<Tensor> alive = run(false);
  const std::vector<Tensor> dropped = run(true);
  for (std::size_t i = 0; i < alive.size(); ++i) {
    EXPECT_GT(maya::max_abs_difference(alive[i], Tensor::zeros(alive[i].shape())), 0.0) << i;
    EXPECT_EQ(maya::max_abs_difference(alive[i], dropped[i]), 0.0) << i;
  }
}
