// Lame parameters from Young's modulus and Poisson's ratio.
#include "maya/fem/material.hpp"

#include <cmath>
#include <string>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"

namespace maya::fem {
namespace {

void check_young_poisson(double youngs_modulus, double poisson_ratio) {
  (void)check_positive(youngs_modulus, "lame_parameters: Young's modulus");
  if (!(poisson_ratio > -1.0 && poisson_ratio < 0.5)) {
    throw ValueError("lame_parameters: Poisson's ratio must lie in (-1, 0.5), got " +
                     format_number(poisson_ratio));
  }
}

}  // namespace

LameValues lame_parameters(double youngs_modulus, double poisson_ratio, Plane plane) {
  check_young_poisson(youngs_modulus, poisson_ratio);
  const double mu = youngs_modulus / (2.0 * (1.0 + poisson_ratio));
  double lambda =
      youngs_modulus * poisson_ratio / ((1.0 + poisson_ratio) * (1.0 - 2.0 * poisson_ratio));
  if (plane == Plane::kStress) lambda = 2.0 * mu * lambda / (lambda + 2.0 * mu);
  return {mu, lambda};
}

Lame lame_parameters(TensorVar youngs_modulus, TensorVar poisson_ratio, Plane plane) {
  const auto e_values = youngs_modulus.view();
  const auto nu_values = poisson_ratio.view();
  for (std::size_t i = 0; i < e_values.numel(); ++i) check_young_poisson(e_values[i], 0.0);
  for (std::size_t i = 0; i < nu_values.numel(); ++i) check_young_poisson(1.0, nu_values[i]);
  const TensorVar mu = youngs_modulus / (2.0 * (1.0 + poisson_ratio));
  if (plane == Plane::kStress) {
    // lambda* = 2 mu lambda / (lambda + 2 mu) = E nu / (1 - nu^2).
    return {mu, youngs_modulus * poisson_ratio / (1.0 - poisson_ratio * poisson_ratio)};
  }
  return {mu,
          youngs_modulus * poisson_ratio / ((1.0 + poisson_ratio) * (1.0 - 2.0 * poisson_ratio))};
}

}  // namespace maya::fem
