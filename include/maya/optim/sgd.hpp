// Stochastic gradient descent with heavy-ball or Nesterov momentum (PyTorch's torch.optim.SGD
// update):  g += weight_decay u;  b = momentum b + g;  u -= lr (nesterov ? g + momentum b : b),
// then projection onto the bounds. Works on noisy or mini-batch gradients, where L-BFGS does not.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <vector>

#include "maya/optim/objective.hpp"
#include "maya/optim/parameter.hpp"
#include "maya/tensor/tensor.hpp"

namespace maya::optim {

struct SgdOptions {
  double learning_rate = 1e-2;  // > 0
  double momentum = 0.0;        // in [0, 1)
  bool nesterov = false;        // needs momentum > 0
  double weight_decay = 0.0;    // >= 0, an L2 penalty weight_decay/2 |u|^2 on the latent
};

class Sgd {
 public:
  // Keeps a reference to `parameters`, which must outlive the optimizer. Throws
  // maya::ValueError for settings outside the ranges above.
  Sgd(ParameterSet& parameters, SgdOptions options = {});

  // One update from gradients with respect to the values (as a tape gives them), one per
  // parameter. Throws maya::ShapeError on a mismatch, maya::NonFiniteError for NaN/Inf entries.
  void step(std::span<const Tensor> gradients);
  void step(std::initializer_list<Tensor> gradients) {
    step(std::span<const Tensor>(gradients.begin(), gradients.size()));
  }
  // Evaluates the objective at the current parameters, updates them, returns that loss.
  double step(const Objective& objective);

  // Steps until a stopping rule of `options` holds; throws maya::NonFiniteError naming the
  // iteration when the objective returns NaN/Inf.
  [[nodiscard]] Result minimize(const Objective& objective, const MinimizeOptions& options = {});

  [[nodiscard]] std::size_t iterations() const noexcept { return iterations_; }
  [[nodiscard]] const SgdOptions& options() const noexcept { return options_; }
  [[nodiscard]] ParameterSet& parameters() noexcept { return *parameters_; }
  void reset();  // forgets the momentum and the iteration count

 private:
  void update(std::span<const double> latent_gradient);

  ParameterSet* parameters_;
  SgdOptions options_;
  std::vector<double> velocity_;
  std::vector<double> latent_gradient_;
  std::size_t iterations_ = 0;
};

}  // namespace maya::optim
