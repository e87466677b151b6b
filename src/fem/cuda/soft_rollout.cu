// Soft-body rollouts of many worlds and their reverse sweeps on a CUDA GPU: the host side and the
// kernels of soft_rollout_gradient. One block carries one world through all T explicit steps, so
// each direction of the whole rollout is one launch and a step needs only block barriers: a
// thread per element computes the element's forces (and, in reverse, their adjoint) into shared
// memory (global memory for large meshes), then a thread per vertex gathers its elements' shares in element order, as the CPU's
// scatter-add sums them, adds the ground and integrates.
//
// The arithmetic is the CPU step's own: element_kernels.hpp, constitutive.hpp (with svd3.hpp's
// SVD for the 3-D corotational material) and ground_contact.hpp compiled for the device, in the
// order of explicit_step.cpp's forward and backward. Results agree with the CPU fused step up to
// the contraction of multiply-adds and the last bit of log and hypot. The forward pass keeps every state
// [T + 1, E, 2, N, D]; the reverse pass reads them back and recomputes each element.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "fem/cuda/soft_rollout_cuda.hpp"
#include "fem/element_kernels.hpp"
#include "fem/ground_contact.hpp"
#include "maya/core/error.hpp"
#include "tensor/cuda/kept_buffers.hpp"

namespace maya::fem::detail {
namespace {

maya::detail::KeptBuffers& buffers() {
  static maya::detail::KeptBuffers instance("fem::soft_rollout_gradient");
  return instance;
}

void check(cudaError_t status, const char* what) { buffers().check(status, what); }

// The host loss's adjoint [E, 2, N, D], kept between calls as the device buffers are (a fresh
// one would fault in its pages every call); guarded by buffers()'s mutex.
std::vector<double>& host_adjoint_buffer() {
  static std::vector<double> instance;
  return instance;
}

// Everything a block reads, by value in the kernels' parameters.
struct Rollout {
  std::int64_t worlds;
  std::int64_t vertices;
  std::int64_t elements;
  double dt;
  std::int64_t steps;
  const std::int64_t* element_vertices;  // [M, D + 1]
  const std::int32_t* incidence_begin;   // [N + 1]
  const std::int32_t* incidence;         // e (D + 1) + a, each vertex's in element order
  const std::uint8_t* pinned;            // [N]
  double gravity[3];
  double fiber[3];
  GroundContact ground;
  const double* inverse_edges;  // [E, M, D, D]
  const double* volumes;        // [E, M]
  const double* mu;             // [E, P]
  std::int64_t mu_size;
  const double* lambda;
  std::int64_t lambda_size;
  const double* actuation;  // nullptr: none
  std::int64_t actuation_size;
  const double* mass;  // [E, N]
  double* history;     // [T + 1, E, 2, N, D]
  double* scratch;     // per world scratch_per_world doubles, or nullptr: shared memory
  std::int64_t scratch_per_world;
};

// The reverse pass's outputs (device, world-major).
struct Gradients {
  double* state;            // [E, 2, N, D]: the final adjoint on entry, d loss / d state0 on exit
  double* inverse_edges;    // [E, M, D, D], zeroed before the launch
  double* volumes;          // [E, M], zeroed
  double* mu_share;         // [E, M], zeroed: each element's part of d loss / d mu
  double* lambda_share;     // [E, M], zeroed
  double* actuation_share;  // [E, M], zeroed
  double* mass;             // [E, N], zeroed
  double* mu;               // [E, P_mu]
  double* lambda;           // [E, P_lambda]
  double* actuation;        // [E, P_a]
};

template <int D>
__device__ ElementInputs world_inputs(const Rollout& r, std::int64_t w, const double* x) {
  ElementInputs in;
  in.positions = x;
  in.elements = r.element_vertices;
  in.num_elements = static_cast<std::size_t>(r.elements);
  in.inverse_edges = r.inverse_edges + w * r.elements * D * D;
  in.volumes = r.volumes + w * r.elements;
  in.mu = r.mu + w * r.mu_size;
  in.mu_size = static_cast<std::size_t>(r.mu_size);
  in.lambda = r.lambda + w * r.lambda_size;
  in.lambda_size = static_cast<std::size_t>(r.lambda_size);
  if (r.actuation != nullptr) {
    in.actuation = r.actuation + w * r.actuation_size;
    in.actuation_size = static_cast<std::size_t>(r.actuation_size);
  }
  in.fiber = r.fiber;
  return in;
}

// h(k, c) at [c D + k]: column c is what vertex c + 1 receives.
template <int D>
__device__ void store_columns(const Mat<D>& h, double* out) {
  for (int c = 0; c < D; ++c) {
    for (int k = 0; k < D; ++k) out[c * D + k] = h(k, c);
  }
}

// Adds vertex i's shares of every element's columns to acc [D], in element order, as
// Element::scatter_columns adds them on the CPU (vertex 0 of an element subtracts the columns one
// after another).
template <int D>
__device__ void gather(const Rollout& r, std::int64_t i, const double* columns, double* acc) {
  for (std::int32_t s = r.incidence_begin[i]; s < r.incidence_begin[i + 1]; ++s) {
    const std::int32_t entry = r.incidence[s];
    const double* h = columns + static_cast<std::int64_t>(entry / (D + 1)) * D * D;
    const int a = entry % (D + 1);
    if (a == 0) {
      for (int c = 0; c < D; ++c) {
        for (int k = 0; k < D; ++k) acc[k] -= h[c * D + k];
      }
    } else {
      for (int k = 0; k < D; ++k) acc[k] += h[(a - 1) * D + k];
    }
  }
}

__device__ double* world_scratch(const Rollout& r, double* shared) {
  return r.scratch != nullptr ? r.scratch + blockIdx.x * r.scratch_per_world : shared;
}

// The total force on vertex i: its elements' shares, then the ground (explicit_step.cpp's
// total_forces).
template <int D>
__device__ void vertex_force(const Rollout& r, const GroundKernel& ground, std::int64_t i,
                             const double* x, const double* v, const double* columns, double* f) {
  for (int k = 0; k < D; ++k) f[k] = 0.0;
  gather<D>(r, i, columns, f);
  if (ground.active()) ground.add_explicit_force(static_cast<std::size_t>(i), x, v, f);
}

// dL/df = dt (g_v1 + dt g_x1) / m on free vertices, 0 on pinned ones.
template <int D>
__device__ void force_adjoint(const Rollout& r, std::int64_t i, double mass, const double* g_x,
                              const double* g_v, double* g_force) {
  for (int k = 0; k < D; ++k) {
    const std::int64_t j = i * D + k;
    const double g_velocity = g_v[j] + r.dt * g_x[j];
    g_force[j] = r.pinned[i] ? 0.0 : r.dt * g_velocity / mass;
  }
}

template <int D, template <int> class Material>
__global__ void forward_kernel(Rollout r) {
  extern __shared__ double shared[];
  const std::int64_t w = blockIdx.x;
  const std::int64_t nd = r.vertices * D;
  double* columns = world_scratch(r, shared);  // [M, D, D]
  const Mat<D> fiber = fiber_matrix<D>(r.fiber);
  const bool actuated = r.actuation != nullptr;
  const GroundKernel ground(r.ground, D, r.pinned);
  const double* mass = r.mass + w * r.vertices;
  for (std::int64_t t = 0; t < r.steps; ++t) {
    const double* x = r.history + (t * r.worlds + w) * 2 * nd;
    const double* v = x + nd;
    const ElementInputs in = world_inputs<D>(r, w, x);
    for (std::int64_t e = threadIdx.x; e < r.elements; e += blockDim.x) {
      const Element<D> el(in, static_cast<std::size_t>(e));
      const Material<D> material(el.f);
      store_columns<D>(element_force_columns<D, Material>(el, material, fiber, actuated),
                       columns + e * D * D);
    }
    __syncthreads();
    double* x1 = r.history + ((t + 1) * r.worlds + w) * 2 * nd;
    double* v1 = x1 + nd;
    for (std::int64_t i = threadIdx.x; i < r.vertices; i += blockDim.x) {
      double f[D];
      vertex_force<D>(r, ground, i, x, v, columns, f);
      for (int k = 0; k < D; ++k) {
        const std::int64_t j = i * D + k;
        const double velocity = r.pinned[i] ? 0.0 : v[j] + r.dt * (f[k] / mass[i] + r.gravity[k]);
        v1[j] = velocity;
        x1[j] = x[j] + r.dt * velocity;
      }
    }
    __syncthreads();
  }
}

// explicit_step.cpp's ExplicitOp::backward, step by step from the last: the force adjoint dL/df
// from the next state's adjoint, the elements' forces (for the mass gradient) and adjoints, then
// per vertex the state adjoint (identity part, elements in order, ground) and the mass gradient.
template <int D, template <int> class Material>
__global__ void reverse_kernel(Rollout r, Gradients g) {
  extern __shared__ double shared[];
  const std::int64_t w = blockIdx.x;
  const std::int64_t m = r.elements;
  const std::int64_t nd = r.vertices * D;
  double* scratch = world_scratch(r, shared);
  double* force_columns = scratch;                // [M, D, D]
  double* adjoint_columns = scratch + m * D * D;  // [M, D, D]
  double* g_force = scratch + 2 * m * D * D;      // [N, D]
  double* g_x = g.state + w * 2 * nd;
  double* g_v = g_x + nd;
  const Mat<D> fiber = fiber_matrix<D>(r.fiber);
  const bool actuated = r.actuation != nullptr;
  const GroundKernel ground(r.ground, D, r.pinned);
  const double* mass = r.mass + w * r.vertices;
  for (std::int64_t i = threadIdx.x; i < r.vertices; i += blockDim.x) {
    force_adjoint<D>(r, i, mass[i], g_x, g_v, g_force);
  }
  __syncthreads();
  for (std::int64_t t = r.steps; t-- > 0;) {
    const double* x = r.history + (t * r.worlds + w) * 2 * nd;
    const double* v = x + nd;
    const ElementInputs in = world_inputs<D>(r, w, x);
    for (std::int64_t e = threadIdx.x; e < m; e += blockDim.x) {
      const Element<D> el(in, static_cast<std::size_t>(e));
      const Material<D> material(el.f);
      store_columns<D>(element_force_columns<D, Material>(el, material, fiber, actuated),
                       force_columns + e * D * D);
      const ElementAdjoint<D> adjoint = element_force_vjp<D, Material>(
          el, material, fiber, actuated, el.edges_of(g_force), true, true);
      store_columns<D>(adjoint.position_columns, adjoint_columns + e * D * D);
      const std::int64_t we = w * m + e;
      Eigen::Map<RowMat<D>> g_b(g.inverse_edges + we * D * D);
      g_b -= adjoint.inverse_edges_from_dp;
      g_b -= adjoint.inverse_edges_from_p;
      g.volumes[we] += volume_gradient(el, adjoint);
      g.mu_share[we] -= el.volume * adjoint.mu_part;
      g.lambda_share[we] -= el.volume * adjoint.lambda_part;
      if (actuated) g.actuation_share[we] -= el.volume * adjoint.actuation_part;
    }
    __syncthreads();
    for (std::int64_t i = threadIdx.x; i < r.vertices; i += blockDim.x) {
      double f[D];
      vertex_force<D>(r, ground, i, x, v, force_columns, f);
      double g_position[D];
      double g_velocity[D];
      double& g_mass = g.mass[w * r.vertices + i];
      for (int k = 0; k < D; ++k) {
        const std::int64_t j = i * D + k;
        g_position[k] = g_x[j];
        g_velocity[k] = r.pinned[i] ? 0.0 : g_v[j] + r.dt * g_x[j];
        g_mass -= g_force[j] * f[k] / mass[i];
      }
      gather<D>(r, i, adjoint_columns, g_position);
      if (ground.active()) {
        ground.explicit_vjp_vertex(static_cast<std::size_t>(i), x, v, g_force + i * D, g_position,
                                   g_velocity);
      }
      for (int k = 0; k < D; ++k) {
        g_x[i * D + k] = g_position[k];
        g_v[i * D + k] = g_velocity[k];
      }
      force_adjoint<D>(r, i, mass[i], g_x, g_v, g_force);  // the step before's
    }
    __syncthreads();
  }
  // Per-element parameters take their elements' shares; a global one their sum in element order.
  const auto finish = [&](const double* share, double* out, std::int64_t size) {
    if (size == m) {
      for (std::int64_t e = threadIdx.x; e < m; e += blockDim.x) out[w * m + e] = share[w * m + e];
    } else if (threadIdx.x == 0) {
      double total = 0.0;
      for (std::int64_t e = 0; e < m; ++e) total += share[w * m + e];
      out[w] = total;
    }
  };
  finish(g.mu_share, g.mu, r.mu_size);
  finish(g.lambda_share, g.lambda, r.lambda_size);
  if (actuated) finish(g.actuation_share, g.actuation, r.actuation_size);
}

// Slots of the buffer cache.
enum Slot : std::size_t {
  kElements,
  kIncidenceBegin,
  kIncidence,
  kPinned,
  kInverseEdges,
  kVolumes,
  kMu,
  kLambda,
  kActuation,
  kMass,
  kHistory,
  kScratch,
  kGradState,
  kGradInverseEdges,
  kGradVolumes,
  kMuShare,
  kLambdaShare,
  kActuationShare,
  kGradMass,
  kGradMu,
  kGradLambda,
  kGradActuation,
  kFirstBadMass,
};

// Shared memory a world's block takes without opting in to more (cudaFuncSetAttribute); beyond
// it the scratch lives in global memory, where the L1 and L2 caches hold it.
constexpr std::size_t kMaxSharedBytes = 48 * 1024;

}  // namespace

namespace {

// Sets first_bad to the least index whose mass is not a positive finite number.
__global__ void first_bad_mass_kernel(const double* masses, unsigned long long count,
                                      unsigned long long* first_bad) {
  const unsigned long long i =
      blockIdx.x * static_cast<unsigned long long>(blockDim.x) + threadIdx.x;
  if (i < count && !(masses[i] > 0.0 && isfinite(masses[i]))) atomicMin(first_bad, i);
}

}  // namespace

FirstBadMass cuda_first_bad_mass(const double* masses, std::size_t count) {
  std::lock_guard<std::mutex> lock(buffers().mutex);
  auto* first_bad = buffers().get<unsigned long long>(kFirstBadMass, 1);
  const unsigned long long none = count;
  buffers().copy_to_device(first_bad, &none, 1);
  if (count > 0) {
    const unsigned threads = 256;
    const auto blocks = static_cast<unsigned>((count + threads - 1) / threads);
    first_bad_mass_kernel<<<blocks, threads>>>(masses, count, first_bad);
    check(cudaGetLastError(), "mass check launch");
  }
  unsigned long long index = count;
  buffers().download(&index, first_bad, 1);
  FirstBadMass result{static_cast<std::size_t>(index), 0.0};
  if (result.index < count) {
    check(cudaMemcpy(&result.value, masses + result.index, sizeof(double), cudaMemcpyDeviceToHost),
          "copy to host");
  }
  return result;
}

SoftKernelTimes cuda_soft_rollout_gradient(const HostSoftTopology& topology,
                                           const HostSoftWorlds& worlds, double dt,
                                           std::size_t steps,
                                           const SoftAdjointOfFinal& adjoint_of_final,
                                           const HostSoftGradients& out) {
  std::lock_guard<std::mutex> lock(buffers().mutex);
  maya::detail::KeptBuffers& b = buffers();
  const std::size_t e = worlds.worlds;
  const std::size_t n = topology.num_vertices;
  const std::size_t m = topology.num_elements;
  const std::size_t d = topology.dim;
  const std::size_t nd = n * d;
  // Each vertex's (element, corner) pairs in element order.
  std::vector<std::int32_t> begin(n + 1, 0);
  std::vector<std::int32_t> incidence((d + 1) * m);
  for (std::size_t j = 0; j < (d + 1) * m; ++j) ++begin[topology.elements[j] + 1];
  for (std::size_t i = 0; i < n; ++i) begin[i + 1] += begin[i];
  std::vector<std::int32_t> fill(begin.begin(), begin.end() - 1);
  for (std::size_t j = 0; j < (d + 1) * m; ++j) {
    incidence[fill[topology.elements[j]]++] = static_cast<std::int32_t>(j);
  }

  Rollout r{};
  r.worlds = static_cast<std::int64_t>(e);
  r.vertices = static_cast<std::int64_t>(n);
  r.elements = static_cast<std::int64_t>(m);
  r.dt = dt;
  r.steps = static_cast<std::int64_t>(steps);
  r.element_vertices = b.upload(kElements, topology.elements, (d + 1) * m);
  r.incidence_begin = b.upload(kIncidenceBegin, begin.data(), n + 1);
  r.incidence = b.upload(kIncidence, incidence.data(), incidence.size());
  r.pinned = b.upload(kPinned, topology.pinned, n);
  for (std::size_t k = 0; k < d; ++k) {
    r.gravity[k] = topology.gravity[k];
    r.fiber[k] = topology.fiber[k];
  }
  r.ground = topology.ground;
  const bool actuated = worlds.actuation != nullptr;
  // Worlds in device memory are read in place; worlds on the host go through the pinned buffer.
  const auto input = [&](std::size_t slot, const double* values, std::size_t count) {
    return worlds.on_device ? values : b.upload(slot, values, count);
  };
  r.inverse_edges = input(kInverseEdges, worlds.inverse_edges, e * m * d * d);
  r.volumes = input(kVolumes, worlds.volumes, e * m);
  r.mu = input(kMu, worlds.mu, e * worlds.mu_size);
  r.mu_size = static_cast<std::int64_t>(worlds.mu_size);
  r.lambda = input(kLambda, worlds.lambda, e * worlds.lambda_size);
  r.lambda_size = static_cast<std::int64_t>(worlds.lambda_size);
  r.actuation = actuated ? input(kActuation, worlds.actuation, e * worlds.actuation_size) : nullptr;
  r.actuation_size = static_cast<std::int64_t>(actuated ? worlds.actuation_size : 0);
  r.mass = input(kMass, worlds.mass, e * n);
  r.history = b.get<double>(kHistory, (steps + 1) * e * 2 * nd);
  if (worlds.on_device) {
    check(
        cudaMemcpy(r.history, worlds.state, e * 2 * nd * sizeof(double), cudaMemcpyDeviceToDevice),
        "copy on device");
  } else {
    b.copy_to_device(r.history, worlds.state, e * 2 * nd);
  }
  const std::size_t scratch_doubles = 2 * m * d * d + nd;
  const std::size_t scratch_bytes = scratch_doubles * sizeof(double);
  const bool in_shared = scratch_bytes <= kMaxSharedBytes;
  r.scratch = in_shared ? nullptr : b.get<double>(kScratch, e * scratch_doubles);
  r.scratch_per_world = static_cast<std::int64_t>(scratch_doubles);
  const std::size_t shared_bytes = in_shared ? scratch_bytes : 0;

  // Results in device memory are written in place; for the host, into kept buffers first.
  const auto output = [&](std::size_t slot, double* values, std::size_t count) {
    return out.on_device ? values : b.get<double>(slot, count);
  };
  Gradients g{};
  g.state = output(kGradState, out.state, e * 2 * nd);
  g.inverse_edges = output(kGradInverseEdges, out.inverse_edges, e * m * d * d);
  g.volumes = output(kGradVolumes, out.volumes, e * m);
  g.mu_share = b.get<double>(kMuShare, e * m);
  g.lambda_share = b.get<double>(kLambdaShare, e * m);
  g.actuation_share = b.get<double>(kActuationShare, e * m);
  g.mass = output(kGradMass, out.mass, e * n);
  g.mu = output(kGradMu, out.mu, e * worlds.mu_size);
  g.lambda = output(kGradLambda, out.lambda, e * worlds.lambda_size);
  g.actuation = actuated ? output(kGradActuation, out.actuation, e * worlds.actuation_size)
                         : b.get<double>(kGradActuation, 1);
  const std::pair<double*, std::size_t> zeroed[] = {
      {g.inverse_edges, e * m * d * d}, {g.volumes, e * m},         {g.mu_share, e * m},
      {g.lambda_share, e * m},          {g.actuation_share, e * m}, {g.mass, e * n}};
  for (const auto& [pointer, count] : zeroed) {
    if (count > 0) check(cudaMemset(pointer, 0, count * sizeof(double)), "cudaMemset");
  }

  // A warp's multiple, enough for one element or vertex per thread up to 256.
  const std::size_t lanes = std::max(n, m);
  const unsigned threads =
      static_cast<unsigned>(std::min<std::size_t>(256, (lanes + 31) / 32 * 32));
  const auto blocks = static_cast<unsigned>(e);
  const double* final_state = r.history + steps * e * 2 * nd;
  const std::size_t state_bytes = e * 2 * nd * sizeof(double);

  cudaEvent_t marks[4];
  for (auto& mark : marks) check(cudaEventCreate(&mark), "cudaEventCreate");
  SoftKernelTimes times;
  try {
    dispatch(topology.energy, d, [&]<int D, template <int> class Material>() {
      check(cudaEventRecord(marks[0]), "cudaEventRecord");
      forward_kernel<D, Material><<<blocks, threads, shared_bytes>>>(r);
      check(cudaGetLastError(), "forward kernel launch");
      check(cudaEventRecord(marks[1]), "cudaEventRecord");
      if (adjoint_of_final.device) {
        // The final states straight into the result, the loss's adjoint from the device.
        check(cudaMemcpy(out.final_state, final_state, state_bytes, cudaMemcpyDeviceToDevice),
              "copy on device");
        check(cudaDeviceSynchronize(), "forward kernel");  // the loss reads on maya's stream
        const double* adjoint = adjoint_of_final.device();
        check(cudaMemcpy(g.state, adjoint, state_bytes, cudaMemcpyDeviceToDevice),
              "copy on device");
      } else {
        // The host loss: the final states to the host and its adjoint back.
        check(cudaDeviceSynchronize(), "forward kernel");
        std::vector<double> host_final(out.on_device ? e * 2 * nd : 0);
        double* final_on_host = out.on_device ? host_final.data() : out.final_state;
        b.download(final_on_host, final_state, e * 2 * nd);
        if (out.on_device) {
          check(cudaMemcpy(out.final_state, final_state, state_bytes, cudaMemcpyDeviceToDevice),
                "copy on device");
        }
        std::vector<double>& host_adjoint = host_adjoint_buffer();
        if (host_adjoint.size() < e * 2 * nd) host_adjoint.resize(e * 2 * nd);
        adjoint_of_final.host(final_on_host, host_adjoint.data());
        b.copy_to_device(g.state, host_adjoint.data(), e * 2 * nd);
      }
      check(cudaEventRecord(marks[2]), "cudaEventRecord");
      reverse_kernel<D, Material><<<blocks, threads, shared_bytes>>>(r, g);
      check(cudaGetLastError(), "reverse kernel launch");
      check(cudaEventRecord(marks[3]), "cudaEventRecord");
      check(cudaDeviceSynchronize(), "reverse kernel");
    });
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

  if (!out.on_device) {
    b.download(out.state, g.state, e * 2 * nd);
    b.download(out.inverse_edges, g.inverse_edges, e * m * d * d);
    b.download(out.volumes, g.volumes, e * m);
    b.download(out.mu, g.mu, e * worlds.mu_size);
    b.download(out.lambda, g.lambda, e * worlds.lambda_size);
    b.download(out.mass, g.mass, e * n);
    if (actuated) b.download(out.actuation, g.actuation, e * worlds.actuation_size);
  }
  return times;
}

}  // namespace maya::fem::detail
