// Closed forms of the Kelvin-Voigt contact: a damped oscillator m pen'' + c pen' + k pen = 0
// started at pen = 0 with pen' = v leaves contact after half a damped period, pi / omega_d, with
// speed v exp(-zeta omega_n pi / omega_d) = v exp(-zeta pi / sqrt(1 - zeta^2)).
#include "maya/rigid/contact_law.hpp"

#include <cmath>
#include <numbers>
#include <string>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"

namespace maya::rigid {

namespace {

void check_positive(double value, const char* what, const char* operation) {
  (void)maya::check_positive(value, std::string(operation) + ": " + what);
}

}  // namespace

double kelvin_voigt_damping_ratio(double stiffness, double damping, double mass) {
  constexpr const char* kOperation = "kelvin_voigt_damping_ratio";
  check_positive(stiffness, "stiffness", kOperation);
  check_positive(mass, "mass", kOperation);
  (void)check_non_negative(damping, std::string(kOperation) + ": damping");
  return damping / (2.0 * std::sqrt(stiffness * mass));
}

double kelvin_voigt_restitution(double stiffness, double damping, double mass) {
  const double zeta = kelvin_voigt_damping_ratio(stiffness, damping, mass);
  if (zeta >= 1.0) return 0.0;
  return std::exp(-zeta * std::numbers::pi / std::sqrt(1.0 - zeta * zeta));
}

double kelvin_voigt_damping_for_restitution(double restitution, double stiffness, double mass) {
  constexpr const char* kOperation = "kelvin_voigt_damping_for_restitution";
  if (!(restitution > 0.0 && restitution <= 1.0)) {
    throw ValueError(std::string(kOperation) + ": restitution must be in (0, 1], got " +
                     std::to_string(restitution));
  }
  check_positive(stiffness, "stiffness", kOperation);
  check_positive(mass, "mass", kOperation);
  const double log_e = std::log(restitution);
  const double zeta = -log_e / std::sqrt(std::numbers::pi * std::numbers::pi + log_e * log_e);
  return 2.0 * zeta * std::sqrt(stiffness * mass);
}

}  // namespace maya::rigid
