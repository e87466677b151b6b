// Penalty contact laws shared by every contact of a rigid world, and the restitution they imply.
// With pen the depth of overlap and v_n the normal separating velocity (> 0 when separating):
//   Kelvin-Voigt:  f_n = k pen - c v_n                       (linear; may pull while separating)
//   Hunt-Crossley: f_n = max(0, k pen^(3/2) (1 - c v_n))     (Hertzian, never pulls)
// and smoothed Coulomb friction along the tangent, f_t = -mu f_n tanh(v_t / eps), which tends to
// -mu f_n sign(v_t) as eps -> 0 (sliding); for |v_t| << eps it is viscous, mu f_n v_t / eps.
#pragma once

namespace maya::rigid {

enum class NormalForceLaw { kKelvinVoigt, kHuntCrossley };

// The default values of the three differentiable material parameters of a world.
struct ContactMaterial {
  double stiffness = 1e4;  // k: N/m (Kelvin-Voigt) or N/m^(3/2) (Hunt-Crossley)
  double damping = 30.0;   // c: N s/m (Kelvin-Voigt) or s/m (Hunt-Crossley)
  double friction = 0.5;   // mu
};

// Damping ratio of a Kelvin-Voigt contact on an effective mass m: zeta = c / (2 sqrt(k m)).
[[nodiscard]] double kelvin_voigt_damping_ratio(double stiffness, double damping, double mass);
// Coefficient of restitution of a Kelvin-Voigt impact (the contact lasts half a damped period):
//   e = exp(-zeta pi / sqrt(1 - zeta^2)),  0 when zeta >= 1.
// For two bodies colliding centrally, m is the effective mass m_a m_b / (m_a + m_b).
// Throws maya::ValueError unless stiffness > 0, damping >= 0 and mass > 0.
[[nodiscard]] double kelvin_voigt_restitution(double stiffness, double damping, double mass);
// The damping that gives restitution e in (0, 1]: c = 2 zeta sqrt(k m),
// zeta = -ln e / sqrt(pi^2 + ln^2 e). Throws maya::ValueError for e outside (0, 1].
[[nodiscard]] double kelvin_voigt_damping_for_restitution(double restitution, double stiffness,
                                                          double mass);

}  // namespace maya::rigid
