// The fused mass-spring step and its adjoint as loops over plain arrays, compiled once per
// dimension: with D known, a spring's vectors live in registers and its loops unroll (the step and
// its adjoint run about 1.7x faster than with D a runtime value). Springs go four at a time
// through vector lanes (SpringLanes); the callers compile the kernels for several instruction
// sets (MAYA_KERNEL_CLONES), so everything here is inlined into them.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../core/simd.hpp"
#include "maya/dynamics/mass_spring.hpp"

// GCC 12 reports arrays of vectors filled element by element in a loop (V4 x[D]) as maybe
// uninitialized when D = 3; every element is written before it is read.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

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
  double inverse_length;
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
    inverse_length = 1.0 / length;
    closing_speed = 0.0;
    for (std::size_t k = 0; k < D; ++k) {
      unit[k] *= inverse_length;
      closing[k] = v[ib + k] - v[ia + k];
      closing_speed += closing[k] * unit[k];
    }
    magnitude = stiffness * (length - rest) + damping * closing_speed;
  }
};

// SpringGeometry of springs e .. e + 3, one per vector lane: the endpoints are gathered into
// lanes, and the square roots and divisions of four springs run as one instruction each.
template <std::size_t D>
struct SpringLanes {
  std::size_t ia[4];
  std::size_t ib[4];
  V4 length;
  V4 inverse_length;
  V4 unit[D];
  V4 closing[D];
  V4 closing_speed;
  V4 magnitude;

  // out[k] = p[b + k] - p[a + k] for the four springs' ends a, b and k < D. In 2-D each end is
  // one 16-byte load, and the four differences are transposed into an x and a y vector.
  MAYA_INLINE void gather_differences(const double* p, V4 (&out)[D]) const {
    if constexpr (D == 2) {
      const V2 d0 = load2(p + ib[0]) - load2(p + ia[0]);
      const V2 d1 = load2(p + ib[1]) - load2(p + ia[1]);
      const V2 d2 = load2(p + ib[2]) - load2(p + ia[2]);
      const V2 d3 = load2(p + ib[3]) - load2(p + ia[3]);
      const V4 even{d0[0], d0[1], d2[0], d2[1]};
      const V4 odd{d1[0], d1[1], d3[0], d3[1]};
      out[0] = __builtin_shufflevector(even, odd, 0, 4, 2, 6);
      out[1] = __builtin_shufflevector(even, odd, 1, 5, 3, 7);
    } else {
      for (std::size_t k = 0; k < D; ++k) {
        out[k] = V4{p[ib[0] + k] - p[ia[0] + k], p[ib[1] + k] - p[ia[1] + k],
                    p[ib[2] + k] - p[ia[2] + k], p[ib[3] + k] - p[ia[3] + k]};
      }
    }
  }

  // p[b + k] += value[k] and p[a + k] -= value[k] for the four springs, in spring order.
  MAYA_INLINE void scatter_differences(double* p, const V4 (&value)[D]) const {
    if constexpr (D == 2) {
      const V4 even = __builtin_shufflevector(value[0], value[1], 0, 4, 2, 6);
      const V4 odd = __builtin_shufflevector(value[0], value[1], 1, 5, 3, 7);
      const V2 lanes[4] = {V2{even[0], even[1]}, V2{odd[0], odd[1]}, V2{even[2], even[3]},
                           V2{odd[2], odd[3]}};
      for (std::size_t t = 0; t < 4; ++t) {
        store2(p + ib[t], load2(p + ib[t]) + lanes[t]);
        store2(p + ia[t], load2(p + ia[t]) - lanes[t]);
      }
    } else {
      for (std::size_t t = 0; t < 4; ++t) {
        for (std::size_t k = 0; k < D; ++k) {
          p[ib[t] + k] += value[k][t];
          p[ia[t] + k] -= value[k][t];
        }
      }
    }
  }

  MAYA_INLINE SpringLanes(const SpringSystem& system, const SpringInputs& in, const double* x,
                          const double* v, std::size_t e) {
    for (std::size_t t = 0; t < 4; ++t) {
      ia[t] = static_cast<std::size_t>(system.first[e + t]) * D;
      ib[t] = static_cast<std::size_t>(system.second[e + t]) * D;
    }
    gather_differences(x, unit);
    gather_differences(v, closing);
    V4 squared{};
    for (std::size_t k = 0; k < D; ++k) squared += unit[k] * unit[k];
    length = V4{std::sqrt(squared[0]), std::sqrt(squared[1]), std::sqrt(squared[2]),
                std::sqrt(squared[3])};
    inverse_length = 1.0 / length;
    closing_speed = V4{};
    for (std::size_t k = 0; k < D; ++k) {
      unit[k] *= inverse_length;
      closing_speed += closing[k] * unit[k];
    }
    magnitude = load4(in.stiffness + e) * (length - load4(in.rest + e)) +
                load4(in.damping + e) * closing_speed;
  }
};

// Adds every spring's force to `force` [N, D] (zeroed by the caller), in spring order.
template <std::size_t D>
MAYA_INLINE void add_spring_forces(const SpringSystem& system, const SpringInputs& in,
                                   double* force) {
  const double* x = in.x;
  const double* v = in.x + system.num_particles * D;
  std::size_t e = 0;
  for (; e + 4 <= system.num_springs; e += 4) {
    const SpringLanes<D> s(system, in, x, v, e);
    V4 pull[D];  // -f: force_a += f, force_b -= f
    for (std::size_t k = 0; k < D; ++k) pull[k] = -(s.magnitude * s.unit[k]);
    s.scatter_differences(force, pull);
  }
  for (; e < system.num_springs; ++e) {
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
MAYA_INLINE void spring_step_forward(const SpringSystem& system, const SpringInputs& in, double dt,
                                     double* out) {
  const std::size_t nd = system.num_particles * D;
  double* x1 = out;
  double* force = out + nd;  // the new velocities are computed in place of F
  for (std::size_t i = 0; i < nd; ++i) force[i] = 0.0;
  add_spring_forces<D>(system, in, force);
  const double* x = in.x;
  const double* v = in.x + nd;
  const GroundContact& ground = system.ground;
  for (std::size_t i = 0; ground.enabled && i < system.num_particles; ++i) {
    const std::size_t up = i * D + ground.up_axis;
    force[up] += ground_force(ground, x[up], v[up]);
  }
  std::size_t i = 0;
  if constexpr (D == 2) {  // two particles per vector, one division for both masses
    const V4 dt_gravity =
        dt * V4{system.gravity[0], system.gravity[1], system.gravity[0], system.gravity[1]};
    for (; i + 2 <= system.num_particles; i += 2) {
      const V4 dt_over_m = dt / V4{in.mass[i], in.mass[i], in.mass[i + 1], in.mass[i + 1]};
      const V4 v1 = load4(v + i * D) + dt_over_m * load4(force + i * D) + dt_gravity;
      store4(force + i * D, v1);
      store4(x1 + i * D, load4(x + i * D) + dt * v1);
    }
  }
  for (; i < system.num_particles; ++i) {
    double* fi = force + i * D;
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
  // Elements i .. i + 3.
  MAYA_INLINE void put4(std::size_t i, const V4& value) const noexcept {
    store4(values + i, fresh ? value : load4(values + i) + value);
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
MAYA_INLINE void spring_step_backward(const SpringSystem& system, const SpringInputs& in, double dt,
                                      const double* g_out, const SpringGradients& grads,
                                      double* scratch) {
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
  std::size_t first_scalar = 0;
  if constexpr (D == 2) {  // two particles per vector, as in the forward step
    for (; first_scalar + 2 <= n; first_scalar += 2) {
      const std::size_t j = first_scalar * D;
      const V4 dt_over_m = dt / V4{in.mass[first_scalar], in.mass[first_scalar],
                                   in.mass[first_scalar + 1], in.mass[first_scalar + 1]};
      const V4 g_x1_j = load4(g_x1 + j);
      const V4 g_v1_total = load4(g_v1 + j) + dt * g_x1_j;
      store4(g_force + j, dt_over_m * g_v1_total);
      if (g_x) {
        grads.state.put4(j, g_x1_j);
        grads.state.put4(nd + j, g_v1_total);
      }
    }
  }
  for (std::size_t i = first_scalar; i < n; ++i) {
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

  // The same adjoint four springs at a time (the scalar loop below documents each line).
  std::size_t e = 0;
  for (; e + 4 <= system.num_springs; e += 4) {
    const SpringLanes<D> s(system, in, x, v, e);
    V4 g_f[D];
    s.gather_differences(g_force, g_f);
    V4 g_magnitude{};
    for (std::size_t k = 0; k < D; ++k) {
      g_f[k] = -g_f[k];  // g_F_a - g_F_b
      g_magnitude += g_f[k] * s.unit[k];
    }
    const V4 stiffness = load4(in.stiffness + e);
    const V4 damping = load4(in.damping + e);
    if (grads.stiffness) grads.stiffness.put4(e, g_magnitude * (s.length - load4(in.rest + e)));
    if (grads.damping) grads.damping.put4(e, g_magnitude * s.closing_speed);
    if (grads.rest) grads.rest.put4(e, -g_magnitude * stiffness);
    if (!g_x) continue;
    V4 g_unit[D];
    V4 along{};
    for (std::size_t k = 0; k < D; ++k) {
      g_unit[k] = s.magnitude * g_f[k] + g_magnitude * damping * s.closing[k];
      along += g_unit[k] * s.unit[k];
    }
    V4 g_d[D];
    V4 g_closing[D];
    for (std::size_t k = 0; k < D; ++k) {
      g_d[k] =
          (g_unit[k] - along * s.unit[k]) * s.inverse_length + g_magnitude * stiffness * s.unit[k];
      g_closing[k] = g_magnitude * damping * s.unit[k];
    }
    s.scatter_differences(g_x, g_d);
    s.scatter_differences(g_v, g_closing);
  }
  for (; e < system.num_springs; ++e) {
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
    for (std::size_t k = 0; k < D; ++k) {
      const double g_d =
          (g_unit[k] - along * s.unit[k]) * s.inverse_length + g_magnitude * stiffness * s.unit[k];
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

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
