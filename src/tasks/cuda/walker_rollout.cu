// The walking robots on the GPU: one thread block per robot runs its whole rollout in one kernel
// launch (forward, every state kept in global memory for the reverse pass), and another its whole
// adjoint, the controller and its gradient held in shared memory. The phases are those of
// tasks/walker_kernel.hpp, the CPU's, with a barrier between them.
#include <cuda_runtime.h>

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "maya/core/error.hpp"
#include "tasks/cuda/walker_rollout_cuda.hpp"
#include "tasks/walker_kernel.hpp"
#include "tensor/cuda/kept_buffers.hpp"

namespace maya::tasks::detail {
namespace {

// Threads per robot: enough for the widest phase of the default robot (64 inputs, 31 springs)
// twice over, so that the network's weight updates (I H of them per step) split 16 ways.
constexpr int kThreads = 128;

// Device memory kept between calls: a training loop calls once per iteration with the same sizes.
maya::detail::KeptBuffers& buffers() {
  static maya::detail::KeptBuffers instance("walker_rollout");
  return instance;
}

void check(cudaError_t status, const char* what) { buffers().check(status, what); }

// Shared memory: the controller [P], in the reverse pass its gradient [P], then the scratch.
__global__ void __launch_bounds__(kThreads)
    walker_forward(WalkerLayout l, const double* controllers, double* history, double* distances) {
  extern __shared__ double shared[];
  const int rank = static_cast<int>(threadIdx.x);
  const int threads = static_cast<int>(blockDim.x);
  const std::size_t robot = blockIdx.x;
  const int p = controller_size(l);
  const int state = 4 * l.particles;
  for (int j = rank; j < p; j += threads) shared[j] = controllers[robot * p + j];
  const Controller c = controller_at(l, shared);
  const WalkerScratch s = carve_scratch(l, shared + p);
  double* states = history + robot * static_cast<std::size_t>(l.steps + 1) * state;
  for (int j = rank; j < state; j += threads) {
    const double value = j < 2 * l.particles ? l.start[j] : 0.0;
    s.x[j] = value;  // x and v are adjacent
    states[j] = value;
  }
  __syncthreads();
  for (int t = 0; t < l.steps; ++t) {
    MAYA_WALKER_FORWARD_STEP(l, c, s, t, rank, threads, __syncthreads());
    for (int j = rank; j < state; j += threads) {
      states[static_cast<std::size_t>(t + 1) * state + j] = s.x[j];
    }
  }
  if (rank == 0) distances[robot] = walked(l, l.start, s.x);
}

__global__ void __launch_bounds__(kThreads)
    walker_reverse(WalkerLayout l, const double* controllers, const double* history,
                   double* gradients) {
  extern __shared__ double shared[];
  const int rank = static_cast<int>(threadIdx.x);
  const int threads = static_cast<int>(blockDim.x);
  const std::size_t robot = blockIdx.x;
  const int p = controller_size(l);
  const int state = 4 * l.particles;
  for (int j = rank; j < p; j += threads) {
    shared[j] = controllers[robot * p + j];
    shared[p + j] = 0.0;
  }
  const Controller c = controller_at(l, shared);
  const Controller grad = controller_at(l, shared + p);
  const WalkerScratch s = carve_scratch(l, shared + 2 * p);
  const double* states = history + robot * static_cast<std::size_t>(l.steps + 1) * state;
  // loss = -distance: d loss / d x_T = -1 / N along x.
  for (int j = rank; j < state; j += threads) {
    s.g_x[j] = j < 2 * l.particles && j % 2 == 0 ? -1.0 / static_cast<double>(l.particles) : 0.0;
  }
  for (int t = l.steps - 1; t >= 0; --t) {
    for (int j = rank; j < state; j += threads) {
      s.x[j] = states[static_cast<std::size_t>(t) * state + j];
    }
    __syncthreads();
    MAYA_WALKER_REVERSE_STEP(l, c, grad, s, t, rank, threads, __syncthreads());
  }
  for (int j = rank; j < p; j += threads) gradients[robot * p + j] = grad.w1[j];
}

}  // namespace

int cuda_walker_devices() noexcept {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return count;
}

double cuda_walker_rollout(const WalkerLayout& host, std::size_t robots, const double* controllers,
                           double* distances, double* gradients, std::size_t recorded,
                           double* recorded_states) {
  maya::detail::KeptBuffers& b = buffers();
  const std::lock_guard lock(b.mutex);
  const auto n = static_cast<std::size_t>(host.particles);
  const auto s = static_cast<std::size_t>(host.springs);
  const auto p = static_cast<std::size_t>(controller_size(host));
  const std::size_t state = 4 * n;
  const std::size_t history_size = robots * static_cast<std::size_t>(host.steps + 1) * state;
  WalkerLayout l = host;
  l.first = b.upload(0, host.first, s);
  l.second = b.upload(1, host.second, s);
  l.incidence_begin = b.upload(2, host.incidence_begin, n + 1);
  l.incidence = b.upload(3, host.incidence, 2 * s);
  l.muscle_of = b.upload(4, host.muscle_of, s);
  l.rest = b.upload(5, host.rest, s);
  l.start = b.upload(6, host.start, 2 * n);
  const double* device_controllers = b.upload(7, controllers, robots * p);
  double* device_distances = b.get<double>(8, robots);
  double* history = b.get<double>(9, history_size);
  double* device_gradients = gradients != nullptr ? b.get<double>(10, robots * p) : nullptr;

  const std::size_t scratch = static_cast<std::size_t>(walker_scratch_size(host));
  const std::size_t forward_bytes = (p + scratch) * sizeof(double);
  const std::size_t reverse_bytes = (2 * p + scratch) * sizeof(double);
  int device = 0;
  int limit = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&limit, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
        "cudaDeviceGetAttribute");
  const std::size_t needed = gradients != nullptr ? reverse_bytes : forward_bytes;
  if (needed > static_cast<std::size_t>(limit)) {
    throw DeviceError("walker_rollout: a controller of " + std::to_string(p) + " values needs " +
                      std::to_string(needed) + " bytes of shared memory per robot, the GPU has " +
                      std::to_string(limit) + " (use fewer hidden units)");
  }
  check(cudaFuncSetAttribute(walker_forward, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(forward_bytes)),
        "cudaFuncSetAttribute");
  if (gradients != nullptr) {
    check(cudaFuncSetAttribute(walker_reverse, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(reverse_bytes)),
          "cudaFuncSetAttribute");
  }

  cudaEvent_t events[3];
  for (cudaEvent_t& event : events) check(cudaEventCreate(&event), "cudaEventCreate");
  const auto blocks = static_cast<unsigned>(robots);
  check(cudaEventRecord(events[0]), "cudaEventRecord");
  walker_forward<<<blocks, kThreads, forward_bytes>>>(l, device_controllers, history,
                                                      device_distances);
  check(cudaGetLastError(), "the forward kernel's launch");
  check(cudaEventRecord(events[1]), "cudaEventRecord");
  if (gradients != nullptr) {
    walker_reverse<<<blocks, kThreads, reverse_bytes>>>(l, device_controllers, history,
                                                        device_gradients);
    check(cudaGetLastError(), "the reverse kernel's launch");
  }
  check(cudaEventRecord(events[2]), "cudaEventRecord");
  check(cudaEventSynchronize(events[2]), "the kernels");
  float milliseconds = 0.0f;
  check(cudaEventElapsedTime(&milliseconds, events[0], events[2]), "cudaEventElapsedTime");
  for (cudaEvent_t& event : events) cudaEventDestroy(event);

  b.download(distances, device_distances, robots);
  if (gradients != nullptr) b.download(gradients, device_gradients, robots * p);
  if (recorded_states != nullptr) {
    const std::size_t per_robot = static_cast<std::size_t>(host.steps + 1) * state;
    b.download(recorded_states, history + recorded * per_robot, per_robot);
  }
  return static_cast<double>(milliseconds) * 1e-3;
}

}  // namespace maya::tasks::detail
