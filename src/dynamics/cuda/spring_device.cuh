// What the mass-spring rollout kernels share: the topology and each world's arrays on the
// device, who synchronizes a step (a block or the cooperative grid), one spring's geometry, and
// the gathering of a particle's springs. Private to spring_rollout.cu.
#pragma once

#include <cooperative_groups.h>

#include <cstddef>

namespace maya::dynamics::detail {

namespace cg = cooperative_groups;

// The topology on the device.
struct DeviceSystem {
  int num_particles;
  int num_springs;
  const int* first;                 // [S]
  const int* second;                // [S]
  const unsigned* incidence_begin;  // [N + 1]
  const unsigned* incidence;        // [2 S]: (e << 1) | [particle is spring e's first end]
  double gravity[3];
  bool ground_enabled;
  double ground_height;
  double ground_stiffness;
  double ground_damping;
  int up_axis;
  double ground_friction;  // mu; 0: none
  double ground_slip_velocity;
};

// One world's parameters and gradients (device pointers into the [E, ...] arrays).
struct WorldParameters {
  const double* mass;
  const double* stiffness;
  const double* damping;
  const double* rest;
};
struct WorldGradients {
  double* mass;  // accumulated over steps; zeroed before the launch
  double* stiffness;
  double* damping;
  double* rest;
};

// Who shares a step: one block (one world), or the whole cooperative grid.
struct BlockScope {
  __device__ static int rank() { return static_cast<int>(threadIdx.x); }
  __device__ static int size() { return static_cast<int>(blockDim.x); }
  __device__ static void sync() { __syncthreads(); }
};
struct GridScope {
  __device__ static int rank() { return static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x); }
  __device__ static int size() { return static_cast<int>(gridDim.x * blockDim.x); }
  __device__ static void sync() { cg::this_grid().sync(); }
};

// Spring e's length, direction, closing velocity and force magnitude, from positions x and
// velocities v [N, D] (SpringGeometry of mass_spring_kernels.hpp).
template <int D>
struct Geometry {
  int a;
  int b;
  double length;
  double inverse_length;
  double unit[D];
  double closing[D];
  double closing_speed;
  double magnitude;

  __device__ Geometry(const DeviceSystem& system, const WorldParameters& p, const double* x,
                      const double* v, int e)
      : Geometry(system.first[e] * D, system.second[e] * D, p.stiffness[e], p.damping[e], p.rest[e],
                 x, v) {}

  // From the two ends' positions and velocities (each [D]), already gathered.
  __device__ __forceinline__ Geometry(const double* x_a, const double* v_a, const double* x_b,
                                      const double* v_b, double stiffness, double damping,
                                      double rest) {
    a = 0;
    b = 0;
    double squared = 0.0;
    for (int k = 0; k < D; ++k) {
      unit[k] = x_b[k] - x_a[k];
      squared += unit[k] * unit[k];
    }
    length = sqrt(squared);
    inverse_length = 1.0 / length;
    closing_speed = 0.0;
    for (int k = 0; k < D; ++k) {
      unit[k] *= inverse_length;
      closing[k] = v_b[k] - v_a[k];
      closing_speed += closing[k] * unit[k];
    }
    magnitude = stiffness * (length - rest) + damping * closing_speed;
  }

  // From the spring's constants themselves: a and b are its ends' offsets (index times D).
  __device__ __forceinline__ Geometry(int first_offset, int second_offset, double stiffness,
                                      double damping, double rest, const double* x,
                                      const double* v) {
    a = first_offset;
    b = second_offset;
    double squared = 0.0;
    for (int k = 0; k < D; ++k) {
      unit[k] = x[b + k] - x[a + k];
      squared += unit[k] * unit[k];
    }
    length = sqrt(squared);
    inverse_length = 1.0 / length;
    closing_speed = 0.0;
    for (int k = 0; k < D; ++k) {
      unit[k] *= inverse_length;
      closing[k] = v[b + k] - v[a + k];
      closing_speed += closing[k] * unit[k];
    }
    magnitude = stiffness * (length - rest) + damping * closing_speed;
  }
};

__device__ inline double ground_force(const DeviceSystem& s, double x_up, double v_up) {
  const double penetration = s.ground_height - x_up;
  return penetration > 0.0 ? s.ground_stiffness * penetration - s.ground_damping * v_up : 0.0;
}

// Smoothed Coulomb friction of a particle pressed on the ground by f_n = normal > 0, moving at
// (v0, v1, v2) (components past the dimension 0): f_t = -mu f_n v_t / sqrt(|v_t|^2 + eps^2),
// v_t the velocity without its up component (ground_friction of mass_spring_kernels.hpp, in the
// same order). Called only by the kernels compiled with friction.
struct GroundFriction {
  double force[3];  // 0 along the up axis
};
__device__ __noinline__ GroundFriction ground_friction(double mu, double eps, int up, double normal,
                                                       double v0, double v1, double v2) {
  const double v[3] = {v0, v1, v2};
  double slip_squared = eps * eps;
  for (int c = 0; c < 3; ++c) slip_squared += c == up ? 0.0 : v[c] * v[c];
  const double scale = -mu * normal / sqrt(slip_squared);
  GroundFriction out;
  for (int c = 0; c < 3; ++c) out.force[c] = c == up ? 0.0 : scale * v[c];
  return out;
}

// Its adjoint, given g_f = d loss / d F (g0, g1, g2): with s = sqrt(|v_t|^2 + eps^2),
//   d loss / d f_n = -mu (g_f . v_t) / s,  d loss / d v_t = -mu f_n (g_f - v_t (g_f . v_t) / s^2) / s
// (ground_friction_adjoint of mass_spring_kernels.hpp).
struct GroundFrictionAdjoint {
  double g_normal;
  double g_v[3];  // 0 along the up axis
};
__device__ __noinline__ GroundFrictionAdjoint ground_friction_adjoint(double mu, double eps, int up,
                                                                      double normal, double v0,
                                                                      double v1, double v2,
                                                                      double g0, double g1,
                                                                      double g2) {
  const double v[3] = {v0, v1, v2};
  const double g[3] = {g0, g1, g2};
  double slip_squared = eps * eps;
  double g_dot_v = 0.0;
  for (int c = 0; c < 3; ++c) {
    slip_squared += c == up ? 0.0 : v[c] * v[c];
    g_dot_v += c == up ? 0.0 : g[c] * v[c];
  }
  const double slip = sqrt(slip_squared);
  const double scale = -mu * normal / slip;
  GroundFrictionAdjoint out;
  for (int c = 0; c < 3; ++c) {
    out.g_v[c] = c == up ? 0.0 : scale * (g[c] - v[c] * g_dot_v / slip_squared);
  }
  out.g_normal = -mu * g_dot_v / slip;
  return out;
}

// The kernels are compiled with and without friction (template argument Friction): without it
// they are the frictionless kernels exactly, registers and all. With it, the normal force's
// sites add the two functions below.

// Friction's force on a particle pressed on the ground by `normal` (f_n), moving at v [D],
// added to `force` [D]: nothing unless f_n > 0.
template <int D>
__device__ __forceinline__ void add_ground_friction(const DeviceSystem& s, double normal,
                                                    const double* v, double (&force)[D]) {
  if (!(normal > 0.0)) return;
  const GroundFriction f =
      ground_friction(s.ground_friction, s.ground_slip_velocity, s.up_axis, normal, v[0],
                      D > 1 ? v[D > 1 ? 1 : 0] : 0.0, D > 2 ? v[D > 2 ? 2 : 0] : 0.0);
  for (int c = 0; c < D; ++c) force[c] += f.force[c];
}

// Friction's share of the adjoint of a particle in contact (pen > 0) at (x_up, v_up), velocity v
// [D], given g_f = d loss / d F [D]: added to g_v [D] along the other axes; returns what it adds
// to d loss / d f_n (0 unless f_n > 0).
template <int D>
__device__ __forceinline__ double add_ground_friction_adjoint(const DeviceSystem& s, double x_up,
                                                              double v_up, const double* v,
                                                              const double* g_f, double* g_v) {
  const double normal = ground_force(s, x_up, v_up);
  if (!(normal > 0.0)) return 0.0;
  const GroundFrictionAdjoint a = ground_friction_adjoint(
      s.ground_friction, s.ground_slip_velocity, s.up_axis, normal, v[0],
      D > 1 ? v[D > 1 ? 1 : 0] : 0.0, D > 2 ? v[D > 2 ? 2 : 0] : 0.0, g_f[0],
      D > 1 ? g_f[D > 1 ? 1 : 0] : 0.0, D > 2 ? g_f[D > 2 ? 2 : 0] : 0.0);
  for (int c = 0; c < D; ++c) g_v[c] += a.g_v[c];
  return a.g_normal;
}

// visit(first_end, values + e * Width) for particle i's springs e, in spring order. The codes
// and values of a few springs are loaded together before they are summed (in the same order), so
// that their load latencies overlap instead of adding up.
template <int D, int Width, class Visit>
__device__ __forceinline__ void for_incident(const DeviceSystem& system, const double* values,
                                             int i, const Visit& visit) {
  constexpr int kChunk = Width > 3 ? 2 : 4;
  const unsigned end = system.incidence_begin[i + 1];
  for (unsigned j = system.incidence_begin[i]; j < end; j += kChunk) {
    unsigned codes[kChunk];
    for (int c = 0; c < kChunk; ++c) codes[c] = j + c < end ? system.incidence[j + c] : 0u;
    double loaded[kChunk][Width];
    for (int c = 0; c < kChunk; ++c) {
      if (j + c < end) {
        const double* source = values + static_cast<std::size_t>(codes[c] >> 1) * Width;
        for (int w = 0; w < Width; ++w) loaded[c][w] = source[w];
      }
    }
    for (int c = 0; c < kChunk; ++c) {
      if (j + c < end) visit((codes[c] & 1u) != 0, loaded[c]);
    }
  }
}

// Arrays of all worlds, world-major, on the device.
struct WorldArrays {
  const double* mass;       // [E, N]
  const double* stiffness;  // [E, S]
  const double* damping;
  const double* rest;
  double* g_mass;
  double* g_stiffness;
  double* g_damping;
  double* g_rest;
};

__device__ inline WorldParameters parameters_of(const WorldArrays& w, const DeviceSystem& s,
                                                std::size_t world) {
  const std::size_t n = s.num_particles;
  const std::size_t e = s.num_springs;
  return {w.mass + world * n, w.stiffness + world * e, w.damping + world * e, w.rest + world * e};
}
__device__ inline WorldGradients gradients_of(const WorldArrays& w, const DeviceSystem& s,
                                              std::size_t world) {
  const std::size_t n = s.num_particles;
  const std::size_t e = s.num_springs;
  return {w.g_mass + world * n, w.g_stiffness + world * e, w.g_damping + world * e,
          w.g_rest + world * e};
}

}  // namespace maya::dynamics::detail
