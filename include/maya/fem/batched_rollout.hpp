// Many soft bodies at once: E independent worlds of one SoftBody (one mesh, material law and
// options), each with its own state and parameters, rolled out T explicit steps (step_explicit,
// the fused step) and differentiated in one call, on CPU threads (one world per task) or on a
// CUDA GPU (one world per thread block). Worlds on the GPU (device tensors) stay there, results
// too; each world's gradient is its own loss's.
#pragma once

#include <cstddef>

#include "maya/dynamics/batched_rollout.hpp"
#include "maya/fem/soft_body.hpp"
#include "maya/tensor/device.hpp"
#include "maya/tensor/tensor.hpp"

namespace maya::fem {

// E worlds of a body with N vertices and M elements in D dimensions. Every tensor's leading axis
// is the world; all must agree on E and live on one device (the CPU, or Device::kCuda for worlds
// that stay on the GPU). P is 1 (one value for every element) or M.
struct SoftWorlds {
  Tensor state;          // [E, 2, N, D]: positions, then velocities
  Tensor inverse_edges;  // [E, M, D, D]: B = D_m^-1 of each element (RestShape)
  Tensor volumes;        // [E, M]: rest volumes W
  Tensor mu;             // [E, P]: Lame shear modulus
  Tensor lambda;         // [E, P]: first Lame parameter
  Tensor mass;           // [E, N]: lumped masses
  Tensor actuation;      // [E, P] fibre tension, or no elements (shape [0]) for none
};

// World w's loss of its final state [2, N, D] (see maya::dynamics::FinalStateLoss).
using dynamics::FinalStateLoss;
// Every world's loss at once on the tape: the final states [E, 2, N, D] in, the losses [E] out
// (see maya::dynamics::WorldsLoss). With worlds on the GPU it is differentiated there and nothing
// crosses to the host; on the CPU each world is rolled out twice (for the final states, then
// with their adjoints).
using dynamics::WorldsLoss;

struct SoftRolloutOptions {
  double dt = 1e-4;
  std::size_t steps = 100;
  Device device = Device::kCpu;
  // Throw maya::NonFiniteError naming the first world whose final state, loss or gradient holds
  // a NaN or an infinity. Off: such a world's results are NaN; the other worlds are unaffected.
  bool finite_check = false;
};

// On the worlds' device.
struct SoftRolloutGradients {
  Tensor loss;         // [E]
  Tensor final_state;  // [E, 2, N, D]
  // d loss_w / d (world w's input), for every world w, in the inputs' shapes:
  Tensor state;
  Tensor inverse_edges;
  Tensor volumes;
  Tensor mu;
  Tensor lambda;
  Tensor mass;
  Tensor actuation;
  // Seconds the GPU kernels ran (forward, reverse), without copies; 0 on the CPU.
  double kernel_seconds_forward = 0.0;
  double kernel_seconds_reverse = 0.0;
};

// Rolls every world out `options.steps` steps of step_explicit(body, ...) and returns each
// world's loss and its gradients. Throws maya::ShapeError for tensors whose shapes disagree with
// the body or with each other on E (naming both), maya::ValueError for dt <= 0, a non-positive
// mass or a body with rigid contact shapes (not batched), and maya::DeviceError for
// Device::kCuda where maya was built without CUDA or no GPU answers, for worlds on the GPU with
// options.device = kCpu, and for tensors on different devices. Device::kCuda runs every material
// in 2-D and 3-D with the CPU step's element kernels compiled for the GPU. Worlds on the GPU
// (every tensor on Device::kCuda; an empty actuation may be anywhere) are read in place and the
// results are device tensors; a host loss then sees the final states copied to the host.
[[nodiscard]] SoftRolloutGradients soft_rollout_gradient(const SoftBody& body,
                                                         const SoftWorlds& worlds,
                                                         const FinalStateLoss& loss,
                                                         const SoftRolloutOptions& options);
// The same with the loss on the tape (on the GPU for worlds there). Throws maya::ShapeError for
// losses of another shape than [E], maya::DeviceError for losses on another device.
[[nodiscard]] SoftRolloutGradients soft_rollout_gradient(const SoftBody& body,
                                                         const SoftWorlds& worlds,
                                                         const WorldsLoss& loss,
                                                         const SoftRolloutOptions& options);
// The same into `out`, whose tensors are reused where they already have the results' shapes and
// device (a loop of calls then allocates, zeroes and faults in no host memory for them); the
// others are replaced. Throws as above.
void soft_rollout_gradient(const SoftBody& body, const SoftWorlds& worlds,
                           const FinalStateLoss& loss, const SoftRolloutOptions& options,
                           SoftRolloutGradients& out);
void soft_rollout_gradient(const SoftBody& body, const SoftWorlds& worlds, const WorldsLoss& loss,
                           const SoftRolloutOptions& options, SoftRolloutGradients& out);

// E copies of one world: the body at `rest_positions` [N, D] (rest shape and lumped masses from
// them), Young's modulus, Poisson's ratio and density as fem::parameters takes them, no
// actuation, and the initial state [2, N, D].
[[nodiscard]] SoftWorlds replicate_world(const SoftBody& body, const Tensor& state,
                                         const Tensor& rest_positions, double youngs_modulus,
                                         double poisson_ratio, double density, std::size_t worlds);

}  // namespace maya::fem
