// The fused mass-spring step and its adjoint as loops over plain arrays, compiled once per
// dimension: with D known, a spring's vectors live in registers and its loops unroll (the step and
// its adjoint run about 1.7x faster than with D a runtime value). Each kernel takes a range of
// springs or particles, so that the callers can split a step across threads: springs go four at
// a time through vector lanes (SpringLanes) and store their values, then each particle sums its
// own springs' values (sum_incident). The callers compile the kernels for several instruction
// sets (core::simd::run_kernel), so everything here is inlined into them.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "core/simd.hpp"
#include "maya/dynamics/mass_spring.hpp"

// GCC 12 reports arrays of vectors filled element by element in a loop (V4 x[D]) as maybe
// uninitialized when D = 3; every element is written before it is read.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace maya::dynamics::detail {

using namespace core::simd;  // the kernels' vector vocabulary (V4, load4, ...)

// The model's constants, flattened for the kernels.
struct SpringSystem {
  std::size_t num_particles;
  std::size_t num_springs;
  const std::int64_t* first;
  const std::int64_t* second;
  const double* gravity;
  GroundContact ground;
  // Particle i's springs are incidence[incidence_offsets[i] .. incidence_offsets[i + 1]], in
  // spring order, each as (e << 1) | [i is the first end of spring e].
  const std::uint32_t* incidence_offsets;
  const std::uint32_t* incidence;
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

  // The 2-D vectors of the four springs, one (x, y) pair each, from the x and y lanes.
  MAYA_INLINE static void transpose_to_pairs(const V4 (&value)[D], V2 (&pairs)[4]) {
    static_assert(D == 2);
    const V4 even = __builtin_shufflevector(value[0], value[1], 0, 4, 2, 6);
    const V4 odd = __builtin_shufflevector(value[0], value[1], 1, 5, 3, 7);
    pairs[0] = V2{even[0], even[1]};
    pairs[1] = V2{odd[0], odd[1]};
    pairs[2] = V2{even[2], even[3]};
    pairs[3] = V2{odd[2], odd[3]};
  }

  // p[b + k] += value[k] and p[a + k] -= value[k] for the four springs, in spring order.
  MAYA_INLINE void scatter_differences(double* p, const V4 (&value)[D]) const {
    if constexpr (D == 2) {
      V2 lanes[4];
      transpose_to_pairs(value, lanes);
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

  // values[t * stride + k] = value[k][t] and values[t * stride + negated + k] = -value[k][t]
  // for the four springs t and k < D: each spring's vector and its negation, side by side, for
  // sum_incident. In 2-D the lanes are transposed back into one pair per spring.
  MAYA_INLINE static void store_lanes(double* values, std::size_t stride, std::size_t negated,
                                      const V4 (&value)[D]) {
    if constexpr (D == 2) {
      V2 pairs[4];
      transpose_to_pairs(value, pairs);
      for (std::size_t t = 0; t < 4; ++t) {
        store2(values + t * stride, pairs[t]);
        store2(values + t * stride + negated, -pairs[t]);
      }
    } else {
      for (std::size_t t = 0; t < 4; ++t) {
        for (std::size_t k = 0; k < D; ++k) {
          values[t * stride + k] = value[k][t];
          values[t * stride + negated + k] = -value[k][t];
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

// Per spring, Parts vectors of D values (kWidth = Parts D) and their negations:
// values[(2 e + s) kWidth + p D + k], s = 0 for the spring's second end (+), 1 for its first
// (-). A particle's incidence codes (2 e + [first end]) index it directly.
//
// out_p[i * D + k] (+)= the sum over particle i's springs, in spring order, of their values for
// i's end. These are the additions, in the order, of scattering each spring's vector to its two
// ends (x + (-y) is x - y exactly), but one particle's sum is one thread's and stays in
// registers: a scatter chains a read-modify-write through memory from one spring to the next,
// and cannot be split across threads.
template <std::size_t D, std::size_t Parts>
MAYA_INLINE void sum_incident(const SpringSystem& system, const double* values,
                              double* const (&out)[Parts], bool from_zero, std::size_t i) {
  constexpr std::size_t kWidth = Parts * D;
  const std::uint32_t begin = system.incidence_offsets[i];
  const std::uint32_t end = system.incidence_offsets[i + 1];
  if constexpr (D == 2) {
    V2 sum[Parts];
    for (std::size_t p = 0; p < Parts; ++p) sum[p] = from_zero ? V2{} : load2(out[p] + i * D);
    for (std::uint32_t j = begin; j < end; ++j) {
      const double* value = values + static_cast<std::size_t>(system.incidence[j]) * kWidth;
      for (std::size_t p = 0; p < Parts; ++p) sum[p] += load2(value + p * D);
    }
    for (std::size_t p = 0; p < Parts; ++p) store2(out[p] + i * D, sum[p]);
  } else {
    double sum[kWidth];
    for (std::size_t p = 0; p < Parts; ++p) {
      for (std::size_t k = 0; k < D; ++k) sum[p * D + k] = from_zero ? 0.0 : out[p][i * D + k];
    }
    for (std::uint32_t j = begin; j < end; ++j) {
      const double* value = values + static_cast<std::size_t>(system.incidence[j]) * kWidth;
      for (std::size_t w = 0; w < kWidth; ++w) sum[w] += value[w];
    }
    for (std::size_t p = 0; p < Parts; ++p) {
      for (std::size_t k = 0; k < D; ++k) out[p][i * D + k] = sum[p * D + k];
    }
  }
}

// Springs [begin, end) (begin a multiple of 4): pull = -f for each, so that force_b += pull
// and force_a -= pull. With Scatter, added so to `target` = force [N, D] (zeroed by the caller)
// spring by spring, the fastest order on one thread; otherwise stored with their negations in
// `target` (2 E D doubles), the layout of sum_incident with one part, for the particles' sums.
template <std::size_t D, bool Scatter>
MAYA_INLINE void spring_pulls(const SpringSystem& system, const SpringInputs& in, double* target,
                              std::size_t begin, std::size_t end) {
  const double* x = in.x;
  const double* v = in.x + system.num_particles * D;
  std::size_t e = begin;
  for (; e + 4 <= end; e += 4) {
    const SpringLanes<D> s(system, in, x, v, e);
    V4 pull[D];
    for (std::size_t k = 0; k < D; ++k) pull[k] = -(s.magnitude * s.unit[k]);
    if constexpr (Scatter) {
      s.scatter_differences(target, pull);
    } else {
      SpringLanes<D>::store_lanes(target + e * 2 * D, 2 * D, D, pull);
    }
  }
  for (; e < end; ++e) {
    const auto ia = static_cast<std::size_t>(system.first[e]) * D;
    const auto ib = static_cast<std::size_t>(system.second[e]) * D;
    const SpringGeometry<D> s(x, v, ia, ib, in.stiffness[e], in.damping[e], in.rest[e]);
    for (std::size_t k = 0; k < D; ++k) {
      const double pull = -(s.magnitude * s.unit[k]);
      if constexpr (Scatter) {
        target[ib + k] += pull;
        target[ia + k] -= pull;
      } else {
        target[e * 2 * D + k] = pull;
        target[e * 2 * D + D + k] = -pull;
      }
    }
  }
}

// The ground's penalty force on particle i along the up axis (0 when it is above the ground).
inline double ground_force(const GroundContact& ground, double x_up, double v_up) {
  const double penetration = ground.height - x_up;
  return penetration > 0.0 ? ground.stiffness * penetration - ground.damping * v_up : 0.0;
}

// Smoothed Coulomb friction of a particle pressed on the ground by normal force f_n > 0, added
// to its force f [D]: f_t = -mu f_n v_t / sqrt(|v_t|^2 + eps^2), v_t the velocity v [D] without
// its up component.
template <std::size_t D>
MAYA_INLINE void ground_friction(const GroundContact& ground, double normal, const double* v,
                                 double* force) {
  double slip_squared = ground.slip_velocity * ground.slip_velocity;
  for (std::size_t k = 0; k < D; ++k) {
    if (k != ground.up_axis) slip_squared += v[k] * v[k];
  }
  const double scale = -ground.friction * normal / std::sqrt(slip_squared);
  for (std::size_t k = 0; k < D; ++k) {
    if (k != ground.up_axis) force[k] += scale * v[k];
  }
}

// The adjoint of ground_friction: given g_f = d loss / d f [D], adds d loss / d v_t to g_v [D]
// and returns d loss / d f_n. With s = sqrt(|v_t|^2 + eps^2) and f_t = -mu f_n v_t / s:
//   d f_t / d f_n = -mu v_t / s,  d (v_t / s) / d v_t = (I - v_t v_t^T / s^2) / s.
template <std::size_t D>
MAYA_INLINE double ground_friction_adjoint(const GroundContact& ground, double normal,
                                           const double* v, const double* g_f, double* g_v) {
  double slip_squared = ground.slip_velocity * ground.slip_velocity;
  double g_dot_v = 0.0;
  for (std::size_t k = 0; k < D; ++k) {
    if (k == ground.up_axis) continue;
    slip_squared += v[k] * v[k];
    g_dot_v += g_f[k] * v[k];
  }
  const double slip = std::sqrt(slip_squared);
  const double scale = -ground.friction * normal / slip;
  for (std::size_t k = 0; g_v && k < D; ++k) {
    if (k != ground.up_axis) g_v[k] += scale * (g_f[k] - v[k] * g_dot_v / slip_squared);
  }
  return -ground.friction * g_dot_v / slip;
}

// force[i] for particles [begin, end): the springs' pulls summed (already scattered into force
// with Scatter), then the ground.
template <std::size_t D, bool Scatter>
MAYA_INLINE void particle_forces(const SpringSystem& system, const SpringInputs& in,
                                 const double* pulls, double* force, std::size_t begin,
                                 std::size_t end) {
  if constexpr (!Scatter) {
    double* const out[1] = {force};
    for (std::size_t i = begin; i < end; ++i) sum_incident<D, 1>(system, pulls, out, true, i);
  }
  const double* x = in.x;
  const double* v = in.x + system.num_particles * D;
  const GroundContact& ground = system.ground;
  for (std::size_t i = begin; ground.enabled && i < end; ++i) {
    const std::size_t up = i * D + ground.up_axis;
    const double normal = ground_force(ground, x[up], v[up]);
    force[up] += normal;
    if (ground.friction > 0.0 && normal > 0.0)
      ground_friction<D>(ground, normal, v + i * D, force + i * D);
  }
}

// The step's second half for particles [begin, end) (begin even), after spring_pulls over all
// springs (with Scatter, into out's velocity half): out = [x1, v1] with v1 = v + dt (F / m + g),
// x1 = x + dt v1.
template <std::size_t D, bool Scatter>
MAYA_INLINE void spring_step_particles(const SpringSystem& system, const SpringInputs& in,
                                       double dt, const double* pulls, double* out,
                                       std::size_t begin, std::size_t end) {
  const std::size_t nd = system.num_particles * D;
  double* x1 = out;
  double* force = out + nd;  // the new velocities are computed in place of F
  particle_forces<D, Scatter>(system, in, pulls, force, begin, end);
  const double* x = in.x;
  const double* v = in.x + nd;
  std::size_t i = begin;
  if constexpr (D == 2) {  // two particles per vector, one division for both masses
    const V4 dt_gravity =
        dt * V4{system.gravity[0], system.gravity[1], system.gravity[0], system.gravity[1]};
    for (; i + 2 <= end; i += 2) {
      const V4 dt_over_m = dt / V4{in.mass[i], in.mass[i], in.mass[i + 1], in.mass[i + 1]};
      const V4 v1 = load4(v + i * D) + dt_over_m * load4(force + i * D) + dt_gravity;
      store4(force + i * D, v1);
      store4(x1 + i * D, load4(x + i * D) + dt * v1);
    }
  }
  for (; i < end; ++i) {
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
  double* mass;        // each entry is added to once per step
  GradientSlot stiffness;
  GradientSlot damping;
  GradientSlot rest;
};

// The adjoint's working memory.
struct AdjointScratch {
  double* g_force;     // [N, D]: d loss / d F
  double* force;       // [N, D]: F itself, only for the mass gradient (else null)
  double* per_spring;  // [2 E, 2 D], only when split: the pulls, later the springs' adjoints
};

// The adjoint of one step, g_out = [g_x1, g_v1], runs in three passes, each split by range
// across threads: particles (this one), springs, particles again. Before it, when the mass
// needs a gradient, spring_pulls over all springs into scratch.per_spring.
//
// Particles [begin, end) (begin even): x1 = x + dt v1 and v1 = v + dt (F / m + g), so the total
// adjoint reaching v1 is g_v1 + dt g_x1, and d loss / d F = dt (g_v1 + dt g_x1) / m. Then the
// ground: F_up += f_n = k pen - c v_up [pen > 0], pen = height - x_up, and its friction.
template <std::size_t D, bool Scatter>
MAYA_INLINE void adjoint_particles_first(const SpringSystem& system, const SpringInputs& in,
                                         double dt, const double* g_out,
                                         const SpringGradients& grads,
                                         const AdjointScratch& scratch, std::size_t begin,
                                         std::size_t end) {
  const std::size_t nd = system.num_particles * D;
  const double* x = in.x;
  const double* g_x1 = g_out;
  const double* g_v1 = g_out + nd;
  double* g_x = grads.state.values;
  double* g_v = g_x ? g_x + nd : nullptr;
  double* g_force = scratch.g_force;
  std::size_t first_scalar = begin;
  if constexpr (D == 2) {  // two particles per vector, as in the forward step
    for (; first_scalar + 2 <= end; first_scalar += 2) {
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
  for (std::size_t i = first_scalar; i < end; ++i) {
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
  if (scratch.force) {
    particle_forces<D, Scatter>(system, in, scratch.per_spring, scratch.force, begin, end);
  }
  // Friction (when on and f_n > 0) adds its share to d loss / d f_n and to g_v's other axes.
  const GroundContact& ground = system.ground;
  const double* v = x + nd;
  for (std::size_t i = begin; ground.enabled && g_x && i < end; ++i) {
    const std::size_t j = i * D + ground.up_axis;
    if (ground.height - x[j] <= 0.0) continue;
    double g_normal = g_force[j];
    if (ground.friction > 0.0) {
      const double normal = ground_force(ground, x[j], v[j]);
      if (normal > 0.0) {
        g_normal +=
            ground_friction_adjoint<D>(ground, normal, v + i * D, g_force + i * D, g_v + i * D);
      }
    }
    g_x[j] -= g_normal * ground.stiffness;
    g_v[j] -= g_normal * ground.damping;
  }
}

// Springs [begin, end) (begin a multiple of 4): the parameters' gradients, and each spring's
// adjoints reaching d = x_b - x_a and v_b - v_a: with Scatter added to its ends' g_x and g_v,
// otherwise stored for adjoint_particles_last.
template <std::size_t D, bool Scatter>
MAYA_INLINE void adjoint_springs(const SpringSystem& system, const SpringInputs& in,
                                 const SpringGradients& grads, const AdjointScratch& scratch,
                                 std::size_t begin, std::size_t end) {
  const std::size_t nd = system.num_particles * D;
  const double* x = in.x;
  const double* v = in.x + nd;
  const double* g_force = scratch.g_force;
  double* per_spring = scratch.per_spring;
  const bool state = static_cast<bool>(grads.state);
  double* g_x = grads.state.values;
  double* g_v = state ? g_x + nd : nullptr;
  // The same adjoint four springs at a time (the scalar loop below documents each line).
  std::size_t e = begin;
  for (; e + 4 <= end; e += 4) {
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
    if (!state) continue;
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
    if constexpr (Scatter) {
      s.scatter_differences(g_x, g_d);
      s.scatter_differences(g_v, g_closing);
    } else {
      SpringLanes<D>::store_lanes(per_spring + e * 4 * D, 4 * D, 2 * D, g_d);
      SpringLanes<D>::store_lanes(per_spring + e * 4 * D + D, 4 * D, 2 * D, g_closing);
    }
  }
  for (; e < end; ++e) {
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
    if (!state) continue;
    // d loss / d u = magnitude g_f + (g_magnitude c) closing; u = d / l projects it onto the
    // plane normal to u and divides by l; l = |d| adds (g_magnitude k) u. Then g_x_b += g_d,
    // g_x_a -= g_d, and the same for v with g_closing.
    double g_unit[D];
    double along = 0.0;
    for (std::size_t k = 0; k < D; ++k) {
      g_unit[k] = s.magnitude * g_f[k] + g_magnitude * damping * s.closing[k];
      along += g_unit[k] * s.unit[k];
    }
    for (std::size_t k = 0; k < D; ++k) {
      const double g_d =
          (g_unit[k] - along * s.unit[k]) * s.inverse_length + g_magnitude * stiffness * s.unit[k];
      const double g_closing = g_magnitude * damping * s.unit[k];
      if constexpr (Scatter) {
        g_x[ib + k] += g_d;
        g_x[ia + k] -= g_d;
        g_v[ib + k] += g_closing;
        g_v[ia + k] -= g_closing;
      } else {
        double* spring = per_spring + e * 4 * D;
        spring[k] = g_d;
        spring[D + k] = g_closing;
        spring[2 * D + k] = -g_d;
        spring[3 * D + k] = -g_closing;
      }
    }
  }
}

// Particles [begin, end): the springs' adjoints summed into g_x and g_v, and the mass gradient,
// d (F / m) / d m = -F / m^2 = -(g_F . F) / m with g_F = dt g_v1_total / m.
template <std::size_t D, bool Scatter>
MAYA_INLINE void adjoint_particles_last(const SpringSystem& system, const SpringInputs& in,
                                        const SpringGradients& grads, const AdjointScratch& scratch,
                                        std::size_t begin, std::size_t end) {
  if (!Scatter && grads.state) {
    double* g_x = grads.state.values;
    double* const out[2] = {g_x, g_x + system.num_particles * D};
    for (std::size_t i = begin; i < end; ++i) {
      sum_incident<D, 2>(system, scratch.per_spring, out, false, i);
    }
  }
  for (std::size_t i = begin; scratch.force && i < end; ++i) {
    double total = 0.0;
    for (std::size_t k = 0; k < D; ++k)
      total += scratch.g_force[i * D + k] * scratch.force[i * D + k];
    grads.mass[i] -= total / in.mass[i];
  }
}

}  // namespace maya::dynamics::detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
