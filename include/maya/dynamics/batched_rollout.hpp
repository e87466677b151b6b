// Many worlds at once: E independent mass-spring worlds of one topology (one MassSpringModel),
// each with its own state and parameters, rolled out T steps and differentiated in one call, on
// the CPU (threads over worlds) or on a CUDA GPU (one kernel per direction of the whole rollout).
// Worlds on the GPU (device tensors) stay there, results too; each world's gradient is its own
// loss's.
#pragma once

#include <cstddef>
#include <functional>
#include <span>

#include "maya/dynamics/mass_spring.hpp"
#include "maya/tensor/device.hpp"
#include "maya/tensor/tensor.hpp"
#include "maya/tensor/tensor_tape.hpp"
#include "maya/tensor/tensor_var.hpp"

namespace maya::dynamics {

// E worlds. Every tensor's leading axis is the world; all must agree on E, and all live on one
// device (the CPU, or Device::kCuda for worlds that stay on the GPU).
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

// Every world's loss at once, recorded on `tape` so that maya differentiates it: given the final
// states [E, 2, N, D] as a var on the worlds' device, returns the losses [E] (world w's loss may
// depend on world w's final state only). With worlds on the GPU it runs there and nothing crosses
// to the host; on the CPU each world is rolled out twice (once for the final states, once with
// their adjoints).
using WorldsLoss = std::function<TensorVar(TensorTape& tape, TensorVar final_state)>;

struct SpringRolloutOptions {
  double dt = 1e-3;
  std::size_t steps = 1000;
  Device device = Device::kCpu;
  // Throw maya::NonFiniteError naming the first world whose final state or gradient holds a NaN
  // or an infinity. Off: such a world's results are NaN, and the other worlds are unaffected.
  bool finite_check = false;
};

// On the worlds' device.
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
// GPU, and for worlds on the GPU with options.device = kCpu or tensors on different devices. On
// the CPU it runs on maya::set_num_threads threads, one world per task; a single large world
// instead splits each step across them. Worlds on the GPU (every tensor on Device::kCuda, with
// options.device = kCuda) are read there in place and the results are device tensors; a host
// loss then sees the final states copied to the host.
[[nodiscard]] SpringRolloutGradients spring_rollout_gradient(const MassSpringModel& model,
                                                             const SpringWorlds& worlds,
                                                             const FinalStateLoss& loss,
                                                             const SpringRolloutOptions& options);
// The same with the loss on the tape (on the GPU for worlds there). Throws maya::ShapeError for
// losses of another shape than [E], maya::DeviceError for losses on another device. On the GPU
// the loss is recorded while the forward pass still runs: its ops queue on maya's stream behind
// that pass, and the reverse pass behind them (a loss that reads values on the host, item() or a
// copy to the CPU, still works: it waits for the forward pass).
[[nodiscard]] SpringRolloutGradients spring_rollout_gradient(const MassSpringModel& model,
                                                             const SpringWorlds& worlds,
                                                             const WorldsLoss& loss,
                                                             const SpringRolloutOptions& options);

// Number of CUDA devices this build can use (0 in a build without CUDA).
[[nodiscard]] int cuda_device_count() noexcept;

// E copies of one world: state [2, N, D] and parameters [N] / [S] stacked along a new axis.
[[nodiscard]] SpringWorlds replicate_world(const Tensor& state, const Tensor& mass,
                                           const Tensor& stiffness, const Tensor& damping,
                                           const Tensor& rest_length, std::size_t worlds);

}  // namespace maya::dynamics
