// The fused mass-spring step and its adjoint as loops over plain arrays, compiled once per
// dimension: with D known, a spring's vectors live in registers and its loops unroll (the step and
// its adjoint run about 1.7x faster than with D a runtime value).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "maya/dynamics/mass_spring.hpp"

namespace maya::detail {

// The model's constants, flattened for the kernels.
struct SpringSystem {
  std::size_t num_particles;
  std::size_t num_springs;
  const std::int64_t* first;
  const std::int64_t* second;
  const double* gravity;
  GroundContact ground;
};

// The step's differentiable inputs.
struct SpringInputs {
  const double* x;  // [N, D], followed by v [N, D]
  const double* mass;
  const double* stiffness;
  const double* damping;
  const double* rest;
};

// What one spring's force and its adjoint need: length, direction, closing velocity, magnitude.
template <std::size_t D>
struct SpringGeometry {
  double length;
  double unit[D];
  double closing[D];  // v_b - v_a
  double closing_speed;
  double magnitude;

  SpringGeometry(const double* x, const double* v, std::size_t ia, std::size_t ib, double stiffness,
                 double damping, double rest) {
    double squared = 0.0;
    for (std::size_t k = 0; k < D; ++k) {
      unit[k] = x[ib + k] - x[ia + k];
      squared += unit[k] * unit[k];
    }
    length = std::sqrt(squared);
    const double inverse_length = 1.0 / length;
    closing_speed = 0.0;
    for (std::size_t k = 0; k < D; ++k) {
      unit[k] *= inverse_length;
      closing[k] = v[ib + k] - v[ia + k];
      closing_speed += closing[k] * unit[k];
    }
    magnitude = stiffness * (length - rest) + damping * closing_speed;
  }
};

// Adds every spring's force to `force` [N, D] (zeroed by the caller).
template <std::size_t D>
void add_spring_forces(const SpringSystem& system, const SpringInputs& in, double* force) {
  const double* x = in.x;
  const double* v = in.x + system.num_particles * D;
  for (std::size_t e = 0; e < system.num_springs; ++e) {
    const auto ia = static_cast<std::size_t>(system.first[e]) * D;
    const auto ib = static_cast<std::size_t>(system.second[e]) * D;
    const SpringGeometry<D> s(x, v, ia, ib, in.stiffness[e], in.damping[e], in.rest[e]);
    for (std::size_t k = 0; k < D; ++k) {
      const double f = s.magnitude * s.unit[k];
      force[ia + k] += f;
      force[ib + k] -= f;
    }
  }
}

// The ground's penalty force on particle i along the up axis (0 when it is above the ground).
inline double ground_force(const GroundContact& ground, double x_up, double v_up) {
  const double penetration = ground.height - x_up;
  return penetration > 0.0 ? ground.stiffness * penetration - ground.damping * v_up : 0.0;
}

// out = [x1, v1]: v1 = v + dt (F / m + g), x1 = x + dt v1.
template <std::size_t D>
void spring_step_forward(const SpringSystem& system, const SpringInputs& in, double dt,
                         double* out) {
  const std::size_t nd = system.num_particles * D;
  double* x1 = out;
  double* force = out + nd;  // the new velocities are computed in place of F
  for (std::size_t i = 0; i < nd; ++i) force[i] = 0.0;
  add_spring_forces<D>(system, in, force);
  const double* x = in.x;
  const double* v = in.x + nd;
  const GroundContact& ground = system.ground;
  for (std::size_t i = 0; i < system.num_particles; ++i) {
    double* fi = force + i * D;
    if (ground.enabled) {
      const std::size_t up = i * D + ground.up_axis;
      fi[ground.up_axis] += ground_force(ground, x[up], v[up]);
    }
    const double dt_over_m = dt / in.mass[i];
    for (std::size_t k = 0; k < D; ++k) {
      const double v1 = v[i * D + k] + dt_over_m * fi[k] + dt * system.gravity[k];
      fi[k] = v1;
      x1[i * D + k] = x[i * D + k] + dt * v1;
    }
  }
}

// Where the adjoint goes; a null pointer is an input that needs no gradient. A fresh buffer
// holds nothing yet: the kernel assigns into it instead of adding (no zero fill needed).
struct GradientSlot {
  double* values = nullptr;
  bool fresh = false;
  explicit operator bool() const noexcept { return values != nullptr; }
  // Each element is written once per step by the kernel, so assign or add.
  void put(std::size_t i, double value) const noexcept {
    values[i] = fresh ? value : values[i] + value;
  }
};
struct SpringGradients {
  GradientSlot state;  // [2, N, D]
  double* mass;        // zero-filled: every spring adds into two of its entries
  GradientSlot stiffness;
  GradientSlot damping;
  GradientSlot rest;
};

// Accumulates the adjoint of one step into `grads`, given the adjoint g_out = [g_x1, g_v1].
// `scratch` holds 2 N D doubles (3 N D when the mass needs a gradient).
template <std::size_t D>
void spring_step_backward(const SpringSystem& system, const SpringInputs& in, double dt,
                          const double* g_out, const SpringGradients& grads, double* scratch) {
  const std::size_t n = system.num_particles;
  const std::size_t nd = n * D;
  const double* x = in.x;
  const double* v = in.x + nd;
  const double* g_x1 = g_out;
  const double* g_v1 = g_out + nd;
  double* g_x = grads.state.values;
  double* g_v = g_x ? g_x + nd : nullptr;

  // x1 = x + dt v1 and v1 = v + dt (F / m + g): the total adjoint reaching v1 is
  // g_v1 + dt g_x1, and d loss / d F = dt (g_v1 + dt g_x1) / m.
  double* g_force = scratch;
  for (std::size_t i = 0; i < n; ++i) {
    const double dt_over_m = dt / in.mass[i];
    for (std::size_t k = 0; k < D; ++k) {
      const std::size_t j = i * D + k;
      const double g_v1_total = g_v1[j] + dt * g_x1[j];
      g_force[j] = dt_over_m * g_v1_total;
      if (g_x) {
        grads.state.put(j, g_x1[j]);
        grads.state.put(nd + j, g_v1_total);
      }
    }
  }

  // The forces themselves, only for d (F / m) / d m = -F / m^2.
  double* force = grads.mass ? scratch + nd : nullptr;
  if (force) {
    for (std::size_t i = 0; i < nd; ++i) force[i] = 0.0;
    add_spring_forces<D>(system, in, force);
  }

  // Ground: F_up += k pen - c v_up [pen > 0], pen = height - x_up.
  const GroundContact& ground = system.ground;
  for (std::size_t i = 0; ground.enabled && i < n; ++i) {
    const std::size_t j = i * D + ground.up_axis;
    if (ground.height - x[j] <= 0.0) continue;
    if (g_x) {
      g_x[j] -= g_force[j] * ground.stiffness;
      g_v[j] -= g_force[j] * ground.damping;
    }
    if (force) force[j] += ground_force(ground, x[j], v[j]);
  }

  for (std::size_t e = 0; e < system.num_springs; ++e) {
    const auto ia = static_cast<std::size_t>(system.first[e]) * D;
    const auto ib = static_cast<std::size_t>(system.second[e]) * D;
    const double stiffness = in.stiffness[e];
    const double damping = in.damping[e];
    const SpringGeometry<D> s(x, v, ia, ib, stiffness, damping, in.rest[e]);
    // f = magnitude u with F_a += f, F_b -= f: d loss / d f = g_F_a - g_F_b.
    double g_f[D];
    double g_magnitude = 0.0;
    for (std::size_t k = 0; k < D; ++k) {
      g_f[k] = g_force[ia + k] - g_force[ib + k];
      g_magnitude += g_f[k] * s.unit[k];
    }
    // magnitude = k (l - L) + c (closing . u)
    // In input order, so that when two of these are one tensor the fresh one is written first.
    if (grads.stiffness) grads.stiffness.put(e, g_magnitude * (s.length - in.rest[e]));
    if (grads.damping) grads.damping.put(e, g_magnitude * s.closing_speed);
    if (grads.rest) grads.rest.put(e, -g_magnitude * stiffness);
    if (!g_x) continue;
    // d loss / d u = magnitude g_f + (g_magnitude c) closing; u = d / l projects it onto the
    // plane normal to u and divides by l; l = |d| adds (g_magnitude k) u.
    double g_unit[D];
    double along = 0.0;
    for (std::size_t k = 0; k < D; ++k) {
      g_unit[k] = s.magnitude * g_f[k] + g_magnitude * damping * s.closing[k];
      along += g_unit[k] * s.unit[k];
    }
    const double inverse_length = 1.0 / s.length;
    for (std::size_t k = 0; k < D; ++k) {
      const double g_d =
          (g_unit[k] - along * s.unit[k]) * inverse_length + g_magnitude * stiffness * s.unit[k];
      g_x[ib + k] += g_d;
      g_x[ia + k] -= g_d;
      const double g_closing = g_magnitude * damping * s.unit[k];
      g_v[ib + k] += g_closing;
      g_v[ia + k] -= g_closing;
    }
  }

  // d (F / m) / d m = -F / m^2 = -(g_F . F) / m with g_F = dt g_v1_total / m.
  for (std::size_t i = 0; force && i < n; ++i) {
    double total = 0.0;
    for (std::size_t k = 0; k < D; ++k) total += g_force[i * D + k] * force[i * D + k];
    grads.mass[i] -= total / in.mass[i];
  }
}

}  // namespace maya::detail
