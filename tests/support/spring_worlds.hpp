// Helpers of the many-worlds tests (CPU and GPU): worlds of one lattice with different
// parameters and velocities, W2's loss of a final state, and relative errors.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <maya/dynamics/batched_rollout.hpp>
#include <maya/maya.hpp>
#include <span>
#include <vector>

namespace maya::test {

// E worlds of `lattice`: world w's stiffness, damping and velocities differ (seeded), masses
// and rest lengths jitter a little.
inline dynamics::SpringWorlds varied_worlds(const dynamics::SpringLattice& lattice,
                                            std::size_t worlds, std::uint64_t seed) {
  const std::size_t n = lattice.model.num_particles();
  const std::size_t s = lattice.model.num_springs();
  const std::size_t d = lattice.model.dim();
  const Tensor stiffness = Tensor::uniform({worlds, s}, 800.0, 1200.0, seed);
  const Tensor damping = Tensor::uniform({worlds, s}, 2.0, 8.0, seed + 1);
  const Tensor mass = Tensor::uniform({worlds, n}, 0.8, 1.2, seed + 2);
  const Tensor jitter = Tensor::uniform({worlds, n * d}, -0.3, 0.3, seed + 3);
  const Tensor rest_jitter = Tensor::uniform({worlds, s}, 0.97, 1.03, seed + 4);
  std::vector<double> state;
  std::vector<double> rest;
  for (std::size_t w = 0; w < worlds; ++w) {
    state.insert(state.end(), lattice.positions.data().begin(), lattice.positions.data().end());
    for (std::size_t j = 0; j < n * d; ++j) {
      state.push_back(lattice.velocities.data()[j] + jitter.data()[w * n * d + j]);
    }
    for (std::size_t e = 0; e < s; ++e) {
      rest.push_back(lattice.rest_length.data()[e] * rest_jitter.data()[w * s + e]);
    }
  }
  return {Tensor::from_data(std::move(state), {worlds, 2, n, d}), mass, stiffness, damping,
          Tensor::from_data(std::move(rest), {worlds, s})};
}

// W2's loss: mean over particles of |x_T - target|^2 (target (1, 0.1, 0...)).
inline double w2_loss(std::span<const double> final_state, std::span<double> adjoint,
                      std::size_t dim) {
  const std::size_t n = final_state.size() / (2 * dim);
  double loss = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < dim; ++k) {
      const double target = k == 0 ? 1.0 : (k == 1 ? 0.1 : 0.0);
      const double diff = final_state[i * dim + k] - target;
      loss += diff * diff;
      adjoint[i * dim + k] = 2.0 * diff / static_cast<double>(n);
    }
  }
  return loss / static_cast<double>(n);
}

inline dynamics::FinalStateLoss w2_loss_of(std::size_t dim) {
  return [dim](std::size_t, std::span<const double> final_state, std::span<double> adjoint) {
    return w2_loss(final_state, adjoint, dim);
  };
}

// The same loss for every world at once on the tape (maya::dynamics::WorldsLoss): on the final
// states' device, losses [E].
inline dynamics::WorldsLoss w2_worlds_loss() {
  return [](TensorTape& tape, TensorVar final_state) {
    const Shape shape(final_state.shape().begin(), final_state.shape().end());  // [E, 2, N, D]
    const std::size_t d = shape[3];
    std::vector<double> target(d, 0.0);
    target[0] = 1.0;
    if (d > 1) target[1] = 0.1;
    const TensorVar goal =
        tape.constant(Tensor::from_data(std::move(target), {d}, final_state.device()));
    const TensorVar diff = select(final_state, 1, 0) - goal;  // [E, N, D]
    return sum(sum(square(diff), 2), 1) * (1.0 / static_cast<double>(shape[2]));
  };
}

// A copy of the worlds on `device`.
inline dynamics::SpringWorlds worlds_on(const dynamics::SpringWorlds& worlds, Device device) {
  return {worlds.state.to(device), worlds.mass.to(device), worlds.stiffness.to(device),
          worlds.damping.to(device), worlds.rest_length.to(device)};
}

// |a - b| / |b| over whole tensors (|b| floored at 1e-300).
inline double relative_error(const Tensor& a, const Tensor& b) {
  double diff = 0.0;
  double norm = 0.0;
  for (std::size_t i = 0; i < b.numel(); ++i) {
    diff += (a.data()[i] - b.data()[i]) * (a.data()[i] - b.data()[i]);
    norm += b.data()[i] * b.data()[i];
  }
  return std::sqrt(diff) / std::max(std::sqrt(norm), 1e-300);
}

// World `world` of a tensor whose leading axis is the world.
inline Tensor world_slice(const Tensor& t, std::size_t world) {
  const std::size_t per = t.numel() / t.shape()[0];
  Shape shape(t.shape().begin() + 1, t.shape().end());
  const auto data = t.data().subspan(world * per, per);
  return Tensor::from_data(std::vector<double>(data.begin(), data.end()), shape);
}

}  // namespace maya::test
