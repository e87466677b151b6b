// WalkerTraining's state on a GPU (walker_rollout.cpp, tasks/cuda/): every robot's controller,
// Adam's moments and the best controllers kept in device memory across iterations.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "maya/optim/adam.hpp"
#include "maya/tasks/walker.hpp"
#include "maya/tensor/tensor.hpp"

namespace maya::tasks::detail {

// The robot's layout and `controllers` (W1, b1, W2, b2 [E, ...], on the host) copied to the GPU,
// Adam's moments zero, the best controllers the given ones. Throws maya::DeviceError in a build
// without CUDA or where a CUDA call fails.
[[nodiscard]] std::unique_ptr<WalkerDeviceState, WalkerDeviceStateDeleter> make_walker_device_state(
    const WalkerOptions& options, const WalkerRobot& robot, std::span<const Tensor> controllers);

// One training iteration on the GPU: every robot's rollout and gradient, then per robot a
// non-finite gradient zeroed, the best controller kept where the distance beats the best so far,
// and Adam step `t` (1, 2, ...) with `adam`'s settings. Returns the distances [E] (m).
[[nodiscard]] std::vector<double> iterate_on_device(WalkerDeviceState& state,
                                                    const optim::AdamOptions& adam, std::size_t t);

// The controllers on the GPU (or the best ones), copied to the host in the shapes of `like`.
[[nodiscard]] std::vector<Tensor> controllers_on_device(const WalkerDeviceState& state,
                                                        std::span<const Tensor> like, bool best);

}  // namespace maya::tasks::detail
