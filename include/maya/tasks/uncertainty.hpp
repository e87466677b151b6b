// Standard errors of fitted parameters: the Gauss-Newton (Laplace) covariance of a least-squares
// fit, C = sigma^2 (J^T J)^-1, with J [n, p] the Jacobian of the n residuals with respect to the
// p parameter entries at the fit (central differences of the forward model) and sigma^2 =
// |r|^2 / (n - p) the noise variance estimated from the residuals. docs/scene-format.md says when
// it is meaningful (independent noise of one size, a fit at the minimum).
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "maya/tensor/tensor.hpp"

namespace maya::tasks {

// The residuals of a fit as a function of the parameter values (one tensor per parameter).
using ResidualFunction = std::function<std::vector<double>(std::span<const Tensor>)>;

struct Uncertainty {
  bool available = false;
  std::string reason;                               // why not, when not available
  std::size_t residuals = 0;                        // n
  std::size_t entries = 0;                          // p: parameter entries, in order
  double sigma = 0.0;                               // sqrt(|r|^2 / (n - p))
  std::vector<double> covariance;                   // [p, p]
  std::vector<std::vector<double>> standard_error;  // per parameter, per entry

  // The half-width of the interval value +- z * standard error (z = 1.96: 95 %).
  static constexpr double kZ95 = 1.959963984540054;
};

// The Laplace covariance at `fitted`. J comes from central differences with the relative step
// h = step * |x| (step when x = 0): 1e-4 keeps the truncation error near 1e-8 relative while
// stepping over the small-scale roughness that contact gives a trajectory. Not available (with the reason) when n <= p or when J^T J is
// singular to working precision (the data do not determine every parameter).
[[nodiscard]] Uncertainty laplace_uncertainty(const ResidualFunction& residuals,
                                              std::span<const Tensor> fitted, double step = 1e-4);

}  // namespace maya::tasks
