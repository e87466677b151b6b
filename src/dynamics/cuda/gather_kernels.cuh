// The gathering kernels: one thread per particle, which computes its own springs' forces and
// adjoints; one synchronization per step. Private to spring_rollout.cu.
#pragma once

#include "dynamics/cuda/spring_device.cuh"

namespace maya::dynamics::detail {

// The gathering variant (MAYA_SPRING_KERNEL=gather): each particle computes the forces, and in
// the reverse pass the adjoints, of its own springs itself, so every spring is computed by both
// of its ends and nothing per spring is stored between phases. One synchronization per step in
// each direction instead of two. The values are the same bits as the split kernels'; each
// spring's parameter gradients are added by its first end only.

// A particle's springs, staged. The gathering kernels are latency-bound on each spring's chain
// of dependent loads (its incidence code, then its ends, then the ends' states; Nsight Compute
// at W2 G = 512: two thirds of the warps' cycles wait on global loads), so the codes and the
// ends of up to kStaged springs are loaded together first, leaving each spring one level of
// loads. A particle of more springs takes the plain loop (count < 0).
constexpr int kStaged = 8;
struct StagedSprings {
  int count;
  unsigned code[kStaged];
  int a[kStaged];  // the first end's offset (index times D)
  int b[kStaged];  // the second end's
};

template <int D>
__device__ __forceinline__ void stage_springs(const DeviceSystem& system, int i,
                                              StagedSprings& staged) {
  const unsigned begin = system.incidence_begin[i];
  const int count = static_cast<int>(system.incidence_begin[i + 1] - begin);
  staged.count = count <= kStaged ? count : -1;
#pragma unroll
  for (int q = 0; q < kStaged; ++q) {
    staged.code[q] = q < staged.count ? system.incidence[begin + q] : 0u;
  }
#pragma unroll
  for (int q = 0; q < kStaged; ++q) {
    const int e = static_cast<int>(staged.code[q] >> 1);
    staged.a[q] = q < staged.count ? system.first[e] * D : 0;
    staged.b[q] = q < staged.count ? system.second[e] * D : 0;
  }
}

// Calls f(code, geometry) for particle i's springs in spring order (staged where they fit).
template <int D, class F>
__device__ __forceinline__ void for_each_spring(const DeviceSystem& system,
                                                const WorldParameters& p, const double* x,
                                                const double* v, int i, F&& f) {
  StagedSprings staged;
  stage_springs<D>(system, i, staged);
  if (staged.count >= 0) {
#pragma unroll
    for (int q = 0; q < kStaged; ++q) {
      if (q < staged.count) {
        const int e = static_cast<int>(staged.code[q] >> 1);
        f(staged.code[q],
          Geometry<D>(staged.a[q], staged.b[q], p.stiffness[e], p.damping[e], p.rest[e], x, v));
      }
    }
    return;
  }
  const unsigned end = system.incidence_begin[i + 1];
  for (unsigned j = system.incidence_begin[i]; j < end; ++j) {
    const unsigned code = system.incidence[j];
    f(code, Geometry<D>(system, p, x, v, static_cast<int>(code >> 1)));
  }
}

// Particle i's force from its springs (in spring order, from zero) and the ground, on state
// [2, N, D] (SpringGeometry and ground_force as above).
template <int D, bool Friction>
__device__ __forceinline__ void gathered_force(const DeviceSystem& system, const WorldParameters& p,
                                               const double* state, int i, double (&force)[D]) {
  const int nd = system.num_particles * D;
  for (int k = 0; k < D; ++k) force[k] = 0.0;
  for_each_spring<D>(system, p, state, state + nd, i, [&](unsigned code, const Geometry<D>& s) {
    for (int k = 0; k < D; ++k) {
      const double pull = -(s.magnitude * s.unit[k]);
      force[k] = (code & 1u) ? force[k] - pull : force[k] + pull;
    }
  });
  if (system.ground_enabled) {
    const int up = i * D + system.up_axis;
    const double ground = ground_force(system, state[up], state[nd + up]);
    for (int k = 0; k < D; ++k) force[k] += k == system.up_axis ? ground : 0.0;
    if constexpr (Friction) add_ground_friction<D>(system, ground, state + nd + i * D, force);
  }
}

// Forward: step t reads state t and writes state t + 1. With Shared the states alternate
// between two buffers of `buffers` [2][2, N, D] (shared memory; the initial state in the first)
// and are copied to the history; otherwise the history itself is read and written (the
// initial state already in history[0]).
template <int D, class Scope, bool Shared, bool Friction>
__device__ void forward_gather(const DeviceSystem& system, const WorldParameters& p, double dt,
                               int steps, double* buffers, double* history) {
  const int n = system.num_particles;
  const int nd = n * D;
  const int rank = Scope::rank();
  const int size = Scope::size();
  if constexpr (Shared) {
    for (int j = rank; j < 2 * nd; j += size) history[j] = buffers[j];
  }
  for (int t = 0; t < steps; ++t) {
    const double* current =
        Shared ? buffers + (t & 1) * 2 * nd : history + static_cast<std::size_t>(t) * 2 * nd;
    double* next = history + static_cast<std::size_t>(t + 1) * 2 * nd;
    double* next_shared = Shared ? buffers + ((t + 1) & 1) * 2 * nd : nullptr;
    for (int i = rank; i < n; i += size) {
      double force[D];
      gathered_force<D, Friction>(system, p, current, i, force);
      const double dt_over_m = dt / p.mass[i];
      for (int k = 0; k < D; ++k) {
        const double v1 = current[nd + i * D + k] + dt_over_m * force[k] + dt * system.gravity[k];
        const double x1 = current[i * D + k] + dt * v1;
        next[i * D + k] = x1;
        next[nd + i * D + k] = v1;
        if constexpr (Shared) {
          next_shared[i * D + k] = x1;
          next_shared[nd + i * D + k] = v1;
        }
      }
    }
    Scope::sync();
  }
}

// The first part of step t's adjoint for particle i, from G = d loss / d state t + 1 (own):
// g_force = dt (G_v + dt G_x) / m into `g_force`, and the adjoint of state t before its springs
// (G_x, G_v + dt G_x, less the ground's share) into `partial`.
template <int D, bool Friction>
__device__ __forceinline__ void start_adjoint(const DeviceSystem& system, const WorldParameters& p,
                                              double dt, int i, const double (&x)[D],
                                              const double* v, const double (&g_x)[D],
                                              const double (&g_v)[D], double* g_force,
                                              double* partial) {
  const int nd = system.num_particles * D;
  const double dt_over_m = dt / p.mass[i];
  double g_force_up = 0.0;
  double x_up = 0.0;
  for (int k = 0; k < D; ++k) {
    const double g_v1_total = g_v[k] + dt * g_x[k];
    const double g_f = dt_over_m * g_v1_total;
    g_force[i * D + k] = g_f;
    partial[i * D + k] = g_x[k];
    partial[nd + i * D + k] = g_v1_total;
    if (k == system.up_axis) {
      g_force_up = g_f;
      x_up = x[k];
    }
  }
  const int up = i * D + system.up_axis;
  if (system.ground_enabled && system.ground_height - x_up > 0.0) {
    if constexpr (Friction) {
      double v_up = 0.0;
      for (int k = 0; k < D; ++k) v_up = k == system.up_axis ? v[k] : v_up;
      g_force_up += add_ground_friction_adjoint<D>(system, x_up, v_up, v, g_force + i * D,
                                                   partial + nd + i * D);
    }
    partial[up] -= g_force_up * system.ground_stiffness;
    partial[nd + up] -= g_force_up * system.ground_damping;
  }
}

// Reverse: `adjoint` [2, N, D] holds d loss / d final state and ends with d loss / d initial
// state. g_forces: [2][N, D] (steps alternate), partial: [2, N, D]. With Shared the states are
// copied from the history into `buffers` [2][2, N, D] for the springs to read.
template <int D, class Scope, bool Shared, bool Friction>
__device__ void reverse_gather(const DeviceSystem& system, const WorldParameters& p,
                               const WorldGradients& g, double dt, int steps, const double* history,
                               double* buffers, double* g_forces, double* partial,
                               double* adjoint) {
  const int n = system.num_particles;
  const int nd = n * D;
  const int rank = Scope::rank();
  const int size = Scope::size();
  if (steps == 0) return;
  // Step T - 1's first part.
  for (int i = rank; i < n; i += size) {
    const double* input = history + static_cast<std::size_t>(steps - 1) * 2 * nd;
    double x[D];
    double g_x[D];
    double g_v[D];
    for (int k = 0; k < D; ++k) {
      x[k] = input[i * D + k];
      g_x[k] = adjoint[i * D + k];
      g_v[k] = adjoint[nd + i * D + k];
      if constexpr (Shared) {
        buffers[((steps - 1) & 1) * 2 * nd + i * D + k] = x[k];
        buffers[((steps - 1) & 1) * 2 * nd + nd + i * D + k] = input[nd + i * D + k];
      }
    }
    start_adjoint<D, Friction>(system, p, dt, i, x, input + nd + i * D, g_x, g_v,
                               g_forces + ((steps - 1) & 1) * nd, partial);
  }
  Scope::sync();
  for (int t = steps - 1; t >= 0; --t) {
    const double* state =
        Shared ? buffers + (t & 1) * 2 * nd : history + static_cast<std::size_t>(t) * 2 * nd;
    const double* x = state;
    const double* v = state + nd;
    const double* g_force = g_forces + (t & 1) * nd;
    for (int i = rank; i < n; i += size) {
      double g_x[D];
      double g_v[D];
      double force[D];
      for (int k = 0; k < D; ++k) {
        g_x[k] = partial[i * D + k];
        g_v[k] = partial[nd + i * D + k];
        force[k] = 0.0;
      }
      for_each_spring<D>(system, p, x, v, i, [&](unsigned code, const Geometry<D>& s) {
        const bool first_end = (code & 1u) != 0;
        const int e = static_cast<int>(code >> 1);
        const double stiffness = p.stiffness[e];
        const double damping = p.damping[e];
        double g_f[D];
        double g_magnitude = 0.0;
        for (int k = 0; k < D; ++k) {
          g_f[k] = g_force[s.a + k] - g_force[s.b + k];
          g_magnitude += g_f[k] * s.unit[k];
        }
        if (first_end) {
          g.stiffness[e] += g_magnitude * (s.length - p.rest[e]);
          g.damping[e] += g_magnitude * s.closing_speed;
          g.rest[e] += -g_magnitude * stiffness;
        }
        double g_unit[D];
        double along = 0.0;
        for (int k = 0; k < D; ++k) {
          g_unit[k] = s.magnitude * g_f[k] + g_magnitude * damping * s.closing[k];
          along += g_unit[k] * s.unit[k];
        }
        for (int k = 0; k < D; ++k) {
          const double g_d = (g_unit[k] - along * s.unit[k]) * s.inverse_length +
                             g_magnitude * stiffness * s.unit[k];
          const double g_closing = g_magnitude * damping * s.unit[k];
          const double pull = -(s.magnitude * s.unit[k]);
          g_x[k] = first_end ? g_x[k] - g_d : g_x[k] + g_d;
          g_v[k] = first_end ? g_v[k] - g_closing : g_v[k] + g_closing;
          force[k] = first_end ? force[k] - pull : force[k] + pull;
        }
      });
      if (system.ground_enabled) {
        const int up = i * D + system.up_axis;
        const double ground = ground_force(system, x[up], v[up]);
        for (int k = 0; k < D; ++k) force[k] += k == system.up_axis ? ground : 0.0;
        if constexpr (Friction) add_ground_friction<D>(system, ground, v + i * D, force);
      }
      double total = 0.0;
      for (int k = 0; k < D; ++k) total += g_force[i * D + k] * force[k];
      g.mass[i] -= total / p.mass[i];
      if (t > 0) {
        const double* input = history + static_cast<std::size_t>(t - 1) * 2 * nd;
        double x0[D];
        for (int k = 0; k < D; ++k) {
          x0[k] = input[i * D + k];
          if constexpr (Shared) {
            buffers[((t - 1) & 1) * 2 * nd + i * D + k] = x0[k];
            buffers[((t - 1) & 1) * 2 * nd + nd + i * D + k] = input[nd + i * D + k];
          }
        }
        start_adjoint<D, Friction>(system, p, dt, i, x0, input + nd + i * D, g_x, g_v,
                                   g_forces + ((t - 1) & 1) * nd, partial);
      } else {
        for (int k = 0; k < D; ++k) {
          adjoint[i * D + k] = g_x[k];
          adjoint[nd + i * D + k] = g_v[k];
        }
      }
    }
    Scope::sync();
  }
}

// Shared: [2][2, N, D] states.
template <int D, bool Friction>
__global__ void __launch_bounds__(1024)
    forward_worlds_gather(DeviceSystem system, WorldArrays w, double dt, int steps, double* states,
                          double* history) {
  extern __shared__ double shared[];
  const std::size_t world = blockIdx.x;
  const int nd2 = 2 * system.num_particles * D;
  double* world_state = states + world * nd2;
  for (int j = threadIdx.x; j < nd2; j += blockDim.x) shared[j] = world_state[j];
  __syncthreads();
  forward_gather<D, BlockScope, true, Friction>(
      system, parameters_of(w, system, world), dt, steps, shared,
      history + world * static_cast<std::size_t>(steps + 1) * nd2);
  const double* final_state = shared + (steps & 1) * nd2;
  for (int j = threadIdx.x; j < nd2; j += blockDim.x) world_state[j] = final_state[j];
}

// Shared: [2][2, N, D] states, [2][N, D] g_force, [2, N, D] partial adjoint, [2, N, D] adjoint,
// then the gradients of the masses [N] and of stiffness, damping and rest length [S] each.
template <int D, bool Friction>
__global__ void __launch_bounds__(1024)
    reverse_worlds_gather(DeviceSystem system, WorldArrays w, double dt, int steps,
                          const double* history, double* adjoints) {
  extern __shared__ double shared[];
  const std::size_t world = blockIdx.x;
  const int n = system.num_particles;
  const int s = system.num_springs;
  const int nd = n * D;
  double* buffers = shared;
  double* g_forces = shared + 4 * nd;
  double* partial = shared + 6 * nd;
  double* adjoint = shared + 8 * nd;
  double* sums = shared + 10 * nd;
  const WorldGradients local{sums, sums + n, sums + n + s, sums + n + 2 * s};
  double* world_adjoint = adjoints + world * 2 * nd;
  for (int j = threadIdx.x; j < 2 * nd; j += blockDim.x) adjoint[j] = world_adjoint[j];
  for (int j = threadIdx.x; j < n + 3 * s; j += blockDim.x) sums[j] = 0.0;
  __syncthreads();
  reverse_gather<D, BlockScope, true, Friction>(
      system, parameters_of(w, system, world), local, dt, steps,
      history + world * static_cast<std::size_t>(steps + 1) * 2 * nd, buffers, g_forces, partial,
      adjoint);
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

// Over the grid the blocks are as many as fit at once, so registers set how many warps hide the
// loads' latency: at most 64 per thread forward (4 blocks of 256 per multiprocessor) and 80
// reverse (3), where the staged springs would otherwise take 68 and 110.
template <int D, bool Friction>
__global__ void __launch_bounds__(256, 4)
    forward_grid_gather(DeviceSystem system, WorldArrays w, std::size_t world, double dt, int steps,
                        double* history) {
  forward_gather<D, GridScope, false, Friction>(system, parameters_of(w, system, world), dt, steps,
                                                nullptr, history);
}

template <int D, bool Friction>
__global__ void __launch_bounds__(256, 3)
    reverse_grid_gather(DeviceSystem system, WorldArrays w, std::size_t world, double dt, int steps,
                        const double* history, double* g_forces, double* partial, double* adjoint) {
  reverse_gather<D, GridScope, false, Friction>(system, parameters_of(w, system, world),
                                                gradients_of(w, system, world), dt, steps, history,
                                                nullptr, g_forces, partial, adjoint);
}

}  // namespace maya::dynamics::detail
