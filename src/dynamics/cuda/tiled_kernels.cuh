// The tiled kernels: one world over a cooperative grid, cut into tiles of nearby particles. Per
// step a block stages a tile's states (its own particles and the other ends of their springs)
// in shared memory, computes each of the tile's springs once from there, and sums every own
// particle's springs in spring order from shared memory; one grid-wide synchronization per step.
// The bits are the gathering kernels'. A variant (MAYA_SPRING_KERNEL=tiled): on the H200 at W2
// G = 512 and 1024 its forward pass is 4-11% faster than the gathering kernels' and its reverse
// pass 14-22% slower (docs/gpu.md, "What the profiles showed"). Private to spring_rollout.cu.
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
  int max_nodes;                // the largest tile's own + halo particles
  int max_springs;              // the largest tile's springs
  const unsigned* owned_begin;  // [count + 1]
  const int* owned;             // [N]
  const unsigned* halo_begin;   // [count + 1]
  const int* halo;
  const unsigned* spring_begin;  // [count + 1]
  const int* springs;
  const unsigned* ends;
  const unsigned* code_begin;   // [N + 1], by owned position
  const unsigned short* codes;  // [2 S]
  int total_springs;            // springs over all tiles (a spring joining two tiles is in both)
  const unsigned* owner_entry;  // [S]: spring e's place in the tile of its first end
  // Per launch: the world's stiffness, damping and rest lengths in tile order [3][total_springs]
  // (filled at the start of each kernel), and the reverse pass's parameter gradients in tile
  // order [3][total_springs] (each spring's copy in the tile of its first end accumulates).
  double* values;
  double* gradients;
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
  std::vector<unsigned> owner_entry;
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
  tiles.owner_entry.assign(s, 0);
  tiles.fits = true;
  std::vector<int> halo;
  std::vector<int> springs;
  for (std::size_t t = 0; t < kept; ++t) {
    const unsigned own_begin = tiles.owned_begin[t];
    const unsigned own_count = tiles.owned_begin[t + 1] - own_begin;
    for (unsigned q = 0; q < own_count; ++q)
      local_node[tiles.owned[own_begin + q]] = static_cast<int>(q);
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
      if (a < own_count) {
        tiles.owner_entry[static_cast<std::size_t>(e)] =
            static_cast<unsigned>(tiles.springs.size());
      }
      tiles.springs.push_back(e);
      tiles.ends.push_back(((a & 0xffffu) << 16) | (b & 0xffffu));
    }
    tiles.spring_begin.push_back(static_cast<unsigned>(tiles.springs.size()));
    for (unsigned q = 0; q < own_count; ++q) {
      const auto i = static_cast<std::size_t>(tiles.owned[own_begin + q]);
      for (unsigned j = begin[i]; j < begin[i + 1]; ++j) {
        const auto local = static_cast<unsigned>(local_spring[incidence[j] >> 1]);
        tiles.codes.push_back(
            static_cast<unsigned short>(((local << 1) | (incidence[j] & 1u)) & 0xffffu));
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
  tiles.device.total_springs = static_cast<int>(tiles.springs.size());
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

// The world's spring parameters in tile order (tiles.values), and in the reverse pass the
// gradients' accumulators zeroed; the grid synchronizes after it.
__device__ __forceinline__ void fill_tile_values(const DeviceTiles& tiles, const WorldParameters& p,
                                                 bool zero_gradients) {
  const int total = tiles.total_springs;
  for (int j = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x); j < total;
       j += static_cast<int>(gridDim.x * blockDim.x)) {
    const int e = tiles.springs[j];
    tiles.values[j] = p.stiffness[e];
    tiles.values[total + j] = p.damping[e];
    tiles.values[2 * total + j] = p.rest[e];
    if (zero_gradients) {
      tiles.gradients[j] = 0.0;
      tiles.gradients[total + j] = 0.0;
      tiles.gradients[2 * total + j] = 0.0;
    }
  }
}

// Stages tile `tile` in shared memory: its nodes' `Planes` planes of D values by plane
// (node[plane * node_stride + local]: planes c < D x, D <= c < 2 D v, from state [2, N, D];
// 2 D <= c d loss / d F, from g_force [N, D]), and its springs' stiffness, damping and rest
// length by plane (spring[plane * spring_stride + j]) and ends. Each thread issues the loads of
// its kNodes nodes and kSprings springs together before it stores them, so that one round of
// memory latency stages a tile of up to 256 kNodes nodes and 256 kSprings springs.
template <int D, int Planes, int kNodes, int kSprings>
__device__ __forceinline__ void stage_tile(const DeviceTiles& tiles, int tile, const double* state,
                                           const double* g_force, int nd, double* node,
                                           int node_stride, double* spring, unsigned* ends,
                                           int spring_stride) {
  const unsigned own_begin = tiles.owned_begin[tile];
  const int own_count = static_cast<int>(tiles.owned_begin[tile + 1] - own_begin);
  const unsigned halo_begin = tiles.halo_begin[tile];
  const int node_count = own_count + static_cast<int>(tiles.halo_begin[tile + 1] - halo_begin);
  const unsigned spring_begin = tiles.spring_begin[tile];
  const int spring_count = static_cast<int>(tiles.spring_begin[tile + 1] - spring_begin);
  const int total = tiles.total_springs;
  const int rounds = max((node_count + kNodes * kTileThreads - 1) / (kNodes * kTileThreads),
                         (spring_count + kSprings * kTileThreads - 1) / (kSprings * kTileThreads));
  for (int r = 0; r < rounds; ++r) {
    int index[kNodes];
#pragma unroll
    for (int m = 0; m < kNodes; ++m) {
      const int q = static_cast<int>(threadIdx.x) + (r * kNodes + m) * kTileThreads;
      index[m] = q < own_count ? tiles.owned[own_begin + q]
                               : (q < node_count ? tiles.halo[halo_begin + q - own_count] : -1);
    }
    double values[kSprings][3];
    unsigned end[kSprings];
#pragma unroll
    for (int m = 0; m < kSprings; ++m) {
      const int j = static_cast<int>(threadIdx.x) + (r * kSprings + m) * kTileThreads;
      if (j < spring_count) {
        const unsigned at = spring_begin + j;
        values[m][0] = __ldcg(tiles.values + at);
        values[m][1] = __ldcg(tiles.values + total + at);
        values[m][2] = __ldcg(tiles.values + 2 * total + at);
        end[m] = tiles.ends[at];
      }
    }
    double value[kNodes][Planes];
#pragma unroll
    for (int m = 0; m < kNodes; ++m) {
      if (index[m] < 0) continue;
#pragma unroll
      for (int c = 0; c < D; ++c) {
        value[m][c] = __ldcg(state + index[m] * D + c);
        value[m][D + c] = __ldcg(state + nd + index[m] * D + c);
        if constexpr (Planes > 2 * D) value[m][2 * D + c] = __ldcg(g_force + index[m] * D + c);
      }
    }
#pragma unroll
    for (int m = 0; m < kSprings; ++m) {
      const int j = static_cast<int>(threadIdx.x) + (r * kSprings + m) * kTileThreads;
      if (j < spring_count) {
        spring[j] = values[m][0];
        spring[spring_stride + j] = values[m][1];
        spring[2 * spring_stride + j] = values[m][2];
        ends[j] = end[m];
      }
    }
#pragma unroll
    for (int m = 0; m < kNodes; ++m) {
      if (index[m] < 0) continue;
      const int q = static_cast<int>(threadIdx.x) + (r * kNodes + m) * kTileThreads;
#pragma unroll
      for (int c = 0; c < Planes; ++c) node[c * node_stride + q] = value[m][c];
    }
  }
}

// Spring j's geometry from the staged nodes.
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

// Shared memory of a block: nodes [Planes][max_nodes], springs [SpringPlanes][max_springs]
// doubles, then the springs' ends [max_springs].
struct TileShared {
  double* node;
  double* spring;
  unsigned* ends;
};
template <int Planes, int SpringPlanes>
__device__ __forceinline__ TileShared tile_shared(double* shared, const DeviceTiles& tiles) {
  double* spring = shared + Planes * tiles.max_nodes;
  return {shared, spring, reinterpret_cast<unsigned*>(spring + SpringPlanes * tiles.max_springs)};
}

// Forward: history [T + 1, 2, N, D] holds the initial state in history[0]; step t reads state t
// (written by other blocks: loaded past L1) and writes state t + 1. Shared memory: the nodes'
// x and v [2 D][max_nodes]; the springs' stiffness, damping and rest length [3][max_springs],
// which each spring's thread overwrites with its pull [D][max_springs]; the ends. Deep: a tile
// of up to 512 nodes and 1280 springs staged in one round of loads (2 blocks per multiprocessor
// by registers), else 256 nodes and 768 springs per round (3 blocks).
template <int D, bool Friction, bool Deep>
__global__ void __launch_bounds__(kTileThreads, Deep ? 2 : 3)
    forward_tiled(DeviceSystem system, WorldArrays w, std::size_t world, DeviceTiles tiles,
                  double dt, int steps, double* history) {
  extern __shared__ double shared[];
  const int node_stride = tiles.max_nodes;
  const int spring_stride = tiles.max_springs;
  const TileShared at = tile_shared<2 * D, 3>(shared, tiles);
  const int nd = system.num_particles * D;
  const WorldParameters p = parameters_of(w, system, world);
  cg::grid_group grid = cg::this_grid();
  fill_tile_values(tiles, p, false);
  grid.sync();
  for (int t = 0; t < steps; ++t) {
    const double* current = history + static_cast<std::size_t>(t) * 2 * nd;
    double* next = history + static_cast<std::size_t>(t + 1) * 2 * nd;
    for (int tile = static_cast<int>(blockIdx.x); tile < tiles.count;
         tile += static_cast<int>(gridDim.x)) {
      const OwnParticle own = own_particle(tiles, p, tile);
      stage_tile<D, 2 * D, Deep ? 2 : 1, Deep ? 5 : 3>(tiles, tile, current, nullptr, nd, at.node,
                                                       node_stride, at.spring, at.ends,
                                                       spring_stride);
      __syncthreads();
      // Each of the tile's springs once: its pull -(magnitude u), which its first end
      // subtracts and its second end adds.
      const int spring_count =
          static_cast<int>(tiles.spring_begin[tile + 1] - tiles.spring_begin[tile]);
      for (int j = static_cast<int>(threadIdx.x); j < spring_count; j += kTileThreads) {
        const Geometry<D> g =
            staged_geometry<D>(at.node, node_stride, at.ends[j], at.spring[j],
                               at.spring[spring_stride + j], at.spring[2 * spring_stride + j]);
#pragma unroll
        for (int d = 0; d < D; ++d) at.spring[d * spring_stride + j] = -(g.magnitude * g.unit[d]);
      }
      __syncthreads();
      if (own.present) {
        double force[D];
        double x[D];
        double v[D];
#pragma unroll
        for (int d = 0; d < D; ++d) {
          force[d] = 0.0;
          x[d] = at.node[d * node_stride + own.q];
          v[d] = at.node[(D + d) * node_stride + own.q];
        }
        for_codes(tiles, own, [&](unsigned short code) {
          const int j = code >> 1;
#pragma unroll
          for (int d = 0; d < D; ++d) {
            const double value = at.spring[d * spring_stride + j];
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
// Shared memory: the nodes' x, v and d loss / d F [3 D][max_nodes]; the springs' stiffness,
// damping and rest length, which each spring's thread overwrites with its shares of d loss / d x,
// d loss / d v and F [3 D][max_springs]; the ends. The parameter gradients accumulate in tile
// order (tiles.gradients, coalesced) and are written to the world's arrays at the end. Deep as
// for the forward kernel (both take 2 blocks per multiprocessor here).
template <int D, bool Friction, bool Deep>
__global__ void __launch_bounds__(kTileThreads, 2)
    reverse_tiled(DeviceSystem system, WorldArrays w, std::size_t world, DeviceTiles tiles,
                  double dt, int steps, const double* history, double* g_forces, double* partial,
                  double* adjoint) {
  extern __shared__ double shared[];
  const int node_stride = tiles.max_nodes;
  const int spring_stride = tiles.max_springs;
  const TileShared at = tile_shared<3 * D, 3 * D>(shared, tiles);
  const int n = system.num_particles;
  const int nd = n * D;
  const int total = tiles.total_springs;
  const WorldParameters p = parameters_of(w, system, world);
  const WorldGradients g = gradients_of(w, system, world);
  cg::grid_group grid = cg::this_grid();
  if (steps == 0) return;
  fill_tile_values(tiles, p, true);
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
      stage_tile<D, 3 * D, Deep ? 2 : 1, Deep ? 5 : 3>(
          tiles, tile, state, g_force, nd, at.node, node_stride, at.spring, at.ends, spring_stride);
      const int own_count = static_cast<int>(tiles.owned_begin[tile + 1] - tiles.owned_begin[tile]);
      const unsigned spring_begin = tiles.spring_begin[tile];
      const int spring_count = static_cast<int>(tiles.spring_begin[tile + 1] - spring_begin);
      __syncthreads();
      for (int j = static_cast<int>(threadIdx.x); j < spring_count; j += kTileThreads) {
        const double k = at.spring[j];
        const double c = at.spring[spring_stride + j];
        const double rest = at.spring[2 * spring_stride + j];
        const Geometry<D> s = staged_geometry<D>(at.node, node_stride, at.ends[j], k, c, rest);
        // The gathering kernels' adjoint of one spring, in the same order.
        double g_f[D];
        double g_magnitude = 0.0;
#pragma unroll
        for (int d = 0; d < D; ++d) {
          g_f[d] =
              at.node[(2 * D + d) * node_stride + s.a] - at.node[(2 * D + d) * node_stride + s.b];
          g_magnitude += g_f[d] * s.unit[d];
        }
        if (s.a < own_count) {  // the first end is the tile's own: this copy accumulates
          // (zeroed by other blocks before the first step: past L1)
          double* gradient = tiles.gradients + spring_begin + j;
          gradient[0] = __ldcg(gradient) + g_magnitude * (s.length - rest);
          gradient[total] = __ldcg(gradient + total) + g_magnitude * s.closing_speed;
          gradient[2 * total] = __ldcg(gradient + 2 * total) + -g_magnitude * k;
        }
        double g_unit[D];
        double along = 0.0;
#pragma unroll
        for (int d = 0; d < D; ++d) {
          g_unit[d] = s.magnitude * g_f[d] + g_magnitude * c * s.closing[d];
          along += g_unit[d] * s.unit[d];
        }
#pragma unroll
        for (int d = 0; d < D; ++d) {
          const double g_d =
              (g_unit[d] - along * s.unit[d]) * s.inverse_length + g_magnitude * k * s.unit[d];
          at.spring[d * spring_stride + j] = g_d;
          at.spring[(D + d) * spring_stride + j] = g_magnitude * c * s.unit[d];
          at.spring[(2 * D + d) * spring_stride + j] = -(s.magnitude * s.unit[d]);
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
          x[d] = at.node[d * node_stride + own.q];
          v[d] = at.node[(D + d) * node_stride + own.q];
          g_force_own[d] = at.node[(2 * D + d) * node_stride + own.q];
          force[d] = 0.0;
        }
        for_codes(tiles, own, [&](unsigned short code) {
          const int j = code >> 1;
          const bool first_end = (code & 1u) != 0;
#pragma unroll
          for (int d = 0; d < D; ++d) {
            const double g_d = at.spring[d * spring_stride + j];
            const double g_closing = at.spring[(D + d) * spring_stride + j];
            const double value = at.spring[(2 * D + d) * spring_stride + j];
            g_x[d] = first_end ? g_x[d] - g_d : g_x[d] + g_d;
            g_v[d] = first_end ? g_v[d] - g_closing : g_v[d] + g_closing;
            force[d] = first_end ? force[d] - value : force[d] + value;
          }
        });
        add_ground<D, Friction>(system, x, v, force);
        double total_power = 0.0;
#pragma unroll
        for (int d = 0; d < D; ++d) total_power += g_force_own[d] * force[d];
        g.mass[own.i] -= total_power / own.mass;
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
  // Each spring's gradients from its copy in its first end's tile.
  for (int e = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x); e < system.num_springs;
       e += static_cast<int>(gridDim.x * blockDim.x)) {
    const unsigned j = tiles.owner_entry[e];
    g.stiffness[e] = __ldcg(tiles.gradients + j);
    g.damping[e] = __ldcg(tiles.gradients + total + j);
    g.rest[e] = __ldcg(tiles.gradients + 2 * total + j);
  }
}

}  // namespace maya::dynamics::detail
