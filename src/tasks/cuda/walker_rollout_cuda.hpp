// The GPU side of walker_rollout (walker_rollout.cpp): what the CUDA code is handed, in plain C++
// types, so that no CUDA header reaches the tasks layer's other sources.
#pragma once

#include <cstddef>

#include "tasks/walker_kernel.hpp"

namespace maya::tasks::detail {

// Number of CUDA devices (0 when none answers).
[[nodiscard]] int cuda_walker_devices() noexcept;

// E robots of one layout (its arrays on the host), one thread block each: controllers [E, P]
// (P = controller_size) in, distances [E] out; with `gradients` [E, P] also the reverse kernel,
// d (-distance_e) / d controller_e; with `recorded_states` [T + 1, 2, N, 2] robot `recorded`'s
// every state. Returns the seconds the kernels ran (CUDA events). Throws maya::DeviceError when a
// CUDA call fails or the controller does not fit a block's shared memory.
double cuda_walker_rollout(const WalkerLayout& layout, std::size_t robots,
                           const double* controllers, double* distances, double* gradients,
                           std::size_t recorded, double* recorded_states);

}  // namespace maya::tasks::detail
