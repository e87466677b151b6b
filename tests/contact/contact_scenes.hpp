// Helpers shared by the hard-contact tests: states from rows, worlds of circles and boxes, and
// rollouts on the tape.
#pragma once

#include <array>
#include <maya/maya.hpp>
#include <span>
#include <vector>

#include "support/weighted_losses.hpp"

namespace contact_test {

using maya::Tensor;
using maya::TensorTape;
using maya::TensorVar;
using maya::contact::HardContactOptions;
using maya::contact::HardContactParameters;
using maya::contact::HardContactParameterValues;
using maya::contact::HardContactWorld2D;

// One row per body: x, y, theta, vx, vy, omega.
inline Tensor state_of(const std::vector<std::array<double, 6>>& bodies) {
  std::vector<double> poses, velocities;
  for (const auto& b : bodies) {
    for (std::size_t i = 0; i < 3; ++i) poses.push_back(b[i]);
    for (std::size_t i = 3; i < 6; ++i) velocities.push_back(b[i]);
  }
  const std::size_t n = bodies.size();
  return maya::rigid::RigidWorld2D::make_state(Tensor::from_data(poses, {n, 3}),
                                               Tensor::from_data(velocities, {n, 3}));
}

inline maya::rigid::RigidWorldOptions flat_ground(double gravity = -9.8) {
  maya::rigid::RigidWorldOptions options;
  options.gravity = {0.0, gravity};
  return options;
}

inline maya::rigid::RigidWorldOptions empty_space() {
  maya::rigid::RigidWorldOptions options;
  options.gravity = {0.0, 0.0};
  options.grounds.clear();
  return options;
}

// The inputs of a rollout in gradcheck order: state, then the six parameters.
inline std::vector<Tensor> inputs_of(const Tensor& state, const HardContactParameterValues& v) {
  return {state, v.mass, v.inertia, v.vertices, v.radius, v.applied, v.anchors};
}

inline HardContactParameters parameters_of(std::span<const TensorVar> x) {
  return {x[1], x[2], x[3], x[4], x[5], x[6]};
}

inline TensorVar rollout(const HardContactWorld2D& world, TensorVar state,
                         const HardContactParameters& params, int steps, double dt) {
  for (int i = 0; i < steps; ++i) state = world.step(state, params, dt);
  return state;
}

// Pose and velocity of body b in a [2, K, 3] state value.
struct BodyState {
  double x, y, theta, vx, vy, omega;
};
inline BodyState body(const Tensor& state, std::size_t b) {
  const std::size_t k = state.shape()[1];
  const auto v = state.data();
  return {v[3 * b],         v[3 * b + 1],         v[3 * b + 2],
          v[3 * k + 3 * b], v[3 * k + 3 * b + 1], v[3 * k + 3 * b + 2]};
}

// sum(w * state^2 + u * state) with fixed pseudo-random weights: every component matters.
inline TensorVar loss_of(TensorVar state) { return maya_test::weighted_quadratic(state); }

}  // namespace contact_test
