// Every world's loss of a batched rollout and its adjoint, shared by the spring, soft and rigid
// rollouts: a per-world loss on the host, or one loss of all worlds' final states on the tape.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "maya/core/error.hpp"
#include "maya/dynamics/batched_rollout.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace maya::dynamics::detail {

// One of the two losses a batched rollout takes.
struct AnyWorldsLoss {
  const FinalStateLoss* per_world = nullptr;
  const WorldsLoss* worlds = nullptr;
};

// final_state and adjoint: [E, size]; losses: [E]. The adjoint is zeroed first, so a loss that
// leaves entries unset means zero there.
inline void evaluate_world_losses(const FinalStateLoss& loss, std::size_t worlds, std::size_t size,
                                  const double* final_state, double* adjoint, double* losses) {
  std::fill(adjoint, adjoint + worlds * size, 0.0);
  for (std::size_t w = 0; w < worlds; ++w) {
    losses[w] = loss(w, std::span<const double>(final_state + w * size, size),
                     std::span<double>(adjoint + w * size, size));
  }
}

// The tape loss of `final_state` [E, ...]: sets `losses` [E] and returns d sum(losses) /
// d final_state, both on final_state's device. `op` names the public function in errors: a loss
// of another shape than [E] is a ShapeError, one on another device a DeviceError.
inline Tensor worlds_loss_adjoint(std::string_view op, const WorldsLoss& loss,
                                  const Tensor& final_state, Tensor& losses) {
  const std::size_t e = final_state.shape()[0];
  TensorTape tape;
  const TensorVar x = tape.var(final_state);
  const TensorVar l = loss(tape, x);
  const Shape shape(l.shape().begin(), l.shape().end());
  if (shape.size() != 1 || shape[0] != e) {
    throw ShapeError(std::string(op) + ": the worlds' loss returned shape " + shape_string(shape) +
                     ", expected [" + std::to_string(e) +
                     "] (one loss per world) for final states of shape " +
                     shape_string(final_state.shape()));
  }
  if (l.device() != final_state.device()) {
    throw DeviceError(std::string(op) + ": the worlds' loss is on " +
                      std::string(to_string(l.device())) + " but the final states are on " +
                      std::string(to_string(final_state.device())));
  }
  const TensorGradients gradients = tape.grad(sum(l));
  losses = l.value();
  return gradients[x];
}

// The tape loss where a GPU rollout hands the final states of host worlds to the host in one
// packed block: final_state and adjoint [E, size] with E, size from `shape`; losses [E].
inline void evaluate_tape_loss_on_host(std::string_view op, const WorldsLoss& loss,
                                       const Shape& shape, const double* final_state,
                                       double* adjoint, double* losses) {
  const Tensor final_tensor = Tensor::from_data(
      std::vector<double>(final_state, final_state + checked_numel(shape, op)), shape);
  Tensor values;
  const Tensor g = worlds_loss_adjoint(op, loss, final_tensor, values);
  std::copy(g.data().begin(), g.data().end(), adjoint);
  std::copy(values.data().begin(), values.data().end(), losses);
}

// A CPU batched rollout with either loss. run(world_loss, forward_only) rolls every world out and
// hands each world's final state to world_loss (not at all where forward_only), filling
// `final_state` [E, ...]. A tape loss needs every world's final state first: the worlds are
// rolled out once forward only, the loss of all of them is taken on the tape, and they are
// rolled out again with each world's share of its adjoint.
template <class Run>
void run_with_loss(std::string_view op, const AnyWorldsLoss& loss, const Tensor& final_state,
                   Run&& run) {
  if (loss.per_world != nullptr) {
    run(*loss.per_world, false);
    return;
  }
  run(FinalStateLoss{}, true);
  Tensor values;
  const Tensor adjoint = worlds_loss_adjoint(op, *loss.worlds, final_state, values);
  const std::size_t size = final_state.numel() / final_state.shape()[0];
  run(
      [&](std::size_t w, std::span<const double>, std::span<double> adjoint_out) {
        const auto mine = adjoint.data().subspan(w * size, size);
        std::copy(mine.begin(), mine.end(), adjoint_out.begin());
        return values.data()[w];
      },
      false);
}

}  // namespace maya::dynamics::detail
