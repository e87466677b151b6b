// The resident kernels: a world in one block whose threads keep everything they own in
// registers across the steps. Thread r owns springs r, r + T, ... (K of them: ends, stiffness,
// damping, rest length, and in the reverse pass their parameter gradients) and particle r (its
// incidence range, dt / m, and in the reverse pass its adjoint and mass gradient); only what
// other threads read each step (the state, the springs' pulls or adjoints, d loss / d F) goes
// through shared memory. The arithmetic is the split kernels', in the same order, so the bits
// are theirs. Private to spring_rollout.cu.
#pragma once

#include "dynamics/cuda/spring_device.cuh"
#include "dynamics/cuda/split_kernels.cuh"

namespace maya::dynamics::detail {

// One owned spring: its ends' offsets (index times D) and parameters.
struct OwnedSpring {
  int a;
  int b;
  double stiffness;
  double damping;
  double rest;
};

// visit(first_end, values + e * Width) for the incidence codes [begin, end) in shared memory,
// a few codes and values loaded together before they are summed in order.
template <int Width, class Visit>
__device__ __forceinline__ void for_codes(const unsigned* incidence, unsigned begin, unsigned end,
                                          const double* values, const Visit& visit) {
  constexpr int kChunk = Width > 3 ? 2 : 4;
  for (unsigned j = begin; j < end; j += kChunk) {
    unsigned codes[kChunk];
    double loaded[kChunk][Width];
    for (int c = 0; c < kChunk; ++c) {
      codes[c] = j + c < end ? incidence[j + c] : 0u;
      const double* source = values + static_cast<std::size_t>(codes[c] >> 1) * Width;
      for (int w = 0; w < Width; ++w) loaded[c][w] = j + c < end ? source[w] : 0.0;
    }
    for (int c = 0; c < kChunk; ++c) {
      if (j + c < end) visit((codes[c] & 1u) != 0, loaded[c]);
    }
  }
}

// The springs thread `rank` of `threads` owns, loaded once.
template <int D, int K>
__device__ __forceinline__ void load_owned(const DeviceSystem& system, const WorldParameters& p,
                                           int rank, int threads, OwnedSpring (&own)[K]) {
  for (int k = 0; k < K; ++k) {
    const int e = rank + k * threads;
    if (e < system.num_springs) {
      own[k] = {system.first[e] * D, system.second[e] * D, p.stiffness[e], p.damping[e],
                p.rest[e]};
    } else {
      own[k] = {0, 0, 0.0, 0.0, 0.0};
    }
  }
}

// Shared: [2, N, D] state, [S, D] pulls, then the incidence codes [2 S] (unsigned).
// states: [E, 2, N, D] initial in, final out; history: [E, T + 1, 2, N, D].
template <int D, int K, int MaxThreads>
__global__ void __launch_bounds__(MaxThreads)
    forward_resident(DeviceSystem system, WorldArrays w, double dt, int steps, double* states,
                     double* history) {
  extern __shared__ double shared[];
  const std::size_t world = blockIdx.x;
  const int n = system.num_particles;
  const int s = system.num_springs;
  const int nd = n * D;
  const int rank = static_cast<int>(threadIdx.x);
  const int threads = static_cast<int>(blockDim.x);
  double* x = shared;
  double* v = shared + nd;
  double* pulls = shared + 2 * nd;
  auto* incidence = reinterpret_cast<unsigned*>(pulls + static_cast<std::size_t>(s) * D);
  const WorldParameters p = parameters_of(w, system, world);
  double* world_state = states + world * 2 * nd;
  double* world_history = history + world * static_cast<std::size_t>(steps + 1) * 2 * nd;
  for (int j = rank; j < 2 * nd; j += threads) {
    const double value = world_state[j];
    shared[j] = value;
    world_history[j] = value;
  }
  for (int j = rank; j < 2 * s; j += threads) incidence[j] = system.incidence[j];
  OwnedSpring own[K];
  load_owned<D, K>(system, p, rank, threads, own);
  const bool particle = rank < n;
  unsigned begin = 0;
  unsigned end = 0;
  double dt_over_m = 0.0;
  if (particle) {
    begin = system.incidence_begin[rank];
    end = system.incidence_begin[rank + 1];
    dt_over_m = dt / p.mass[rank];
  }
  __syncthreads();
  for (int t = 0; t < steps; ++t) {
    // Springs: pull = -f, so that F_b += pull and F_a -= pull.
    for (int k = 0; k < K; ++k) {
      const int e = rank + k * threads;
      if (e < s) {
        const Geometry<D> g(own[k].a, own[k].b, own[k].stiffness, own[k].damping, own[k].rest, x,
                            v);
        for (int c = 0; c < D; ++c) pulls[e * D + c] = -(g.magnitude * g.unit[c]);
      }
    }
    __syncthreads();
    if (particle) {
      const int i = rank;
      double force[D];
      for (int c = 0; c < D; ++c) force[c] = 0.0;
      for_codes<D>(incidence, begin, end, pulls, [&](bool first_end, const double* pull) {
        for (int c = 0; c < D; ++c) force[c] = first_end ? force[c] - pull[c] : force[c] + pull[c];
      });
      if (system.ground_enabled) {
        const int up = i * D + system.up_axis;
        const double ground = ground_force(system, x[up], v[up]);
        for (int c = 0; c < D; ++c) force[c] += c == system.up_axis ? ground : 0.0;
      }
      double* next = world_history + static_cast<std::size_t>(t + 1) * 2 * nd;
      for (int c = 0; c < D; ++c) {
        const double v1 = v[i * D + c] + dt_over_m * force[c] + dt * system.gravity[c];
        const double x1 = x[i * D + c] + dt * v1;
        v[i * D + c] = v1;
        x[i * D + c] = x1;
        next[i * D + c] = x1;
        next[nd + i * D + c] = v1;
      }
    }
    __syncthreads();
  }
  for (int j = rank; j < 2 * nd; j += threads) world_state[j] = shared[j];
}

// Shared: [2, N, D] step t's state, [N, D] d loss / d F of step t, [S, 3 D] per spring
// (kSpringValues: g_d, g_closing, pull), then the incidence codes [2 S] (unsigned).
// adjoints: [E, 2, N, D], d loss / d final state in, d loss / d initial state out.
template <int D, int K, int MaxThreads>
__global__ void __launch_bounds__(MaxThreads)
    reverse_resident(DeviceSystem system, WorldArrays w, double dt, int steps,
                     const double* history, double* adjoints) {
  extern __shared__ double shared[];
  const std::size_t world = blockIdx.x;
  const int n = system.num_particles;
  const int s = system.num_springs;
  const int nd = n * D;
  const int rank = static_cast<int>(threadIdx.x);
  const int threads = static_cast<int>(blockDim.x);
  double* copy = shared;
  double* g_force = shared + 2 * nd;
  double* per_spring = shared + 3 * nd;
  auto* incidence =
      reinterpret_cast<unsigned*>(per_spring + static_cast<std::size_t>(s) * kSpringValues<D>);
  const WorldParameters p = parameters_of(w, system, world);
  const double* world_history = history + world * static_cast<std::size_t>(steps + 1) * 2 * nd;
  double* world_adjoint = adjoints + world * 2 * nd;
  for (int j = rank; j < 2 * s; j += threads) incidence[j] = system.incidence[j];
  OwnedSpring own[K];
  load_owned<D, K>(system, p, rank, threads, own);
  double g_stiffness[K];
  double g_damping[K];
  double g_rest[K];
  for (int k = 0; k < K; ++k) {
    g_stiffness[k] = 0.0;
    g_damping[k] = 0.0;
    g_rest[k] = 0.0;
  }
  // The owned particle: its adjoint, the state of the step after the current one (for the
  // ground's share of F), the next state to read from the history (loaded a step ahead).
  const bool particle = rank < n;
  const int i = particle ? rank : 0;
  unsigned begin = 0;
  unsigned end = 0;
  double mass = 1.0;
  double dt_over_m = 0.0;
  double g_mass = 0.0;
  double g_x[D];
  double g_v[D];
  double later_x_up = 0.0;  // step t + 1's input, the up axis
  double later_v_up = 0.0;
  double ahead_x[D];
  double ahead_v[D];
  for (int c = 0; c < D; ++c) {
    g_x[c] = 0.0;
    g_v[c] = 0.0;
    ahead_x[c] = 0.0;
    ahead_v[c] = 0.0;
  }
  if (particle) {
    begin = system.incidence_begin[i];
    end = system.incidence_begin[i + 1];
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
  // The last third of step t + 1's adjoint (finish_particle): its springs' adjoints summed
  // into the particle's, and the mass gradient -(g_F . F) / m with F from the stored pulls and
  // the ground at step t + 1's input state.
  const auto finish = [&] {
    double force[D];
    for (int c = 0; c < D; ++c) force[c] = 0.0;
    for_codes<kSpringValues<D>>(incidence, begin, end, per_spring,
                                [&](bool first_end, const double* spring) {
                                  for (int c = 0; c < D; ++c) {
                                    g_x[c] = first_end ? g_x[c] - spring[c] : g_x[c] + spring[c];
                                    g_v[c] = first_end ? g_v[c] - spring[D + c]
                                                       : g_v[c] + spring[D + c];
                                    force[c] = first_end ? force[c] - spring[2 * D + c]
                                                         : force[c] + spring[2 * D + c];
                                  }
                                });
    if (system.ground_enabled) {
      const double ground = ground_force(system, later_x_up, later_v_up);
      for (int c = 0; c < D; ++c) force[c] += c == system.up_axis ? ground : 0.0;
    }
    double total = 0.0;
    for (int c = 0; c < D; ++c) total += g_force[i * D + c] * force[c];
    g_mass -= total / mass;
  };
  __syncthreads();
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
        copy[i * D + c] = x[c];
        copy[nd + i * D + c] = v[c];
        const double g_v1_total = g_v[c] + dt * g_x[c];
        const double g_f = dt_over_m * g_v1_total;
        g_force[i * D + c] = g_f;
        g_v[c] = g_v1_total;
        if (c == system.up_axis) {
          g_force_up = g_f;
          x_up = x[c];
          later_x_up = x[c];
          later_v_up = v[c];
        }
      }
      // Ground: F_up += k pen - c v_up where pen = height - x_up > 0.
      if (system.ground_enabled && system.ground_height - x_up > 0.0) {
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
      const int e = rank + k * threads;
      if (e >= s) continue;
      const Geometry<D> g(own[k].a, own[k].b, own[k].stiffness, own[k].damping, own[k].rest, copy,
                          copy + nd);
      const double stiffness = own[k].stiffness;
      const double damping = own[k].damping;
      // f = magnitude u with F_a += f, F_b -= f: d loss / d f = g_F_a - g_F_b.
      double g_f[D];
      double g_magnitude = 0.0;
      for (int c = 0; c < D; ++c) {
        g_f[c] = g_force[g.a + c] - g_force[g.b + c];
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
      double* out = per_spring + e * kSpringValues<D>;
      for (int c = 0; c < D; ++c) {
        out[c] = (g_unit[c] - along * g.unit[c]) * g.inverse_length +
                 g_magnitude * stiffness * g.unit[c];
        out[D + c] = g_magnitude * damping * g.unit[c];
        out[2 * D + c] = -(g.magnitude * g.unit[c]);
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
    gradients_of(w, system, world).mass[i] = g_mass;
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
