// The tiled kernels: one world over a cooperative grid, cut into tiles of nearby particles. Per
// step a block stages a tile's states (its own particles and the other ends of their springs)
// in shared memory, computes each of the tile's springs once from there, and sums every own
// particle's springs in spring order from shared memory; one grid-wide synchronization per step.
// Private to spring_rollout.cu.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "dynamics/cuda/gather_kernels.cuh"
#include "dynamics/cuda/spring_device.cuh"

namespace maya::dynamics::detail {

constexpr int kTileThreads = 256;  // threads per block; a tile owns at most this many particles
constexpr int kTileCodes = 8;      // an own particle's springs held in registers (more: reloaded)

// A world cut into tiles, on the device. Tile t owns the particles owned[owned_begin[t] ..
// owned_begin[t + 1]) (local nodes 0 .. owned - 1) and reads the halo particles halo[halo_begin[t]
// .. halo_begin[t + 1]) (local nodes owned ..); its springs, in spring order, are
// springs[spring_begin[t] ..), each with its ends' local nodes (first << 16 | second). The own
// particle at owned position k sums the tile's springs codes[code_begin[k] .. code_begin[k + 1])
// in its spring order, each code (local spring << 1) | [the particle is its first end].
struct DeviceTiles {
  int count;
  int max_nodes;    // the largest tile's own + halo particles
  int max_springs;  // the largest tile's springs
  const unsigned* owned_begin;  // [count + 1]
  const int* owned;             // [N]
  const unsigned* halo_begin;   // [count + 1]
  const int* halo;
  const unsigned* spring_begin;  // [count + 1]
  const int* springs;
  const unsigned* ends;
  const unsigned* code_begin;    // [N + 1], by owned position
  const unsigned short* codes;   // [2 S]
};

// The same on the host, built once per model (build_tiles) and kept with its incidence lists.
struct HostTiles {
  bool built = false;
  bool fits = false;  // every tile's nodes and springs fit the 16-bit local indices
  int side = 0;       // what it was built for (MAYA_SPRING_TILE)
  int stride = 0;     // the row length the particles were read as (0: contiguous runs)
  int max_nodes = 0;
  int max_springs = 0;
  std::vector<unsigned> owned_begin;
  std::vector<int> owned;
  std::vector<unsigned> halo_begin;
  std::vector<int> halo;
  std::vector<unsigned> spring_begin;
  std::vector<int> springs;
  std::vector<unsigned> ends;
  std::vector<unsigned> code_begin;
  std::vector<unsigned short> codes;
  bool uploaded = false;
  DeviceTiles device{};
};

// Cuts N particles into tiles of at most side x side (<= kTileThreads) particles. Where most
// springs join particles a fixed distance W > 1 apart in index (a lattice's row length), the
// particles are read as rows of W and a tile is a side x side block of them, so that its halo is
// its perimeter; otherwise a tile is a run of side^2 consecutive particles. Any partition gives
// the same results (each particle still sums its springs in spring order); this one only keeps
// the halo small. first, second: [S]; begin [N + 1], incidence [2 S] as in the kernels.
inline HostTiles build_tiles(std::size_t n, const std::vector<int>& first,
                             const std::vector<int>& second, const std::vector<unsigned>& begin,
                             const std::vector<unsigned>& incidence, int side) {
  HostTiles tiles;
  tiles.built = true;
  tiles.side = side;
  const std::size_t s = first.size();
  const std::size_t per_tile = static_cast<std::size_t>(side) * static_cast<std::size_t>(side);
  // The most common index distance beyond 1.
  std::vector<unsigned> distance_count(n + 1, 0);
  for (std::size_t e = 0; e < s; ++e) {
    const long d = std::labs(static_cast<long>(second[e]) - static_cast<long>(first[e]));
    if (d > 1) ++distance_count[static_cast<std::size_t>(d)];
  }
  std::size_t stride = 0;
  for (std::size_t d = 2; d <= n; ++d) {
    if (distance_count[d] > (stride != 0 ? distance_count[stride] : 0)) stride = d;
  }
  if (stride != 0 && (distance_count[stride] < s / 8 || stride * 2 > n)) stride = 0;
  tiles.stride = static_cast<int>(stride);
  std::vector<std::size_t> tile_of(n);
  std::size_t tile_count = 0;
  if (stride != 0) {
    const std::size_t column_tiles = (stride + side - 1) / side;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t row = i / stride;
      const std::size_t column = i % stride;
      tile_of[i] = (row / side) * column_tiles + column / side;
      tile_count = std::max(tile_count, tile_of[i] + 1);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) tile_of[i] = i / per_tile;
    tile_count = (n + per_tile - 1) / per_tile;
  }
  // Own particles by tile (index order within a tile), empty tiles dropped.
  std::vector<unsigned> count(tile_count + 1, 0);
  for (std::size_t i = 0; i < n; ++i) ++count[tile_of[i] + 1];
  std::vector<std::size_t> renumber(tile_count, 0);
  std::size_t kept = 0;
  tiles.owned_begin.assign(1, 0);
  for (std::size_t t = 0; t < tile_count; ++t) {
    renumber[t] = kept;
    if (count[t + 1] > 0) {
      ++kept;
      tiles.owned_begin.push_back(tiles.owned_begin.back() + count[t + 1]);
    }
  }
  tiles.owned.assign(n, 0);
  {
    std::vector<unsigned> next(tiles.owned_begin.begin(), tiles.owned_begin.end() - 1);
    for (std::size_t i = 0; i < n; ++i) {
      tiles.owned[next[renumber[tile_of[i]]]++] = static_cast<int>(i);
    }
  }
  // Each tile's halo, springs and codes.
  std::vector<int> local_node(n, -1);
  std::vector<int> local_spring(s, -1);
  tiles.halo_begin.assign(1, 0);
  tiles.spring_begin.assign(1, 0);
  tiles.code_begin.assign(1, 0);
  tiles.fits = true;
  std::vector<int> halo;
  std::vector<int> springs;
  for (std::size_t t = 0; t < kept; ++t) {
    const unsigned own_begin = tiles.owned_begin[t];
    const unsigned own_count = tiles.owned_begin[t + 1] - own_begin;
    for (unsigned q = 0; q < own_count; ++q) local_node[tiles.owned[own_begin + q]] = static_cast<int>(q);
    halo.clear();
    springs.clear();
    for (unsigned q = 0; q < own_count; ++q) {
      const auto i = static_cast<std::size_t>(tiles.owned[own_begin + q]);
      for (unsigned j = begin[i]; j < begin[i + 1]; ++j) {
        const std::size_t e = incidence[j] >> 1;
        const int other = (incidence[j] & 1u) != 0 ? second[e] : first[e];
        if (local_node[static_cast<std::size_t>(other)] == -1) {
          local_node[static_cast<std::size_t>(other)] = -2;  // seen
          halo.push_back(other);
        }
        if (local_spring[e] < 0) {
          local_spring[e] = 0;
          springs.push_back(static_cast<int>(e));
        }
      }
    }
    std::sort(halo.begin(), halo.end());
    std::sort(springs.begin(), springs.end());
    for (std::size_t h = 0; h < halo.size(); ++h) {
      local_node[static_cast<std::size_t>(halo[h])] = static_cast<int>(own_count + h);
    }
    for (std::size_t j = 0; j < springs.size(); ++j) {
      local_spring[static_cast<std::size_t>(springs[j])] = static_cast<int>(j);
    }
    const std::size_t nodes = own_count + halo.size();
    if (nodes >= (1u << 16) || springs.size() >= (1u << 15)) tiles.fits = false;
    tiles.max_nodes = std::max(tiles.max_nodes, static_cast<int>(nodes));
    tiles.max_springs = std::max(tiles.max_springs, static_cast<int>(springs.size()));
    tiles.halo.insert(tiles.halo.end(), halo.begin(), halo.end());
    tiles.halo_begin.push_back(static_cast<unsigned>(tiles.halo.size()));
    for (const int e : springs) {
      const auto a = static_cast<unsigned>(local_node[static_cast<std::size_t>(first[e])]);
      const auto b = static_cast<unsigned>(local_node[static_cast<std::size_t>(second[e])]);
      tiles.springs.push_back(e);
      tiles.ends.push_back(((a & 0xffffu) << 16) | (b & 0xffffu));
    }
    tiles.spring_begin.push_back(static_cast<unsigned>(tiles.springs.size()));
    for (unsigned q = 0; q < own_count; ++q) {
      const auto i = static_cast<std::size_t>(tiles.owned[own_begin + q]);
      for (unsigned j = begin[i]; j < begin[i + 1]; ++j) {
        const auto local = static_cast<unsigned>(local_spring[incidence[j] >> 1]);
        tiles.codes.push_back(static_cast<unsigned short>(((local << 1) | (incidence[j] & 1u)) & 0xffffu));
      }
      tiles.code_begin.push_back(static_cast<unsigned>(tiles.codes.size()));
    }
    for (unsigned q = 0; q < own_count; ++q) local_node[tiles.owned[own_begin + q]] = -1;
    for (const int h : halo) local_node[static_cast<std::size_t>(h)] = -1;
    for (const int e : springs) local_spring[static_cast<std::size_t>(e)] = -1;
  }
  tiles.device.count = static_cast<int>(kept);
  tiles.device.max_nodes = tiles.max_nodes;
  tiles.device.max_springs = tiles.max_springs;
  return tiles;
}

// What a thread keeps of its own particle (at most one per tile: kTileThreads) while the tile's
// springs are computed: its index, its springs' codes (the first kTileCodes) and mass.
struct OwnParticle {
  bool present;
  int i;
  int q;  // local node
  unsigned code_begin;
  unsigned code_count;
  unsigned code[kTileCodes / 2];  // two 16-bit codes each, the first in the low half
  double mass;
};

__device__ __forceinline__ OwnParticle own_particle(const DeviceTiles& tiles,
                                                    const WorldParameters& p, int tile) {
  OwnParticle own{};
  const unsigned begin = tiles.owned_begin[tile];
  const int count = static_cast<int>(tiles.owned_begin[tile + 1] - begin);
  own.q = static_cast<int>(threadIdx.x);
  own.present = own.q < count;
  if (!own.present) return own;
  own.i = tiles.owned[begin + own.q];
  own.code_begin = tiles.code_begin[begin + own.q];
  own.code_count = tiles.code_begin[begin + own.q + 1] - own.code_begin;
#pragma unroll
  for (int m = 0; m < kTileCodes / 2; ++m) {
    const int count = static_cast<int>(own.code_count);
    const unsigned low = 2 * m < count ? tiles.codes[own.code_begin + 2 * m] : 0u;
    const unsigned high = 2 * m + 1 < count ? tiles.codes[own.code_begin + 2 * m + 1] : 0u;
    own.code[m] = low | (high << 16);
  }
  own.mass = p.mass[own.i];
  return own;
}

// Visits the own particle's codes in order (registers first, then the rest from memory).
template <class Visit>
__device__ __forceinline__ void for_codes(const DeviceTiles& tiles, const OwnParticle& own,
                                          const Visit& visit) {
#pragma unroll
  for (int m = 0; m < kTileCodes; ++m) {
    if (m < static_cast<int>(own.code_count)) {
      visit(static_cast<unsigned short>((own.code[m / 2] >> (16 * (m % 2))) & 0xffffu));
    }
  }
  for (unsigned m = kTileCodes; m < own.code_count; ++m) visit(tiles.codes[own.code_begin + m]);
}

// Copies the tile's nodes' `Planes` planes of D values into shared memory by plane
// (node[plane * stride + local]): plane c < D of source 0 (x, at i * D + c), D <= c < 2 D of
// source 0 + nd (v), 2 D <= c of source 1 (d loss / d F, at i * D + c - 2 D). The loads of a few
// nodes are issued together. Returns the tile's node count.
template <int D, int Planes>
__device__ __forceinline__ int stage_nodes(const DeviceTiles& tiles, int tile, const double* state,
                                           const double* g_force, int nd, double* node,
                                           int stride) {
  constexpr int kChunk = 2;
  const unsigned own_begin = tiles.owned_begin[tile];
  const int own_count = static_cast<int>(tiles.owned_begin[tile + 1] - own_begin);
  const unsigned halo_begin = tiles.halo_begin[tile];
  const int count = own_count + static_cast<int>(tiles.halo_begin[tile + 1] - halo_begin);
  for (int base = static_cast<int>(threadIdx.x); base < count; base += kChunk * kTileThreads) {
    int index[kChunk];
#pragma unroll
    for (int m = 0; m < kChunk; ++m) {
      const int q = base + m * kTileThreads;
      index[m] = q < own_count ? tiles.owned[own_begin + q]
                               : (q < count ? tiles.halo[halo_begin + q - own_count] : -1);
    }
    double value[kChunk][Planes];
#pragma unroll
    for (int m = 0; m < kChunk; ++m) {
      if (index[m] < 0) continue;
#pragma unroll
      for (int c = 0; c < D; ++c) {
        value[m][c] = __ldcg(state + index[m] * D + c);
        value[m][D + c] = __ldcg(state + nd + index[m] * D + c);
        if constexpr (Planes > 2 * D) value[m][2 * D + c] = __ldcg(g_force + index[m] * D + c);
      }
    }
#pragma unroll
    for (int m = 0; m < kChunk; ++m) {
      if (index[m] < 0) continue;
#pragma unroll
      for (int c = 0; c < Planes; ++c) node[c * stride + base + m * kTileThreads] = value[m][c];
    }
  }
  return count;
}

// Spring (local) j's geometry from the staged nodes.
template <int D>
__device__ __forceinline__ Geometry<D> staged_geometry(const double* node, int stride,
                                                       unsigned ends, double stiffness,
                                                       double damping, double rest) {
  const int a = static_cast<int>(ends >> 16);
  const int b = static_cast<int>(ends & 0xffffu);
  double x_a[D];
  double v_a[D];
  double x_b[D];
  double v_b[D];
#pragma unroll
  for (int c = 0; c < D; ++c) {
    x_a[c] = node[c * stride + a];
    v_a[c] = node[(D + c) * stride + a];
    x_b[c] = node[c * stride + b];
    v_b[c] = node[(D + c) * stride + b];
  }
  Geometry<D> g(x_a, v_a, x_b, v_b, stiffness, damping, rest);
  g.a = a;
  g.b = b;
  return g;
}

// The ground's force (and friction) on an own particle at (x, v), added to `force`.
template <int D, bool Friction>
__device__ __forceinline__ void add_ground(const DeviceSystem& system, const double (&x)[D],
                                           const double (&v)[D], double (&force)[D]) {
  if (!system.ground_enabled) return;
  double x_up = 0.0;
  double v_up = 0.0;
#pragma unroll
  for (int c = 0; c < D; ++c) {
    x_up = c == system.up_axis ? x[c] : x_up;
    v_up = c == system.up_axis ? v[c] : v_up;
  }
  const double ground = ground_force(system, x_up, v_up);
#pragma unroll
  for (int c = 0; c < D; ++c) force[c] += c == system.up_axis ? ground : 0.0;
  if constexpr (Friction) add_ground_friction<D>(system, ground, v, force);
}

// Forward: history [T + 1, 2, N, D] holds the initial state in history[0]; step t reads state t
// (written by other blocks: loaded past L1) and writes state t + 1. Shared memory: the nodes'
// x and v by plane [2 D][max_nodes], then the springs' pulls by plane [D][max_springs].
template <int D, bool Friction>
__global__ void __launch_bounds__(kTileThreads, 3)
    forward_tiled(DeviceSystem system, WorldArrays w, std::size_t world, DeviceTiles tiles,
                  double dt, int steps, double* history) {
  extern __shared__ double shared[];
  constexpr int kChunk = 2;
  const int node_stride = tiles.max_nodes;
  const int spring_stride = tiles.max_springs;
  double* node = shared;
  double* pull = shared + 2 * D * node_stride;
  const int nd = system.num_particles * D;
  const WorldParameters p = parameters_of(w, system, world);
  cg::grid_group grid = cg::this_grid();
  for (int t = 0; t < steps; ++t) {
    const double* current = history + static_cast<std::size_t>(t) * 2 * nd;
    double* next = history + static_cast<std::size_t>(t + 1) * 2 * nd;
    for (int tile = static_cast<int>(blockIdx.x); tile < tiles.count;
         tile += static_cast<int>(gridDim.x)) {
      const OwnParticle own = own_particle(tiles, p, tile);
      stage_nodes<D, 2 * D>(tiles, tile, current, nullptr, nd, node, node_stride);
      __syncthreads();
      // Each of the tile's springs once: its pull -(magnitude u), which its first end
      // subtracts and its second end adds.
      const unsigned spring_begin = tiles.spring_begin[tile];
      const int spring_count = static_cast<int>(tiles.spring_begin[tile + 1] - spring_begin);
      for (int base = static_cast<int>(threadIdx.x); base < spring_count;
           base += kChunk * kTileThreads) {
        int e[kChunk];
        unsigned ends[kChunk];
#pragma unroll
        for (int m = 0; m < kChunk; ++m) {
          const int j = base + m * kTileThreads;
          e[m] = j < spring_count ? tiles.springs[spring_begin + j] : -1;
          ends[m] = j < spring_count ? tiles.ends[spring_begin + j] : 0u;
        }
        double k[kChunk];
        double c[kChunk];
        double rest[kChunk];
#pragma unroll
        for (int m = 0; m < kChunk; ++m) {
          k[m] = e[m] >= 0 ? p.stiffness[e[m]] : 0.0;
          c[m] = e[m] >= 0 ? p.damping[e[m]] : 0.0;
          rest[m] = e[m] >= 0 ? p.rest[e[m]] : 0.0;
        }
#pragma unroll
        for (int m = 0; m < kChunk; ++m) {
          if (e[m] < 0) continue;
          const Geometry<D> g = staged_geometry<D>(node, node_stride, ends[m], k[m], c[m], rest[m]);
#pragma unroll
          for (int d = 0; d < D; ++d) {
            pull[d * spring_stride + base + m * kTileThreads] = -(g.magnitude * g.unit[d]);
          }
        }
      }
      __syncthreads();
      if (own.present) {
        double force[D];
        double x[D];
        double v[D];
#pragma unroll
        for (int d = 0; d < D; ++d) {
          force[d] = 0.0;
          x[d] = node[d * node_stride + own.q];
          v[d] = node[(D + d) * node_stride + own.q];
        }
        for_codes(tiles, own, [&](unsigned short code) {
          const int j = code >> 1;
#pragma unroll
          for (int d = 0; d < D; ++d) {
            const double value = pull[d * spring_stride + j];
            force[d] = (code & 1u) ? force[d] - value : force[d] + value;
          }
        });
        add_ground<D, Friction>(system, x, v, force);
        const double dt_over_m = dt / own.mass;
#pragma unroll
        for (int d = 0; d < D; ++d) {
          const double v1 = v[d] + dt_over_m * force[d] + dt * system.gravity[d];
          const double x1 = x[d] + dt * v1;
          next[own.i * D + d] = x1;
          next[nd + own.i * D + d] = v1;
        }
      }
      __syncthreads();  // the next tile reuses the shared memory
    }
    grid.sync();
  }
}

// Reverse: `adjoint` [2, N, D] holds d loss / d final state and ends with d loss / d initial
// state; g_forces [2][N, D] (steps alternate) is what the tiles share per step, partial [2, N, D]
// each own particle's adjoint before its springs (start_adjoint of the gathering kernels).
// Shared memory: the nodes' x, v and d loss / d F by plane [3 D][max_nodes], then each spring's
// shares of d loss / d x, d loss / d v and F by plane [3 D][max_springs].
template <int D, bool Friction>
__global__ void __launch_bounds__(kTileThreads, 2)
    reverse_tiled(DeviceSystem system, WorldArrays w, std::size_t world, DeviceTiles tiles,
                  double dt, int steps, const double* history, double* g_forces, double* partial,
                  double* adjoint) {
  extern __shared__ double shared[];
  constexpr int kChunk = 2;
  const int node_stride = tiles.max_nodes;
  const int spring_stride = tiles.max_springs;
  double* node = shared;
  double* share = shared + 3 * D * node_stride;
  const int n = system.num_particles;
  const int nd = n * D;
  const WorldParameters p = parameters_of(w, system, world);
  const WorldGradients g = gradients_of(w, system, world);
  cg::grid_group grid = cg::this_grid();
  if (steps == 0) return;
  // Step T - 1's first part, as the gathering kernels do it.
  for (int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x); i < n;
       i += static_cast<int>(gridDim.x * blockDim.x)) {
    const double* input = history + static_cast<std::size_t>(steps - 1) * 2 * nd;
    double x[D];
    double g_x[D];
    double g_v[D];
    for (int d = 0; d < D; ++d) {
      x[d] = input[i * D + d];
      g_x[d] = adjoint[i * D + d];
      g_v[d] = adjoint[nd + i * D + d];
    }
    start_adjoint<D, Friction>(system, p, dt, i, x, input + nd + i * D, g_x, g_v,
                               g_forces + ((steps - 1) & 1) * nd, partial);
  }
  grid.sync();
  for (int t = steps - 1; t >= 0; --t) {
    const double* state = history + static_cast<std::size_t>(t) * 2 * nd;
    const double* g_force = g_forces + (t & 1) * nd;
    for (int tile = static_cast<int>(blockIdx.x); tile < tiles.count;
         tile += static_cast<int>(gridDim.x)) {
      const OwnParticle own = own_particle(tiles, p, tile);
      double g_x[D];
      double g_v[D];
      double x0[D];
      if (own.present) {
#pragma unroll
        for (int d = 0; d < D; ++d) {
          // Written by another block before the first step (then by this thread): past L1.
          g_x[d] = __ldcg(partial + own.i * D + d);
          g_v[d] = __ldcg(partial + nd + own.i * D + d);
          x0[d] = t > 0 ? state[-2 * nd + own.i * D + d] : 0.0;
        }
      }
      stage_nodes<D, 3 * D>(tiles, tile, state, g_force, nd, node, node_stride);
      const int own_count =
          static_cast<int>(tiles.owned_begin[tile + 1] - tiles.owned_begin[tile]);
      __syncthreads();
      const unsigned spring_begin = tiles.spring_begin[tile];
      const int spring_count = static_cast<int>(tiles.spring_begin[tile + 1] - spring_begin);
      for (int base = static_cast<int>(threadIdx.x); base < spring_count;
           base += kChunk * kTileThreads) {
        int e[kChunk];
        unsigned ends[kChunk];
#pragma unroll
        for (int m = 0; m < kChunk; ++m) {
          const int j = base + m * kTileThreads;
          e[m] = j < spring_count ? tiles.springs[spring_begin + j] : -1;
          ends[m] = j < spring_count ? tiles.ends[spring_begin + j] : 0u;
        }
        double k[kChunk];
        double c[kChunk];
        double rest[kChunk];
#pragma unroll
        for (int m = 0; m < kChunk; ++m) {
          k[m] = e[m] >= 0 ? p.stiffness[e[m]] : 0.0;
          c[m] = e[m] >= 0 ? p.damping[e[m]] : 0.0;
          rest[m] = e[m] >= 0 ? p.rest[e[m]] : 0.0;
        }
#pragma unroll
        for (int m = 0; m < kChunk; ++m) {
          if (e[m] < 0) continue;
          const int j = base + m * kTileThreads;
          const Geometry<D> s =
              staged_geometry<D>(node, node_stride, ends[m], k[m], c[m], rest[m]);
          // The gathering kernels' adjoint of one spring, in the same order.
          double g_f[D];
          double g_magnitude = 0.0;
#pragma unroll
          for (int d = 0; d < D; ++d) {
            g_f[d] = node[(2 * D + d) * node_stride + s.a] - node[(2 * D + d) * node_stride + s.b];
            g_magnitude += g_f[d] * s.unit[d];
          }
          if (s.a < own_count) {  // the first end is the tile's own: its gradients are ours
            g.stiffness[e[m]] += g_magnitude * (s.length - rest[m]);
            g.damping[e[m]] += g_magnitude * s.closing_speed;
            g.rest[e[m]] += -g_magnitude * k[m];
          }
          double g_unit[D];
          double along = 0.0;
#pragma unroll
          for (int d = 0; d < D; ++d) {
            g_unit[d] = s.magnitude * g_f[d] + g_magnitude * c[m] * s.closing[d];
            along += g_unit[d] * s.unit[d];
          }
#pragma unroll
          for (int d = 0; d < D; ++d) {
            const double g_d =
                (g_unit[d] - along * s.unit[d]) * s.inverse_length + g_magnitude * k[m] * s.unit[d];
            share[d * spring_stride + j] = g_d;
            share[(D + d) * spring_stride + j] = g_magnitude * c[m] * s.unit[d];
            share[(2 * D + d) * spring_stride + j] = -(s.magnitude * s.unit[d]);
          }
        }
      }
      __syncthreads();
      if (own.present) {
        double x[D];
        double v[D];
        double force[D];
        double g_force_own[D];
#pragma unroll
        for (int d = 0; d < D; ++d) {
          x[d] = node[d * node_stride + own.q];
          v[d] = node[(D + d) * node_stride + own.q];
          g_force_own[d] = node[(2 * D + d) * node_stride + own.q];
          force[d] = 0.0;
        }
        for_codes(tiles, own, [&](unsigned short code) {
          const int j = code >> 1;
          const bool first_end = (code & 1u) != 0;
#pragma unroll
          for (int d = 0; d < D; ++d) {
            const double g_d = share[d * spring_stride + j];
            const double g_closing = share[(D + d) * spring_stride + j];
            const double value = share[(2 * D + d) * spring_stride + j];
            g_x[d] = first_end ? g_x[d] - g_d : g_x[d] + g_d;
            g_v[d] = first_end ? g_v[d] - g_closing : g_v[d] + g_closing;
            force[d] = first_end ? force[d] - value : force[d] + value;
          }
        });
        add_ground<D, Friction>(system, x, v, force);
        double total = 0.0;
#pragma unroll
        for (int d = 0; d < D; ++d) total += g_force_own[d] * force[d];
        g.mass[own.i] -= total / own.mass;
        if (t > 0) {
          const double* input = state - 2 * nd;
          start_adjoint<D, Friction>(system, p, dt, own.i, x0, input + nd + own.i * D, g_x, g_v,
                                     g_forces + ((t - 1) & 1) * nd, partial);
        } else {
#pragma unroll
          for (int d = 0; d < D; ++d) {
            adjoint[own.i * D + d] = g_x[d];
            adjoint[nd + own.i * D + d] = g_v[d];
          }
        }
      }
      __syncthreads();  // the next tile reuses the shared memory
    }
    grid.sync();
  }
}

}  // namespace maya::dynamics::detail
