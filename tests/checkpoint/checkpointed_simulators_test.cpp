// Checkpointed rollouts of every simulator above the dynamics layer: the gradients with respect
// to the initial state and every parameter equal the full tape's bit for bit, for several
// horizons and budgets (T = 1, budgets of 1 snapshot, budgets larger than T), and equal those of
// a tape written by hand.
#include <gtest/gtest.h>

#include <cstddef>
#include <functional>
#include <maya/maya.hpp>
#include <span>
#include <string>
#include <vector>

#include "support/weighted_losses.hpp"

namespace {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::dynamics::CheckpointBudget;
using maya::dynamics::checkpointed_rollout;
using maya::dynamics::RolloutGradient;
using maya::dynamics::RolloutProblem;
namespace fem = maya::fem;

// A single-tensor state stepped with parameters given as leaves.
using SimpleStep = std::function<TensorVar(TensorVar state, std::span<const TensorVar> params)>;

RolloutProblem problem_of(const Tensor& initial, std::vector<Tensor> parameters, std::size_t steps,
                          SimpleStep step) {
  RolloutProblem problem;
  problem.step = [step](TensorTape&, std::span<const TensorVar> state,
                        std::span<const TensorVar> params,
                        std::size_t) { return std::vector<TensorVar>{step(state[0], params)}; };
  problem.initial_state = {initial};
  problem.parameters = std::move(parameters);
  problem.steps = steps;
  problem.final_loss = [](TensorTape&, std::span<const TensorVar> state,
                          std::span<const TensorVar>) {
    return maya_test::weighted_quadratic(state[0]);
  };
  return problem;
}

void expect_same_bits(const std::vector<Tensor>& actual, const std::vector<Tensor>& expected,
                      const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    ASSERT_EQ(actual[i].shape(), expected[i].shape()) << what;
    const auto a = actual[i].data();
    const auto e = expected[i].data();
    for (std::size_t k = 0; k < a.size(); ++k) {
      ASSERT_EQ(a[k], e[k]) << what << ": tensor " << i << " element " << k;
    }
  }
}

// Checkpointed against the full tape for each horizon and budget.
void expect_budgets_agree(const std::function<RolloutProblem(std::size_t)>& make,
                          std::initializer_list<std::size_t> horizons,
                          std::initializer_list<std::size_t> budgets, const char* scene) {
  for (const std::size_t steps : horizons) {
    const RolloutProblem problem = make(steps);
    const RolloutGradient full = checkpointed_rollout(problem, CheckpointBudget::full_tape());
    for (const std::size_t snapshots : budgets) {
      const std::string what = std::string(scene) + ", T = " + std::to_string(steps) +
                               ", s = " + std::to_string(snapshots);
      const RolloutGradient checkpointed =
          checkpointed_rollout(problem, CheckpointBudget::snapshots(snapshots));
      expect_same_bits(checkpointed.parameter_gradient, full.parameter_gradient, what + " dL/dp");
      expect_same_bits(checkpointed.initial_state_gradient, full.initial_state_gradient,
                       what + " dL/dx0");
      expect_same_bits(checkpointed.final_state, full.final_state, what + " x_T");
      EXPECT_EQ(checkpointed.report.advances, checkpointed.report.revolve_bound) << what;
      EXPECT_EQ(checkpointed.report.taped_steps, steps) << what;
    }
  }
}

// The full-tape budget against one tape recorded by hand: leaves, T steps, the loss.
void expect_hand_written_tape_agrees(const RolloutProblem& problem, const SimpleStep& step,
                                     const char* scene) {
  TensorTape tape;
  std::vector<TensorVar> params;
  for (const Tensor& p : problem.parameters) params.push_back(tape.var(p));
  const TensorVar x0 = tape.var(problem.initial_state[0]);
  TensorVar state = x0;
  for (std::size_t t = 0; t < problem.steps; ++t) state = step(state, params);
  const maya::TensorGradients g = tape.grad(maya_test::weighted_quadratic(state));
  std::vector<Tensor> expected;
  for (const TensorVar p : params) expected.push_back(g[p]);
  const RolloutGradient result = checkpointed_rollout(problem, CheckpointBudget::snapshots(3));
  expect_same_bits(result.parameter_gradient, expected, std::string(scene) + " dL/dp");
  expect_same_bits(result.initial_state_gradient, {g[x0]}, std::string(scene) + " dL/dx0");
}

// ---- 2-D rigid bodies, penalty contact (fused step) ----

maya::rigid::RigidWorld2D penalty_world() {
  maya::rigid::RigidWorldOptions options;
  options.grounds = {maya::rigid::GroundPlane{},
                     maya::rigid::GroundPlane::through({1.2, 0.0}, {-1.0, 0.3})};
  options.linear_damping = 0.1;
  options.angular_damping = 0.2;
  return maya::rigid::RigidWorld2D(
      {maya::rigid::BodyShape::box(0.4, 0.1), maya::rigid::BodyShape::box(0.2, 0.1),
       maya::rigid::BodyShape::circle(0.08),
       maya::rigid::BodyShape::polygon({{0.0, 0.0}, {0.2, 0.0}, {0.05, 0.15}})},
      options);
}

Tensor rows_to_state(const std::vector<std::vector<double>>& rows) {
  std::vector<double> poses, velocities;
  for (const auto& r : rows) {
    poses.insert(poses.end(), r.begin(), r.begin() + 3);
    velocities.insert(velocities.end(), r.begin() + 3, r.end());
  }
  const std::size_t n = rows.size();
  return maya::rigid::RigidWorld2D::make_state(Tensor::from_data(poses, {n, 3}),
                                               Tensor::from_data(velocities, {n, 3}));
}

TEST(CheckpointedSimulators, RigidPenaltyContactEqualsTheFullTape) {
  const maya::rigid::RigidWorld2D world = penalty_world();
  auto values = world.parameters_from_density(50.0, {5e3, 10.0, 0.5});
  values.applied = Tensor::uniform(values.applied.shape(), -0.3, 0.3, 8);
  const Tensor initial = rows_to_state({{0.3, 0.049, 0.0, 0.2, 0.0, 0.0},
                                        {0.35, 0.148, 0.1, -0.1, -0.2, 0.5},
                                        {0.75, 0.12, 0.0, 0.6, -0.5, 1.0},
                                        {1.0, 0.3, 0.4, 0.3, -1.0, -2.0}});
  const SimpleStep step = [&world](TensorVar state, std::span<const TensorVar> p) {
    return world.step(state, {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]}, 1e-3);
  };
  const auto make = [&](std::size_t steps) {
    return problem_of(initial,
                      {values.mass, values.inertia, values.vertices, values.radius, values.applied,
                       values.stiffness, values.damping, values.friction},
                      steps, step);
  };
  expect_budgets_agree(make, {1, 6, 80}, {1, 2, 4, 200}, "rigid penalty");
  expect_hand_written_tape_agrees(make(80), step, "rigid penalty");
}

TEST(CheckpointedSimulators, ComposedRigidStepEqualsTheFullTape) {
  const maya::rigid::RigidWorld2D world = penalty_world();
  const auto values = world.parameters_from_density(50.0, {5e3, 10.0, 0.5});
  const Tensor initial = rows_to_state({{0.3, 0.049, 0.0, 0.2, 0.0, 0.0},
                                        {0.35, 0.148, 0.1, -0.1, -0.2, 0.5},
                                        {0.75, 0.12, 0.0, 0.6, -0.5, 1.0},
                                        {1.0, 0.3, 0.4, 0.3, -1.0, -2.0}});
  const SimpleStep step = [&world](TensorVar state, std::span<const TensorVar> p) {
    return world.step_composed(state, {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]}, 1e-3);
  };
  const auto make = [&](std::size_t steps) {
    return problem_of(initial,
                      {values.mass, values.inertia, values.vertices, values.radius, values.applied,
                       values.stiffness, values.damping, values.friction},
                      steps, step);
  };
  expect_budgets_agree(make, {1, 25}, {1, 3, 30}, "rigid composed");
}

// ---- 2-D rigid bodies, hard contact (contact layer) ----

TEST(CheckpointedSimulators, HardContactEqualsTheFullTape) {
  maya::rigid::RigidWorldOptions bodies;
  bodies.linear_damping = 0.3;
  bodies.angular_damping = 0.2;
  maya::contact::HardContactOptions options;
  options.material = {0.4, 0.0};
  options.ground_material = {0.4, 0.0};
  const maya::contact::HardContactWorld2D world(
      maya::rigid::RigidWorld2D(
          {maya::rigid::BodyShape::box(0.8, 0.5), maya::rigid::BodyShape::circle(0.3)}, bodies),
      {}, options);
  const Tensor initial =
      rows_to_state({{0.0, 0.248, 0.02, 1.0, -0.1, 0.3}, {0.68, 0.35, 0.0, -0.5, 0.0, 0.0}});
  auto values = world.parameters({1.2, 0.7}, initial);
  values.applied = Tensor::uniform(values.applied.shape(), -0.5, 0.5, 5);
  const SimpleStep step = [&world](TensorVar state, std::span<const TensorVar> p) {
    return world.step(state, {p[0], p[1], p[2], p[3], p[4], p[5]}, 0.01);
  };
  const auto make = [&](std::size_t steps) {
    return problem_of(initial,
                      {values.mass, values.inertia, values.vertices, values.radius, values.applied,
                       values.anchors},
                      steps, step);
  };
  expect_budgets_agree(make, {1, 5, 40}, {1, 2, 5, 100}, "hard contact");
  expect_hand_written_tape_agrees(make(40), step, "hard contact");
}

// ---- FEM soft bodies, explicit and implicit ----

// The parameters are BodyParameters' tensors (B, W, mu, lambda, masses), derived once from
// the material outside the rollout.
std::vector<Tensor> body_parameter_values(const maya::fem::SoftBody& body) {
  TensorTape tape;
  const maya::fem::BodyParameters p = fem::parameters(
      body, tape.constant(body.mesh().rest_positions()),
      tape.constant(Tensor::from_data({1e4}, {1})), tape.constant(Tensor::from_data({0.3}, {1})),
      tape.constant(Tensor::from_data({1e3}, {1})));
  return {p.rest.inverse_edges.value(), p.rest.volumes.value(), p.lame.mu.value(),
          p.lame.lambda.value(), p.mass.value()};
}

maya::fem::BodyParameters body_parameters(std::span<const TensorVar> p) {
  return {{p[0], p[1]}, {p[2], p[3]}, p[4], TensorVar{}};
}

Tensor moving_state(const maya::fem::SoftBody& body) {
  const Tensor& rest = body.mesh().rest_positions();
  Tensor velocity = Tensor::uniform(rest.shape(), -0.2, 0.2, 3);
  for (std::size_t i = 0; i < body.num_vertices(); ++i) {
    velocity.mutable_data()[i * body.dim()] += 0.3;
    velocity.mutable_data()[i * body.dim() + 1] -= 0.5;
  }
  Tensor positions = rest;
  const Tensor noise = Tensor::uniform(rest.shape(), -0.003, 0.003, 4);
  for (std::size_t i = 0; i < positions.numel(); ++i) {
    positions.mutable_data()[i] += noise.data()[i] + (i % body.dim() == 1 ? 0.004 : 0.0);
  }
  return maya::fem::SoftBody::make_state(positions, velocity);
}

maya::fem::Mesh small_mesh(std::size_t dim) {
  if (dim == 2) {
    return maya::fem::rectangle_mesh({.width = 0.3, .height = 0.2, .cells_x = 3, .cells_y = 2});
  }
  return maya::fem::box_mesh(
      {.size_x = 0.2, .size_y = 0.1, .size_z = 0.1, .cells_x = 2, .cells_y = 1, .cells_z = 1});
}

maya::fem::SoftBodyOptions options_with_ground(maya::fem::Energy energy) {
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

TEST(CheckpointedSimulators, FemExplicitEqualsTheFullTape) {
  const maya::fem::SoftBody body(small_mesh(2),
                                 options_with_ground(maya::fem::Energy::kStableNeoHookean));
  const SimpleStep step = [&body](TensorVar state, std::span<const TensorVar> p) {
    return fem::step_explicit(body, state, body_parameters(p), 2e-4);
  };
  const auto make = [&](std::size_t steps) {
    return problem_of(moving_state(body), body_parameter_values(body), steps, step);
  };
  expect_budgets_agree(make, {1, 9, 120}, {1, 2, 6, 500}, "fem explicit");
  expect_hand_written_tape_agrees(make(120), step, "fem explicit");
}

TEST(CheckpointedSimulators, FemImplicitEqualsTheFullTape) {
  for (const std::size_t dim : {2, 3}) {
    const maya::fem::SoftBody body(small_mesh(dim),
                                   options_with_ground(maya::fem::Energy::kCorotational));
    const SimpleStep step = [&body](TensorVar state, std::span<const TensorVar> p) {
      return fem::step_implicit(body, state, body_parameters(p), 5e-3);
    };
    const auto make = [&](std::size_t steps) {
      return problem_of(moving_state(body), body_parameter_values(body), steps, step);
    };
    const std::string scene = "fem implicit " + std::to_string(dim) + "-D";
    expect_budgets_agree(make, {1, 4, 16}, {1, 3, 20}, scene.c_str());
    expect_hand_written_tape_agrees(make(16), step, scene.c_str());
  }
}

}  // namespace
