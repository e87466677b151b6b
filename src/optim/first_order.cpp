#include "optim/first_order.hpp"

#include <vector>

#include "maya/core/check.hpp"
#include "optim/evaluator.hpp"

namespace maya::optim::detail {

Result minimize_first_order(ParameterSet& parameters, const Objective& objective,
                            const MinimizeOptions& options, std::string_view operation,
                            const std::size_t& iterations,
                            const std::function<void(std::span<const double>)>& update) {
  check_minimize_options(options, operation);
  Evaluator evaluate(parameters, objective, operation);
  std::vector<double> point(parameters.numel());
  std::vector<double> gradient(parameters.numel());
  Result result;
  for (std::size_t k = 0;; ++k) {
    const auto latent = parameters.latent();
    point.assign(latent.begin(), latent.end());
    const double loss = evaluate(point, gradient, iterations, true);
    const double gradient_norm = projected_gradient_norm(point, gradient, parameters.latent_lower(),
                                                         parameters.latent_upper());
    const bool stalled =
        k > 0 && loss_stalled(result.loss_history.back(), loss, options.loss_tolerance);
    result.loss_history.push_back(loss);
    result.loss = loss;
    result.gradient_norm = gradient_norm;
    result.iterations = k;
    result.evaluations = evaluate.count();
    if (options.callback) options.callback(Progress{k, loss, gradient_norm, evaluate.count()});
    if (gradient_norm <= options.tolerance) {
      result.status = Status::kGradientTolerance;
      break;
    }
    if (stalled) {
      result.status = Status::kLossTolerance;
      break;
    }
    if (k == options.max_iterations) {
      result.status = Status::kMaxIterations;
      break;
    }
    update(gradient);
  }
  result.converged =
      result.status == Status::kGradientTolerance || result.status == Status::kLossTolerance;
  result.message = std::string(operation) + ": " + std::string(to_string(result.status)) +
                   " after " + std::to_string(result.iterations) + " iterations, loss " +
                   format_number(result.loss) + ", gradient norm " +
                   format_number(result.gradient_norm);
  return result;
}

double evaluate_here(ParameterSet& parameters, const Objective& objective,
                     std::string_view operation, std::size_t iteration,
                     std::span<double> latent_gradient) {
  Evaluator evaluate(parameters, objective, operation);
  const std::vector<double> point(parameters.latent().begin(), parameters.latent().end());
  return evaluate(point, latent_gradient, iteration, true);
}

}  // namespace maya::optim::detail
