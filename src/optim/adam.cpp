#include "maya/optim/adam.hpp"

#include <cmath>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "optim/evaluator.hpp"
#include "optim/first_order.hpp"

namespace maya::optim {

Adam::Adam(ParameterSet& parameters, AdamOptions options)
    : parameters_(&parameters),
      options_(options),
      first_moment_(parameters.numel(), 0.0),
      second_moment_(parameters.numel(), 0.0),
      latent_gradient_(parameters.numel(), 0.0) {
  detail::check_learning_rate(options.learning_rate, "Adam");
  (void)check_in_half_open_range(options.beta1, 0.0, 1.0, "Adam: beta1");
  (void)check_in_half_open_range(options.beta2, 0.0, 1.0, "Adam: beta2");
  (void)check_positive(options.epsilon, "Adam: epsilon");
  (void)check_non_negative(options.weight_decay, "Adam: weight_decay");
}

void Adam::step(std::span<const Tensor> gradients) {
  parameters_->latent_gradient(gradients, latent_gradient_, "Adam::step");
  detail::check_finite_gradient(*parameters_, latent_gradient_, "Adam::step", iterations_);
  update(latent_gradient_);
}

double Adam::step(const Objective& objective) {
  const double loss =
      detail::evaluate_here(*parameters_, objective, "Adam::step", iterations_, latent_gradient_);
  update(latent_gradient_);
  return loss;
}

Result Adam::minimize(const Objective& objective, const MinimizeOptions& options) {
  return detail::minimize_first_order(*parameters_, objective, options, "Adam::minimize",
                                      iterations_,
                                      [this](std::span<const double> g) { update(g); });
}

void Adam::update(std::span<const double> latent_gradient) {
  if (first_moment_.size() != parameters_->numel()) {
    throw ShapeError("Adam: the parameter set grew from " + std::to_string(first_moment_.size()) +
                     " to " + std::to_string(parameters_->numel()) +
                     " entries after the optimizer was made");
  }
  ++iterations_;
  const double t = static_cast<double>(iterations_);
  const double b1 = options_.beta1;
  const double b2 = options_.beta2;
  const double lr = options_.learning_rate;
  const double decay = options_.weight_decay;
  const double bias1 = 1.0 - std::pow(b1, t);
  const double bias2 = 1.0 - std::pow(b2, t);
  std::vector<double> latent(parameters_->latent().begin(), parameters_->latent().end());
  for (std::size_t i = 0; i < latent.size(); ++i) {
    double g = latent_gradient[i];
    if (options_.decoupled_weight_decay) {
      latent[i] -= lr * decay * latent[i];
    } else {
      g += decay * latent[i];
    }
    first_moment_[i] = b1 * first_moment_[i] + (1.0 - b1) * g;
    second_moment_[i] = b2 * second_moment_[i] + (1.0 - b2) * g * g;
    const double m_hat = first_moment_[i] / bias1;
    const double v_hat = second_moment_[i] / bias2;
    latent[i] -= lr * m_hat / (std::sqrt(v_hat) + options_.epsilon);
  }
  detail::project(latent, parameters_->latent_lower(), parameters_->latent_upper());
  parameters_->set_latent(latent);
}

void Adam::reset() {
  std::fill(first_moment_.begin(), first_moment_.end(), 0.0);
  std::fill(second_moment_.begin(), second_moment_.end(), 0.0);
  iterations_ = 0;
}

}  // namespace maya::optim
