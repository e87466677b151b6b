#include <gtest/gtest.h>

#include <algorithm>
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
using maya::fem::RigidObstacles;
using maya::fem::SoftBody;
using maya::rigid::BodyShape;
namespace fem = maya::fem;

// Three bodies overlapping the 0.3 x 0.2 test mesh: a circle over its top-right corner, a tilted
// box under its bottom row and a triangle over its left side, so every feature kind is touched.
std::vector<maya::rigid::BodyShape> obstacle_shapes() {
  return {maya::rigid::BodyShape::circle(0.12), maya::rigid::BodyShape::box(0.25, 0.1),
          maya::rigid::BodyShape::polygon({{-0.0467, -0.05}, {0.0933, 0.0}, {-0.0467, 0.05}})};
}

// Poses (x, y, theta), then velocities (vx, vy, omega), of the three bodies.
Tensor obstacle_state() {
  return Tensor::from_data({0.3, 0.2, 0.3, 0.1, -0.02, 0.2, -0.0533, 0.1, -0.1,  //
                            0.2, -0.1, 1.0, -0.3, 0.4, -2.0, 0.5, 0.1, 0.5},
                           {2, 3, 3});
}

maya::fem::SoftBodyOptions contact_options(Energy energy) {
  maya::fem::SoftBodyOptions options;
  options.energy = energy;
  options.gravity = {0.0, -9.81};
  options.rigid = {.shapes = obstacle_shapes(), .slip_velocity = 0.05};
  return options;
}

Tensor moving_state(const SoftBody& body, std::uint64_t seed) {
  const Tensor& rest = body.mesh().rest_positions();
  const Tensor velocity = Tensor::uniform(rest.shape(), -0.3, 0.3, seed);
  return SoftBody::make_state(fem_test::deformed(rest, 0.003, seed + 1), velocity);
}

TensorVar weighted(TensorVar x, std::uint64_t seed) {
  const Tensor w = Tensor::uniform(maya::Shape(x.shape().begin(), x.shape().end()), -1, 1, seed);
  return maya::sum(x * x.tape().constant(w));
}

// The rigid state at step t of a prescribed trajectory: poses advance at the given velocities.
TensorVar rigid_state_at(TensorVar start, double time) {
  const TensorVar velocities = maya::dynamics::velocities_of(start);
  return maya::stack({maya::dynamics::positions_of(start) + time * velocities, velocities}, 0);
}

RigidObstacles obstacles_of(TensorVar state, TensorVar stiffness, TensorVar damping,
                            TensorVar friction) {
  return {state, {stiffness, damping, friction}};
}

std::size_t touching_vertices(const Tensor& forces) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < forces.shape()[0]; ++i) {
    if (forces.at({i, 0}) != 0.0 || forces.at({i, 1}) != 0.0) ++count;
  }
  return count;
}

double largest(const Tensor& t) {
  double scale = 0.0;
  for (const double v : t.data()) scale = std::max(scale, std::abs(v));
  return scale;
}

}  // namespace

// Forces on the vertices and the wrench on the bodies: fused node against its composed twin, in
// values and in the gradients w.r.t. the soft state, the rigid state and the three material
// parameters; and the wrench balances the forces (momentum and angular momentum).
TEST(RigidContact, FusedEqualsComposedInValuesAndGradients) {
  const SoftBody body(fem_test::small_mesh_2d(), contact_options(Energy::kStableNeoHookean));
  const Tensor inputs[] = {moving_state(body, 3), obstacle_state(), Tensor::scalar(2e3),
                           Tensor::scalar(40.0), Tensor::scalar(0.6)};
  Tensor values[2][2];
  Tensor gradients[2][5];
  for (const bool composed : {false, true}) {
    TensorTape tape;
    std::vector<TensorVar> x;
    for (const Tensor& input : inputs) x.push_back(tape.var(input));
    const RigidObstacles obstacles = obstacles_of(x[1], x[2], x[3], x[4]);
    const maya::fem::RigidContactForces forces =
        composed ? fem::rigid_contact_forces_composed(body, x[0], obstacles)
                 : fem::rigid_contact_forces(body, x[0], obstacles);
    const auto g = tape.grad(weighted(forces.soft, 5) + weighted(forces.rigid, 6));
    values[composed][0] = forces.soft.value();
    values[composed][1] = forces.rigid.value();
    for (int i = 0; i < 5; ++i) gradients[composed][i] = g[x[static_cast<std::size_t>(i)]];
  }
  EXPECT_GE(touching_vertices(values[0][0]), 6u);
  for (int j = 0; j < 2; ++j) {
    EXPECT_LE(maya::max_abs_difference(values[0][j], values[1][j]), 1e-12 * largest(values[1][j]));
  }
  const char* names[] = {"soft state", "rigid state", "stiffness", "damping", "friction"};
  for (int i = 0; i < 5; ++i) {
    EXPECT_GT(largest(gradients[1][i]), 0.0) << names[i];
    EXPECT_LE(maya::max_abs_difference(gradients[0][i], gradients[1][i]),
              1e-12 * largest(gradients[1][i]))
        << "gradient w.r.t. " << names[i];
  }
  // sum F + sum W_force = 0 and sum x_i x F_i + sum (c_k x W_force + W_torque) = 0.
  const Tensor& x = inputs[0];
  const Tensor& poses = inputs[1];
  double balance[3] = {0.0, 0.0, 0.0};
  for (std::size_t i = 0; i < body.num_vertices(); ++i) {
    const double fx = values[0][0].at({i, 0});
    const double fy = values[0][0].at({i, 1});
    balance[0] += fx;
    balance[1] += fy;
    balance[2] += x.at({0, i, 0}) * fy - x.at({0, i, 1}) * fx;
  }
  for (std::size_t k = 0; k < 3; ++k) {
    const double fx = values[0][1].at({k, 0});
    const double fy = values[0][1].at({k, 1});
    balance[0] += fx;
    balance[1] += fy;
    balance[2] += poses.at({0, k, 0}) * fy - poses.at({0, k, 1}) * fx + values[0][1].at({k, 2});
  }
  for (const double b : balance) EXPECT_LT(std::abs(b), 1e-12 * largest(values[0][0]));
}

// 100 explicit steps against moving obstacles: the fused step (contact inside the node) against
// the composed one (elastic, contact and integrator as separate nodes), values and gradients.
TEST(RigidContact, ExplicitStepFusedEqualsComposedOver100Steps) {
  maya::fem::SoftBodyOptions options = contact_options(Energy::kCorotational);
  options.pinned = {5};
  const SoftBody body(fem_test::small_mesh_2d(), options);
  const Tensor inputs[] = {moving_state(body, 11), obstacle_state(),    Tensor::scalar(2e3),
                           Tensor::scalar(40.0),   Tensor::scalar(0.6), Tensor::scalar(1e4)};
  Tensor final_state[2];
  Tensor gradients[2][6];
  for (const bool composed : {false, true}) {
    TensorTape tape;
    std::vector<TensorVar> x;
    for (const Tensor& input : inputs) x.push_back(tape.var(input));
    const BodyParameters params =
        fem::parameters(body, tape.constant(body.mesh().rest_positions()), x[5],
                        tape.constant(Tensor::scalar(0.3)), tape.constant(Tensor::scalar(1e3)));
    TensorVar state = x[0];
    for (int t = 0; t < 100; ++t) {
      const RigidObstacles obstacles =
          obstacles_of(rigid_state_at(x[1], 1e-3 * t), x[2], x[3], x[4]);
      state = composed ? fem::step_explicit_composed(body, state, params, 1e-3, obstacles)
                       : fem::step_explicit(body, state, params, 1e-3, obstacles);
    }
    const auto g = tape.grad(weighted(state, 7));
    final_state[composed] = state.value();
    for (int i = 0; i < 6; ++i) gradients[composed][i] = g[x[static_cast<std::size_t>(i)]];
  }
  EXPECT_TRUE(maya::allclose(final_state[0], final_state[1], 1e-12, 1e-14));
  const char* names[] = {"soft state", "rigid state", "stiffness", "damping", "friction", "E"};
  for (int i = 0; i < 6; ++i) {
    EXPECT_GT(largest(gradients[1][i]), 0.0) << names[i];
    EXPECT_LE(maya::max_abs_difference(gradients[0][i], gradients[1][i]),
              1e-11 * largest(gradients[1][i]))
        << "gradient w.r.t. " << names[i];
  }
}

// Central differences through 20 explicit steps (fused) or 6 implicit ones, obstacles moving:
// w.r.t. the initial soft state, the rigid state (poses and velocities of the trajectory), the
// stiffness (in 10 kN/m), damping (in 100 N s/m) and friction: in those units the difference's
// step (1e-6) moves the loss by well above its rounding noise.
TEST(RigidContact, GradientMatchesCentralDifferences) {
  for (const bool implicit : {false, true}) {
    const SoftBody body(fem_test::small_mesh_2d(), contact_options(Energy::kStableNeoHookean));
    const Tensor inputs[] = {moving_state(body, 21), obstacle_state(),
                             Tensor::from_data({0.2}, {1}), Tensor::from_data({0.4}, {1}),
                             Tensor::from_data({0.6}, {1})};
    const double dt = implicit ? 4e-3 : 1e-3;
    const int steps = implicit ? 6 : 20;
    const auto report = maya::gradcheck(
        [&](TensorTape& tape, std::span<const TensorVar> x) {
          const BodyParameters params = fem::parameters(
              body, tape.constant(body.mesh().rest_positions()), tape.constant(Tensor::scalar(1e4)),
              tape.constant(Tensor::scalar(0.3)), tape.constant(Tensor::scalar(1e3)));
          TensorVar state = x[0];
          for (int t = 0; t < steps; ++t) {
            // Implicit steps hold each body at the pose of the end of the step.
            const double time = dt * (implicit ? t + 1 : t);
            const RigidObstacles obstacles =
                obstacles_of(rigid_state_at(x[1], time), x[2] * 1e4, x[3] * 1e2, x[4]);
            state = implicit ? fem::step_implicit(body, state, params, dt, obstacles)
                             : fem::step_explicit(body, state, params, dt, obstacles);
          }
          return weighted(state, 9);
        },
        inputs);
    const char* names[] = {"soft state", "rigid state", "stiffness", "damping", "friction"};
    for (std::size_t i = 0; i < 5; ++i) {
      EXPECT_GT(largest(report.analytic[i]), 0.0) << names[i];
      EXPECT_LT(report.worst_error[i], 1e-6)
          << (implicit ? "implicit" : "explicit") << ", gradient w.r.t. " << names[i];
    }
  }
}

// Static equilibrium of a body pressed onto a tilted box by its pinned top row: the implicit
// function theorem's gradient against central differences, w.r.t. the box's pose and stiffness.
TEST(RigidContact, StaticEquilibriumGradientMatchesCentralDifferences) {
  maya::fem::SoftBodyOptions options;
  options.gravity = {0.0, -9.81};
  options.pinned = {8, 9, 10, 11};  // the top row of the 3 x 2 mesh
  options.rigid = {.shapes = {maya::rigid::BodyShape::box(0.5, 0.1)}};
  const SoftBody body(fem_test::small_mesh_2d(), options);
  const Tensor inputs[] = {Tensor::from_data({0.15, -0.04, 0.05, 0.0, 0.0, 0.0}, {2, 1, 3}),
                           Tensor::from_data({5.0}, {1})};
  const auto report = maya::gradcheck(
      [&](TensorTape& tape, std::span<const TensorVar> x) {
        const BodyParameters params = fem::parameters(
            body, tape.constant(body.mesh().rest_positions()), tape.constant(Tensor::scalar(1e4)),
            tape.constant(Tensor::scalar(0.3)), tape.constant(Tensor::scalar(1e3)));
        const TensorVar zero = tape.constant(Tensor::scalar(0.0));
        const TensorVar x_eq =
            fem::static_equilibrium(body, tape.constant(body.mesh().rest_positions()), params,
                                    obstacles_of(x[0], x[1] * 1e3, zero, zero));
        return weighted(x_eq, 13);
      },
      inputs);
  EXPECT_LT(report.worst_error[0], 1e-6) << "rigid pose";
  EXPECT_LT(report.worst_error[1], 1e-6) << "stiffness";
  EXPECT_GT(largest(report.analytic[0]), 0.0);
}

TEST(RigidContact, ThrowsForBadInput) {
  const maya::fem::Mesh mesh = fem_test::small_mesh_2d();
  const SoftBody body(mesh, contact_options(Energy::kLinear));
  TensorTape tape;
  const BodyParameters params = fem::parameters(
      body, tape.constant(mesh.rest_positions()), tape.constant(Tensor::scalar(1e4)),
      tape.constant(Tensor::scalar(0.3)), tape.constant(Tensor::scalar(1e3)));
  const TensorVar state = tape.constant(body.rest_state());
  const TensorVar rigid = tape.constant(obstacle_state());
  const auto scalar = [&](double v) { return tape.constant(Tensor::scalar(v)); };
  const RigidObstacles good = obstacles_of(rigid, scalar(1e3), scalar(1.0), scalar(0.5));
  EXPECT_NO_THROW((void)fem::step_explicit(body, state, params, 1e-3, good));

  // A body with rigid shapes needs obstacles; one without takes none.
  EXPECT_THROW((void)fem::step_explicit(body, state, params, 1e-3), maya::ValueError);
  EXPECT_THROW((void)fem::step_implicit(body, state, params, 1e-3), maya::ValueError);
  const SoftBody plain(mesh);
  EXPECT_THROW((void)fem::step_explicit(plain, state, params, 1e-3, good), maya::ValueError);
  // Rigid contact is 2-D.
  const maya::fem::Mesh mesh_3d = fem_test::small_mesh_3d();
  maya::fem::SoftBodyOptions options_3d;
  options_3d.rigid.shapes = {maya::rigid::BodyShape::circle(0.1)};
  EXPECT_THROW(SoftBody(mesh_3d, options_3d), maya::ValueError);
  try {
    const SoftBody body_3d(mesh_3d);
    TensorTape tape_3d;
    const BodyParameters params_3d = fem::parameters(
        body_3d, tape_3d.constant(mesh_3d.rest_positions()), tape_3d.constant(Tensor::scalar(1e4)),
        tape_3d.constant(Tensor::scalar(0.3)), tape_3d.constant(Tensor::scalar(1e3)));
    const auto one = [&](double v) { return tape_3d.constant(Tensor::scalar(v)); };
    (void)fem::step_implicit(
        body_3d, tape_3d.constant(body_3d.rest_state()), params_3d, 1e-3,
        obstacles_of(tape_3d.constant(Tensor::zeros({2, 1, 3})), one(1e3), one(0.0), one(0.0)));
    ADD_FAILURE() << "a 3-D body took rigid obstacles";
  } catch (const maya::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("2-D"), std::string::npos) << e.what();
  }
  // Shapes and values of the obstacles.
  EXPECT_THROW((void)fem::step_explicit(body, state, params, 1e-3,
                                        obstacles_of(tape.constant(Tensor::zeros({2, 2, 3})),
                                                     scalar(1e3), scalar(1.0), scalar(0.5))),
               maya::ShapeError);
  EXPECT_THROW(
      (void)fem::rigid_contact_forces(
          body, state,
          obstacles_of(rigid, tape.constant(Tensor::zeros({2})), scalar(1.0), scalar(0.5))),
      maya::ShapeError);
  EXPECT_THROW((void)fem::step_explicit(body, state, params, 1e-3,
                                        obstacles_of(rigid, scalar(0.0), scalar(1.0), scalar(0.5))),
               maya::ValueError);
  EXPECT_THROW(
      (void)fem::step_implicit(body, state, params, 1e-3,
                               obstacles_of(rigid, scalar(1e3), scalar(-1.0), scalar(0.5))),
      maya::ValueError);
  EXPECT_THROW((void)fem::rigid_contact_forces_composed(
                   body, state, obstacles_of(rigid, scalar(1e3), scalar(1.0), scalar(-0.5))),
               maya::ValueError);
  EXPECT_THROW((void)fem::rigid_contact_forces(body, maya::dynamics::positions_of(state), good),
               maya::ShapeError);
  maya::fem::SoftBodyOptions no_slip = contact_options(Energy::kLinear);
  no_slip.rigid.slip_velocity = 0.0;
  EXPECT_THROW(SoftBody(mesh, no_slip), maya::ValueError);
}
