// The lane kernels: one world over a cooperative grid, kLanes threads per particle. Lane l of
// particle i owns the particle's incident springs l, l + kLanes, ... (kSlots of them, in the
// particle's spring order) and keeps their constants, and in the reverse pass their parameter
// gradients, in registers across all steps; each step the lanes compute their springs from the
// two ends' states (in the L2 cache), pass the results to one another by warp shuffles and sum
// them in spring order, so the bits are the gathering kernels'. One grid-wide synchronization
// per step; only the states (forward) and d loss / d F (reverse) cross between blocks.
// Private to spring_rollout.cu.
#pragma once

#include "dynamics/cuda/spring_device.cuh"

namespace maya::dynamics::detail {

constexpr int kLanes = 4;
constexpr int kSlots = 2;            // springs per lane: particles of up to 8 springs
constexpr int kLaneBlock = 256;      // threads per block
constexpr unsigned kNoSpring = ~0u;  // an empty slot's code

// Lane `lane` of particle i: slot m holds the particle's spring lane + m kLanes as
// (e << 1) | [i is e's first end], or kNoSpring. codes: [kSlots, N kLanes].
struct LaneSlots {
  const unsigned* codes;
  const unsigned char* degree;  // [N]
};

// What a lane keeps of one slot.
struct LaneSpring {
  bool present;
  bool first_end;
  int e;
  int other;  // the other end's index
  double stiffness;
  double damping;
  double rest;
};

__device__ __forceinline__ double shuffle(double value, int source) {
  return __shfl_sync(0xffffffffu, value, source);
}

template <int D>
__device__ __forceinline__ void load_lane_springs(const DeviceSystem& system,
                                                  const WorldParameters& p, const LaneSlots& slots,
                                                  int thread, int threads_total, bool active,
                                                  LaneSpring (&own)[kSlots]) {
  for (int m = 0; m < kSlots; ++m) {
    const unsigned code = active ? slots.codes[m * threads_total + thread] : kNoSpring;
    own[m] = {false, false, 0, 0, 0.0, 0.0, 0.0};
    if (code != kNoSpring) {
      const int e = static_cast<int>(code >> 1);
      const bool first = (code & 1u) != 0;
      own[m] = {true,           first,        e,        first ? system.second[e] : system.first[e],
                p.stiffness[e], p.damping[e], p.rest[e]};
    }
  }
}

// Forward: history [T + 1, 2, N, D] holds the initial state in history[0]; step t reads state
// t (written by other blocks: loaded past L1) and writes state t + 1.
template <int D, bool Friction>
__global__ void __launch_bounds__(kLaneBlock, 2)
    forward_lanes(DeviceSystem system, WorldArrays w, std::size_t world, LaneSlots slots, double dt,
                  int steps, double* history) {
  const int n = system.num_particles;
  const int nd = n * D;
  const int thread = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int threads_total = n * kLanes;
  const int i = thread / kLanes;
  const int lane = thread % kLanes;
  const int base = static_cast<int>(threadIdx.x % 32) - lane;
  const bool active = i < n;
  const WorldParameters p = parameters_of(w, system, world);
  LaneSpring own[kSlots];
  load_lane_springs<D>(system, p, slots, thread, threads_total, active, own);
  const int degree = active ? slots.degree[i] : 0;
  const double dt_over_m = active ? dt / p.mass[i] : 0.0;
  cg::grid_group grid = cg::this_grid();
  for (int t = 0; t < steps; ++t) {
    const double* current = history + static_cast<std::size_t>(t) * 2 * nd;
    double x[D];
    double v[D];
    double contribution[kSlots][D];
    for (int c = 0; c < D; ++c) {
      x[c] = active ? __ldcg(current + i * D + c) : 0.0;
      v[c] = active ? __ldcg(current + nd + i * D + c) : 0.0;
    }
    for (int m = 0; m < kSlots; ++m) {
      for (int c = 0; c < D; ++c) contribution[m][c] = 0.0;
      if (own[m].present) {
        double ox[D];
        double ov[D];
        for (int c = 0; c < D; ++c) {
          ox[c] = __ldcg(current + own[m].other * D + c);
          ov[c] = __ldcg(current + nd + own[m].other * D + c);
        }
        const Geometry<D> g =
            own[m].first_end
                ? Geometry<D>(x, v, ox, ov, own[m].stiffness, own[m].damping, own[m].rest)
                : Geometry<D>(ox, ov, x, v, own[m].stiffness, own[m].damping, own[m].rest);
        // pull = -(magnitude u); the first end subtracts it, the second adds it.
        for (int c = 0; c < D; ++c) {
          const double pull = -(g.magnitude * g.unit[c]);
          contribution[m][c] = own[m].first_end ? -pull : pull;
        }
      }
    }
    // Every lane sums the particle's springs in order (slot j is lane j % kLanes, m = j / kLanes).
    double force[D];
    for (int c = 0; c < D; ++c) force[c] = 0.0;
    for (int j = 0; j < kLanes * kSlots; ++j) {
      for (int c = 0; c < D; ++c) {
        const double value = shuffle(contribution[j / kLanes][c], base + j % kLanes);
        if (j < degree) force[c] += value;
      }
    }
    if (active && lane == 0) {
      if (system.ground_enabled) {
        double x_up = 0.0;
        double v_up = 0.0;
        for (int c = 0; c < D; ++c) {
          x_up = c == system.up_axis ? x[c] : x_up;
          v_up = c == system.up_axis ? v[c] : v_up;
        }
        const double up_force = ground_force(system, x_up, v_up);
        for (int c = 0; c < D; ++c) force[c] += c == system.up_axis ? up_force : 0.0;
        if constexpr (Friction) add_ground_friction<D>(system, up_force, v, force);
      }
      double* next = history + static_cast<std::size_t>(t + 1) * 2 * nd;
      for (int c = 0; c < D; ++c) {
        const double v1 = v[c] + dt_over_m * force[c] + dt * system.gravity[c];
        const double x1 = x[c] + dt * v1;
        next[i * D + c] = x1;
        next[nd + i * D + c] = v1;
      }
    }
    grid.sync();
  }
}

// Reverse: `adjoint` [2, N, D] holds d loss / d final state and ends with d loss / d initial
// state; g_forces [2][N, D] (steps alternate) is the only array the blocks share per step.
template <int D, bool Friction>
__global__ void __launch_bounds__(kLaneBlock, 2)
    reverse_lanes(DeviceSystem system, WorldArrays w, std::size_t world, LaneSlots slots, double dt,
                  int steps, const double* history, double* g_forces, double* adjoint) {
  const int n = system.num_particles;
  const int nd = n * D;
  const int thread = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int threads_total = n * kLanes;
  const int i = thread / kLanes;
  const int lane = thread % kLanes;
  const int base = static_cast<int>(threadIdx.x % 32) - lane;
  const bool active = i < n;
  const WorldParameters p = parameters_of(w, system, world);
  const WorldGradients gradients = gradients_of(w, system, world);
  LaneSpring own[kSlots];
  load_lane_springs<D>(system, p, slots, thread, threads_total, active, own);
  double g_stiffness[kSlots];
  double g_damping[kSlots];
  double g_rest[kSlots];
  for (int m = 0; m < kSlots; ++m) {
    g_stiffness[m] = 0.0;
    g_damping[m] = 0.0;
    g_rest[m] = 0.0;
  }
  const int degree = active ? slots.degree[i] : 0;
  const double mass = active ? p.mass[i] : 1.0;
  const double dt_over_m = dt / mass;
  double g_mass = 0.0;
  // The particle's adjoint before its springs' share (start_adjoint's `partial`), every lane
  // holding the same copy.
  double partial_x[D];
  double partial_v[D];
  // start_adjoint for the step whose input is (x, own adjoint g_x, g_v of the step after);
  // `input` is that step's input state [2, N, D] (its velocities for friction).
  const auto start = [&](const double(&x)[D], const double* input, const double(&g_x)[D],
                         const double(&g_v)[D], double* g_force_out) {
    double g_force_up = 0.0;
    double x_up = 0.0;
    for (int c = 0; c < D; ++c) {
      const double g_v1_total = g_v[c] + dt * g_x[c];
      const double g_f = dt_over_m * g_v1_total;
      if (lane == 0 && active) g_force_out[i * D + c] = g_f;
      partial_x[c] = g_x[c];
      partial_v[c] = g_v1_total;
      if (c == system.up_axis) {
        g_force_up = g_f;
        x_up = x[c];
      }
    }
    if (system.ground_enabled && system.ground_height - x_up > 0.0) {
      if constexpr (Friction) {
        if (active) {
          const double* v = input + nd + i * D;
          double v_up = 0.0;
          double g_f[D];
          for (int c = 0; c < D; ++c) {
            v_up = c == system.up_axis ? v[c] : v_up;
            g_f[c] = dt_over_m * partial_v[c];
          }
          g_force_up += add_ground_friction_adjoint<D>(system, x_up, v_up, v, g_f, partial_v);
        }
      }
      for (int c = 0; c < D; ++c) {
        if (c == system.up_axis) {
          partial_x[c] -= g_force_up * system.ground_stiffness;
          partial_v[c] -= g_force_up * system.ground_damping;
        }
      }
    }
  };
  cg::grid_group grid = cg::this_grid();
  if (steps == 0) return;
  {
    const double* input = history + static_cast<std::size_t>(steps - 1) * 2 * nd;
    double x[D];
    double g_x[D];
    double g_v[D];
    for (int c = 0; c < D; ++c) {
      x[c] = active ? input[i * D + c] : 0.0;
      g_x[c] = active ? adjoint[i * D + c] : 0.0;
      g_v[c] = active ? adjoint[nd + i * D + c] : 0.0;
    }
    start(x, input, g_x, g_v, g_forces + ((steps - 1) & 1) * nd);
  }
  grid.sync();
  for (int t = steps - 1; t >= 0; --t) {
    const double* state = history + static_cast<std::size_t>(t) * 2 * nd;
    const double* g_force = g_forces + (t & 1) * nd;
    double x[D];
    double v[D];
    double g_force_own[D];
    for (int c = 0; c < D; ++c) {
      x[c] = active ? state[i * D + c] : 0.0;
      v[c] = active ? state[nd + i * D + c] : 0.0;
      g_force_own[c] = active ? __ldcg(g_force + i * D + c) : 0.0;
    }
    // Per slot: the signed shares of g_x, g_v and F (kSpringValues: g_d, g_closing, pull).
    double share[kSlots][3 * D];
    for (int m = 0; m < kSlots; ++m) {
      for (int c = 0; c < 3 * D; ++c) share[m][c] = 0.0;
      if (!own[m].present) continue;
      double ox[D];
      double ov[D];
      double g_force_other[D];
      for (int c = 0; c < D; ++c) {
        ox[c] = state[own[m].other * D + c];
        ov[c] = state[nd + own[m].other * D + c];
        g_force_other[c] = __ldcg(g_force + own[m].other * D + c);
      }
      const bool first = own[m].first_end;
      const double stiffness = own[m].stiffness;
      const double damping = own[m].damping;
      const Geometry<D> g = first ? Geometry<D>(x, v, ox, ov, stiffness, damping, own[m].rest)
                                  : Geometry<D>(ox, ov, x, v, stiffness, damping, own[m].rest);
      // f = magnitude u with F_a += f, F_b -= f: d loss / d f = g_F_a - g_F_b.
      double g_f[D];
      double g_magnitude = 0.0;
      for (int c = 0; c < D; ++c) {
        g_f[c] = first ? g_force_own[c] - g_force_other[c] : g_force_other[c] - g_force_own[c];
        g_magnitude += g_f[c] * g.unit[c];
      }
      if (first) {
        g_stiffness[m] += g_magnitude * (g.length - own[m].rest);
        g_damping[m] += g_magnitude * g.closing_speed;
        g_rest[m] += -g_magnitude * stiffness;
      }
      double g_unit[D];
      double along = 0.0;
      for (int c = 0; c < D; ++c) {
        g_unit[c] = g.magnitude * g_f[c] + g_magnitude * damping * g.closing[c];
        along += g_unit[c] * g.unit[c];
      }
      for (int c = 0; c < D; ++c) {
        const double g_d = (g_unit[c] - along * g.unit[c]) * g.inverse_length +
                           g_magnitude * stiffness * g.unit[c];
        const double g_closing = g_magnitude * damping * g.unit[c];
        const double pull = -(g.magnitude * g.unit[c]);
        share[m][c] = first ? -g_d : g_d;
        share[m][D + c] = first ? -g_closing : g_closing;
        share[m][2 * D + c] = first ? -pull : pull;
      }
    }
    double g_x[D];
    double g_v[D];
    double force[D];
    for (int c = 0; c < D; ++c) {
      g_x[c] = partial_x[c];
      g_v[c] = partial_v[c];
      force[c] = 0.0;
    }
    for (int j = 0; j < kLanes * kSlots; ++j) {
      const int source = base + j % kLanes;
      for (int c = 0; c < D; ++c) {
        const double dx = shuffle(share[j / kLanes][c], source);
        const double dv = shuffle(share[j / kLanes][D + c], source);
        const double df = shuffle(share[j / kLanes][2 * D + c], source);
        if (j < degree) {
          g_x[c] += dx;
          g_v[c] += dv;
          force[c] += df;
        }
      }
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
    double total = 0.0;
    for (int c = 0; c < D; ++c) total += g_force_own[c] * force[c];
    g_mass -= total / mass;
    if (t > 0) {
      const double* input = history + static_cast<std::size_t>(t - 1) * 2 * nd;
      double x0[D];
      for (int c = 0; c < D; ++c) x0[c] = active ? input[i * D + c] : 0.0;
      start(x0, input, g_x, g_v, g_forces + ((t - 1) & 1) * nd);
      grid.sync();
    } else if (active && lane == 0) {
      for (int c = 0; c < D; ++c) {
        adjoint[i * D + c] = g_x[c];
        adjoint[nd + i * D + c] = g_v[c];
      }
    }
  }
  if (active) {
    if (lane == 0) gradients.mass[i] = g_mass;
    for (int m = 0; m < kSlots; ++m) {
      if (own[m].present && own[m].first_end) {
        gradients.stiffness[own[m].e] = g_stiffness[m];
        gradients.damping[own[m].e] = g_damping[m];
        gradients.rest[own[m].e] = g_rest[m];
      }
    }
  }
}

}  // namespace maya::dynamics::detail
