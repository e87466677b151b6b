// The GPU side of rigid_rollout_gradient: what batched_rollout.cpp hands the CUDA code, in plain
// C++ types, so that no CUDA header reaches the library's other sources.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "maya/rigid/contact_law.hpp"
#include "maya/rigid/rigid_world.hpp"

namespace maya::rigid::detail {

// The world's constants (a RigidWorld2D, flattened).
struct HostRigidTopology {
  std::size_t num_bodies;
  std::size_t num_vertices;
  const std::int32_t* first_vertex;  // [K]: a polygon's first vertex, -1 for a circle
  const std::int32_t* vertex_count;  // [K]: a polygon's vertices, 1 for a circle
  const GroundPlane* grounds;        // [G], normalized
  std::size_t num_grounds;
  double gravity[2];
  double linear_damping;
  double angular_damping;
  double friction_smoothing;
  NormalForceLaw normal_law;
  bool body_contacts;               // body-body contact on
  const std::int32_t* next_vertex;  // [V]: the next vertex of a polygon, counter-clockwise
};

// E worlds of one topology, all arrays on the host, world-major (RigidWorlds' layouts).
struct HostRigidWorlds {
  std::size_t worlds;
  const double* state;      // [E, 2, K, 3]
  const double* mass;       // [E, K]
  const double* inertia;    // [E, K]
  const double* vertices;   // [E, V, 2]
  const double* radius;     // [E, K]
  const double* applied;    // [E, K, 3]
  const double* stiffness;  // [E]
  const double* damping;    // [E]
  const double* friction;   // [E]
};

// Where the results go, on the host, same layouts.
struct HostRigidGradients {
  double* final_state;  // [E, 2, K, 3]
  double* state;        // [E, 2, K, 3]
  double* mass;         // [E, K]
  double* inertia;      // [E, K]
  double* vertices;     // [E, V, 2]
  double* radius;       // [E, K]
  double* applied;      // [E, K, 3]
  double* stiffness;    // [E]
  double* damping;      // [E]
  double* friction;     // [E]
};

// Given every world's final state [E, 2, K, 3], writes d loss / d final state into `adjoint`
// (same layout). Runs on the host between the forward and the reverse kernels.
using HostRigidAdjointOfFinal = std::function<void(const double* final_state, double* adjoint)>;

struct RigidKernelTimes {
  double forward = 0.0;  // seconds (CUDA events), without the copies
  double reverse = 0.0;
};

// Forward T steps of every world, keeping every state on the device, then the reverse sweep.
// Throws maya::DeviceError when a CUDA call fails.
RigidKernelTimes cuda_rigid_rollout_gradient(const HostRigidTopology& topology,
                                             const HostRigidWorlds& worlds, double dt,
                                             std::size_t steps,
                                             const HostRigidAdjointOfFinal& adjoint_of_final,
                                             const HostRigidGradients& out);

}  // namespace maya::rigid::detail
