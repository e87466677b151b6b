// The GPU side of soft_rollout_gradient: what batched_rollout.cpp hands the CUDA code, in plain
// C++ types, so that no CUDA header reaches the library's other sources.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "maya/fem/material.hpp"
#include "maya/fem/soft_body.hpp"

namespace maya::fem::detail {

// The body's constants (a SoftBody without rigid contact shapes, flattened).
struct HostSoftTopology {
  std::size_t dim;  // D: 2 or 3
  std::size_t num_vertices;
  std::size_t num_elements;
  Energy energy;
  const std::int64_t* elements;  // [M, D + 1]
  const std::uint8_t* pinned;    // [N]
  const double* gravity;         // [D]
  const double* fiber;           // [D], unit
  GroundContact ground;
};

// E worlds of one body, world-major (SoftWorlds' layouts), all arrays on the host, or all in
// device memory (on_device; complete: nothing queued on other streams). P: 1 or M.
struct HostSoftWorlds {
  std::size_t worlds;
  const double* state;          // [E, 2, N, D]
  const double* inverse_edges;  // [E, M, D, D]
  const double* volumes;        // [E, M]
  const double* mu;             // [E, P_mu]
  std::size_t mu_size;
  const double* lambda;  // [E, P_lambda]
  std::size_t lambda_size;
  const double* mass;       // [E, N]
  const double* actuation;  // [E, P_a], or nullptr for none
  std::size_t actuation_size;
  bool on_device = false;
};

// Where the results go, same layouts: on the host, or in device memory (on_device), where every
// array is overwritten.
struct HostSoftGradients {
  double* final_state;  // [E, 2, N, D]
  double* state;
  double* inverse_edges;
  double* volumes;
  double* mu;
  double* lambda;
  double* mass;
  double* actuation;  // nullptr without actuation
  bool on_device = false;
};

// Given every world's final state [E, 2, N, D], writes d loss / d final state into `adjoint`
// (same layout). Runs on the host between the forward and the reverse kernels.
using HostSoftAdjointOfFinal = std::function<void(const double* final_state, double* adjoint)>;

// The loss on the device instead: called once the final states are in the gradients'
// final_state (device memory); returns the device address of d loss / d final state
// [E, 2, N, D], complete (its stream waited for) and valid until the call returns.
using DeviceSoftAdjointOfFinal = std::function<const double*()>;

// Which of the two runs between the kernels: `device` where set, else `host`.
struct SoftAdjointOfFinal {
  HostSoftAdjointOfFinal host;
  DeviceSoftAdjointOfFinal device;
};

struct SoftKernelTimes {
  double forward = 0.0;  // seconds (CUDA events), without the copies
  double reverse = 0.0;
};

// Forward T explicit steps of every world keeping every state on the device, then the reverse
// sweep. Throws maya::DeviceError when a CUDA call fails.
SoftKernelTimes cuda_soft_rollout_gradient(const HostSoftTopology& topology,
                                           const HostSoftWorlds& worlds, double dt,
                                           std::size_t steps,
                                           const SoftAdjointOfFinal& adjoint_of_final,
                                           const HostSoftGradients& out);

// The first of `count` masses in device memory that is not a positive finite number, as its
// index and value; index == count when every one is.
struct FirstBadMass {
  std::size_t index;
  double value;
};
[[nodiscard]] FirstBadMass cuda_first_bad_mass(const double* masses, std::size_t count);

}  // namespace maya::fem::detail
