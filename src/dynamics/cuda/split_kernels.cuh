// The split kernels: one thread per spring and one per particle; springs store their forces
// (reverse: their adjoints), then each particle sums its own, two synchronizations per step.
// Private to spring_rollout.cu.
#pragma once

#include "dynamics/cuda/spring_device.cuh"

namespace maya::dynamics::detail {

// The forward rollout: `state` [2, N, D] holds the initial state and ends with the final one;
// history [T + 1, 2, N, D] receives every state. pulls: [S, D] scratch.
template <int D, class Scope, bool Friction>
__device__ void forward_rollout(const DeviceSystem& system, const WorldParameters& p, double dt,
                                int steps, double* state, double* pulls, double* history) {
  const int n = system.num_particles;
  const int nd = n * D;
  const int rank = Scope::rank();
  const int size = Scope::size();
  double* x = state;
  double* v = state + nd;
  for (int j = rank; j < 2 * nd; j += size) history[j] = state[j];
  for (int t = 0; t < steps; ++t) {
    // Springs: pull = -f, so that F_b += pull and F_a -= pull.
    for (int e = rank; e < system.num_springs; e += size) {
      const Geometry<D> s(system, p, x, v, e);
      for (int k = 0; k < D; ++k) pulls[e * D + k] = -(s.magnitude * s.unit[k]);
    }
    Scope::sync();
    // Particles: F = the springs' pulls in spring order, the ground; v1 = v + dt F / m + dt g,
    // x1 = x + dt v1 (each thread rewrites only its own particles).
    double* next = history + static_cast<std::size_t>(t + 1) * 2 * nd;
    for (int i = rank; i < n; i += size) {
      double force[D];
      for (int k = 0; k < D; ++k) force[k] = 0.0;
      for_incident<D, D>(system, pulls, i, [&](bool first_end, const double* pull) {
        for (int k = 0; k < D; ++k) force[k] = first_end ? force[k] - pull[k] : force[k] + pull[k];
      });
      if (system.ground_enabled) {
        const int up = i * D + system.up_axis;
        const double ground = ground_force(system, x[up], v[up]);
        // A constant index keeps force[] in registers.
        for (int k = 0; k < D; ++k) force[k] += k == system.up_axis ? ground : 0.0;
        if constexpr (Friction) add_ground_friction<D>(system, ground, v + i * D, force);
      }
      const double dt_over_m = dt / p.mass[i];
      for (int k = 0; k < D; ++k) {
        const double v1 = v[i * D + k] + dt_over_m * force[k] + dt * system.gravity[k];
        const double x1 = x[i * D + k] + dt * v1;
        v[i * D + k] = v1;
        x[i * D + k] = x1;
        next[i * D + k] = x1;
        next[nd + i * D + k] = v1;
      }
    }
    Scope::sync();
  }
}

// Per spring in the reverse pass: [g_d (D), g_closing (D), pull (D)].
template <int D>
constexpr int kSpringValues = 3 * D;

// The last third of one step's adjoint for particle i (adjoint_particles_last): its springs'
// adjoints summed into adjoint [2, N, D], and the mass gradient -(g_F . F) / m, with F
// recomputed from the stored pulls and the state in `state` (the step's input).
template <int D, bool Friction>
__device__ __forceinline__ void finish_particle(const DeviceSystem& system,
                                                const WorldParameters& p, const WorldGradients& g,
                                                const double* state, const double* per_spring,
                                                const double* g_force, double* adjoint, int i) {
  const int nd = system.num_particles * D;
  double g_x[D];
  double g_v[D];
  double force[D];
  for (int k = 0; k < D; ++k) {
    g_x[k] = adjoint[i * D + k];
    g_v[k] = adjoint[nd + i * D + k];
    force[k] = 0.0;
  }
  for_incident<D, kSpringValues<D>>(
      system, per_spring, i, [&](bool first_end, const double* spring) {
        for (int k = 0; k < D; ++k) {
          g_x[k] = first_end ? g_x[k] - spring[k] : g_x[k] + spring[k];
          g_v[k] = first_end ? g_v[k] - spring[D + k] : g_v[k] + spring[D + k];
          force[k] = first_end ? force[k] - spring[2 * D + k] : force[k] + spring[2 * D + k];
        }
      });
  if (system.ground_enabled) {
    const int up = i * D + system.up_axis;
    const double ground = ground_force(system, state[up], state[nd + up]);
    for (int k = 0; k < D; ++k) force[k] += k == system.up_axis ? ground : 0.0;
    if constexpr (Friction) add_ground_friction<D>(system, ground, state + nd + i * D, force);
  }
  double total = 0.0;
  for (int k = 0; k < D; ++k) {
    adjoint[i * D + k] = g_x[k];
    adjoint[nd + i * D + k] = g_v[k];
    total += g_force[i * D + k] * force[k];
  }
  g.mass[i] -= total / p.mass[i];
}

// The reverse sweep: `adjoint` [2, N, D] holds d loss / d final state and ends with d loss /
// d initial state; parameter gradients accumulate into g. g_force: [N, D], per_spring: [S, 3 D]
// scratch. Two synchronizations per step: particles (the last part of step t + 1's adjoint,
// then the first part of step t's), springs. With CopyState each step's input state is copied
// from the history into `copy` [2, N, D] (shared memory) for the springs to read; otherwise they
// read the history itself (global memory, the grid).
template <int D, class Scope, bool CopyState, bool Friction>
__device__ void reverse_rollout(const DeviceSystem& system, const WorldParameters& p,
                                const WorldGradients& g, double dt, int steps,
                                const double* history, double* copy, double* adjoint,
                                double* g_force, double* per_spring) {
  const int n = system.num_particles;
  const int nd = n * D;
  const int rank = Scope::rank();
  const int size = Scope::size();
  for (int t = steps - 1; t >= 0; --t) {
    const double* input = history + static_cast<std::size_t>(t) * 2 * nd;
    const double* later = CopyState ? copy : input + 2 * nd;  // step t + 1's input
    for (int i = rank; i < n; i += size) {
      // Loaded first, so that their latency overlaps finish_particle's work.
      double x[D];
      double v[D];
      for (int k = 0; k < D; ++k) {
        x[k] = input[i * D + k];
        v[k] = input[nd + i * D + k];
      }
      if (t < steps - 1)
        finish_particle<D, Friction>(system, p, g, later, per_spring, g_force, adjoint, i);
      if constexpr (CopyState) {
        for (int k = 0; k < D; ++k) {
          copy[i * D + k] = x[k];
          copy[nd + i * D + k] = v[k];
        }
      }
      // x1 = x + dt v1, v1 = v + dt (F / m + g): the adjoint reaching v1 is g_v1 + dt g_x1,
      // and d loss / d F = dt (g_v1 + dt g_x1) / m.
      const double dt_over_m = dt / p.mass[i];
      double g_force_up = 0.0;
      double x_up = 0.0;
      for (int k = 0; k < D; ++k) {
        const double g_x1 = adjoint[i * D + k];
        const double g_v1_total = adjoint[nd + i * D + k] + dt * g_x1;
        const double g_f = dt_over_m * g_v1_total;
        g_force[i * D + k] = g_f;
        adjoint[nd + i * D + k] = g_v1_total;
        if (k == system.up_axis) {
          g_force_up = g_f;
          x_up = x[k];
        }
      }
      // Ground: F_up += k pen - c v_up where pen = height - x_up > 0.
      const int up = i * D + system.up_axis;
      if (system.ground_enabled && system.ground_height - x_up > 0.0) {
        if constexpr (Friction) {
          double v_up = 0.0;
          for (int k = 0; k < D; ++k) v_up = k == system.up_axis ? v[k] : v_up;
          g_force_up += add_ground_friction_adjoint<D>(system, x_up, v_up, v, g_force + i * D,
                                                       adjoint + nd + i * D);
        }
        adjoint[up] -= g_force_up * system.ground_stiffness;
        adjoint[nd + up] -= g_force_up * system.ground_damping;
      }
    }
    Scope::sync();
    const double* x = CopyState ? copy : input;
    const double* v = x + nd;
    for (int e = rank; e < system.num_springs; e += size) {
      const Geometry<D> s(system, p, x, v, e);
      const double stiffness = p.stiffness[e];
      const double damping = p.damping[e];
      // f = magnitude u with F_a += f, F_b -= f: d loss / d f = g_F_a - g_F_b.
      double g_f[D];
      double g_magnitude = 0.0;
      for (int k = 0; k < D; ++k) {
        g_f[k] = g_force[s.a + k] - g_force[s.b + k];
        g_magnitude += g_f[k] * s.unit[k];
      }
      g.stiffness[e] += g_magnitude * (s.length - p.rest[e]);
      g.damping[e] += g_magnitude * s.closing_speed;
      g.rest[e] += -g_magnitude * stiffness;
      // d loss / d u = magnitude g_f + g_magnitude c closing, projected normal to u over l;
      // l = |d| adds g_magnitude k u.
      double g_unit[D];
      double along = 0.0;
      for (int k = 0; k < D; ++k) {
        g_unit[k] = s.magnitude * g_f[k] + g_magnitude * damping * s.closing[k];
        along += g_unit[k] * s.unit[k];
      }
      double* out = per_spring + e * kSpringValues<D>;
      for (int k = 0; k < D; ++k) {
        out[k] = (g_unit[k] - along * s.unit[k]) * s.inverse_length +
                 g_magnitude * stiffness * s.unit[k];
        out[D + k] = g_magnitude * damping * s.unit[k];
        out[2 * D + k] = -(s.magnitude * s.unit[k]);
      }
    }
    Scope::sync();
  }
  for (int i = rank; i < n; i += size) {
    if (steps > 0) {
      finish_particle<D, Friction>(system, p, g, CopyState ? copy : history, per_spring, g_force,
                                   adjoint, i);
    }
  }
}

// One block per world, everything of a step in shared memory: [2 N D] state, [S D] pulls.
// states: [E, 2, N, D] initial in, final out; history: [E, T + 1, 2, N, D].
template <int D, bool Friction>
__global__ void __launch_bounds__(1024)
    forward_worlds(DeviceSystem system, WorldArrays w, double dt, int steps, double* states,
                   double* history) {
  extern __shared__ double shared[];
  const std::size_t world = blockIdx.x;
  const int nd2 = 2 * system.num_particles * D;
  double* state = shared;
  double* pulls = shared + nd2;
  double* world_state = states + world * nd2;
  for (int j = threadIdx.x; j < nd2; j += blockDim.x) state[j] = world_state[j];
  __syncthreads();
  forward_rollout<D, BlockScope, Friction>(
      system, parameters_of(w, system, world), dt, steps, state, pulls,
      history + world * static_cast<std::size_t>(steps + 1) * nd2);
  for (int j = threadIdx.x; j < nd2; j += blockDim.x) world_state[j] = state[j];
}

// adjoints: [E, 2, N, D], d loss / d final state in, d loss / d initial state out. Shared:
// [2 N D] state, [2 N D] adjoint, [N D] g_force, [S 3 D] per spring, then the gradients of the
// masses [N] and of stiffness, damping and rest length [S] each, accumulated over the steps
// there and written out once.
template <int D, bool Friction>
__global__ void __launch_bounds__(1024)
    reverse_worlds(DeviceSystem system, WorldArrays w, double dt, int steps, const double* history,
                   double* adjoints) {
  extern __shared__ double shared[];
  const std::size_t world = blockIdx.x;
  const int n = system.num_particles;
  const int s = system.num_springs;
  const int nd = n * D;
  double* state = shared;
  double* adjoint = shared + 2 * nd;
  double* g_force = shared + 4 * nd;
  double* per_spring = shared + 5 * nd;
  double* sums = per_spring + s * kSpringValues<D>;
  const WorldGradients local{sums, sums + n, sums + n + s, sums + n + 2 * s};
  double* world_adjoint = adjoints + world * 2 * nd;
  for (int j = threadIdx.x; j < 2 * nd; j += blockDim.x) adjoint[j] = world_adjoint[j];
  for (int j = threadIdx.x; j < n + 3 * s; j += blockDim.x) sums[j] = 0.0;
  __syncthreads();
  reverse_rollout<D, BlockScope, true, Friction>(
      system, parameters_of(w, system, world), local, dt, steps,
      history + world * static_cast<std::size_t>(steps + 1) * 2 * nd, state, adjoint, g_force,
      per_spring);
  __syncthreads();
  for (int j = threadIdx.x; j < 2 * nd; j += blockDim.x) world_adjoint[j] = adjoint[j];
  const WorldGradients out = gradients_of(w, system, world);
  for (int j = threadIdx.x; j < n; j += blockDim.x) out.mass[j] = local.mass[j];
  for (int j = threadIdx.x; j < s; j += blockDim.x) {
    out.stiffness[j] = local.stiffness[j];
    out.damping[j] = local.damping[j];
    out.rest[j] = local.rest[j];
  }
}

// One world over the whole cooperative grid; the scratch is in global memory (the L2 cache).
template <int D, bool Friction>
__global__ void forward_grid(DeviceSystem system, WorldArrays w, std::size_t world, double dt,
                             int steps, double* state, double* pulls, double* history) {
  forward_rollout<D, GridScope, Friction>(system, parameters_of(w, system, world), dt, steps, state,
                                          pulls, history);
}

template <int D, bool Friction>
__global__ void reverse_grid(DeviceSystem system, WorldArrays w, std::size_t world, double dt,
                             int steps, const double* history, double* adjoint, double* g_force,
                             double* per_spring) {
  reverse_rollout<D, GridScope, false, Friction>(system, parameters_of(w, system, world),
                                                 gradients_of(w, system, world), dt, steps, history,
                                                 nullptr, adjoint, g_force, per_spring);
}

}  // namespace maya::dynamics::detail
