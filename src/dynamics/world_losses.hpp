// Every world's loss of a batched rollout and its adjoint, for the GPU paths that hand the worlds'
// final states to the host in one packed block.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>

#include "maya/dynamics/batched_rollout.hpp"

namespace maya::dynamics::detail {

// final_state and adjoint: [E, size]; losses: [E]. The adjoint is zeroed first, so a loss that
// leaves entries unset means zero there.
inline void evaluate_world_losses(const FinalStateLoss& loss, std::size_t worlds, std::size_t size,
                                  const double* final_state, double* adjoint, double* losses) {
  std::fill(adjoint, adjoint + worlds * size, 0.0);
  for (std::size_t w = 0; w < worlds; ++w) {
    losses[w] = loss(w, std::span<const double>(final_state + w * size, size),
                     std::span<double>(adjoint + w * size, size));
  }
}

}  // namespace maya::dynamics::detail
