// Helpers shared by the rigid-body tests: states from rows, rollouts on either path, and a loss
// that weighs every component of the final state differently.
#pragma once

#include <array>
#include <cmath>
#include <maya/maya.hpp>
#include <span>
#include <vector>

#include "support/weighted_losses.hpp"

namespace rigid_test {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::rigid::RigidParameters;
using maya::rigid::RigidParameterValues;
using maya::rigid::RigidWorld2D;

// One row per body: x, y, theta, vx, vy, omega.
inline Tensor state_of(const std::vector<std::array<double, 6>>& bodies) {
  std::vector<double> poses, velocities;
  for (const auto& b : bodies) {
    poses.insert(poses.end(), {b[0], b[1], b[2]});
    velocities.insert(velocities.end(), {b[3], b[4], b[5]});
  }
  const std::size_t n = bodies.size();
  return RigidWorld2D::make_state(Tensor::from_data(poses, {n, 3}),
                                  Tensor::from_data(velocities, {n, 3}));
}

// The inputs of a rollout in gradcheck order: state, then the eight parameters.
inline std::vector<Tensor> inputs_of(const Tensor& state, const RigidParameterValues& v) {
  return {state,     v.mass,      v.inertia, v.vertices, v.radius,
          v.applied, v.stiffness, v.damping, v.friction};
}

inline RigidParameters parameters_of(std::span<const TensorVar> x) {
  return {x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8]};
}

enum class Path { kFused, kComposed };

inline TensorVar rollout(const RigidWorld2D& world, std::span<const TensorVar> x, int steps,
                         double dt, Path path) {
  const RigidParameters params = parameters_of(x);
  TensorVar state = x[0];
  for (int i = 0; i < steps; ++i) {
    state = path == Path::kFused ? world.step(state, params, dt)
                                 : world.step_composed(state, params, dt);
  }
  return state;
}

// sum(w * state^2 + u * state) with fixed pseudo-random weights: every component matters.
inline TensorVar loss_of(TensorVar state) { return maya_test::weighted_quadratic(state); }

}  // namespace rigid_test
