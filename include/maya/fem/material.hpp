// Hyperelastic materials for P1 elements: the strain energy densities maya offers and the Lame
// parameters (mu, lambda) that scale them, computed from Young's modulus and Poisson's ratio as
// tensor ops, so both can be fitted. Parameters are global (one entry) or per element ([M]).
#pragma once

#include <cstdint>
#include <string_view>

#include "maya/tensor/tensor_var.hpp"

namespace maya::fem {

// Strain energy densities Psi(F) of the deformation gradient F (d = dimension, I identity):
//   kLinear:            eps = (F + F^T)/2 - I,  Psi = mu eps:eps + lambda/2 tr(eps)^2
//   kCorotational:      F = R S (polar),        Psi = mu |F - R|^2 + lambda/2 tr(S - I)^2
//   kStVenantKirchhoff: E = (F^T F - I)/2,      Psi = mu E:E + lambda/2 tr(E)^2
//   kStableNeoHookean:  Smith, de Goes & Kim, "Stable Neo-Hookean Flesh Simulation" (2018), eq. 14
//     with the Lame re-parameterization of their section 3.4 generalized to d dimensions
//     (mu' = (d+1)/d mu, lambda' = lambda + (d-1)(d+2)/(d(d+1)) mu, so that it agrees with
//     linear elasticity for small strains) and the constant that makes Psi(I) = 0:
//       Psi = mu'/2 (I_C - d) - mu' d/(d+1) (J - 1) + lambda'/2 (J - 1)^2
//             - mu'/2 log((I_C + 1) / (d + 1)),           I_C = |F|^2, J = det F.
//     Finite for inverted elements (J <= 0), and its volume term pushes them back.
enum class Energy : std::uint8_t { kLinear, kCorotational, kStVenantKirchhoff, kStableNeoHookean };

[[nodiscard]] std::string_view to_string(Energy energy) noexcept;

// 2-D meshes: plane strain (a slice of a long body, the 3-D formulas) or plane stress (a thin
// sheet: lambda* = 2 mu lambda / (lambda + 2 mu) = E nu / (1 - nu^2)). 3-D meshes ignore it.
enum class Plane : std::uint8_t { kStrain, kStress };

struct Lame {
  TensorVar mu;      // shear modulus, [], [1] or [M]
  TensorVar lambda;  // first Lame parameter, same
};

struct LameValues {
  double mu;
  double lambda;
};

// mu = E / (2 (1 + nu)),  lambda = E nu / ((1 + nu)(1 - 2 nu))  (then the plane-stress map when
// asked). Recorded as tensor ops on E's tape; E and nu broadcast. Throws maya::ValueError unless
// every E > 0 and -1 < nu < 1/2.
[[nodiscard]] Lame lame_parameters(TensorVar youngs_modulus, TensorVar poisson_ratio,
                                   Plane plane = Plane::kStrain);
[[nodiscard]] LameValues lame_parameters(double youngs_modulus, double poisson_ratio,
                                         Plane plane = Plane::kStrain);

}  // namespace maya::fem
