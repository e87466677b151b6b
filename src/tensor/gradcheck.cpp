#include "maya/tensor/gradcheck.hpp"

#include <algorithm>
#include <cmath>

#include "maya/core/check.hpp"

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
  for (const TensorVar leaf : leaves) report.analytic.push_back(grads[leaf]);

  std::vector<Tensor> perturbed(inputs.begin(), inputs.end());
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    Tensor numeric = Tensor::zeros(inputs[k].shape());
    double worst = 0.0;
    std::size_t worst_entry = 0;
    for (std::size_t i = 0; i < inputs[k].numel(); ++i) {
      const double x = inputs[k].data()[i];
      perturbed[k].mutable_data()[i] = x + step;
      const double plus = evaluate(loss, perturbed, tape);
      perturbed[k].mutable_data()[i] = x - step;
      const double minus = evaluate(loss, perturbed, tape);
      perturbed[k].mutable_data()[i] = x;
      const double n = (plus - minus) / (2.0 * step);
      numeric.mutable_data()[i] = n;
      const double a = report.analytic[k].data()[i];
      const double error = std::abs(a - n) / std::max(1.0, std::abs(n));
      if (!(error <= worst)) {
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
