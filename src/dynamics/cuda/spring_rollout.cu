// Mass-spring rollouts and their reverse sweeps as CUDA kernels: each direction of a whole
// rollout is one launch. A world small enough for one block's shared memory (W2's G = 16: 256
// particles, 706 springs; W5's G = 8) is one block, its state and per-spring values in shared
// memory, and the block synchronizes twice per step; many worlds are many blocks. A larger world
// is one cooperative grid that synchronizes twice per step, its per-step data in the L2 cache.
//
// The arithmetic is mass_spring_kernels.hpp's, line for line and in the same order (each
// particle sums its springs in spring order), so results agree with the CPU fused step up to the
// contraction of multiply-adds. The forward pass keeps every state [T + 1, 2, N, D]; the reverse
// pass reads them back and recomputes each spring's geometry.
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "dynamics/cuda/spring_rollout_cuda.hpp"
#include "maya/core/error.hpp"

namespace maya::dynamics::detail {
namespace {

namespace cg = cooperative_groups;

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw DeviceError(std::string("spring_rollout_gradient: ") + what +
                      " failed: " + cudaGetErrorString(status));
  }
}

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
                      const double* v, int e) {
    a = system.first[e] * D;
    b = system.second[e] * D;
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
    magnitude = p.stiffness[e] * (length - p.rest[e]) + p.damping[e] * closing_speed;
  }
};

__device__ inline double ground_force(const DeviceSystem& s, double x_up, double v_up) {
  const double penetration = s.ground_height - x_up;
  return penetration > 0.0 ? s.ground_stiffness * penetration - s.ground_damping * v_up : 0.0;
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

// The forward rollout: `state` [2, N, D] holds the initial state and ends with the final one;
// history [T + 1, 2, N, D] receives every state. pulls: [S, D] scratch.
template <int D, class Scope>
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
template <int D>
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
template <int D, class Scope, bool CopyState>
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
      if (t < steps - 1) finish_particle<D>(system, p, g, later, per_spring, g_force, adjoint, i);
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
      finish_particle<D>(system, p, g, CopyState ? copy : history, per_spring, g_force, adjoint, i);
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

__device__ WorldParameters parameters_of(const WorldArrays& w, const DeviceSystem& s,
                                         std::size_t world) {
  const std::size_t n = s.num_particles;
  const std::size_t e = s.num_springs;
  return {w.mass + world * n, w.stiffness + world * e, w.damping + world * e, w.rest + world * e};
}
__device__ WorldGradients gradients_of(const WorldArrays& w, const DeviceSystem& s,
                                       std::size_t world) {
  const std::size_t n = s.num_particles;
  const std::size_t e = s.num_springs;
  return {w.g_mass + world * n, w.g_stiffness + world * e, w.g_damping + world * e,
          w.g_rest + world * e};
}

// One block per world, everything of a step in shared memory: [2 N D] state, [S D] pulls.
// states: [E, 2, N, D] initial in, final out; history: [E, T + 1, 2, N, D].
template <int D>
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
  forward_rollout<D, BlockScope>(system, parameters_of(w, system, world), dt, steps, state, pulls,
                                 history + world * static_cast<std::size_t>(steps + 1) * nd2);
  for (int j = threadIdx.x; j < nd2; j += blockDim.x) world_state[j] = state[j];
}

// adjoints: [E, 2, N, D], d loss / d final state in, d loss / d initial state out. Shared:
// [2 N D] state, [2 N D] adjoint, [N D] g_force, [S 3 D] per spring, then the gradients of the
// masses [N] and of stiffness, damping and rest length [S] each, accumulated over the steps
// there and written out once.
template <int D>
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
  reverse_rollout<D, BlockScope, true>(
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
template <int D>
__global__ void forward_grid(DeviceSystem system, WorldArrays w, std::size_t world, double dt,
                             int steps, double* state, double* pulls, double* history) {
  forward_rollout<D, GridScope>(system, parameters_of(w, system, world), dt, steps, state, pulls,
                                history);
}

template <int D>
__global__ void reverse_grid(DeviceSystem system, WorldArrays w, std::size_t world, double dt,
                             int steps, const double* history, double* adjoint, double* g_force,
                             double* per_spring) {
  reverse_rollout<D, GridScope, false>(system, parameters_of(w, system, world),
                                       gradients_of(w, system, world), dt, steps, history, nullptr,
                                       adjoint, g_force, per_spring);
}

// The gathering variant (MAYA_SPRING_KERNEL=gather): each particle computes the forces, and in
// the reverse pass the adjoints, of its own springs itself, so every spring is computed by both
// of its ends and nothing per spring is stored between phases. One synchronization per step in
// each direction instead of two. The values are the same bits as the split kernels'; each
// spring's parameter gradients are added by its first end only.

// Particle i's force from its springs (in spring order, from zero) and the ground, on state
// [2, N, D] (SpringGeometry and ground_force as above).
template <int D>
__device__ __forceinline__ void gathered_force(const DeviceSystem& system, const WorldParameters& p,
                                               const double* state, int i, double (&force)[D]) {
  const int nd = system.num_particles * D;
  for (int k = 0; k < D; ++k) force[k] = 0.0;
  const unsigned end = system.incidence_begin[i + 1];
  for (unsigned j = system.incidence_begin[i]; j < end; ++j) {
    const unsigned code = system.incidence[j];
    const Geometry<D> s(system, p, state, state + nd, static_cast<int>(code >> 1));
    for (int k = 0; k < D; ++k) {
      const double pull = -(s.magnitude * s.unit[k]);
      force[k] = (code & 1u) ? force[k] - pull : force[k] + pull;
    }
  }
  if (system.ground_enabled) {
    const int up = i * D + system.up_axis;
    const double ground = ground_force(system, state[up], state[nd + up]);
    for (int k = 0; k < D; ++k) force[k] += k == system.up_axis ? ground : 0.0;
  }
}

// Forward: step t reads state t and writes state t + 1. With Shared the states alternate
// between two buffers of `buffers` [2][2, N, D] (shared memory; the initial state in the first)
// and are copied to the history; otherwise the history itself is read and written (the
// initial state already in history[0]).
template <int D, class Scope, bool Shared>
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
      gathered_force<D>(system, p, current, i, force);
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
template <int D>
__device__ __forceinline__ void start_adjoint(const DeviceSystem& system, const WorldParameters& p,
                                              double dt, int i, const double (&x)[D],
                                              const double (&g_x)[D], const double (&g_v)[D],
                                              double* g_force, double* partial) {
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
    partial[up] -= g_force_up * system.ground_stiffness;
    partial[nd + up] -= g_force_up * system.ground_damping;
  }
}

// Reverse: `adjoint` [2, N, D] holds d loss / d final state and ends with d loss / d initial
// state. g_forces: [2][N, D] (steps alternate), partial: [2, N, D]. With Shared the states are
// copied from the history into `buffers` [2][2, N, D] for the springs to read.
template <int D, class Scope, bool Shared>
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
    start_adjoint<D>(system, p, dt, i, x, g_x, g_v, g_forces + ((steps - 1) & 1) * nd, partial);
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
      const unsigned end = system.incidence_begin[i + 1];
      for (unsigned j = system.incidence_begin[i]; j < end; ++j) {
        const unsigned code = system.incidence[j];
        const bool first_end = (code & 1u) != 0;
        const int e = static_cast<int>(code >> 1);
        const Geometry<D> s(system, p, x, v, e);
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
      }
      if (system.ground_enabled) {
        const int up = i * D + system.up_axis;
        const double ground = ground_force(system, x[up], v[up]);
        for (int k = 0; k < D; ++k) force[k] += k == system.up_axis ? ground : 0.0;
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
        start_adjoint<D>(system, p, dt, i, x0, g_x, g_v, g_forces + ((t - 1) & 1) * nd, partial);
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
template <int D>
__global__ void __launch_bounds__(1024)
    forward_worlds_gather(DeviceSystem system, WorldArrays w, double dt, int steps, double* states,
                          double* history) {
  extern __shared__ double shared[];
  const std::size_t world = blockIdx.x;
  const int nd2 = 2 * system.num_particles * D;
  double* world_state = states + world * nd2;
  for (int j = threadIdx.x; j < nd2; j += blockDim.x) shared[j] = world_state[j];
  __syncthreads();
  forward_gather<D, BlockScope, true>(system, parameters_of(w, system, world), dt, steps, shared,
                                      history + world * static_cast<std::size_t>(steps + 1) * nd2);
  const double* final_state = shared + (steps & 1) * nd2;
  for (int j = threadIdx.x; j < nd2; j += blockDim.x) world_state[j] = final_state[j];
}

// Shared: [2][2, N, D] states, [2][N, D] g_force, [2, N, D] partial adjoint, [2, N, D] adjoint,
// then the gradients of the masses [N] and of stiffness, damping and rest length [S] each.
template <int D>
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
  reverse_gather<D, BlockScope, true>(
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

template <int D>
__global__ void forward_grid_gather(DeviceSystem system, WorldArrays w, std::size_t world,
                                    double dt, int steps, double* history) {
  forward_gather<D, GridScope, false>(system, parameters_of(w, system, world), dt, steps, nullptr,
                                      history);
}

template <int D>
__global__ void reverse_grid_gather(DeviceSystem system, WorldArrays w, std::size_t world,
                                    double dt, int steps, const double* history, double* g_forces,
                                    double* partial, double* adjoint) {
  reverse_gather<D, GridScope, false>(system, parameters_of(w, system, world),
                                      gradients_of(w, system, world), dt, steps, history, nullptr,
                                      g_forces, partial, adjoint);
}

// Device memory kept between calls (grown, never shrunk), so that repeated rollouts allocate
// nothing.
class Workspace {
 public:
  ~Workspace() {
    for (auto& [pointer, bytes] : buffers_) cudaFree(pointer);
  }
  // Buffer `slot`, at least `bytes` long.
  void* get(std::size_t slot, std::size_t bytes) {
    if (buffers_.size() <= slot) buffers_.resize(slot + 1, {nullptr, 0});
    auto& [pointer, size] = buffers_[slot];
    if (size < bytes) {
      if (pointer != nullptr) check(cudaFree(pointer), "cudaFree");
      pointer = nullptr;
      size = 0;
      check(cudaMalloc(&pointer, bytes), "cudaMalloc");
      size = bytes;
    }
    return pointer;
  }
  std::mutex mutex;

 private:
  std::vector<std::pair<void*, std::size_t>> buffers_;
};

Workspace& workspace() {
  static Workspace instance;
  return instance;
}

template <class T>
T* upload(std::size_t slot, const T* host, std::size_t count) {
  auto* device =
      static_cast<T*>(workspace().get(slot, std::max<std::size_t>(count, 1) * sizeof(T)));
  if (count > 0) {
    check(cudaMemcpy(device, host, count * sizeof(T), cudaMemcpyHostToDevice), "copy to device");
  }
  return device;
}

template <class T>
T* scratch(std::size_t slot, std::size_t count) {
  return static_cast<T*>(workspace().get(slot, std::max<std::size_t>(count, 1) * sizeof(T)));
}

void download(double* host, const double* device, std::size_t count) {
  if (count > 0) {
    check(cudaMemcpy(host, device, count * sizeof(double), cudaMemcpyDeviceToHost), "copy to host");
  }
}

// Block sizes: one thread per spring up to 1024 for a world in a block; 256 in the grid.
int block_threads(const HostTopology& t) {
  const std::size_t widest = std::max(t.num_springs, t.num_particles);
  return static_cast<int>(std::clamp<std::size_t>((widest + 31) / 32 * 32, 64, 1024));
}
constexpr int kGridThreads = 256;

template <int D>
KernelTimes run(const HostTopology& topology, const DeviceSystem& system, const WorldArrays& arrays,
                std::size_t worlds, double dt, int steps, double* states, double* adjoints,
                double* history, const HostAdjointOfFinal& adjoint_of_final, double* host_final,
                double* host_adjoint) {
  const std::size_t n = topology.num_particles;
  const std::size_t s = topology.num_springs;
  const std::size_t nd = n * D;
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  int shared_limit = 0;
  check(cudaDeviceGetAttribute(&shared_limit, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
        "cudaDeviceGetAttribute");
  const std::size_t forward_shared = (2 * nd + s * D) * sizeof(double);
  const std::size_t reverse_shared = (5 * nd + s * kSpringValues<D> + n + 3 * s) * sizeof(double);
  const bool per_block = reverse_shared <= static_cast<std::size_t>(shared_limit);

  cudaEvent_t marks[4];
  for (auto& mark : marks) check(cudaEventCreate(&mark), "cudaEventCreate");
  KernelTimes times;
  const std::size_t per_world_history = static_cast<std::size_t>(steps + 1) * 2 * nd;
  if (per_block) {
    check(cudaFuncSetAttribute(forward_worlds<D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(forward_shared)),
          "cudaFuncSetAttribute");
    check(cudaFuncSetAttribute(reverse_worlds<D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(reverse_shared)),
          "cudaFuncSetAttribute");
    const int threads = block_threads(topology);
    check(cudaEventRecord(marks[0]), "cudaEventRecord");
    forward_worlds<D><<<static_cast<unsigned>(worlds), threads, forward_shared>>>(
        system, arrays, dt, steps, states, history);
    check(cudaGetLastError(), "forward launch");
    check(cudaEventRecord(marks[1]), "cudaEventRecord");
    download(host_final, states, worlds * 2 * nd);
    adjoint_of_final(host_final, host_adjoint);
    check(cudaMemcpy(adjoints, host_adjoint, worlds * 2 * nd * sizeof(double),
                     cudaMemcpyHostToDevice),
          "copy to device");
    check(cudaEventRecord(marks[2]), "cudaEventRecord");
    reverse_worlds<D><<<static_cast<unsigned>(worlds), threads, reverse_shared>>>(
        system, arrays, dt, steps, history, adjoints);
    check(cudaGetLastError(), "reverse launch");
    check(cudaEventRecord(marks[3]), "cudaEventRecord");
  } else {
    // A grid as large as can be resident at once (a cooperative launch needs every block
    // resident), but no larger than one thread per spring.
    int sms = 0;
    check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "attribute");
    int per_sm_forward = 0;
    int per_sm_reverse = 0;
    check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm_forward, forward_grid<D>,
                                                        kGridThreads, 0),
          "occupancy");
    check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm_reverse, reverse_grid<D>,
                                                        kGridThreads, 0),
          "occupancy");
    const std::size_t wanted = (std::max(s, n) + kGridThreads - 1) / kGridThreads;
    const auto blocks = [&](int per_sm) {
      return static_cast<unsigned>(
          std::max<std::size_t>(1, std::min<std::size_t>(wanted, std::size_t(per_sm) * sms)));
    };
    const unsigned forward_blocks = blocks(per_sm_forward);
    const unsigned reverse_blocks = blocks(per_sm_reverse);
    double* pulls = scratch<double>(20, s * kSpringValues<D>);
    double* g_force = scratch<double>(21, nd);
    check(cudaEventRecord(marks[0]), "cudaEventRecord");
    for (std::size_t world = 0; world < worlds; ++world) {
      double* world_state = states + world * 2 * nd;
      double* world_history = history + world * per_world_history;
      void* args[] = {const_cast<DeviceSystem*>(&system),
                      const_cast<WorldArrays*>(&arrays),
                      &world,
                      &dt,
                      &steps,
                      &world_state,
                      &pulls,
                      &world_history};
      check(cudaLaunchCooperativeKernel(reinterpret_cast<void*>(forward_grid<D>), forward_blocks,
                                        kGridThreads, args, 0, nullptr),
            "forward cooperative launch");
    }
    check(cudaEventRecord(marks[1]), "cudaEventRecord");
    download(host_final, states, worlds * 2 * nd);
    adjoint_of_final(host_final, host_adjoint);
    check(cudaMemcpy(adjoints, host_adjoint, worlds * 2 * nd * sizeof(double),
                     cudaMemcpyHostToDevice),
          "copy to device");
    check(cudaEventRecord(marks[2]), "cudaEventRecord");
    for (std::size_t world = 0; world < worlds; ++world) {
      const double* world_history = history + world * per_world_history;
      double* world_adjoint = adjoints + world * 2 * nd;
      void* args[] = {const_cast<DeviceSystem*>(&system),
                      const_cast<WorldArrays*>(&arrays),
                      &world,
                      &dt,
                      &steps,
                      const_cast<double**>(&world_history),
                      &world_adjoint,
                      &g_force,
                      &pulls};
      check(cudaLaunchCooperativeKernel(reinterpret_cast<void*>(reverse_grid<D>), reverse_blocks,
                                        kGridThreads, args, 0, nullptr),
            "reverse cooperative launch");
    }
    check(cudaEventRecord(marks[3]), "cudaEventRecord");
  }
  check(cudaEventSynchronize(marks[3]), "reverse kernel");
  float forward_ms = 0.0F;
  float reverse_ms = 0.0F;
  check(cudaEventElapsedTime(&forward_ms, marks[0], marks[1]), "cudaEventElapsedTime");
  check(cudaEventElapsedTime(&reverse_ms, marks[2], marks[3]), "cudaEventElapsedTime");
  for (auto& mark : marks) cudaEventDestroy(mark);
  times.forward = forward_ms * 1e-3;
  times.reverse = reverse_ms * 1e-3;
  return times;
}

// The gathering kernels (see forward_gather): one thread per particle.
template <int D>
KernelTimes run_gather(const HostTopology& topology, const DeviceSystem& system,
                       const WorldArrays& arrays, std::size_t worlds, double dt, int steps,
                       double* states, double* adjoints, double* history,
                       const HostAdjointOfFinal& adjoint_of_final, double* host_final,
                       double* host_adjoint) {
  const std::size_t n = topology.num_particles;
  const std::size_t s = topology.num_springs;
  const std::size_t nd = n * D;
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  int shared_limit = 0;
  check(cudaDeviceGetAttribute(&shared_limit, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
        "cudaDeviceGetAttribute");
  const std::size_t forward_shared = 4 * nd * sizeof(double);
  const std::size_t reverse_shared = (10 * nd + n + 3 * s) * sizeof(double);
  const bool per_block = reverse_shared <= static_cast<std::size_t>(shared_limit);
  cudaEvent_t marks[4];
  for (auto& mark : marks) check(cudaEventCreate(&mark), "cudaEventCreate");
  const std::size_t per_world_history = static_cast<std::size_t>(steps + 1) * 2 * nd;
  const auto hand_over = [&] {
    check(cudaEventRecord(marks[1]), "cudaEventRecord");
    download(host_final, states, worlds * 2 * nd);
    adjoint_of_final(host_final, host_adjoint);
    check(cudaMemcpy(adjoints, host_adjoint, worlds * 2 * nd * sizeof(double),
                     cudaMemcpyHostToDevice),
          "copy to device");
    check(cudaEventRecord(marks[2]), "cudaEventRecord");
  };
  if (per_block) {
    check(
        cudaFuncSetAttribute(forward_worlds_gather<D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(forward_shared)),
        "cudaFuncSetAttribute");
    check(
        cudaFuncSetAttribute(reverse_worlds_gather<D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(reverse_shared)),
        "cudaFuncSetAttribute");
    const int threads = static_cast<int>(std::clamp<std::size_t>((n + 31) / 32 * 32, 64, 1024));
    check(cudaEventRecord(marks[0]), "cudaEventRecord");
    forward_worlds_gather<D><<<static_cast<unsigned>(worlds), threads, forward_shared>>>(
        system, arrays, dt, steps, states, history);
    check(cudaGetLastError(), "forward launch");
    hand_over();
    reverse_worlds_gather<D><<<static_cast<unsigned>(worlds), threads, reverse_shared>>>(
        system, arrays, dt, steps, history, adjoints);
    check(cudaGetLastError(), "reverse launch");
  } else {
    int sms = 0;
    check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "attribute");
    int per_sm_forward = 0;
    int per_sm_reverse = 0;
    check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm_forward, forward_grid_gather<D>,
                                                        kGridThreads, 0),
          "occupancy");
    check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm_reverse, reverse_grid_gather<D>,
                                                        kGridThreads, 0),
          "occupancy");
    const std::size_t wanted = (n + kGridThreads - 1) / kGridThreads;
    const auto blocks = [&](int per_sm) {
      return static_cast<unsigned>(
          std::max<std::size_t>(1, std::min<std::size_t>(wanted, std::size_t(per_sm) * sms)));
    };
    double* g_forces = scratch<double>(21, 2 * nd);
    double* partial = scratch<double>(22, 2 * nd);
    check(cudaEventRecord(marks[0]), "cudaEventRecord");
    for (std::size_t world = 0; world < worlds; ++world) {
      double* world_state = states + world * 2 * nd;
      double* world_history = history + world * per_world_history;
      check(cudaMemcpyAsync(world_history, world_state, 2 * nd * sizeof(double),
                            cudaMemcpyDeviceToDevice),
            "copy on device");
      void* args[] = {const_cast<DeviceSystem*>(&system),
                      const_cast<WorldArrays*>(&arrays),
                      &world,
                      &dt,
                      &steps,
                      &world_history};
      check(cudaLaunchCooperativeKernel(reinterpret_cast<void*>(forward_grid_gather<D>),
                                        blocks(per_sm_forward), kGridThreads, args, 0, nullptr),
            "forward cooperative launch");
      check(cudaMemcpyAsync(world_state, world_history + static_cast<std::size_t>(steps) * 2 * nd,
                            2 * nd * sizeof(double), cudaMemcpyDeviceToDevice),
            "copy on device");
    }
    hand_over();
    for (std::size_t world = 0; world < worlds; ++world) {
      const double* world_history = history + world * per_world_history;
      double* world_adjoint = adjoints + world * 2 * nd;
      void* args[] = {const_cast<DeviceSystem*>(&system),
                      const_cast<WorldArrays*>(&arrays),
                      &world,
                      &dt,
                      &steps,
                      const_cast<double**>(&world_history),
                      &g_forces,
                      &partial,
                      &world_adjoint};
      check(cudaLaunchCooperativeKernel(reinterpret_cast<void*>(reverse_grid_gather<D>),
                                        blocks(per_sm_reverse), kGridThreads, args, 0, nullptr),
            "reverse cooperative launch");
    }
  }
  check(cudaEventRecord(marks[3]), "cudaEventRecord");
  check(cudaEventSynchronize(marks[3]), "reverse kernel");
  float forward_ms = 0.0F;
  float reverse_ms = 0.0F;
  check(cudaEventElapsedTime(&forward_ms, marks[0], marks[1]), "cudaEventElapsedTime");
  check(cudaEventElapsedTime(&reverse_ms, marks[2], marks[3]), "cudaEventElapsedTime");
  for (auto& mark : marks) cudaEventDestroy(mark);
  return {forward_ms * 1e-3, reverse_ms * 1e-3};
}

// Which kernels run: the split ones where a world fits one block (there they were faster:
// W2 G = 16 6.2 ms against 8.2, W5 about even), the gathering ones for worlds spread over the
// grid (one synchronization per step instead of two: G = 128 18 ms against 25, G = 1024 458
// against 517). MAYA_SPRING_KERNEL=split or =gather forces one (the tests run both).
bool gathering(std::size_t n, std::size_t s, std::size_t d) {
  const char* forced = std::getenv("MAYA_SPRING_KERNEL");
  if (forced != nullptr && std::string(forced) == "gather") return true;
  if (forced != nullptr && std::string(forced) == "split") return false;
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  int shared_limit = 0;
  check(cudaDeviceGetAttribute(&shared_limit, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
        "cudaDeviceGetAttribute");
  // The split kernels' reverse pass in shared memory (reverse_worlds).
  const std::size_t split_shared = (5 * n * d + 3 * s * d + n + 3 * s) * sizeof(double);
  return split_shared > static_cast<std::size_t>(shared_limit);
}

}  // namespace

int cuda_devices() noexcept {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return count;
}

KernelTimes cuda_spring_rollout_gradient(const HostTopology& topology, const HostWorlds& worlds,
                                         double dt, std::size_t steps,
                                         const HostAdjointOfFinal& adjoint_of_final,
                                         const HostGradients& out) {
  Workspace& space = workspace();
  const std::lock_guard lock(space.mutex);
  const std::size_t n = topology.num_particles;
  const std::size_t s = topology.num_springs;
  const std::size_t d = topology.dim;
  const std::size_t e = worlds.worlds;
  const std::size_t state_size = 2 * n * d;

  // Each particle's springs in spring order, as in MassSpringModel::build_incidence.
  std::vector<int> first(s);
  std::vector<int> second(s);
  std::vector<unsigned> begin(n + 1, 0);
  for (std::size_t j = 0; j < s; ++j) {
    first[j] = static_cast<int>(topology.first[j]);
    second[j] = static_cast<int>(topology.second[j]);
    ++begin[static_cast<std::size_t>(first[j]) + 1];
    ++begin[static_cast<std::size_t>(second[j]) + 1];
  }
  for (std::size_t i = 0; i < n; ++i) begin[i + 1] += begin[i];
  std::vector<unsigned> incidence(2 * s);
  std::vector<unsigned> next(begin.begin(), begin.end() - 1);
  for (std::size_t j = 0; j < s; ++j) {
    incidence[next[static_cast<std::size_t>(first[j])]++] = static_cast<unsigned>(2 * j + 1);
    incidence[next[static_cast<std::size_t>(second[j])]++] = static_cast<unsigned>(2 * j);
  }

  DeviceSystem system{};
  system.num_particles = static_cast<int>(n);
  system.num_springs = static_cast<int>(s);
  system.first = upload(0, first.data(), s);
  system.second = upload(1, second.data(), s);
  system.incidence_begin = upload(2, begin.data(), n + 1);
  system.incidence = upload(3, incidence.data(), 2 * s);
  for (std::size_t k = 0; k < 3; ++k) system.gravity[k] = topology.gravity[k];
  system.ground_enabled = topology.ground_enabled;
  system.ground_height = topology.ground_height;
  system.ground_stiffness = topology.ground_stiffness;
  system.ground_damping = topology.ground_damping;
  system.up_axis = static_cast<int>(topology.up_axis);

  WorldArrays arrays{};
  arrays.mass = upload(4, worlds.mass, e * n);
  arrays.stiffness = upload(5, worlds.stiffness, e * s);
  arrays.damping = upload(6, worlds.damping, e * s);
  arrays.rest = upload(7, worlds.rest_length, e * s);
  arrays.g_mass = scratch<double>(8, e * n);
  arrays.g_stiffness = scratch<double>(9, e * s);
  arrays.g_damping = scratch<double>(10, e * s);
  arrays.g_rest = scratch<double>(11, e * s);
  check(cudaMemset(arrays.g_mass, 0, std::max<std::size_t>(e * n, 1) * sizeof(double)), "memset");
  for (double* g : {arrays.g_stiffness, arrays.g_damping, arrays.g_rest}) {
    check(cudaMemset(g, 0, std::max<std::size_t>(e * s, 1) * sizeof(double)), "memset");
  }
  double* states = upload(12, worlds.state, e * state_size);
  double* adjoints = scratch<double>(13, e * state_size);
  double* history = scratch<double>(14, e * (steps + 1) * state_size);

  // Filled by adjoint_of_final (no zero fill here).
  const std::unique_ptr<double[]> host_adjoint(
      new double[std::max<std::size_t>(e * state_size, 1)]);
  const int t = static_cast<int>(steps);
  KernelTimes times;
  if (gathering(n, s, d)) {
    switch (d) {
      case 1:
        times = run_gather<1>(topology, system, arrays, e, dt, t, states, adjoints, history,
                              adjoint_of_final, out.final_state, host_adjoint.get());
        break;
      case 2:
        times = run_gather<2>(topology, system, arrays, e, dt, t, states, adjoints, history,
                              adjoint_of_final, out.final_state, host_adjoint.get());
        break;
      default:
        times = run_gather<3>(topology, system, arrays, e, dt, t, states, adjoints, history,
                              adjoint_of_final, out.final_state, host_adjoint.get());
        break;
    }
  } else {
    switch (d) {
      case 1:
        times = run<1>(topology, system, arrays, e, dt, t, states, adjoints, history,
                       adjoint_of_final, out.final_state, host_adjoint.get());
        break;
      case 2:
        times = run<2>(topology, system, arrays, e, dt, t, states, adjoints, history,
                       adjoint_of_final, out.final_state, host_adjoint.get());
        break;
      default:
        times = run<3>(topology, system, arrays, e, dt, t, states, adjoints, history,
                       adjoint_of_final, out.final_state, host_adjoint.get());
        break;
    }
  }
  download(out.state, adjoints, e * state_size);
  download(out.mass, arrays.g_mass, e * n);
  download(out.stiffness, arrays.g_stiffness, e * s);
  download(out.damping, arrays.g_damping, e * s);
  download(out.rest_length, arrays.g_rest, e * s);
  return times;
}

}  // namespace maya::dynamics::detail
