// Private to maya::optim: calls a user Objective at a latent point and turns its value gradients
// into the flat latent gradient; plus the few flat-vector operations the optimizers share.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "maya/optim/objective.hpp"
#include "maya/optim/parameter.hpp"

namespace maya::optim::detail {

class Evaluator {
 public:
  Evaluator(ParameterSet& parameters, const Objective& objective, std::string_view operation);

  // Moves the parameters to `latent`, calls the objective, writes the latent gradient into
  // `gradient`, returns the loss. Strict: throws maya::NonFiniteError naming `iteration` for a
  // NaN/Inf loss or gradient entry; otherwise the caller checks (a line-search trial point).
  double operator()(std::span<const double> latent, std::span<double> gradient,
                    std::size_t iteration, bool strict);
  [[nodiscard]] std::size_t count() const noexcept { return count_; }

 private:
  ParameterSet& parameters_;
  const Objective& objective_;
  std::string operation_;
  std::vector<Tensor> value_gradients_;
  std::size_t count_ = 0;
};

// Throws maya::NonFiniteError naming the parameter, entry and iteration of the first NaN/Inf.
void check_finite_gradient(const ParameterSet& parameters, std::span<const double> gradient,
                           std::string_view operation, std::size_t iteration);
void check_minimize_options(const MinimizeOptions& options, std::string_view operation);
void check_learning_rate(double learning_rate, std::string_view operation);

[[nodiscard]] bool all_finite(std::span<const double> x) noexcept;
[[nodiscard]] double dot(std::span<const double> a, std::span<const double> b) noexcept;
[[nodiscard]] double norm(std::span<const double> a) noexcept;
// Clamps x into [lower, upper] entrywise.
void project(std::span<double> x, std::span<const double> lower,
             std::span<const double> upper) noexcept;
// |P(u - g) - u|: the gradient norm that is zero exactly at a first-order point of the box.
[[nodiscard]] double projected_gradient_norm(std::span<const double> u, std::span<const double> g,
                                             std::span<const double> lower,
                                             std::span<const double> upper) noexcept;
// Loss changed by at most tolerance * max(|before|, |after|, 1) (tolerance 0: never).
[[nodiscard]] bool loss_stalled(double before, double after, double tolerance) noexcept;

}  // namespace maya::optim::detail
