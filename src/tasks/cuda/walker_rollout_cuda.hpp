// The GPU side of walker_rollout (walker_rollout.cpp): what the CUDA code is handed, in plain C++
// types, so that no CUDA header reaches the tasks layer's other sources.
#pragma once

#include <cstddef>
#include <memory>

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

// One Adam step's settings (optim::Adam's arithmetic), with the bias corrections 1 - b1^t and
// 1 - b2^t of this step computed on the host as optim::Adam computes them.
struct WalkerAdamStep {
  double learning_rate;
  double beta1;
  double beta2;
  double epsilon;
  double weight_decay;
  bool decoupled_weight_decay;
  double bias1;
  double bias2;
};

// WalkerTraining's state on the GPU: every robot's controller [E, P], Adam's moments [E, P], the
// best controllers [E, P] and best distances [E], kept in device memory across iterations, so
// that an iteration copies only the distances [E] to the host.
class CudaWalkerTraining {
 public:
  // `layout`'s arrays and `controllers` [E, P] are on the host; both are copied to the device.
  CudaWalkerTraining(const WalkerLayout& layout, std::size_t robots, const double* controllers);
  ~CudaWalkerTraining();
  CudaWalkerTraining(const CudaWalkerTraining&) = delete;
  CudaWalkerTraining& operator=(const CudaWalkerTraining&) = delete;

  // Rolls every robot out and differentiates -distance; then, per robot (one block each): a
  // gradient holding a NaN or an infinity is zeroed, a distance above the best so far keeps the
  // controller (before the update) as the best, and Adam updates the controller. Writes the
  // distances [E] to the host; returns the seconds the kernels ran.
  double iterate(const WalkerAdamStep& step, double* distances);
  void controllers(double* out) const;       // [E, P] to the host
  void best_controllers(double* out) const;  // [E, P]: what walked the best distance so far
  [[nodiscard]] std::size_t robots() const noexcept;

 private:
  struct Memory;
  std::unique_ptr<Memory> memory_;
};

}  // namespace maya::tasks::detail
