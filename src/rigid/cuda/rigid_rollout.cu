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
};

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
  RigidKernelTimes times;
  try {
    check(cudaEventRecord(marks[0]), "cudaEventRecord");
    forward_kernel<<<blocks, kThreads>>>(r, initial, history, final_state);
    check(cudaGetLastError(), "forward kernel launch");
    check(cudaEventRecord(marks[1]), "cudaEventRecord");
    check(cudaDeviceSynchronize(), "forward kernel");
    buffers().download(out.final_state, final_state, 6 * lanes);
    std::vector<double> host_adjoint(6 * lanes, 0.0);
    adjoint_of_final(out.final_state, host_adjoint.data());
    buffers().copy_to_device(adjoint, host_adjoint.data(), 6 * lanes);
    check(cudaEventRecord(marks[2]), "cudaEventRecord");
    reverse_kernel<<<blocks, kThreads>>>(r, history, adjoint, grads);
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
