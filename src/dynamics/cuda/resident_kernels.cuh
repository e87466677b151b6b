// The resident kernels: a world in one block whose threads keep everything they own in
// registers across the steps. Thread r owns springs r, r + T, ... (K of them: ends, the slots
// they fill at each end, stiffness, damping, rest length, and in the reverse pass their
// parameter gradients) and particle r (its degree, dt / m, and in the reverse pass its adjoint
// and mass gradient). What other threads read each step goes through shared memory in layouts
// without bank conflicts: the state by component ([D][N]), and each spring's share of a
// particle's sums at that particle's slot for it ([slot][value][N + pad]: the particle's
// springs in its spring order), so that a warp of particles reads consecutive words. Each
// spring writes its share with the sign of its end folded in, and the particle sums its slots
// in order: the same arithmetic in the same order as the split kernels (a - b is a + (-b)).
// Private to spring_rollout.cu.
#pragma once

#include "dynamics/cuda/spring_device.cuh"

namespace maya::dynamics::detail {

// The length of the per-slot rows: at least N, and such that one slot's values (`values` rows)
// span an odd number of half bank cycles (8 doubles modulo 16). A warp of springs writes a few
// consecutive particles' slots 0, 1, 2, ...; their rows then alternate between the two halves of
// the banks, and the writes take the fewest wavefronts.
__host__ __device__ constexpr int slot_row(int n, int values) {
  for (int row = n; row < n + 16; ++row) {
    if ((values * row) % 16 == 8) return row;
  }
  return n + 8;
}

// One owned spring: its ends, the slot it fills at each (its place in the end's spring
// order), and its parameters.
struct OwnedSpring {
  int a;
  int b;
  int slot_a;
  int slot_b;
  double stiffness;
  double damping;
  double rest;
};

// Each particle's slot for each of its springs: slot_of[2 e + (i is e's second end)] = the
// place of e in i's spring order. Particle threads fill it, then (after a barrier) the spring
// threads read their own.
__device__ __forceinline__ void fill_slots(const DeviceSystem& system, int rank, int* slot_of) {
  if (rank < system.num_particles) {
    const unsigned begin = system.incidence_begin[rank];
    const unsigned end = system.incidence_begin[rank + 1];
    for (unsigned j = begin; j < end; ++j) {
      const unsigned code = system.incidence[j];
      slot_of[2 * (code >> 1) + ((code & 1u) != 0 ? 0 : 1)] = static_cast<int>(j - begin);
    }
  }
}

template <int K>
__device__ __forceinline__ void load_owned(const DeviceSystem& system, const WorldParameters& p,
                                           const int* slot_of, int rank, int threads,
                                           OwnedSpring (&own)[K]) {
  for (int k = 0; k < K; ++k) {
    const int e = rank + k * threads;
    if (e < system.num_springs) {
      own[k] = {system.first[e], system.second[e], slot_of[2 * e], slot_of[2 * e + 1],
                p.stiffness[e],  p.damping[e],     p.rest[e]};
    } else {
      own[k] = {0, 0, 0, 0, 0.0, 0.0, 0.0};
    }
  }
}

// Shared: positions [D][N], velocities [D][N], shares [max degree][D][slot_row(N, D)] (the pulls with
// their ends' signs), then slot_of [2 S] (int). states: [E, 2, N, D] initial in, final out;
// history: [E, T + 1, 2, N, D].
template <int D, int K, int MaxThreads, bool Friction>
__global__ void __launch_bounds__(MaxThreads)
    forward_resident(DeviceSystem system, WorldArrays w, double dt, int steps, int max_degree,
                     double* states, double* history) {
  extern __shared__ double shared[];
  const std::size_t world = blockIdx.x;
  const int n = system.num_particles;
  const int s = system.num_springs;
  const int nd = n * D;
  const int row = slot_row(n, D);
  const int rank = static_cast<int>(threadIdx.x);
  const int threads = static_cast<int>(blockDim.x);
  double* xs = shared;
  double* vs = shared + nd;
  double* shares = shared + 2 * nd;
  int* slot_of = reinterpret_cast<int*>(shares + static_cast<std::size_t>(max_degree) * D * row);
  const WorldParameters p = parameters_of(w, system, world);
  double* world_state = states + world * 2 * nd;
  double* world_history = history + world * static_cast<std::size_t>(steps + 1) * 2 * nd;
  for (int j = rank; j < 2 * nd; j += threads) {
    const double value = world_state[j];
    world_history[j] = value;
    const int half = j / nd;  // 0: position, 1: velocity
    const int i = (j % nd) / D;
    const int c = j % D;
    shared[half * nd + c * n + i] = value;
  }
  fill_slots(system, rank, slot_of);
  const bool particle = rank < n;
  const int i = particle ? rank : 0;
  const int degree =
      particle ? static_cast<int>(system.incidence_begin[i + 1] - system.incidence_begin[i]) : 0;
  const double dt_over_m = particle ? dt / p.mass[i] : 0.0;
  __syncthreads();
  OwnedSpring own[K];
  load_owned<K>(system, p, slot_of, rank, threads, own);
  for (int t = 0; t < steps; ++t) {
    // Springs: pull = -f, so that F_b += pull and F_a -= pull.
    for (int k = 0; k < K; ++k) {
      if (rank + k * threads >= s) continue;
      double x_a[D];
      double v_a[D];
      double x_b[D];
      double v_b[D];
      for (int c = 0; c < D; ++c) {
        x_a[c] = xs[c * n + own[k].a];
        v_a[c] = vs[c * n + own[k].a];
        x_b[c] = xs[c * n + own[k].b];
        v_b[c] = vs[c * n + own[k].b];
      }
      const Geometry<D> g(x_a, v_a, x_b, v_b, own[k].stiffness, own[k].damping, own[k].rest);
      for (int c = 0; c < D; ++c) {
        const double pull = -(g.magnitude * g.unit[c]);
        shares[(own[k].slot_a * D + c) * row + own[k].a] = -pull;
        shares[(own[k].slot_b * D + c) * row + own[k].b] = pull;
      }
    }
    __syncthreads();
    if (particle) {
      // F = the springs' pulls in spring order, the ground; v1 = v + dt F / m + dt g,
      // x1 = x + dt v1.
      double force[D];
      for (int c = 0; c < D; ++c) force[c] = 0.0;
      for (int j = 0; j < degree; ++j) {
        for (int c = 0; c < D; ++c) force[c] += shares[(j * D + c) * row + i];
      }
      double x[D];
      double v[D];
      for (int c = 0; c < D; ++c) {
        x[c] = xs[c * n + i];
        v[c] = vs[c * n + i];
      }
      if (system.ground_enabled) {
        double x_up = 0.0;
        double v_up = 0.0;
        for (int c = 0; c < D; ++c) {
          x_up = c == system.up_axis ? x[c] : x_up;
          v_up = c == system.up_axis ? v[c] : v_up;
        }
        const double ground = ground_force(system, x_up, v_up);
        for (int c = 0; c < D; ++c) force[c] += c == system.up_axis ? ground : 0.0;
        if constexpr (Friction) add_ground_friction<D>(system, ground, v, force);
      }
      double* next = world_history + static_cast<std::size_t>(t + 1) * 2 * nd;
      for (int c = 0; c < D; ++c) {
        const double v1 = v[c] + dt_over_m * force[c] + dt * system.gravity[c];
        const double x1 = x[c] + dt * v1;
        vs[c * n + i] = v1;
        xs[c * n + i] = x1;
        next[i * D + c] = x1;
        next[nd + i * D + c] = v1;
      }
    }
    __syncthreads();
  }
  if (particle) {
    for (int c = 0; c < D; ++c) {
      world_state[i * D + c] = xs[c * n + i];
      world_state[nd + i * D + c] = vs[c * n + i];
    }
  }
}

// Shared: step t's positions [D][N] and velocities [D][N], d loss / d F of step t [D][N],
// shares [max degree][3 D][slot_row(N, 3 D)] (each spring's g_d, g_closing and pull with its ends'
// signs), then slot_of [2 S] (int). adjoints: [E, 2, N, D], d loss / d final state in,
// d loss / d initial state out.
template <int D, int K, int MaxThreads, bool Friction>
__global__ void __launch_bounds__(MaxThreads)
    reverse_resident(DeviceSystem system, WorldArrays w, double dt, int steps, int max_degree,
                     const double* history, double* adjoints) {
  extern __shared__ double shared[];
  const std::size_t world = blockIdx.x;
  const int n = system.num_particles;
  const int s = system.num_springs;
  const int nd = n * D;
  const int row = slot_row(n, 3 * D);
  const int rank = static_cast<int>(threadIdx.x);
  const int threads = static_cast<int>(blockDim.x);
  double* xs = shared;
  double* vs = shared + nd;
  double* g_force = shared + 2 * nd;
  double* shares = shared + 3 * nd;
  int* slot_of =
      reinterpret_cast<int*>(shares + static_cast<std::size_t>(max_degree) * 3 * D * row);
  const WorldParameters p = parameters_of(w, system, world);
  const double* world_history = history + world * static_cast<std::size_t>(steps + 1) * 2 * nd;
  double* world_adjoint = adjoints + world * 2 * nd;
  fill_slots(system, rank, slot_of);
  double g_stiffness[K];
  double g_damping[K];
  double g_rest[K];
  for (int k = 0; k < K; ++k) {
    g_stiffness[k] = 0.0;
    g_damping[k] = 0.0;
    g_rest[k] = 0.0;
  }
  // The owned particle: its adjoint, the up components of the state of the step after the
  // current one (for the ground's share of F), the next state to read from the history (loaded
  // a step ahead).
  const bool particle = rank < n;
  const int i = particle ? rank : 0;
  int degree = 0;
  double mass = 1.0;
  double dt_over_m = 0.0;
  double g_force_dot_force = 0.0;
  double g_x[D];
  double g_v[D];
  double ahead_x[D];
  double ahead_v[D];
  double later_x_up = 0.0;
  double later_v_up = 0.0;
  double later_v[D];  // with friction only
  for (int c = 0; c < D; ++c) {
    g_x[c] = 0.0;
    g_v[c] = 0.0;
    ahead_x[c] = 0.0;
    ahead_v[c] = 0.0;
    if constexpr (Friction) later_v[c] = 0.0;
  }
  if (particle) {
    degree = static_cast<int>(system.incidence_begin[i + 1] - system.incidence_begin[i]);
    mass = p.mass[i];
    dt_over_m = dt / mass;
    for (int c = 0; c < D; ++c) {
      g_x[c] = world_adjoint[i * D + c];
      g_v[c] = world_adjoint[nd + i * D + c];
    }
    if (steps > 0) {
      const double* input = world_history + static_cast<std::size_t>(steps - 1) * 2 * nd;
      for (int c = 0; c < D; ++c) {
        ahead_x[c] = input[i * D + c];
        ahead_v[c] = input[nd + i * D + c];
      }
    }
  }
  // The last part of step t + 1's adjoint: its springs' shares summed into the particle's
  // adjoint in spring order, and the mass gradient -(g_F . F) / m with F from the springs'
  // pulls and the ground at step t + 1's input state.
  const auto finish = [&] {
    double force[D];
    for (int c = 0; c < D; ++c) force[c] = 0.0;
    // Two slots loaded together, then summed in order.
    for (int j = 0; j < degree; j += 2) {
      double loaded[2][3 * D];
      for (int q = 0; q < 2; ++q) {
        const double* slot = shares + static_cast<std::size_t>(j + q) * 3 * D * row + i;
        for (int c = 0; c < 3 * D; ++c) loaded[q][c] = j + q < degree ? slot[c * row] : 0.0;
      }
      for (int q = 0; q < 2; ++q) {
        if (j + q >= degree) continue;
        for (int c = 0; c < D; ++c) {
          g_x[c] += loaded[q][c];
          g_v[c] += loaded[q][D + c];
          force[c] += loaded[q][2 * D + c];
        }
      }
    }
    if (system.ground_enabled) {
      const double ground = ground_force(system, later_x_up, later_v_up);
      for (int c = 0; c < D; ++c) force[c] += c == system.up_axis ? ground : 0.0;
      if constexpr (Friction) add_ground_friction<D>(system, ground, later_v, force);
    }
    // d loss / d m = -sum over steps of (g_F . F) / m: the sum first, one division at the end.
    double total = 0.0;
    for (int c = 0; c < D; ++c) total += g_force[c * n + i] * force[c];
    g_force_dot_force += total;
  };
  __syncthreads();
  OwnedSpring own[K];
  load_owned<K>(system, p, slot_of, rank, threads, own);
  for (int t = steps - 1; t >= 0; --t) {
    if (particle) {
      double x[D];
      double v[D];
      for (int c = 0; c < D; ++c) {
        x[c] = ahead_x[c];
        v[c] = ahead_v[c];
      }
      if (t > 0) {
        const double* input = world_history + static_cast<std::size_t>(t - 1) * 2 * nd;
        for (int c = 0; c < D; ++c) {
          ahead_x[c] = input[i * D + c];
          ahead_v[c] = input[nd + i * D + c];
        }
      }
      if (t < steps - 1) finish();
      // x1 = x + dt v1, v1 = v + dt (F / m + g): the adjoint reaching v1 is g_v1 + dt g_x1,
      // and d loss / d F = dt (g_v1 + dt g_x1) / m.
      double g_force_up = 0.0;
      double x_up = 0.0;
      for (int c = 0; c < D; ++c) {
        xs[c * n + i] = x[c];
        vs[c * n + i] = v[c];
        const double g_v1_total = g_v[c] + dt * g_x[c];
        const double g_f = dt_over_m * g_v1_total;
        g_force[c * n + i] = g_f;
        g_v[c] = g_v1_total;
        if (c == system.up_axis) {
          g_force_up = g_f;
          x_up = x[c];
          later_x_up = x[c];
          later_v_up = v[c];
        }
        if constexpr (Friction) later_v[c] = v[c];
      }
      // Ground: F_up += k pen - c v_up where pen = height - x_up > 0.
      if (system.ground_enabled && system.ground_height - x_up > 0.0) {
        if constexpr (Friction) {
          double g_f[D];
          for (int c = 0; c < D; ++c) g_f[c] = dt_over_m * g_v[c];
          g_force_up += add_ground_friction_adjoint<D>(system, x_up, later_v_up, v, g_f, g_v);
        }
        for (int c = 0; c < D; ++c) {
          if (c == system.up_axis) {
            g_x[c] -= g_force_up * system.ground_stiffness;
            g_v[c] -= g_force_up * system.ground_damping;
          }
        }
      }
    }
    __syncthreads();
    for (int k = 0; k < K; ++k) {
      if (rank + k * threads >= s) continue;
      const int a = own[k].a;
      const int b = own[k].b;
      double x_a[D];
      double v_a[D];
      double x_b[D];
      double v_b[D];
      for (int c = 0; c < D; ++c) {
        x_a[c] = xs[c * n + a];
        v_a[c] = vs[c * n + a];
        x_b[c] = xs[c * n + b];
        v_b[c] = vs[c * n + b];
      }
      const double stiffness = own[k].stiffness;
      const double damping = own[k].damping;
      const Geometry<D> g(x_a, v_a, x_b, v_b, stiffness, damping, own[k].rest);
      // f = magnitude u with F_a += f, F_b -= f: d loss / d f = g_F_a - g_F_b.
      double g_f[D];
      double g_magnitude = 0.0;
      for (int c = 0; c < D; ++c) {
        g_f[c] = g_force[c * n + a] - g_force[c * n + b];
        g_magnitude += g_f[c] * g.unit[c];
      }
      g_stiffness[k] += g_magnitude * (g.length - own[k].rest);
      g_damping[k] += g_magnitude * g.closing_speed;
      g_rest[k] += -g_magnitude * stiffness;
      double g_unit[D];
      double along = 0.0;
      for (int c = 0; c < D; ++c) {
        g_unit[c] = g.magnitude * g_f[c] + g_magnitude * damping * g.closing[c];
        along += g_unit[c] * g.unit[c];
      }
      double* slot_a = shares + static_cast<std::size_t>(own[k].slot_a) * 3 * D * row + a;
      double* slot_b = shares + static_cast<std::size_t>(own[k].slot_b) * 3 * D * row + b;
      for (int c = 0; c < D; ++c) {
        const double g_d = (g_unit[c] - along * g.unit[c]) * g.inverse_length +
                           g_magnitude * stiffness * g.unit[c];
        const double g_closing = g_magnitude * damping * g.unit[c];
        const double pull = -(g.magnitude * g.unit[c]);
        slot_a[c * row] = -g_d;
        slot_a[(D + c) * row] = -g_closing;
        slot_a[(2 * D + c) * row] = -pull;
        slot_b[c * row] = g_d;
        slot_b[(D + c) * row] = g_closing;
        slot_b[(2 * D + c) * row] = pull;
      }
    }
    __syncthreads();
  }
  if (particle) {
    if (steps > 0) finish();
    for (int c = 0; c < D; ++c) {
      world_adjoint[i * D + c] = g_x[c];
      world_adjoint[nd + i * D + c] = g_v[c];
    }
    gradients_of(w, system, world).mass[i] = -g_force_dot_force / mass;
  }
  const WorldGradients out = gradients_of(w, system, world);
  for (int k = 0; k < K; ++k) {
    const int e = rank + k * threads;
    if (e < s) {
      out.stiffness[e] = g_stiffness[k];
      out.damping[e] = g_damping[k];
      out.rest[e] = g_rest[k];
    }
  }
}

}  // namespace maya::dynamics::detail
