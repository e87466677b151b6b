// The walking robots on the GPU: one thread block per robot runs its whole rollout in one kernel
// launch (forward, every state kept in global memory for the reverse pass), and another its whole
// adjoint, the controller and its gradient held in shared memory. The phases are those of
// tasks/walker_kernel.hpp, the CPU's, with a barrier between them.
#include <cuda_runtime.h>

#include <cstddef>
#include <limits>
#include <memory>
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

namespace {

// Adam on robot `blockIdx.x`'s controller row after its rollout: a gradient holding a NaN or an
// infinity is zeroed (that robot's step then moves by its moments alone, as on the host), a
// distance above the best so far keeps the controller before the update, then
//   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
//   u -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
// in optim::Adam's order of operations, each one rounded on its own (the _rn intrinsics keep
// nvcc from contracting them into fused multiply-adds), so both give the same bits.
__global__ void __launch_bounds__(kThreads)
    walker_adam(int p, WalkerAdamStep step, const double* distances, double* best_distances,
                double* controllers, double* best_controllers, double* gradients,
                double* first_moment, double* second_moment) {
  const int rank = static_cast<int>(threadIdx.x);
  const int threads = static_cast<int>(blockDim.x);
  const std::size_t row = blockIdx.x * static_cast<std::size_t>(p);
  double* u = controllers + row;
  double* g = gradients + row;
  double* m = first_moment + row;
  double* v = second_moment + row;
  bool bad = false;
  for (int j = rank; j < p; j += threads) bad = bad || !isfinite(g[j]);
  bad = __syncthreads_or(bad) != 0;
  const double walked = distances[blockIdx.x];
  const bool better = walked > best_distances[blockIdx.x];
  __syncthreads();  // every thread has read the best distance before it changes
  if (better) {
    for (int j = rank; j < p; j += threads) best_controllers[row + j] = u[j];
    if (rank == 0) best_distances[blockIdx.x] = walked;
  }
  const double b1 = step.beta1;
  const double b2 = step.beta2;
  const double lr = step.learning_rate;
  const double decay = step.weight_decay;
  for (int j = rank; j < p; j += threads) {
    double latent = u[j];
    double gradient = bad ? 0.0 : g[j];
    if (step.decoupled_weight_decay) {
      latent = __dsub_rn(latent, __dmul_rn(__dmul_rn(lr, decay), latent));
    } else {
      gradient = __dadd_rn(gradient, __dmul_rn(decay, latent));
    }
    const double first = __dadd_rn(__dmul_rn(b1, m[j]), __dmul_rn(1.0 - b1, gradient));
    const double second =
        __dadd_rn(__dmul_rn(b2, v[j]), __dmul_rn(__dmul_rn(1.0 - b2, gradient), gradient));
    m[j] = first;
    v[j] = second;
    const double m_hat = __ddiv_rn(first, step.bias1);
    const double v_hat = __ddiv_rn(second, step.bias2);
    u[j] = __dsub_rn(latent,
                     __ddiv_rn(__dmul_rn(lr, m_hat), __dadd_rn(__dsqrt_rn(v_hat), step.epsilon)));
  }
}

// The layout's arrays (on the host in `host`) copied into slots 0-6 of `b`; the copy's pointers
// are the device's.
WalkerLayout upload_layout(maya::detail::KeptBuffers& b, const WalkerLayout& host) {
  const auto n = static_cast<std::size_t>(host.particles);
  const auto s = static_cast<std::size_t>(host.springs);
  WalkerLayout l = host;
  l.first = b.upload(0, host.first, s);
  l.second = b.upload(1, host.second, s);
  l.incidence_begin = b.upload(2, host.incidence_begin, n + 1);
  l.incidence = b.upload(3, host.incidence, 2 * s);
  l.muscle_of = b.upload(4, host.muscle_of, s);
  l.rest = b.upload(5, host.rest, s);
  l.start = b.upload(6, host.start, 2 * n);
  return l;
}

// Shared memory per robot: the controller [P] (and its gradient [P] in reverse), the scratch.
std::size_t forward_shared_bytes(const WalkerLayout& l) {
  return static_cast<std::size_t>(controller_size(l) + walker_scratch_size(l)) * sizeof(double);
}
std::size_t reverse_shared_bytes(const WalkerLayout& l) {
  return static_cast<std::size_t>(2 * controller_size(l) + walker_scratch_size(l)) * sizeof(double);
}

// Opts the kernels in to the shared memory they need; throws where a block cannot have it.
void prepare_kernels(const maya::detail::KeptBuffers& b, const WalkerLayout& l, bool gradient) {
  const std::size_t forward_bytes = forward_shared_bytes(l);
  const std::size_t reverse_bytes = reverse_shared_bytes(l);
  int device = 0;
  int limit = 0;
  b.check(cudaGetDevice(&device), "cudaGetDevice");
  b.check(cudaDeviceGetAttribute(&limit, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
          "cudaDeviceGetAttribute");
  const std::size_t needed = gradient ? reverse_bytes : forward_bytes;
  if (needed > static_cast<std::size_t>(limit)) {
    throw DeviceError("walker_rollout: a controller of " + std::to_string(controller_size(l)) +
                      " values needs " + std::to_string(needed) +
                      " bytes of shared memory per robot, the GPU has " + std::to_string(limit) +
                      " (use fewer hidden units)");
  }
  b.check(cudaFuncSetAttribute(walker_forward, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(forward_bytes)),
          "cudaFuncSetAttribute");
  if (gradient) {
    b.check(cudaFuncSetAttribute(walker_reverse, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                 static_cast<int>(reverse_bytes)),
            "cudaFuncSetAttribute");
  }
}

// The forward kernel, and the reverse one when `gradients` is given, on `l` (device pointers),
// timed by `events` [2] around them; nothing is waited for.
void launch_rollout(const maya::detail::KeptBuffers& b, const WalkerLayout& l, std::size_t robots,
                    const double* controllers, double* history, double* distances,
                    double* gradients, cudaEvent_t* events) {
  const auto blocks = static_cast<unsigned>(robots);
  b.check(cudaEventRecord(events[0]), "cudaEventRecord");
  walker_forward<<<blocks, kThreads, forward_shared_bytes(l)>>>(l, controllers, history, distances);
  b.check(cudaGetLastError(), "the forward kernel's launch");
  if (gradients != nullptr) {
    walker_reverse<<<blocks, kThreads, reverse_shared_bytes(l)>>>(l, controllers, history,
                                                                  gradients);
    b.check(cudaGetLastError(), "the reverse kernel's launch");
  }
  b.check(cudaEventRecord(events[1]), "cudaEventRecord");
}

std::size_t history_size(const WalkerLayout& l, std::size_t robots) {
  return robots * static_cast<std::size_t>(l.steps + 1) * 4 * static_cast<std::size_t>(l.particles);
}

// Waits for events[1]; the seconds between the two events.
double elapsed(const maya::detail::KeptBuffers& b, cudaEvent_t* events) {
  b.check(cudaEventSynchronize(events[1]), "the kernels");
  float milliseconds = 0.0f;
  b.check(cudaEventElapsedTime(&milliseconds, events[0], events[1]), "cudaEventElapsedTime");
  return static_cast<double>(milliseconds) * 1e-3;
}

}  // namespace

double cuda_walker_rollout(const WalkerLayout& host, std::size_t robots, const double* controllers,
                           double* distances, double* gradients, std::size_t recorded,
                           double* recorded_states) {
  maya::detail::KeptBuffers& b = buffers();
  const std::lock_guard lock(b.mutex);
  const auto p = static_cast<std::size_t>(controller_size(host));
  const WalkerLayout l = upload_layout(b, host);
  const double* device_controllers = b.upload(7, controllers, robots * p);
  double* device_distances = b.get<double>(8, robots);
  double* history = b.get<double>(9, history_size(host, robots));
  double* device_gradients = gradients != nullptr ? b.get<double>(10, robots * p) : nullptr;
  prepare_kernels(b, host, gradients != nullptr);

  cudaEvent_t events[2];
  for (cudaEvent_t& event : events) check(cudaEventCreate(&event), "cudaEventCreate");
  double seconds = 0.0;
  try {
    launch_rollout(b, l, robots, device_controllers, history, device_distances, device_gradients,
                   events);
    seconds = elapsed(b, events);
  } catch (...) {
    for (cudaEvent_t& event : events) cudaEventDestroy(event);
    throw;
  }
  for (cudaEvent_t& event : events) cudaEventDestroy(event);

  b.download(distances, device_distances, robots);
  if (gradients != nullptr) b.download(gradients, device_gradients, robots * p);
  if (recorded_states != nullptr) {
    const std::size_t per_robot = history_size(host, 1);
    b.download(recorded_states, history + recorded * per_robot, per_robot);
  }
  return seconds;
}

// Slots of the training's own buffers: 0-6 the layout's arrays (upload_layout), then these.
enum TrainingSlot : std::size_t {
  kControllers = 7,
  kGradients,
  kFirstMoment,
  kSecondMoment,
  kBestControllers,
  kDistances,
  kBestDistances,
  kHistory,
};

struct CudaWalkerTraining::Memory {
  maya::detail::KeptBuffers buffers{"WalkerTraining"};
  WalkerLayout layout{};  // its arrays on the device
  std::size_t robots = 0;
  std::size_t size = 0;  // P
  cudaEvent_t events[2] = {nullptr, nullptr};

  ~Memory() {
    for (cudaEvent_t event : events) {
      if (event != nullptr) cudaEventDestroy(event);
    }
  }
};

CudaWalkerTraining::CudaWalkerTraining(const WalkerLayout& layout, std::size_t robots,
                                       const double* controllers)
    : memory_(std::make_unique<Memory>()) {
  Memory& m = *memory_;
  maya::detail::KeptBuffers& b = m.buffers;
  m.robots = robots;
  m.size = static_cast<std::size_t>(controller_size(layout));
  const std::size_t values = robots * m.size;
  m.layout = upload_layout(b, layout);
  double* device_controllers = b.upload(kControllers, controllers, values);
  (void)b.get<double>(kGradients, values);
  for (const std::size_t slot : {kFirstMoment, kSecondMoment}) {
    b.check(cudaMemset(b.get<double>(slot, values), 0, values * sizeof(double)), "cudaMemset");
  }
  // The best controllers start as the initial ones, as WalkerTraining's on the host.
  b.check(cudaMemcpy(b.get<double>(kBestControllers, values), device_controllers,
                     values * sizeof(double), cudaMemcpyDeviceToDevice),
          "cudaMemcpy");
  (void)b.get<double>(kDistances, robots);
  const std::vector<double> minus_infinity(robots, -std::numeric_limits<double>::infinity());
  (void)b.upload(kBestDistances, minus_infinity.data(), robots);
  (void)b.get<double>(kHistory, history_size(layout, robots));
  prepare_kernels(b, layout, true);
  for (cudaEvent_t& event : m.events) b.check(cudaEventCreate(&event), "cudaEventCreate");
}

CudaWalkerTraining::~CudaWalkerTraining() = default;

double CudaWalkerTraining::iterate(const WalkerAdamStep& step, double* distances) {
  Memory& m = *memory_;
  maya::detail::KeptBuffers& b = m.buffers;
  const std::size_t values = m.robots * m.size;
  double* controllers = b.get<double>(kControllers, values);
  double* gradients = b.get<double>(kGradients, values);
  double* device_distances = b.get<double>(kDistances, m.robots);
  launch_rollout(b, m.layout, m.robots, controllers,
                 b.get<double>(kHistory, history_size(m.layout, m.robots)), device_distances,
                 gradients, m.events);
  walker_adam<<<static_cast<unsigned>(m.robots), kThreads>>>(
      static_cast<int>(m.size), step, device_distances, b.get<double>(kBestDistances, m.robots),
      controllers, b.get<double>(kBestControllers, values), gradients,
      b.get<double>(kFirstMoment, values), b.get<double>(kSecondMoment, values));
  b.check(cudaGetLastError(), "the Adam kernel's launch");
  const double seconds = elapsed(b, m.events);
  b.download(distances, device_distances, m.robots);  // waits for the Adam kernel
  return seconds;
}

std::size_t CudaWalkerTraining::robots() const noexcept { return memory_->robots; }

void CudaWalkerTraining::controllers(double* out) const {
  maya::detail::KeptBuffers& b = memory_->buffers;
  const std::size_t values = memory_->robots * memory_->size;
  b.download(out, b.get<double>(kControllers, values), values);
}

void CudaWalkerTraining::best_controllers(double* out) const {
  maya::detail::KeptBuffers& b = memory_->buffers;
  const std::size_t values = memory_->robots * memory_->size;
  b.download(out, b.get<double>(kBestControllers, values), values);
}

}  // namespace maya::tasks::detail
