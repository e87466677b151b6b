#include "optim/evaluator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"

namespace maya::optim::detail {

Evaluator::Evaluator(ParameterSet& parameters, const Objective& objective,
                     std::string_view operation)
    : parameters_(parameters), objective_(objective), operation_(operation) {
  if (!objective_) throw ValueError(operation_ + ": the objective is empty");
  if (parameters.numel() == 0) {
    // Nothing to move: "converged" would be a claim about no parameters at all.
    throw ValueError(operation_ + ": the parameter set has no values to optimize (" +
                     std::to_string(parameters.size()) + " parameters, 0 values)");
  }
  value_gradients_.reserve(parameters.size());
  for (const Tensor& value : parameters.values())
    value_gradients_.push_back(Tensor::zeros(value.shape()));
}

double Evaluator::operator()(std::span<const double> latent, std::span<double> gradient,
                             std::size_t iteration, bool strict) {
  parameters_.set_latent(latent);
  for (std::size_t k = 0; k < value_gradients_.size(); ++k) {
    Tensor& g = value_gradients_[k];
    if (g.shape() != parameters_.value(k).shape()) g = Tensor::zeros(parameters_.value(k).shape());
    const auto data = g.mutable_data();
    std::fill(data.begin(), data.end(), 0.0);
  }
  ++count_;
  const double loss = objective_(parameters_.values(), value_gradients_);
  parameters_.latent_gradient(value_gradients_, gradient, operation_);
  if (strict) {
    if (!std::isfinite(loss)) {
      throw NonFiniteError(operation_ + ": the objective returned loss " + format_number(loss) +
                           " at iteration " + std::to_string(iteration) + " (evaluation " +
                           std::to_string(count_) + ")");
    }
    check_finite_gradient(parameters_, gradient, operation_, iteration);
  }
  return loss;
}

void check_finite_gradient(const ParameterSet& parameters, std::span<const double> gradient,
                           std::string_view operation, std::size_t iteration) {
  std::size_t offset = 0;
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    const std::size_t n = parameters.value(k).numel();
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(gradient[offset + i])) {
        throw NonFiniteError(std::string(operation) + ": gradient of '" + parameters.name(k) +
                             "' entry " + std::to_string(i) + " is " +
                             format_number(gradient[offset + i]) + " at iteration " +
                             std::to_string(iteration));
      }
    }
    offset += n;
  }
}

void check_minimize_options(const MinimizeOptions& options, std::string_view operation) {
  // Any tolerance from 0 up, infinity included.
  (void)check_in_range(options.tolerance, 0.0, std::numeric_limits<double>::infinity(),
                       std::string(operation) + ": tolerance");
  (void)check_in_range(options.loss_tolerance, 0.0, std::numeric_limits<double>::infinity(),
                       std::string(operation) + ": loss_tolerance");
}

void check_learning_rate(double learning_rate, std::string_view operation) {
  (void)check_positive(learning_rate, std::string(operation) + ": learning_rate");
}

bool all_finite(std::span<const double> x) noexcept {
  return std::all_of(x.begin(), x.end(), [](double v) { return std::isfinite(v); });
}

double dot(std::span<const double> a, std::span<const double> b) noexcept {
  double sum = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += a[i] * b[i];
  return sum;
}

double norm(std::span<const double> a) noexcept { return std::sqrt(dot(a, a)); }

void project(std::span<double> x, std::span<const double> lower,
             std::span<const double> upper) noexcept {
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::clamp(x[i], lower[i], upper[i]);
}

double projected_gradient_norm(std::span<const double> u, std::span<const double> g,
                               std::span<const double> lower,
                               std::span<const double> upper) noexcept {
  double sum = 0.0;
  for (std::size_t i = 0; i < u.size(); ++i) {
    const double step = std::clamp(u[i] - g[i], lower[i], upper[i]) - u[i];
    sum += step * step;
  }
  return std::sqrt(sum);
}

bool loss_stalled(double before, double after, double tolerance) noexcept {
  if (tolerance <= 0.0) return false;
  const double scale = std::max({std::abs(before), std::abs(after), 1.0});
  return std::abs(before - after) <= tolerance * scale;
}

}  // namespace maya::optim::detail
