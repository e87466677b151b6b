#include "maya/tensor/gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "maya/core/check.hpp"
#include "maya/core/gradient_error.hpp"

namespace maya {

namespace {

double evaluate(const LossFunction& loss, const std::vector<Tensor>& inputs, TensorTape& tape) {
  tape.clear();
  std::vector<TensorVar> leaves;
  leaves.reserve(inputs.size());
  for (const Tensor& input : inputs) leaves.push_back(tape.var(input));
  return loss(tape, leaves).item();
}

}  // namespace

double GradcheckReport::max_error() const noexcept {
  double worst = 0.0;
  for (const double e : worst_error) worst = std::max(worst, std::isnan(e) ? INFINITY : e);
  return worst;
}

GradcheckReport gradcheck(const LossFunction& loss, std::span<const Tensor> inputs, double step) {
  (void)check_positive(step, "gradcheck: step");
  GradcheckReport report;
  TensorTape tape;
  std::vector<TensorVar> leaves;
  for (const Tensor& input : inputs) leaves.push_back(tape.var(input));
  const TensorVar output = loss(tape, leaves);
  const TensorGradients grads = tape.grad(output);
  const double floor = central_difference_floor(output.item(), step);
  for (const TensorVar leaf : leaves) report.analytic.push_back(grads[leaf]);

  std::vector<Tensor> perturbed(inputs.begin(), inputs.end());
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    Tensor numeric = Tensor::zeros(inputs[k].shape());
    for (std::size_t i = 0; i < inputs[k].numel(); ++i) {
      const double x = inputs[k].data()[i];
      perturbed[k].mutable_data()[i] = x + step;
      const double plus = evaluate(loss, perturbed, tape);
      perturbed[k].mutable_data()[i] = x - step;
      const double minus = evaluate(loss, perturbed, tape);
      perturbed[k].mutable_data()[i] = x;
      numeric.mutable_data()[i] = (plus - minus) / (2.0 * step);
    }
    // The size of this input's gradient: its largest entry, analytic or numeric (NaN if any is).
    const std::span<const double> a = report.analytic[k].data();
    const std::span<const double> n = numeric.data();
    double scale = 0.0;
    for (std::size_t i = 0; i < n.size(); ++i) {
      if (std::isnan(a[i]) || std::isnan(n[i])) scale = std::numeric_limits<double>::quiet_NaN();
      if (!std::isnan(scale)) scale = std::max({scale, std::abs(a[i]), std::abs(n[i])});
    }
    double worst = 0.0;
    std::size_t worst_entry = 0;
    for (std::size_t i = 0; i < n.size(); ++i) {
      const double error = gradient_error(a[i], n[i], scale, floor);
      if (!std::isnan(worst) && !(error <= worst)) {  // NaN (a non-finite value) stays worst
        worst = error;
        worst_entry = i;
      }
    }
    report.worst_error.push_back(worst);
    report.worst_entry.push_back(worst_entry);
    report.numeric.push_back(std::move(numeric));
  }
  return report;
}

}  // namespace maya
