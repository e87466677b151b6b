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

// A gradient check moves every input by the same step (1e-6): a stiffness of 1e4 then moves by a
// relative 1e-10, and the loss by about its own rounding noise; the masses' derivatives over a
// few steps are 1e-5 of the loss, and a step of 1e-6 resolves them to 1e-4 only. For checks, the
// masses, inertias, stiffness and damping enter in units of 100 times their own values (each
// input entry is 0.01, and unit_parameters scales it back): the step moves each by 1e-4 of itself.
constexpr std::size_t kUnitInputs[] = {1, 2, 6, 7};  // mass, inertia, stiffness, damping
constexpr double kUnitInputValue = 0.01;

inline std::vector<Tensor> unit_parameter_inputs_of(const Tensor& state,
                                                    const RigidParameterValues& v) {
  std::vector<Tensor> inputs = inputs_of(state, v);
  for (const std::size_t i : kUnitInputs) {
    inputs[i] = Tensor::full(inputs[i].shape(), kUnitInputValue);
  }
  return inputs;
}
inline std::vector<TensorVar> unit_parameters(std::span<const TensorVar> x,
                                              const RigidParameterValues& v) {
  const std::vector<Tensor> values = inputs_of(Tensor(), v);
  std::vector<TensorVar> scaled(x.begin(), x.end());
  for (const std::size_t i : kUnitInputs) {
    Tensor unit = values[i];
    for (double& u : unit.mutable_data()) u /= kUnitInputValue;
    scaled[i] = x[i] * x[i].tape().constant(unit);
  }
  return scaled;
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
