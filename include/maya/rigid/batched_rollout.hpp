// Many rigid worlds at once: E independent 2-D worlds of one topology (one RigidWorld2D: its
// shapes, grounds and contact law), each with its own state and parameters, rolled out T fused
// steps and differentiated in one call, on the CPU (threads over worlds) or on a CUDA GPU (one
// kernel per direction of the whole rollout). Data comes from and returns to the host.
#pragma once

#include <cstddef>

#include "maya/dynamics/batched_rollout.hpp"
#include "maya/rigid/rigid_world.hpp"
#include "maya/tensor/device.hpp"
#include "maya/tensor/tensor.hpp"

namespace maya::rigid {

// E worlds of a world with K bodies and V polygon vertices. Every tensor's leading axis is the
// world; all must agree on E. The same inputs as RigidParameterValues, one row per world.
struct RigidWorlds {
  Tensor state;      // [E, 2, K, 3]: poses (x, y, theta), then velocities (vx, vy, omega)
  Tensor mass;       // [E, K]
  Tensor inertia;    // [E, K]
  Tensor vertices;   // [E, V, 2] body-frame vertices of every polygon body, in body order
  Tensor radius;     // [E, K]
  Tensor applied;    // [E, K, 3] applied force and torque, held over the whole rollout
  Tensor stiffness;  // [E]
  Tensor damping;    // [E]
  Tensor friction;   // [E]
};

// World w's loss of its final state [2, K, 3]; writes d loss / d final state into `adjoint`
// [2, K, 3] (zeroed before the call) and returns the loss. Called once per world, possibly from
// several threads at once (for different worlds).
using dynamics::FinalStateLoss;

struct RigidRolloutOptions {
  double dt = 1e-3;
  std::size_t steps = 1000;
  Device device = Device::kCpu;
  // Throw maya::NonFiniteError naming the first world whose final state or gradient holds a NaN
  // or an infinity. Off: such a world's results are NaN, and the other worlds are unaffected.
  bool finite_check = false;
};

struct RigidRolloutGradients {
  Tensor loss;         // [E]
  Tensor final_state;  // [E, 2, K, 3]
  // d loss_w / d (world w's input), for every world w:
  Tensor state;      // [E, 2, K, 3]: d / d initial state
  Tensor mass;       // [E, K]
  Tensor inertia;    // [E, K]
  Tensor vertices;   // [E, V, 2]
  Tensor radius;     // [E, K] (zero for polygon bodies)
  Tensor applied;    // [E, K, 3]
  Tensor stiffness;  // [E]
  Tensor damping;    // [E]
  Tensor friction;   // [E]
  // Seconds the GPU kernels ran (forward, reverse), without copies; 0 on the CPU.
  double kernel_seconds_forward = 0.0;
  double kernel_seconds_reverse = 0.0;
};

// Rolls every world out `options.steps` steps of `world` (RigidWorld2D::step, the fused step: the
// same arithmetic, each world independent) and returns each world's loss and its gradients. The
// gradient is that of the rollout with each step's contact set held fixed, as for the fused step.
// Throws maya::ShapeError for tensors whose shapes disagree with the world or with each other on
// E (naming both), maya::ValueError for dt <= 0 or a non-positive mass or inertia,
// maya::DeviceError for Device::kCuda in a build without CUDA or on a machine without a GPU. On
// the GPU a world with body-body contact runs as one thread block per world (the pair contacts
// found and summed in the CPU fused step's order); without it, one thread per body. On the CPU it
// runs on maya::set_num_threads threads, one world per task.
[[nodiscard]] RigidRolloutGradients rigid_rollout_gradient(const RigidWorld2D& world,
                                                           const RigidWorlds& worlds,
                                                           const FinalStateLoss& loss,
                                                           const RigidRolloutOptions& options);
// The same into `out`, whose tensors are reused where they already have the results' shapes (on
// the CPU), so a loop of calls allocates and zero-fills no result memory after its first; the
// others are replaced. Throws as above.
void rigid_rollout_gradient(const RigidWorld2D& world, const RigidWorlds& worlds,
                            const FinalStateLoss& loss, const RigidRolloutOptions& options,
                            RigidRolloutGradients& out);

// E copies of one world's state [2, K, 3] and parameter values.
[[nodiscard]] RigidWorlds replicate_world(const Tensor& state, const RigidParameterValues& values,
                                          std::size_t worlds);

}  // namespace maya::rigid
