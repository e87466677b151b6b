#include "maya/optim/objective.hpp"

#include <memory>
#include <utility>

#include "maya/core/error.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace maya::optim {

namespace {

// The tape and gradient buffers a tape objective reuses from call to call.
struct TapeState {
  TensorTape tape;
  TensorGradients gradients;
  std::vector<TensorVar> leaves;
};

}  // namespace

Objective tape_objective(LossFunction loss) {
  if (!loss) throw ValueError("tape_objective: the loss function is empty");
  auto state = std::make_shared<TapeState>();
  return
      [state, loss = std::move(loss)](std::span<const Tensor> values, std::span<Tensor> gradients) {
        TensorTape& tape = state->tape;
        tape.clear();
        state->leaves.clear();
        for (const Tensor& value : values) state->leaves.push_back(tape.var(value));
        const TensorVar output = loss(tape, state->leaves);
        const double value = output.item();
        tape.grad(output, state->gradients);
        for (std::size_t k = 0; k < gradients.size(); ++k) {
          gradients[k] = state->gradients[state->leaves[k]];
        }
        return value;
      };
}

std::string_view to_string(Status status) noexcept {
  switch (status) {
    case Status::kGradientTolerance: return "converged (gradient norm within tolerance)";
    case Status::kLossTolerance: return "converged (loss stopped decreasing)";
    case Status::kMaxIterations: return "stopped at max_iterations";
    case Status::kLineSearchFailed: return "line search failed";
  }
  return "unknown status";
}

}  // namespace maya::optim
