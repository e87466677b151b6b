// Rigid rollouts of many worlds and their reverse sweeps on a CUDA GPU: the host side and the
// kernels of rigid_rollout_gradient. Without body-body contact a body's step reads only its own
// state and parameters (ground contacts act on one body), so one thread carries one body of one
// world through all T steps: each direction of the whole rollout is one launch with no
// synchronization between threads.
//
// The arithmetic is contact_kernel.hpp's, compiled for the device: every contact in the order of
// for_each_ground_contact (a body's point features in order, then the grounds), the integrator and
// the adjoint line for line as in rigid_step.cpp, so results agree with the CPU fused step up to
// the contraction of multiply-adds and the last bit of sin, cos and tanh. The forward pass keeps
// every state [T + 1, 6, E K] (one plane per coordinate, so a warp's stores are contiguous); the
// reverse pass reads them back and recomputes each contact.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "maya/core/error.hpp"
#include "rigid/contact_kernel.hpp"
#include "rigid/cuda/rigid_rollout_cuda.hpp"
#include "rigid/pair_collision.hpp"
#include "tensor/cuda/kept_buffers.hpp"

namespace maya::rigid::detail {
namespace {

maya::detail::KeptBuffers& buffers() {
  static maya::detail::KeptBuffers instance("rigid_rollout_gradient");
  return instance;
}

void check(cudaError_t status, const char* what) { buffers().check(status, what); }

// Everything a thread reads, by value in the kernel's parameters.
struct Rollout {
  std::int64_t worlds;
  std::int64_t bodies;
  std::int64_t vertices;
  std::int32_t num_grounds;
  const std::int32_t* first_vertex;
  const std::int32_t* vertex_count;
  const GroundPlane* grounds;
  double gravity[2];
  double damping[3];  // linear, linear, angular
  double smoothing;
  NormalForceLaw law;
  double dt;
  std::int64_t steps;
  const double* mass;
  const double* inertia;
  const double* vertex_values;
  const double* radius;
  const double* applied;
  const double* stiffness;
  const double* damping_coefficient;
  const double* friction;
};

// One thread's body: which world, which body, its constants.
struct Body {
  std::int64_t world;
  std::int64_t body;
  std::int32_t first;
  std::int32_t count;
  double moment[3];  // m, m, I
  double radius;
  Material material;
  const double* vertices;  // the world's [V, 2]
};

__device__ Body body_of(const Rollout& r, std::int64_t index) {
  Body b;
  b.world = index / r.bodies;
  b.body = index % r.bodies;
  b.first = r.first_vertex[b.body];
  b.count = r.vertex_count[b.body];
  b.moment[0] = r.mass[index];
  b.moment[1] = b.moment[0];
  b.moment[2] = r.inertia[index];
  b.radius = r.radius[index];
  b.material = {r.stiffness[b.world], r.damping_coefficient[b.world], r.friction[b.world],
                r.smoothing, r.law};
  b.vertices = r.vertex_values + 2 * b.world * r.vertices;
  return b;
}

// Index of coordinate j (0..5: pose then velocity) of body k of world w in an [E, 2, K, 3] array.
__device__ std::int64_t state_index(const Rollout& r, const Body& b, int j) {
  return b.world * 6 * r.bodies + (j / 3) * 3 * r.bodies + 3 * b.body + j % 3;
}

// The body as body 0 of a one-body view: its frame and radius; vertices keep their world-wide
// indices (a ground contact touches only the body's own vertices). Made where it is used, so that
// the frame and the radius stay in registers.
__device__ ContactInputs inputs_of(const Rollout& r, const Body& b, const BodyFrame& frame) {
  return {&frame, b.vertices, &b.radius, r.grounds, nullptr};
}

// for_each_ground_contact restricted to one body: its point features in order, then the grounds.
template <class Visit>
__device__ void for_each_body_ground_contact(const Rollout& r, const Body& b,
                                             const BodyFrame& frame, Visit&& visit) {
  const ContactInputs in = inputs_of(r, b, frame);
  for (std::int32_t i = 0; i < b.count; ++i) {
    const std::int32_t feature = b.first < 0 ? -1 : b.first + i;
    for (std::int32_t g = 0; g < r.num_grounds; ++g) {
      const Geometry geometry = contact_geometry(in, ContactKind::kGround, -1, g, 0, feature);
      if (geometry.depth > 0.0) visit(g, feature, geometry);
    }
  }
}

__global__ void forward_kernel(Rollout r, const double* initial, double* history,
                               double* final_state) {
  const std::int64_t index = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::int64_t lanes = r.worlds * r.bodies;
  if (index >= lanes) return;
  BodyFrame frame;
  const Body b = body_of(r, index);
  double s[6];
  for (int j = 0; j < 6; ++j) s[j] = initial[state_index(r, b, j)];
  double applied[3];
  for (int j = 0; j < 3; ++j) applied[j] = r.applied[3 * index + j];
  const double gravity[3] = {r.gravity[0], r.gravity[1], 0.0};
  for (std::int64_t t = 0; t < r.steps; ++t) {
    for (int j = 0; j < 6; ++j) history[(t * 6 + j) * lanes + index] = s[j];
    fill_frames(s, 1, &frame);
    double wrench[3] = {applied[0], applied[1], applied[2]};
    for_each_body_ground_contact(r, b, frame, [&](std::int32_t, std::int32_t, const Geometry& g) {
      const Force f = contact_force(g, nullptr, frame, b.material);
      apply_wrench(f, wrench, -1, 0);
    });
    for (int j = 0; j < 3; ++j) {
      const double acceleration = wrench[j] / b.moment[j] + gravity[j] - r.damping[j] * s[3 + j];
      const double v1 = s[3 + j] + acceleration * r.dt;
      s[j] = s[j] + v1 * r.dt;
      s[3 + j] = v1;
    }
  }
  for (int j = 0; j < 6; ++j) {
    history[(r.steps * 6 + j) * lanes + index] = s[j];
    final_state[state_index(r, b, j)] = s[j];
  }
}

struct ReverseOutputs {
  double* state;     // [E, 2, K, 3]
  double* mass;      // [E, K]
  double* inertia;   // [E, K]
  double* vertices;  // [E, V, 2], zeroed before the launch
  double* radius;    // [E, K]
  double* applied;   // [E, K, 3]
  double* material;  // [E K, 3]: this body's share of the world's material gradient
};

__global__ void reverse_kernel(Rollout r, const double* history, const double* final_adjoint,
                               ReverseOutputs out) {
  const std::int64_t index = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::int64_t lanes = r.worlds * r.bodies;
  if (index >= lanes) return;
  BodyFrame frame;
  const Body b = body_of(r, index);
  double applied[3];
  for (int j = 0; j < 3; ++j) applied[j] = r.applied[3 * index + j];
  double g_pose1[3];
  double g_velocity1[3];
  for (int j = 0; j < 3; ++j) {
    g_pose1[j] = final_adjoint[state_index(r, b, j)];
    g_velocity1[j] = final_adjoint[state_index(r, b, 3 + j)];
  }
  double g_mass = 0.0;
  double g_inertia = 0.0;
  double g_radius = 0.0;
  double g_applied[3] = {0.0, 0.0, 0.0};
  double g_material[3] = {0.0, 0.0, 0.0};
  double* g_vertices = out.vertices + 2 * b.world * r.vertices;
  for (std::int64_t t = r.steps; t-- > 0;) {
    double s[6];
    for (int j = 0; j < 6; ++j) s[j] = history[(t * 6 + j) * lanes + index];
    fill_frames(s, 1, &frame);
    // x1 = x + dt v1, v1 = v + dt (W / M + g - lambda v): the adjoint reaching v1 is
    // g_v1 + dt g_x1, and d loss / d W = dt (g_v1 + dt g_x1) / M.
    double g_velocity1_total[3];
    double g_wrench[3];
    for (int j = 0; j < 3; ++j) {
      g_velocity1_total[j] = g_velocity1[j] + r.dt * g_pose1[j];
      g_wrench[j] = r.dt * g_velocity1_total[j] / b.moment[j];
    }
    double wrench[3] = {applied[0], applied[1], applied[2]};
    double pose_sink[3] = {0.0, 0.0, 0.0};
    double velocity_sink[3] = {0.0, 0.0, 0.0};
    GradientSinks sinks;
    sinks.pose = pose_sink;
    sinks.velocity = velocity_sink;
    sinks.vertices = g_vertices;
    sinks.radius = &g_radius;
    const ContactInputs in = inputs_of(r, b, frame);
    for_each_body_ground_contact(
        r, b, frame, [&](std::int32_t g, std::int32_t feature, const Geometry& geometry) {
          const Force f = contact_force(geometry, nullptr, frame, b.material);
          apply_wrench(f, wrench, -1, 0);
          const GeometryAdjoint adjoint = contact_force_backward(
              geometry, f, nullptr, frame, -1, 0, b.material, nullptr, g_wrench, sinks);
          contact_geometry_backward(in, geometry, adjoint, ContactKind::kGround, -1, g, 0, feature,
                                    sinks);
        });
    for (int j = 0; j < 3; ++j) {
      g_pose1[j] = pose_sink[j] + g_pose1[j];
      g_velocity1[j] = velocity_sink[j] + g_velocity1_total[j] * (1.0 - r.dt * r.damping[j]);
      g_applied[j] += g_wrench[j];
      g_material[j] += sinks.material[j];
    }
    // d (W / m) / d m = -W / m^2, so d loss / d m = -(g_W . W) / m.
    g_mass -= (g_wrench[0] * wrench[0] + g_wrench[1] * wrench[1]) / b.moment[0];
    g_inertia -= g_wrench[2] * wrench[2] / b.moment[2];
  }
  for (int j = 0; j < 3; ++j) {
    out.state[state_index(r, b, j)] = g_pose1[j];
    out.state[state_index(r, b, 3 + j)] = g_velocity1[j];
    out.applied[3 * index + j] = g_applied[j];
    out.material[3 * index + j] = g_material[j];
  }
  out.mass[index] = g_mass;
  out.inertia[index] = g_inertia;
  out.radius[index] = g_radius;
}

// ---- Worlds with body-body contact: one block per world ----
//
// A body's step now reads the bodies it touches, so each world is one block and every step has
// block barriers: the threads (two per body, strided where a world has more bodies than the
// block's threads) compute their bodies' frames, ground contacts and broad-phase bounds; together
// they sort and sweep as contact_detection.cpp does (along x, ties broken by index) into a list of
// candidate pairs in the CPU's order (find_candidate_pairs); they run the candidates' narrow
// phase (circle-circle, circle-polygon, polygon-polygon, the CPU's features in the CPU's order)
// and forces in parallel into fixed slots; then each body's thread walks the slots in list order
// and adds the contacts that touch its body, so every body's wrench is summed in the CPU fused
// step's order (applied, its ground contacts, then the pair contacts in list order), and
// integrates. The reverse sweep finds the same contacts again from the kept state (the contact
// set depends only on the state and the parameters); each body's thread runs the adjoint of the
// contacts that touch it, in order, keeping its own body's share (OwnBodySinks, in registers). A
// body's thread gathers the candidates touching its body a few at a time before it visits them
// (for_each_contact_of), so the threads of a warp run their bodies' contacts side by side. What
// every thread reads (frames, bounds, the sweep order, d loss / d wrench, the material shares) is
// in shared memory where it fits; the rest of the per-world scratch (wrenches and adjoint sinks
// between phases, the pair slots) lives in global memory, which the block barriers make visible
// to the block.

// Per-world scratch, each array world-major.
struct WorldScratch {
  BodyFrame* frames;          // [E, K]
  double* state;              // [E, K, 6]: the current state, body-major
  double* wrench;             // [E, K, 3]
  double* reach;              // [E, K]: bounding-circle radius
  double* low;                // [E, K]: x - reach
  std::int32_t* order;        // [E, K]: bodies sorted by (low, index)
  std::int32_t* counts;       // [E, K]: candidates of each sorted body, then their offsets
  double* g_wrench;           // [E, K, 3]
  double* g_pose1;            // [E, K, 3]
  double* g_velocity1;        // [E, K, 3]
  double* g_velocity1_total;  // [E, K, 3]
  double* pose_sink;          // [E, K, 3]
  double* velocity_sink;      // [E, K, 3]
  double* material;           // [E, K, 3]: each body's share of the step's material gradient
  std::int32_t* pairs;        // [E, P, 2]: the step's candidate pairs (a < b), in sweep order
  std::int32_t* num_pairs;    // [E]
  struct PairSlot* slots;     // [E, P, 4]: each candidate's contacts (at most 4)
  std::int32_t* slot_count;   // [E, P]
  std::int64_t max_pairs;     // P: room for this many candidates per world and step
  std::int32_t* needed;       // [1]: the most candidates any world's step had
  bool in_shared;             // BlockShared lives in shared memory (else in the arrays above)
};

// The part of a world's scratch that every thread of its block reads: in shared memory where it
// fits (block_shared_bytes), else the world's rows of the global scratch.
struct BlockShared {
  BodyFrame* frames;     // [K]
  double* g_wrench;      // [K, 3]
  double* material;      // [K, 3]: each body's share of the step's material gradient (reverse)
  double* low;           // [K]
  double* reach;         // [K]
  std::int32_t* order;   // [K]
  std::int32_t* counts;  // [K]
};

__host__ __device__ constexpr std::size_t block_shared_bytes(std::size_t bodies) {
  return bodies * (sizeof(BodyFrame) + 8 * sizeof(double) + 2 * sizeof(std::int32_t));
}

__device__ BlockShared block_shared(const WorldScratch& ws, std::int64_t w, std::int64_t k) {
  if (!ws.in_shared) {
    return {ws.frames + w * k, ws.g_wrench + 3 * w * k, ws.material + 3 * w * k, ws.low + w * k,
            ws.reach + w * k,  ws.order + w * k,        ws.counts + w * k};
  }
  extern __shared__ double shared_words[];
  auto* frames = reinterpret_cast<BodyFrame*>(shared_words);
  auto* g_wrench = reinterpret_cast<double*>(frames + k);
  double* material = g_wrench + 3 * k;
  double* low = material + 3 * k;
  double* reach = low + k;
  auto* order = reinterpret_cast<std::int32_t*>(reach + k);
  return {frames, g_wrench, material, low, reach, order, order + k};
}

// One pair contact: its ids and, forward, its wrench on b (minus on a), as apply_wrench adds it.
struct PairSlot {
  std::int32_t kind;
  std::int32_t body_a;
  std::int32_t feature_a;
  std::int32_t body_b;
  std::int32_t feature_b;
  double force[2];
  double torque_a;  // cross(arm_a, F)
  double torque_b;  // cross(arm_b, F)
};

struct PairTopology {
  const std::int32_t* next_vertex;  // [V]
};

// A world's body k as collide_pair takes it (the rollout's vertex count of a circle is 1).
__device__ PolygonRef polygon_of(const Rollout& r, std::int32_t k) {
  return r.first_vertex[k] < 0 ? PolygonRef{k, -1, 0}
                               : PolygonRef{k, r.first_vertex[k], r.vertex_count[k]};
}

template <class Visit>
__device__ void collide_device(const Rollout& r, const ContactInputs& in, std::int32_t a,
                               std::int32_t b, Visit& visit) {
  // Vertices in world coordinates as the separating-axis tests ask for them (no scratch).
  const auto vertex = [&](const PolygonRef& p, std::int32_t i) {
    return in.frames[p.body].to_world(local_point(in, p.first + i));
  };
  collide_pair(in, polygon_of(r, a), polygon_of(r, b), vertex, visit);
}

// find_pair_contacts' broad phase, spread over the block's threads (every thread calls it): each
// body's place in the order by (low, index) is the number of bodies before it, each sorted body
// counts the candidates after it as the CPU's sweep meets them, a scan of the counts gives every
// body its first slot, and the candidates are written there. The list is the CPU's: pairs (a < b)
// in the order the sweep collides them. A NaN low (a world that blew up) sorts last, so the order
// stays a permutation.
__device__ double sort_key(double low) { return low == low ? low : INFINITY; }

//
// Room for `capacity` candidates: a step with more keeps the first `capacity` and raises `needed`
// to its count, so the host can grow the room and run the pass again.
__device__ void find_candidate_pairs(const Rollout& r, const BlockShared& bs, std::int32_t* pairs,
                                     std::int32_t* num_pairs, std::int64_t capacity,
                                     std::int32_t* needed) {
  const auto n = static_cast<std::int32_t>(r.bodies);
  for (std::int32_t k = threadIdx.x; k < n; k += blockDim.x) {
    const double key = sort_key(bs.low[k]);
    std::int32_t rank = 0;
    for (std::int32_t q = 0; q < n; ++q) {
      const double other = sort_key(bs.low[q]);
      rank += (other < key || (other == key && q < k)) ? 1 : 0;
    }
    bs.order[rank] = k;
  }
  __syncthreads();
  // visit(q) for each candidate partner of the body at sorted place i, in sweep order.
  const auto sweep = [&](std::int32_t i, auto&& visit) {
    const std::int32_t p = bs.order[i];
    const double high = bs.frames[p].position.x + bs.reach[p];
    for (std::int32_t j = i + 1; j < n && bs.low[bs.order[j]] <= high; ++j) {
      const std::int32_t q = bs.order[j];
      const V2 d = bs.frames[q].position - bs.frames[p].position;
      const double rr = bs.reach[p] + bs.reach[q];
      if (!(dot(d, d) > rr * rr)) visit(p, q);
    }
  };
  for (std::int32_t i = threadIdx.x; i < n; i += blockDim.x) {
    std::int32_t count = 0;
    sweep(i, [&](std::int32_t, std::int32_t) { ++count; });
    bs.counts[i] = count;
  }
  __syncthreads();
  // Inclusive scan of the counts: Hillis-Steele over the block (up to four bodies a thread), else
  // serially.
  if (n > 4 * static_cast<std::int32_t>(blockDim.x)) {
    if (threadIdx.x == 0) {
      for (std::int32_t i = 1; i < n; ++i) bs.counts[i] += bs.counts[i - 1];
    }
    __syncthreads();
  }
  for (std::int32_t stride = 1; n <= 4 * static_cast<std::int32_t>(blockDim.x) && stride < n;
       stride *= 2) {
    std::int32_t add[4] = {0, 0, 0, 0};
    std::int32_t slot = 0;
    for (std::int32_t i = threadIdx.x; i < n; i += blockDim.x, ++slot) {
      if (i >= stride) add[slot] = bs.counts[i - stride];
    }
    __syncthreads();
    slot = 0;
    for (std::int32_t i = threadIdx.x; i < n; i += blockDim.x, ++slot) {
      if (i >= stride) bs.counts[i] += add[slot];
    }
    __syncthreads();
  }
  for (std::int32_t i = threadIdx.x; i < n; i += blockDim.x) {
    std::int32_t at = i == 0 ? 0 : bs.counts[i - 1];
    sweep(i, [&](std::int32_t p, std::int32_t q) {
      if (at < capacity) {
        pairs[2 * at] = p < q ? p : q;
        pairs[2 * at + 1] = p < q ? q : p;
      }
      ++at;
    });
  }
  if (threadIdx.x == 0) {
    const std::int32_t total = n < 2 ? 0 : bs.counts[n - 1];
    if (total > capacity) atomicMax(needed, total);
    *num_pairs = total < capacity ? total : static_cast<std::int32_t>(capacity);
  }
  __syncthreads();
}

// The narrow phase of every candidate, spread over the block's threads: candidate i's contacts go
// to slots [4 i, 4 i + 4) in the CPU's order, with their wrenches when `forces` is set.
__device__ void record_pair_contacts(const Rollout& r, const WorldScratch& ws, std::int64_t w,
                                     const ContactInputs& in, const Material& material,
                                     bool forces) {
  const std::int32_t count = ws.num_pairs[w];
  const std::int32_t* pairs = ws.pairs + 2 * w * ws.max_pairs;
  PairSlot* slots = ws.slots + 4 * w * ws.max_pairs;
  std::int32_t* slot_count = ws.slot_count + w * ws.max_pairs;
  for (std::int32_t i = threadIdx.x; i < count; i += blockDim.x) {
    std::int32_t c = 0;
    auto visit = [&](ContactKind kind, std::int32_t a, std::int32_t feature_a, std::int32_t b,
                     std::int32_t feature_b, const Geometry& g) {
      PairSlot& slot = slots[4 * i + c++];
      slot.kind = static_cast<std::int32_t>(kind);
      slot.body_a = a;
      slot.feature_a = feature_a;
      slot.body_b = b;
      slot.feature_b = feature_b;
      if (forces) {
        const Force f = contact_force(g, &in.frames[a], in.frames[b], material);
        slot.force[0] = f.force.x;
        slot.force[1] = f.force.y;
        slot.torque_a = cross(f.arm_a, f.force);
        slot.torque_b = cross(f.arm_b, f.force);
      }
    };
    collide_device(r, in, pairs[2 * i], pairs[2 * i + 1], visit);
    slot_count[i] = c;
  }
}

// visit(slot) for every pair contact touching body k, in the CPU's order. The candidates touching
// k are gathered a few at a time and visited after, so that a warp's threads visit their bodies'
// contacts side by side: with the visit inside the scan, a warp would run it once for every
// candidate that any of its threads' bodies touches, nearly every candidate of the world (the
// reverse pass of 32 boxes ran 35,000 instructions per step there, against 3,300 now).
template <class Visit>
__device__ void for_each_contact_of(const WorldScratch& ws, std::int64_t w, std::int32_t k,
                                    Visit&& visit) {
  constexpr int kBatch = 8;
  const std::int32_t count = ws.num_pairs[w];
  const std::int32_t* pairs = ws.pairs + 2 * w * ws.max_pairs;
  const PairSlot* slots = ws.slots + 4 * w * ws.max_pairs;
  const std::int32_t* slot_count = ws.slot_count + w * ws.max_pairs;
  std::int32_t next = 0;
  while (next < count) {
    std::int32_t touching[kBatch];
    int found = 0;
    for (; next < count && found < kBatch; ++next) {
      if (pairs[2 * next] == k || pairs[2 * next + 1] == k) touching[found++] = next;
    }
    for (int j = 0; j < found; ++j) {
      const std::int32_t i = touching[j];
      for (std::int32_t c = 0; c < slot_count[i]; ++c) visit(slots[4 * i + c]);
    }
  }
}

// A world's inputs with every body's frame (body indices are the world's).
__device__ ContactInputs world_inputs(const Rollout& r, const PairTopology& pt, std::int64_t world,
                                      const BodyFrame* frames) {
  return {frames, r.vertex_values + 2 * world * r.vertices, r.radius + world * r.bodies, r.grounds,
          pt.next_vertex};
}

// Ground contacts of body k of a world (its point features in order, then the grounds).
template <class Visit>
__device__ void for_each_ground_contact_of(const Rollout& r, const ContactInputs& in,
                                           std::int32_t k, Visit&& visit) {
  const std::int32_t first = r.first_vertex[k];
  const std::int32_t count = r.vertex_count[k];
  for (std::int32_t i = 0; i < count; ++i) {
    const std::int32_t feature = first < 0 ? -1 : first + i;
    for (std::int32_t g = 0; g < r.num_grounds; ++g) {
      const Geometry geometry = contact_geometry(in, ContactKind::kGround, -1, g, k, feature);
      if (geometry.depth > 0.0) visit(g, feature, geometry);
    }
  }
}

__device__ Material material_of(const Rollout& r, std::int64_t world) {
  return {r.stiffness[world], r.damping_coefficient[world], r.friction[world], r.smoothing, r.law};
}

// Frame and lower bound of body k from its state.
__device__ void prepare_body(const BlockShared& bs, std::int32_t k, const double* s) {
  BodyFrame& f = bs.frames[k];
  f.position = {s[0], s[1]};
  f.cos = std::cos(s[2]);
  f.sin = std::sin(s[2]);
  f.velocity = {s[3], s[4]};
  f.omega = s[5];
  bs.low[k] = s[0] - bs.reach[k];
}

// Each body's bounding-circle radius (contact_detection.cpp's reach).
__device__ void init_bounds(const Rollout& r, const BlockShared& bs, std::int64_t w) {
  for (std::int32_t k = threadIdx.x; k < r.bodies; k += blockDim.x) {
    double reach = 0.0;
    if (r.first_vertex[k] < 0) {
      reach = r.radius[w * r.bodies + k];
    } else {
      const double* v = r.vertex_values + 2 * w * r.vertices;
      for (std::int32_t j = 0; j < r.vertex_count[k]; ++j) {
        const std::int32_t f = r.first_vertex[k] + j;
        reach = std::fmax(reach, v[2 * f] * v[2 * f] + v[2 * f + 1] * v[2 * f + 1]);
      }
      reach = std::sqrt(reach);
    }
    bs.reach[k] = reach;
  }
}

// The gradient sinks of one body's thread: contact_kernel.hpp's reverse functions add to both
// bodies a contact touches; these keep body k's share only (the other body's thread takes its
// own), its pose, velocity and radius sums in registers and its vertices' added in place. A chain
// of additions to one word of global memory waits on the memory system at every link; in
// registers it does not. The sums start from what the CPU's sinks hold at that point, so every
// sum is the CPU's, term by term.
struct OwnBodySinks {
  std::int32_t body;
  std::int32_t first_vertex;  // the body's vertices are [first_vertex, first_vertex + count)
  std::int32_t vertex_count;
  double* vertices;  // the world's [V, 2] vertex gradient
  double pose[3] = {0.0, 0.0, 0.0};
  double velocity[3] = {0.0, 0.0, 0.0};
  double radius = 0.0;
  double material[3] = {0.0, 0.0, 0.0};

  __device__ OwnBodySinks(const Rollout& r, std::int32_t k, double* world_vertices)
      : body(k),
        first_vertex(r.first_vertex[k]),
        vertex_count(r.vertex_count[k]),
        vertices(world_vertices) {}
  __device__ void add_pose(std::int32_t b, V2 g_position, double g_angle) {
    if (b != body) return;
    pose[0] += g_position.x;
    pose[1] += g_position.y;
    pose[2] += g_angle;
  }
  __device__ void add_velocity(std::int32_t b, V2 g_velocity, double g_omega) {
    if (b != body) return;
    velocity[0] += g_velocity.x;
    velocity[1] += g_velocity.y;
    velocity[2] += g_omega;
  }
  [[nodiscard]] __device__ bool wants_vertices(std::int32_t b) const { return b == body; }
  __device__ void add_vertex(std::int32_t vertex, V2 g) {
    if (vertex < first_vertex || vertex >= first_vertex + vertex_count) return;
    vertices[2 * vertex] += g.x;
    vertices[2 * vertex + 1] += g.y;
  }
  __device__ void add_radius(std::int32_t b, double g) {
    if (b == body) radius += g;
  }
};

// apply_wrench's additions to a contact's body b (a ground contact's only body), into b's wrench
// in registers.
__device__ void add_wrench_of_b(const Force& f, double (&wrench)[3]) {
  wrench[0] += f.force.x;
  wrench[1] += f.force.y;
  wrench[2] += cross(f.arm_b, f.force);
}

// apply_wrench's additions of a pair contact to body k (its a or its b).
__device__ void add_pair_wrench(const PairSlot& slot, std::int32_t k, double (&wrench)[3]) {
  if (slot.body_b == k) {
    wrench[0] += slot.force[0];
    wrench[1] += slot.force[1];
    wrench[2] += slot.torque_b;
  }
  if (slot.body_a == k) {
    wrench[0] -= slot.force[0];
    wrench[1] -= slot.force[1];
    wrench[2] -= slot.torque_a;
  }
}

__global__ void contact_forward_kernel(Rollout r, PairTopology pt, WorldScratch ws,
                                       const double* initial, double* history,
                                       double* final_state) {
  const std::int64_t w = blockIdx.x;
  const std::int64_t lanes = r.worlds * r.bodies;
  const std::int64_t base = w * r.bodies;
  const BlockShared bs = block_shared(ws, w, r.bodies);
  const ContactInputs in = world_inputs(r, pt, w, bs.frames);
  const Material material = material_of(r, w);
  init_bounds(r, bs, w);
  for (std::int32_t k = threadIdx.x; k < r.bodies; k += blockDim.x) {
    double* s = ws.state + 6 * (base + k);
    for (int j = 0; j < 6; ++j)
      s[j] = initial[w * 6 * r.bodies + (j / 3) * 3 * r.bodies + 3 * k + j % 3];
  }
  const double gravity[3] = {r.gravity[0], r.gravity[1], 0.0};
  for (std::int64_t t = 0; t < r.steps; ++t) {
    for (std::int32_t k = threadIdx.x; k < r.bodies; k += blockDim.x) {
      const std::int64_t index = base + k;
      const double* s = ws.state + 6 * index;
      for (int j = 0; j < 6; ++j) history[(t * 6 + j) * lanes + index] = s[j];
      prepare_body(bs, k, s);
      double wrench[3];
      for (int j = 0; j < 3; ++j) wrench[j] = r.applied[3 * index + j];
      for_each_ground_contact_of(r, in, k, [&](std::int32_t, std::int32_t, const Geometry& g) {
        add_wrench_of_b(contact_force(g, nullptr, in.frames[k], material), wrench);
      });
      for (int j = 0; j < 3; ++j) ws.wrench[3 * index + j] = wrench[j];
    }
    __syncthreads();
    find_candidate_pairs(r, bs, ws.pairs + 2 * w * ws.max_pairs, ws.num_pairs + w, ws.max_pairs,
                         ws.needed);
    record_pair_contacts(r, ws, w, in, material, true);
    __syncthreads();
    for (std::int32_t k = threadIdx.x; k < r.bodies; k += blockDim.x) {
      const std::int64_t index = base + k;
      double* s = ws.state + 6 * index;
      const double moment[3] = {r.mass[index], r.mass[index], r.inertia[index]};
      double wrench[3];
      for (int j = 0; j < 3; ++j) wrench[j] = ws.wrench[3 * index + j];
      // apply_wrench's additions, those that reach body k, in the contacts' order.
      for_each_contact_of(ws, w, k,
                          [&](const PairSlot& slot) { add_pair_wrench(slot, k, wrench); });
      for (int j = 0; j < 3; ++j) {
        const double acceleration = wrench[j] / moment[j] + gravity[j] - r.damping[j] * s[3 + j];
        const double v1 = s[3 + j] + acceleration * r.dt;
        s[j] = s[j] + v1 * r.dt;
        s[3 + j] = v1;
      }
    }
    __syncthreads();
  }
  for (std::int32_t k = threadIdx.x; k < r.bodies; k += blockDim.x) {
    const std::int64_t index = base + k;
    const double* s = ws.state + 6 * index;
    for (int j = 0; j < 6; ++j) {
      history[(r.steps * 6 + j) * lanes + index] = s[j];
      final_state[w * 6 * r.bodies + (j / 3) * 3 * r.bodies + 3 * k + j % 3] = s[j];
    }
  }
}

__global__ void contact_reverse_kernel(Rollout r, PairTopology pt, WorldScratch ws,
                                       const double* history, const double* final_adjoint,
                                       ReverseOutputs out) {
  const std::int64_t w = blockIdx.x;
  const std::int64_t lanes = r.worlds * r.bodies;
  const std::int64_t base = w * r.bodies;
  const BlockShared bs = block_shared(ws, w, r.bodies);
  const ContactInputs in = world_inputs(r, pt, w, bs.frames);
  const Material material = material_of(r, w);
  init_bounds(r, bs, w);
  for (std::int32_t k = threadIdx.x; k < r.bodies; k += blockDim.x) {
    const std::int64_t index = base + k;
    for (int j = 0; j < 3; ++j) {
      ws.g_pose1[3 * index + j] = final_adjoint[w * 6 * r.bodies + 3 * k + j];
      ws.g_velocity1[3 * index + j] = final_adjoint[w * 6 * r.bodies + 3 * r.bodies + 3 * k + j];
      out.applied[3 * index + j] = 0.0;
      out.material[3 * index + j] = 0.0;
    }
    out.mass[index] = 0.0;
    out.inertia[index] = 0.0;
    out.radius[index] = 0.0;
  }
  double world_material[3] = {0.0, 0.0, 0.0};  // thread 0's
  __syncthreads();
  double* vertex_sink = out.vertices + 2 * w * r.vertices;
  double* radius_sink = out.radius + base;
  for (std::int64_t t = r.steps; t-- > 0;) {
    for (std::int32_t k = threadIdx.x; k < r.bodies; k += blockDim.x) {
      const std::int64_t index = base + k;
      double s[6];
      for (int j = 0; j < 6; ++j) s[j] = history[(t * 6 + j) * lanes + index];
      prepare_body(bs, k, s);
      const double moment[3] = {r.mass[index], r.mass[index], r.inertia[index]};
      double* g_wrench = bs.g_wrench;
      double wrench[3];
      for (int j = 0; j < 3; ++j) {
        const std::int64_t i = 3 * index + j;
        ws.g_velocity1_total[i] = ws.g_velocity1[i] + r.dt * ws.g_pose1[i];
        g_wrench[3 * k + j] = r.dt * ws.g_velocity1_total[i] / moment[j];
        wrench[j] = r.applied[i];
      }
      // The step's sinks start at zero (the radius gradient sums over steps).
      OwnBodySinks sinks(r, k, vertex_sink);
      sinks.radius = radius_sink[k];
      for_each_ground_contact_of(
          r, in, k, [&](std::int32_t g, std::int32_t feature, const Geometry& geometry) {
            const Force f = contact_force(geometry, nullptr, in.frames[k], material);
            add_wrench_of_b(f, wrench);
            const GeometryAdjoint adjoint =
                contact_force_backward(geometry, f, nullptr, in.frames[k], -1, k, material, nullptr,
                                       g_wrench + 3 * k, sinks);
            contact_geometry_backward(in, geometry, adjoint, ContactKind::kGround, -1, g, k,
                                      feature, sinks);
          });
      for (int j = 0; j < 3; ++j) {
        const std::int64_t i = 3 * index + j;
        ws.wrench[i] = wrench[j];
        ws.pose_sink[i] = sinks.pose[j];
        ws.velocity_sink[i] = sinks.velocity[j];
        bs.material[3 * k + j] = sinks.material[j];
      }
      radius_sink[k] = sinks.radius;
    }
    __syncthreads();
    find_candidate_pairs(r, bs, ws.pairs + 2 * w * ws.max_pairs, ws.num_pairs + w, ws.max_pairs,
                         ws.needed);
    record_pair_contacts(r, ws, w, in, material, false);
    __syncthreads();
    for (std::int32_t k = threadIdx.x; k < r.bodies; k += blockDim.x) {
      const std::int64_t index = base + k;
      const double moment[3] = {r.mass[index], r.mass[index], r.inertia[index]};
      const double* g_wrench = bs.g_wrench + 3 * k;
      double wrench[3];
      // Each pair contact touching body k, in the CPU's order: its force on k (as apply_wrench
      // adds it) and body k's share of its adjoint; the material gradient is b's to keep.
      OwnBodySinks sinks(r, k, vertex_sink);
      for (int j = 0; j < 3; ++j) {
        wrench[j] = ws.wrench[3 * index + j];
        sinks.pose[j] = ws.pose_sink[3 * index + j];
        sinks.velocity[j] = ws.velocity_sink[3 * index + j];
      }
      sinks.radius = radius_sink[k];
      const double* world_g_wrench = bs.g_wrench;
      for_each_contact_of(ws, w, k, [&](const PairSlot& slot) {
        const auto kind = static_cast<ContactKind>(slot.kind);
        const std::int32_t a = slot.body_a;
        const std::int32_t b = slot.body_b;
        const Geometry g = contact_geometry(in, kind, a, slot.feature_a, b, slot.feature_b);
        const Force f = contact_force(g, &in.frames[a], in.frames[b], material);
        if (b == k) add_wrench_of_b(f, wrench);
        if (a == k) {
          wrench[0] -= f.force.x;
          wrench[1] -= f.force.y;
          wrench[2] -= cross(f.arm_a, f.force);
        }
        const double kept[3] = {sinks.material[0], sinks.material[1], sinks.material[2]};
        const GeometryAdjoint adjoint =
            contact_force_backward(g, f, &in.frames[a], in.frames[b], a, b, material,
                                   world_g_wrench + 3 * a, world_g_wrench + 3 * b, sinks);
        contact_geometry_backward(in, g, adjoint, kind, a, slot.feature_a, b, slot.feature_b,
                                  sinks);
        if (b != k) {
          for (int j = 0; j < 3; ++j) sinks.material[j] = kept[j];
        }
      });
      radius_sink[k] = sinks.radius;
      for (int j = 0; j < 3; ++j) bs.material[3 * k + j] += sinks.material[j];
      for (int j = 0; j < 3; ++j) {
        const std::int64_t i = 3 * index + j;
        ws.g_pose1[i] = sinks.pose[j] + ws.g_pose1[i];
        ws.g_velocity1[i] =
            sinks.velocity[j] + ws.g_velocity1_total[i] * (1.0 - r.dt * r.damping[j]);
        out.applied[i] += g_wrench[j];
      }
      out.mass[index] -= (g_wrench[0] * wrench[0] + g_wrench[1] * wrench[1]) / moment[0];
      out.inertia[index] -= g_wrench[2] * wrench[2] / moment[2];
    }
    __syncthreads();
    // The step's material gradient: the bodies' shares in body order.
    if (threadIdx.x == 0) {
      double step_material[3] = {0.0, 0.0, 0.0};
      for (std::int32_t k = 0; k < r.bodies; ++k) {
        for (int j = 0; j < 3; ++j) step_material[j] += bs.material[3 * k + j];
      }
      for (int j = 0; j < 3; ++j) world_material[j] += step_material[j];
    }
    __syncthreads();
  }
  for (std::int32_t k = threadIdx.x; k < r.bodies; k += blockDim.x) {
    const std::int64_t index = base + k;
    for (int j = 0; j < 3; ++j) {
      out.state[w * 6 * r.bodies + 3 * k + j] = ws.g_pose1[3 * index + j];
      out.state[w * 6 * r.bodies + 3 * r.bodies + 3 * k + j] = ws.g_velocity1[3 * index + j];
    }
  }
  // The world's material gradient as body 0's share (the host sums the shares).
  if (threadIdx.x == 0) {
    for (int j = 0; j < 3; ++j) out.material[3 * base + j] = world_material[j];
  }
}

// Slots of the buffer cache.
enum Slot : std::size_t {
  kFirstVertex,
  kVertexCount,
  kGrounds,
  kMass,
  kInertia,
  kVertices,
  kRadius,
  kApplied,
  kStiffness,
  kDamping,
  kFriction,
  kInitial,
  kHistory,
  kFinal,
  kAdjoint,
  kGradState,
  kGradMass,
  kGradInertia,
  kGradVertices,
  kGradRadius,
  kGradApplied,
  kGradMaterial,
  kNextVertex,
  kFrames,
  kScratchState,
  kWrench,
  kReach,
  kLow,
  kOrder,
  kCounts,
  kGWrench,
  kGPose,
  kGVelocity,
  kGVelocityTotal,
  kPoseSink,
  kVelocitySink,
  kMaterialShares,
  kPairs,
  kNumPairs,
  kSlots,
  kSlotCount,
  kNeeded,
};

// Room for candidate pairs per world and step: every pair of K bodies would be K (K - 1) / 2,
// quadratic in K, where a scene's candidates are usually a few per body. So the room starts at
// 8 K (at least 64), grows when a step has more (the forward pass reports it and runs again) and
// is kept for later calls of the same K.
std::size_t& learned_pair_capacity(std::size_t bodies) {
  static std::size_t learned_bodies = 0;
  static std::size_t learned = 0;
  if (learned_bodies != bodies) {
    learned_bodies = bodies;
    learned = 0;
  }
  return learned;
}

std::size_t all_pairs(std::size_t bodies) { return bodies * (bodies - 1) / 2; }

std::size_t pair_capacity(std::size_t bodies) {
  const std::size_t start = std::max<std::size_t>(64, 8 * bodies);
  return std::min(all_pairs(bodies), std::max(start, learned_pair_capacity(bodies)));
}

std::size_t grown_pair_capacity(std::size_t bodies, std::int32_t needed) {
  const auto n = static_cast<std::size_t>(needed);
  learned_pair_capacity(bodies) = std::min(all_pairs(bodies), n + n / 4);
  return learned_pair_capacity(bodies);
}

void make_room_for_pairs(WorldScratch& ws, std::size_t worlds, std::size_t capacity) {
  ws.max_pairs = static_cast<std::int64_t>(capacity);
  const std::size_t count = capacity * worlds;
  ws.pairs = buffers().get<std::int32_t>(kPairs, 2 * count);
  ws.slots = buffers().get<PairSlot>(kSlots, 4 * count);
  ws.slot_count = buffers().get<std::int32_t>(kSlotCount, count);
}

// Small blocks spread one world of few bodies over more multiprocessors.
constexpr int kThreads = 64;

}  // namespace

RigidKernelTimes cuda_rigid_rollout_gradient(const HostRigidTopology& topology,
                                             const HostRigidWorlds& worlds, double dt,
                                             std::size_t steps,
                                             const HostRigidAdjointOfFinal& adjoint_of_final,
                                             const HostRigidGradients& out) {
  std::lock_guard<std::mutex> lock(buffers().mutex);
  const std::size_t e = worlds.worlds;
  const std::size_t k = topology.num_bodies;
  const std::size_t v = topology.num_vertices;
  const std::size_t lanes = e * k;
  Rollout r{};
  r.worlds = static_cast<std::int64_t>(e);
  r.bodies = static_cast<std::int64_t>(k);
  r.vertices = static_cast<std::int64_t>(v);
  r.num_grounds = static_cast<std::int32_t>(topology.num_grounds);
  r.first_vertex = buffers().upload(kFirstVertex, topology.first_vertex, k);
  r.vertex_count = buffers().upload(kVertexCount, topology.vertex_count, k);
  r.grounds = buffers().upload(kGrounds, topology.grounds, topology.num_grounds);
  r.gravity[0] = topology.gravity[0];
  r.gravity[1] = topology.gravity[1];
  r.damping[0] = topology.linear_damping;
  r.damping[1] = topology.linear_damping;
  r.damping[2] = topology.angular_damping;
  r.smoothing = topology.friction_smoothing;
  r.law = topology.normal_law;
  r.dt = dt;
  r.steps = static_cast<std::int64_t>(steps);
  r.mass = buffers().upload(kMass, worlds.mass, lanes);
  r.inertia = buffers().upload(kInertia, worlds.inertia, lanes);
  r.vertex_values = buffers().upload(kVertices, worlds.vertices, 2 * e * v);
  r.radius = buffers().upload(kRadius, worlds.radius, lanes);
  r.applied = buffers().upload(kApplied, worlds.applied, 3 * lanes);
  r.stiffness = buffers().upload(kStiffness, worlds.stiffness, e);
  r.damping_coefficient = buffers().upload(kDamping, worlds.damping, e);
  r.friction = buffers().upload(kFriction, worlds.friction, e);
  const double* initial = buffers().upload(kInitial, worlds.state, 6 * lanes);
  double* history = buffers().get<double>(kHistory, (steps + 1) * 6 * lanes);
  double* final_state = buffers().get<double>(kFinal, 6 * lanes);
  double* adjoint = buffers().get<double>(kAdjoint, 6 * lanes);
  const ReverseOutputs grads{buffers().get<double>(kGradState, 6 * lanes),
                             buffers().get<double>(kGradMass, lanes),
                             buffers().get<double>(kGradInertia, lanes),
                             buffers().get<double>(kGradVertices, 2 * e * v),
                             buffers().get<double>(kGradRadius, lanes),
                             buffers().get<double>(kGradApplied, 3 * lanes),
                             buffers().get<double>(kGradMaterial, 3 * lanes)};
  check(cudaMemset(grads.vertices, 0, std::max<std::size_t>(2 * e * v, 1) * sizeof(double)),
        "cudaMemset");

  cudaEvent_t marks[4];
  for (auto& mark : marks) check(cudaEventCreate(&mark), "cudaEventCreate");
  const auto blocks = static_cast<unsigned>((lanes + kThreads - 1) / kThreads);
  // With body-body contact: one block per world, two threads per body (a world has more candidate
  // pairs than bodies) up to 256, strided beyond.
  const bool pairs = topology.body_contacts && k > 1;
  const auto world_threads =
      static_cast<unsigned>(std::min<std::size_t>(256, ((2 * k + 31) / 32) * 32));
  const std::size_t shared_bytes = block_shared_bytes(k);
  const bool in_shared = shared_bytes <= 48 * 1024;
  const std::size_t launch_shared = in_shared ? shared_bytes : 0;
  PairTopology pt{};
  WorldScratch ws{};
  if (pairs) {
    pt.next_vertex = buffers().upload(kNextVertex, topology.next_vertex, v);
    ws.frames = buffers().get<BodyFrame>(kFrames, lanes);
    ws.state = buffers().get<double>(kScratchState, 6 * lanes);
    ws.wrench = buffers().get<double>(kWrench, 3 * lanes);
    ws.reach = buffers().get<double>(kReach, lanes);
    ws.low = buffers().get<double>(kLow, lanes);
    ws.order = buffers().get<std::int32_t>(kOrder, lanes);
    ws.counts = buffers().get<std::int32_t>(kCounts, lanes);
    ws.g_wrench = buffers().get<double>(kGWrench, 3 * lanes);
    ws.g_pose1 = buffers().get<double>(kGPose, 3 * lanes);
    ws.g_velocity1 = buffers().get<double>(kGVelocity, 3 * lanes);
    ws.g_velocity1_total = buffers().get<double>(kGVelocityTotal, 3 * lanes);
    ws.pose_sink = buffers().get<double>(kPoseSink, 3 * lanes);
    ws.velocity_sink = buffers().get<double>(kVelocitySink, 3 * lanes);
    ws.material = buffers().get<double>(kMaterialShares, 3 * lanes);
    ws.in_shared = in_shared;
    ws.num_pairs = buffers().get<std::int32_t>(kNumPairs, e);
    ws.needed = buffers().get<std::int32_t>(kNeeded, 1);
    make_room_for_pairs(ws, e, pair_capacity(k));
  }
  RigidKernelTimes times;
  try {
    check(cudaEventRecord(marks[0]), "cudaEventRecord");
    if (pairs) {
      // Pairs are found again in reverse from the same states, so once the forward pass had
      // room for every step's candidates, the reverse pass has too.
      for (;;) {
        check(cudaMemset(ws.needed, 0, sizeof(std::int32_t)), "cudaMemset");
        contact_forward_kernel<<<static_cast<unsigned>(e), world_threads, launch_shared>>>(
            r, pt, ws, initial, history, final_state);
        check(cudaGetLastError(), "forward kernel launch");
        std::int32_t needed = 0;
        buffers().download(&needed, ws.needed, 1);
        if (needed == 0) break;
        make_room_for_pairs(ws, e, grown_pair_capacity(k, needed));
      }
    } else {
      forward_kernel<<<blocks, kThreads>>>(r, initial, history, final_state);
      check(cudaGetLastError(), "forward kernel launch");
    }
    check(cudaEventRecord(marks[1]), "cudaEventRecord");
    check(cudaDeviceSynchronize(), "forward kernel");
    buffers().download(out.final_state, final_state, 6 * lanes);
    std::vector<double> host_adjoint(6 * lanes, 0.0);
    adjoint_of_final(out.final_state, host_adjoint.data());
    buffers().copy_to_device(adjoint, host_adjoint.data(), 6 * lanes);
    check(cudaEventRecord(marks[2]), "cudaEventRecord");
    if (pairs) {
      contact_reverse_kernel<<<static_cast<unsigned>(e), world_threads, launch_shared>>>(
          r, pt, ws, history, adjoint, grads);
    } else {
      reverse_kernel<<<blocks, kThreads>>>(r, history, adjoint, grads);
    }
    check(cudaGetLastError(), "reverse kernel launch");
    check(cudaEventRecord(marks[3]), "cudaEventRecord");
    check(cudaDeviceSynchronize(), "reverse kernel");
    float forward_ms = 0.0F;
    float reverse_ms = 0.0F;
    check(cudaEventElapsedTime(&forward_ms, marks[0], marks[1]), "cudaEventElapsedTime");
    check(cudaEventElapsedTime(&reverse_ms, marks[2], marks[3]), "cudaEventElapsedTime");
    times.forward = 1e-3 * forward_ms;
    times.reverse = 1e-3 * reverse_ms;
  } catch (...) {
    for (auto& mark : marks) cudaEventDestroy(mark);
    throw;
  }
  for (auto& mark : marks) cudaEventDestroy(mark);

  buffers().download(out.state, grads.state, 6 * lanes);
  buffers().download(out.mass, grads.mass, lanes);
  buffers().download(out.inertia, grads.inertia, lanes);
  buffers().download(out.vertices, grads.vertices, 2 * e * v);
  buffers().download(out.radius, grads.radius, lanes);
  buffers().download(out.applied, grads.applied, 3 * lanes);
  // Each world's material gradient: the sum of its bodies' shares, in body order.
  std::vector<double> material(3 * lanes);
  buffers().download(material.data(), grads.material, 3 * lanes);
  for (std::size_t w = 0; w < e; ++w) {
    double sums[3] = {0.0, 0.0, 0.0};
    for (std::size_t b = 0; b < k; ++b) {
      for (std::size_t m = 0; m < 3; ++m) sums[m] += material[3 * (w * k + b) + m];
    }
    out.stiffness[w] = sums[0];
    out.damping[w] = sums[1];
    out.friction[w] = sums[2];
  }
  return times;
}

}  // namespace maya::rigid::detail
