#include "maya/optim/lbfgs.hpp"

#include <algorithm>
#include <cmath>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "optim/evaluator.hpp"
#include "optim/line_search.hpp"

namespace maya::optim {

using detail::dot;
using detail::norm;

Lbfgs::Lbfgs(ParameterSet& parameters, LbfgsOptions options)
    : parameters_(&parameters), options_(options) {
  (void)check_at_least(options.history, 1, "Lbfgs: history");
  if (!(options.c1 > 0.0 && options.c1 < options.c2 && options.c2 < 1.0)) {
    throw ValueError("Lbfgs: line search constants must satisfy 0 < c1 < c2 < 1, got c1 = " +
                     format_number(options.c1) + ", c2 = " + format_number(options.c2));
  }
  (void)check_at_least(options.max_line_search_evaluations, 1,
                       "Lbfgs: max_line_search_evaluations");
}

void Lbfgs::reset() {
  pairs_.clear();
  have_current_ = false;
  iterations_ = 0;
  evaluations_ = 0;
}

void Lbfgs::evaluate_current(detail::Evaluator& evaluate) {
  const auto latent = parameters_->latent();
  point_.assign(latent.begin(), latent.end());
  gradient_.resize(point_.size());
  const std::size_t before = evaluate.count();
  loss_ = evaluate(point_, gradient_, iterations_, true);
  evaluations_ += evaluate.count() - before;
  have_current_ = true;
}

// Bounded sets: an entry at a bound whose descent direction -g points out of the box is held
// fixed this iteration (its gradient and step are zeroed), as in projected quasi-Newton methods.
void Lbfgs::steepest_direction() {
  direction_.resize(gradient_.size());
  for (std::size_t i = 0; i < gradient_.size(); ++i) {
    direction_[i] = fixed_[i] ? 0.0 : -gradient_[i];
  }
}

// Two-loop recursion (Nocedal & Wright Algorithm 7.4): d = -H g with H the L-BFGS inverse
// Hessian built from the stored pairs on H0 = (s.y / y.y) I of the newest pair (eq. 7.20).
void Lbfgs::quasi_newton_direction() {
  steepest_direction();
  if (pairs_.empty()) return;
  std::vector<double>& q = direction_;  // holds -g, so the recursion yields -H g directly
  std::vector<double> alpha(pairs_.size());
  for (std::size_t k = pairs_.size(); k-- > 0;) {
    const Pair& pair = pairs_[k];
    alpha[k] = pair.rho * dot(pair.s, q);
    for (std::size_t i = 0; i < q.size(); ++i) q[i] -= alpha[k] * pair.y[i];
  }
  const Pair& newest = pairs_.back();
  const double gamma = 1.0 / (newest.rho * dot(newest.y, newest.y));
  for (double& x : q) x *= gamma;
  for (std::size_t k = 0; k < pairs_.size(); ++k) {
    const Pair& pair = pairs_[k];
    const double beta = pair.rho * dot(pair.y, q);
    for (std::size_t i = 0; i < q.size(); ++i) q[i] += (alpha[k] - beta) * pair.s[i];
  }
  for (std::size_t i = 0; i < q.size(); ++i) {
    if (fixed_[i]) q[i] = 0.0;
  }
}

void Lbfgs::remember(std::span<const double> new_point, std::span<const double> new_gradient) {
  Pair pair{std::vector<double>(point_.size()), std::vector<double>(point_.size()), 0.0};
  for (std::size_t i = 0; i < point_.size(); ++i) {
    pair.s[i] = new_point[i] - point_[i];
    pair.y[i] = new_gradient[i] - gradient_[i];
  }
  // Keep H positive definite: only pairs with clearly positive curvature s.y > 0 (always true
  // after a strong-Wolfe step; the cosine floor guards backtracking and projected steps).
  const double sy = dot(pair.s, pair.y);
  if (!(sy > 1e-10 * norm(pair.s) * norm(pair.y))) return;
  pair.rho = 1.0 / sy;
  if (pairs_.size() == options_.history) pairs_.pop_front();
  pairs_.push_back(std::move(pair));
}

Lbfgs::Outcome Lbfgs::iterate(detail::Evaluator& evaluate) {
  const auto lower = parameters_->latent_lower();
  const auto upper = parameters_->latent_upper();
  const bool projected = parameters_->bounded();
  fixed_.assign(point_.size(), false);
  if (projected) {
    for (std::size_t i = 0; i < point_.size(); ++i) {
      fixed_[i] = (point_[i] <= lower[i] && gradient_[i] > 0.0) ||
                  (point_[i] >= upper[i] && gradient_[i] < 0.0);
    }
  }
  if (detail::projected_gradient_norm(point_, gradient_, lower, upper) == 0.0) return {true, {}};

  quasi_newton_direction();
  if (!(dot(gradient_, direction_) < 0.0)) {
    pairs_.clear();
    steepest_direction();
  }
  const std::size_t before = evaluate.count();
  detail::LineSearchOutcome outcome{false, 0.0, {}};
  std::vector<double> new_point;
  std::vector<double> new_gradient;
  double new_loss = 0.0;
  // One retry along -g with a cleared history when the quasi-Newton step fails.
  for (int attempt = 0; attempt < 2 && !outcome.ok; ++attempt) {
    if (attempt == 1) {
      if (pairs_.empty()) break;
      pairs_.clear();
      steepest_direction();
    }
    // The first step along -g is scaled to length 1 (Nocedal & Wright, section 3.5); later
    // quasi-Newton steps try the unit step.
    const double initial_step = pairs_.empty() ? std::min(1.0, 1.0 / norm(direction_)) : 1.0;
    detail::LinePath path(evaluate, point_, loss_, gradient_, direction_,
                          projected ? lower : std::span<const double>{},
                          projected ? upper : std::span<const double>{}, iterations_);
    outcome = (projected || options_.line_search == LineSearch::kBacktracking)
                  ? detail::backtracking_search(path, initial_step, options_.c1,
                                                options_.max_line_search_evaluations)
                  : detail::strong_wolfe_search(path, initial_step, options_.c1, options_.c2,
                                                options_.max_line_search_evaluations);
    if (outcome.ok) {
      new_point.assign(path.point().begin(), path.point().end());
      new_gradient.assign(path.gradient().begin(), path.gradient().end());
      new_loss = path.loss();
    }
  }
  evaluations_ += evaluate.count() - before;
  if (!outcome.ok) {
    parameters_->set_latent(point_);
    return {false, "Lbfgs: line search failed at iteration " + std::to_string(iterations_) + ": " +
                       outcome.reason};
  }
  remember(new_point, new_gradient);
  point_ = std::move(new_point);
  gradient_ = std::move(new_gradient);
  loss_ = new_loss;
  parameters_->set_latent(point_);
  ++iterations_;
  return {true, {}};
}

double Lbfgs::step(const Objective& objective) {
  detail::Evaluator evaluate(*parameters_, objective, "Lbfgs::step");
  const auto latent = parameters_->latent();
  if (!have_current_ || !std::equal(latent.begin(), latent.end(), point_.begin(), point_.end())) {
    evaluate_current(evaluate);
  }
  const Outcome outcome = iterate(evaluate);
  if (!outcome.ok) throw ConvergenceError(outcome.reason);
  return loss_;
}

Result Lbfgs::minimize(const Objective& objective, const MinimizeOptions& options) {
  detail::check_minimize_options(options, "Lbfgs::minimize");
  detail::Evaluator evaluate(*parameters_, objective, "Lbfgs::minimize");
  const std::size_t start_evaluations = evaluations_;
  // Always re-evaluate: a cached loss may come from another objective.
  evaluate_current(evaluate);
  Result result;
  for (std::size_t k = 0;; ++k) {
    const double gradient_norm = detail::projected_gradient_norm(
        point_, gradient_, parameters_->latent_lower(), parameters_->latent_upper());
    const bool stalled =
        k > 0 && detail::loss_stalled(result.loss_history.back(), loss_, options.loss_tolerance);
    result.loss_history.push_back(loss_);
    result.loss = loss_;
    result.gradient_norm = gradient_norm;
    result.iterations = k;
    result.evaluations = evaluations_ - start_evaluations;
    if (options.callback) {
      options.callback(Progress{k, loss_, gradient_norm, result.evaluations});
    }
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
    const Outcome outcome = iterate(evaluate);
    if (!outcome.ok) {
      result.status = Status::kLineSearchFailed;
      result.evaluations = evaluations_ - start_evaluations;
      result.message = outcome.reason;
      return result;
    }
  }
  result.converged =
      result.status == Status::kGradientTolerance || result.status == Status::kLossTolerance;
  result.message = "Lbfgs::minimize: " + std::string(to_string(result.status)) + " after " +
                   std::to_string(result.iterations) + " iterations, loss " +
                   format_number(result.loss) + ", gradient norm " +
                   format_number(result.gradient_norm);
  return result;
}

}  // namespace maya::optim
