// The GPU side of spring_rollout_gradient: what batched_rollout.cpp hands the CUDA code, in plain
// C++ types, so that no CUDA header reaches the library's other sources.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace maya::dynamics::detail {

// The model's constants (a MassSpringModel, flattened).
struct HostTopology {
  std::uint64_t topology_id;  // MassSpringModel::topology_id(); 0: unknown (springs compared)
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

// E worlds of one topology, world-major: world w's state is state[w 2 N D .. (w + 1) 2 N D),
// its stiffness stiffness[w S .. (w + 1) S), and so on. On the host, or (on_device) in device
// memory written by work queued on maya's stream (maya::cuda_stream()), where the kernels read
// the parameters in place, nothing is copied to the host, and the masses are checked on the
// device alongside the rollout (RolloutReport::bad_mass).
struct HostWorlds {
  std::size_t worlds;
  const double* state;        // [E, 2, N, D]
  const double* mass;         // [E, N]
  const double* stiffness;    // [E, S]
  const double* damping;      // [E, S]
  const double* rest_length;  // [E, S]
  bool on_device = false;
};

// Where the results go, same layouts; on the host, or (on_device) in device memory that
// `allocate` provides: it fills the pointers, queueing its work on maya's stream, and is called
// once the forward pass is queued, so that the results' allocation overlaps it. The parameter
// gradients accumulate in place.
struct HostGradients {
  double* final_state = nullptr;  // [E, 2, N, D]
  double* state = nullptr;        // [E, 2, N, D]
  double* mass = nullptr;         // [E, N]
  double* stiffness = nullptr;    // [E, S]
  double* damping = nullptr;      // [E, S]
  double* rest_length = nullptr;  // [E, S]
  bool on_device = false;
  std::function<void(HostGradients&)> allocate;
};

// Given every world's final state [E, 2, N, D], writes d loss / d final state into `adjoint`
// (same layout). Runs on the host between the forward and the reverse kernels.
using HostAdjointOfFinal = std::function<void(const double* final_state, double* adjoint)>;

// The loss on the device instead: called once the copy of the final states into HostGradients'
// final_state (device memory) is queued; it queues its own work on maya's stream, which the call
// has made wait for that copy, and returns the device address of d loss / d final state
// [E, 2, N, D] (written by that work), valid until the call returns. The reverse pass waits on
// the device for maya's stream: nothing waits on the host between the two passes.
using DeviceAdjointOfFinal = std::function<const double*()>;

// Which of the two runs between the kernels: `device` where set, else `host`.
struct AdjointOfFinal {
  HostAdjointOfFinal host;
  DeviceAdjointOfFinal device;
};

// Seconds the kernels ran (CUDA events), without the copies between host and device.
struct KernelTimes {
  double forward = 0.0;
  double reverse = 0.0;
};

// The first of `count` values that is not a positive finite number, as its index and value;
// index == count when there is none.
struct FirstNonPositive {
  std::size_t index;
  double value;
};

// What a rollout reports: the kernels' seconds and, for worlds on the device, their first mass
// that is not a positive finite number (index E N when there is none; the results are then
// meaningless and the caller throws).
struct RolloutReport {
  KernelTimes times;
  FirstNonPositive bad_mass{0, 0.0};
};

[[nodiscard]] int cuda_devices() noexcept;

// Forward T steps of every world, keeping every state on the device, then the reverse sweep.
// Device memory given in `worlds` or `out` may still be being written by work queued on maya's
// stream: the rollout waits for it on the device. Results are complete when this returns.
// Throws maya::DeviceError when a CUDA call fails.
RolloutReport cuda_spring_rollout_gradient(const HostTopology& model, const HostWorlds& worlds,
                                           double dt, std::size_t steps,
                                           const AdjointOfFinal& adjoint_of_final,
                                           HostGradients& out);

// Copies `bytes` between two device addresses and waits for the copy.
void cuda_copy_on_device(void* to, const void* from, std::size_t bytes);

}  // namespace maya::dynamics::detail
