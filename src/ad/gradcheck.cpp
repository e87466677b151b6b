#include "maya/ad/gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "maya/core/error.hpp"
#include "maya/core/gradient_error.hpp"

namespace maya {

namespace {

double evaluate(const ScalarFunction& f, std::span<const double> at) {
  Tape tape;
  std::vector<Var> inputs;
  inputs.reserve(at.size());
  for (const double x : at) inputs.push_back(tape.var(x));
  return f(tape, inputs).value();
}

}  // namespace

double ScalarGradcheckReport::max_error() const noexcept {
  double worst = 0.0;
  for (const double e : error) {
    if (std::isnan(e)) return e;
    worst = std::max(worst, e);
  }
  return worst;
}

ScalarGradcheckReport gradcheck(const ScalarFunction& f, std::span<const double> at, double step) {
  if (!(step > 0.0) || !std::isfinite(step)) {
    throw ValueError("gradcheck: the step must be positive and finite, got " +
                     std::to_string(step));
  }
  ScalarGradcheckReport report;
  Tape tape;
  std::vector<Var> inputs;
  inputs.reserve(at.size());
  for (const double x : at) inputs.push_back(tape.var(x));
  const Var y = f(tape, inputs);
  if (!std::isfinite(y.value())) {
    throw ValueError("gradcheck: the function's value is not finite at the given point");
  }
  const Gradients g = tape.grad(y);
  const double floor = central_difference_floor(y.value(), step);
  std::vector<double> point(at.begin(), at.end());
  for (std::size_t i = 0; i < at.size(); ++i) {
    point[i] = at[i] + step;
    const double plus = evaluate(f, point);
    point[i] = at[i] - step;
    const double minus = evaluate(f, point);
    point[i] = at[i];
    const double numeric = (plus - minus) / (2.0 * step);
    const double analytic = g[inputs[i]];
    report.analytic.push_back(analytic);
    report.numeric.push_back(numeric);
    const double scale = std::max(std::abs(analytic), std::abs(numeric));
    report.error.push_back(gradient_error(analytic, numeric, scale, floor));
  }
  return report;
}

}  // namespace maya
