#include "maya/optim/sgd.hpp"

#include <cmath>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "optim/evaluator.hpp"
#include "optim/first_order.hpp"

namespace maya::optim {

Sgd::Sgd(ParameterSet& parameters, SgdOptions options)
    : parameters_(&parameters),
      options_(options),
      velocity_(parameters.numel(), 0.0),
      latent_gradient_(parameters.numel(), 0.0) {
  detail::check_learning_rate(options.learning_rate, "Sgd");
  (void)check_in_half_open_range(options.momentum, 0.0, 1.0, "Sgd: momentum");
  if (options.nesterov && options.momentum == 0.0) {
    throw ValueError("Sgd: nesterov needs momentum > 0");
  }
  (void)check_non_negative(options.weight_decay, "Sgd: weight_decay");
}

void Sgd::step(std::span<const Tensor> gradients) {
  parameters_->latent_gradient(gradients, latent_gradient_, "Sgd::step");
  detail::check_finite_gradient(*parameters_, latent_gradient_, "Sgd::step", iterations_);
  update(latent_gradient_);
}

double Sgd::step(const Objective& objective) {
  const double loss =
      detail::evaluate_here(*parameters_, objective, "Sgd::step", iterations_, latent_gradient_);
  update(latent_gradient_);
  return loss;
}

Result Sgd::minimize(const Objective& objective, const MinimizeOptions& options) {
  return detail::minimize_first_order(*parameters_, objective, options, "Sgd::minimize",
                                      iterations_,
                                      [this](std::span<const double> g) { update(g); });
}

void Sgd::update(std::span<const double> latent_gradient) {
  if (velocity_.size() != parameters_->numel()) {
    throw ShapeError("Sgd: the parameter set grew from " + std::to_string(velocity_.size()) +
                     " to " + std::to_string(parameters_->numel()) +
                     " entries after the optimizer was made");
  }
  std::vector<double> latent(parameters_->latent().begin(), parameters_->latent().end());
  const double mu = options_.momentum;
  for (std::size_t i = 0; i < latent.size(); ++i) {
    const double g = latent_gradient[i] + options_.weight_decay * latent[i];
    velocity_[i] = mu * velocity_[i] + g;
    const double direction = options_.nesterov ? g + mu * velocity_[i] : velocity_[i];
    latent[i] -= options_.learning_rate * direction;
  }
  detail::project(latent, parameters_->latent_lower(), parameters_->latent_upper());
  parameters_->set_latent(latent);
  ++iterations_;
}

void Sgd::reset() {
  std::fill(velocity_.begin(), velocity_.end(), 0.0);
  iterations_ = 0;
}

}  // namespace maya::optim
