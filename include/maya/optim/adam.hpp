// Adam (Kingma & Ba 2015, Algorithm 1) with bias correction, and optional L2 or decoupled
// (AdamW, Loshchilov & Hutter 2019) weight decay. Per-entry step sizes of about learning_rate,
// whatever the gradient's scale: the default for parameters of very different magnitudes.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <vector>

#include "maya/optim/objective.hpp"
#include "maya/optim/parameter.hpp"
#include "maya/tensor/tensor.hpp"

namespace maya::optim {

struct AdamOptions {
  double learning_rate = 1e-3;  // > 0
  double beta1 = 0.9;           // in [0, 1)
  double beta2 = 0.999;         // in [0, 1)
  double epsilon = 1e-8;        // > 0
  double weight_decay = 0.0;    // >= 0
  // false: weight_decay u is added to the gradient (L2 penalty, torch.optim.Adam);
  // true: u -= lr weight_decay u separately from the adaptive step (torch.optim.AdamW).
  bool decoupled_weight_decay = false;
};

class Adam {
 public:
  // Keeps a reference to `parameters`, which must outlive the optimizer. Throws
  // maya::ValueError for settings outside the ranges above.
  Adam(ParameterSet& parameters, AdamOptions options = {});

  //   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
  //   u -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps),  then projection onto the bounds.
  // Gradients are with respect to the values, one per parameter. Throws maya::ShapeError on a
  // mismatch, maya::NonFiniteError for NaN/Inf entries.
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
  [[nodiscard]] const AdamOptions& options() const noexcept { return options_; }
  [[nodiscard]] ParameterSet& parameters() noexcept { return *parameters_; }
  void reset();  // forgets the moments and the iteration count (t)

 private:
  void update(std::span<const double> latent_gradient);

  ParameterSet* parameters_;
  AdamOptions options_;
  std::vector<double> first_moment_;
  std::vector<double> second_moment_;
  std::vector<double> latent_gradient_;
  std::size_t iterations_ = 0;
};

}  // namespace maya::optim
