// What every optimizer minimizes and reports: an objective that returns the loss at given
// parameter values and fills their gradients, the stopping rules, and the result of a run.
// tape_objective() turns a loss recorded on a TensorTape into such an objective.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "maya/tensor/gradcheck.hpp"
#include "maya/tensor/tensor.hpp"

namespace maya::optim {

// Returns the loss at `values` (one per parameter, as ParameterSet::values()) and writes
// dloss/dvalue into `gradients`, which arrive zeroed with the values' shapes. L-BFGS calls it
// at trial points of its line search, so it must be a pure function of `values`.
using Objective =
    std::function<double(std::span<const Tensor> values, std::span<Tensor> gradients)>;

// An Objective from a loss recorded on a tape: each call records `loss` on a reused TensorTape
// from var() leaves of the values (in order) and reads their gradients from one reverse sweep.
// The returned function owns its tape; copies share it, so use one copy per thread.
[[nodiscard]] Objective tape_objective(LossFunction loss);

// One line of progress, passed to the callback once per iterate (iteration 0 is the start).
struct Progress {
  std::size_t iteration;
  double loss;
  double gradient_norm;  // of the projected latent gradient (see MinimizeOptions)
  std::size_t evaluations;
};
using ProgressCallback = std::function<void(const Progress&)>;

struct MinimizeOptions {
  std::size_t max_iterations = 1000;
  // Stop when the 2-norm of the projected latent gradient, |P(u - g) - u| (|g| without bounds),
  // is at most this.
  double tolerance = 1e-6;
  // Also stop when one iteration changes the loss by at most loss_tolerance * max(|f|, |f'|, 1)
  // (scipy's ftol); 0 disables it.
  double loss_tolerance = 0.0;
  ProgressCallback callback = nullptr;
};

enum class Status {
  kGradientTolerance,  // converged: gradient norm <= tolerance
  kLossTolerance,      // converged: loss stopped decreasing (loss_tolerance)
  kMaxIterations,
  kLineSearchFailed,  // L-BFGS found no acceptable step; see Result::message
};
[[nodiscard]] std::string_view to_string(Status status) noexcept;

struct Result {
  double loss = 0.0;  // at the final parameters, which the ParameterSet holds
  std::size_t iterations = 0;
  std::size_t evaluations = 0;  // objective calls
  double gradient_norm = 0.0;
  bool converged = false;
  Status status = Status::kMaxIterations;
  std::vector<double> loss_history;  // loss of every iterate, the start included
  std::string message;               // why it stopped, in a sentence
};

}  // namespace maya::optim
