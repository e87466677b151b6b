// Many worlds at once: E independent mass-spring worlds of one topology (one MassSpringModel),
// each with its own state and parameters, rolled out T steps and differentiated in one call, on
// the CPU (threads over worlds) or on a CUDA GPU (one kernel per direction of the whole rollout).
// Data comes from and returns to the host; each world's gradient is its own loss's.
#pragma once

#include <cstddef>
#include <functional>
#include <span>

#include "maya/dynamics/mass_spring.hpp"
#include "maya/tensor/device.hpp"
#include "maya/tensor/tensor.hpp"

namespace maya::dynamics {

// E worlds. Every tensor's leading axis is the world; all must agree on E.
struct SpringWorlds {
  Tensor state;        // [E, 2, N, D]: initial positions, then velocities
  Tensor mass;         // [E, N]
  Tensor stiffness;    // [E, S]
  Tensor damping;      // [E, S]
  Tensor rest_length;  // [E, S]
};

// World w's loss of its final state [2, N, D]; writes d loss / d final state into `adjoint`
// [2, N, D] (zeroed before the call) and returns the loss. Called once per world, possibly from
// several threads at once (for different worlds).
using FinalStateLoss = std::function<double(std::size_t world, std::span<const double> final_state,
                                            std::span<double> adjoint)>;

struct SpringRolloutOptions {
  double dt = 1e-3;
  std::size_t steps = 1000;
  Device device = Device::kCpu;
  // Throw maya::NonFiniteError naming the first world whose final state or gradient holds a NaN
  // or an infinity. Off: such a world's results are NaN, and the other worlds are unaffected.
  bool finite_check = false;
};

struct SpringRolloutGradients {
  Tensor loss;         // [E]
  Tensor final_state;  // [E, 2, N, D]
  // d loss_w / d (world w's input), for every world w:
  Tensor state;        // [E, 2, N, D]: d / d initial state
  Tensor mass;         // [E, N]
  Tensor stiffness;    // [E, S]
  Tensor damping;      // [E, S]
  Tensor rest_length;  // [E, S]
  // Seconds the GPU kernels ran (forward, reverse), without copies; 0 on the CPU.
  double kernel_seconds_forward = 0.0;
  double kernel_seconds_reverse = 0.0;
};

// Rolls every world out `options.steps` semi-implicit Euler steps of `model` (the fused step of
// MassSpringModel::step: the same arithmetic, each world independent) and returns each world's
// loss and its gradients. Throws maya::ShapeError for tensors whose shapes disagree with the
// model or with each other on E (naming both), maya::ValueError for dt <= 0 or a non-positive
// mass, maya::DeviceError for Device::kCuda in a build without CUDA or on a machine without a
// GPU. On the CPU it runs on maya::set_num_threads threads, one world per task; a single large
// world instead splits each step across them.
// Once device tensors exist, a SpringWorlds whose tensors live on the GPU will stay there.
[[nodiscard]] SpringRolloutGradients spring_rollout_gradient(const MassSpringModel& model,
                                                             const SpringWorlds& worlds,
                                                             const FinalStateLoss& loss,
                                                             const SpringRolloutOptions& options);

// Number of CUDA devices this build can use (0 in a build without CUDA).
[[nodiscard]] int cuda_device_count() noexcept;

// E copies of one world: state [2, N, D] and parameters [N] / [S] stacked along a new axis.
[[nodiscard]] SpringWorlds replicate_world(const Tensor& state, const Tensor& mass,
                                           const Tensor& stiffness, const Tensor& damping,
                                           const Tensor& rest_length, std::size_t worlds);

}  // namespace maya::dynamics
