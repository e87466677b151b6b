// The GPU side of spring_rollout_gradient: what batched_rollout.cpp hands the CUDA code, in plain
// C++ types, so that no CUDA header reaches the library's other sources.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace maya::dynamics::detail {

// The model's constants (a MassSpringModel, flattened).
struct HostTopology {
  std::size_t num_particles;
  std::size_t num_springs;
  std::size_t dim;             // 1, 2 or 3
  const std::int64_t* first;   // [S]
  const std::int64_t* second;  // [S]
  double gravity[3];
  bool ground_enabled;
  double ground_height;
  double ground_stiffness;
  double ground_damping;
  std::size_t up_axis;
  double ground_friction;       // mu; 0: none
  double ground_slip_velocity;  // eps
};

// E worlds of one topology, all arrays on the host, world-major: world w's state is
// state[w 2 N D .. (w + 1) 2 N D), its stiffness stiffness[w S .. (w + 1) S), and so on.
struct HostWorlds {
  std::size_t worlds;
  const double* state;        // [E, 2, N, D]
  const double* mass;         // [E, N]
  const double* stiffness;    // [E, S]
  const double* damping;      // [E, S]
  const double* rest_length;  // [E, S]
};

// Where the results go, on the host, same layouts.
struct HostGradients {
  double* final_state;  // [E, 2, N, D]
  double* state;        // [E, 2, N, D]
  double* mass;         // [E, N]
  double* stiffness;    // [E, S]
  double* damping;      // [E, S]
  double* rest_length;  // [E, S]
};

// Given every world's final state [E, 2, N, D], writes d loss / d final state into `adjoint`
// (same layout). Runs on the host between the forward and the reverse kernels.
using HostAdjointOfFinal = std::function<void(const double* final_state, double* adjoint)>;

// Seconds the kernels ran (CUDA events), without the copies between host and device.
struct KernelTimes {
  double forward = 0.0;
  double reverse = 0.0;
};

[[nodiscard]] int cuda_devices() noexcept;

// Forward T steps of every world, keeping every state on the device, then the reverse sweep.
// Throws maya::DeviceError when a CUDA call fails.
KernelTimes cuda_spring_rollout_gradient(const HostTopology& model, const HostWorlds& worlds,
                                         double dt, std::size_t steps,
                                         const HostAdjointOfFinal& adjoint_of_final,
                                         const HostGradients& out);

}  // namespace maya::dynamics::detail
