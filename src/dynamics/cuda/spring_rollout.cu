// Mass-spring rollouts of many worlds and their reverse sweeps on a CUDA GPU: the host side of
// spring_rollout_gradient. Each direction of a whole rollout is one launch. A world small enough
// for one block's shared memory (W2's G = 16, W5's G = 8) is one block, and many worlds are many
// blocks (resident_kernels.cuh; split_kernels.cuh as a variant); a larger world is one
// cooperative grid (lane_kernels.cuh while every lane fits the GPU at once, else
// gather_kernels.cuh; tiled_kernels.cuh as a variant).
//
// The arithmetic is mass_spring_kernels.hpp's, line for line and in the same order (each
// particle sums its springs in spring order), so results agree with the CPU fused step up to the
// contraction of multiply-adds. The forward pass keeps every state [T + 1, 2, N, D]; the reverse
// pass reads them back and recomputes each spring's geometry.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "dynamics/cuda/gather_kernels.cuh"
#include "dynamics/cuda/lane_kernels.cuh"
#include "dynamics/cuda/resident_kernels.cuh"
#include "dynamics/cuda/split_kernels.cuh"
#include "dynamics/cuda/spring_rollout_cuda.hpp"
#include "dynamics/cuda/tiled_kernels.cuh"
#include "maya/core/error.hpp"
#include "maya/tensor/cuda.hpp"

namespace maya::dynamics::detail {
namespace {

// Calls f with std::integral_constant<int, d> for d in 1..3 (d is checked by the caller).
template <class F>
auto with_dimension(std::size_t d, F&& f) {
  if (d == 1) return f(std::integral_constant<int, 1>{});
  if (d == 2) return f(std::integral_constant<int, 2>{});
  return f(std::integral_constant<int, 3>{});
}

// Calls f with std::bool_constant<friction>: the kernels are compiled with and without ground
// friction, so that the frictionless ones carry none of its code.
template <class F>
auto with_friction(bool friction, F&& f) {
  if (friction) return f(std::bool_constant<true>{});
  return f(std::bool_constant<false>{});
}

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw DeviceError(std::string("spring_rollout_gradient: ") + what +
                      " failed: " + cudaGetErrorString(status));
  }
}

// The last model's springs (as given and as ints) and each particle's springs in spring order,
// under the model's topology id (MassSpringModel::topology_id(); 0: none yet).
struct Incidence {
  std::uint64_t topology_id = 0;
  std::size_t num_particles = 0;
  std::vector<std::int64_t> end_a;
  std::vector<std::int64_t> end_b;
  std::vector<int> first;
  std::vector<int> second;
  std::vector<unsigned> begin;  // [N + 1]
  std::vector<unsigned>
      incidence;  // [2 S]: 2 j + 1 at the first end of spring j, 2 j at the second
  unsigned max_degree = 0;
  HostTiles tiles;  // the tiled kernels' tiles of this model, once they ran it
};

// Device memory kept between calls (grown, never shrunk), so that repeated rollouts allocate
// nothing; a pinned host buffer through which the copies go (with copies from pageable memory
// the whole call spent about 4 ms beyond the kernels at W2 G = 128 and 160 ms at W5 E = 16384 on
// the H200 machine: about 2 GB/s over the bytes copied); and the last topology uploaded to each
// slot, so that a repeated model is not uploaded again. The kernels run on the legacy default
// stream; events order them against maya's stream (the worlds' tensors, the results', the loss
// on the tape) on the device, without waits on the host.
class Workspace {
 public:
  ~Workspace() {
    for (auto& [pointer, bytes] : buffers_) cudaFree(pointer);
    if (pinned_ != nullptr) cudaFreeHost(pinned_);
    if (found_ != nullptr) cudaFreeHost(found_);
    for (cudaEvent_t event : events_) {
      if (event != nullptr) cudaEventDestroy(event);
    }
  }
  // Buffer `slot`, at least `bytes` long.
  void* get(std::size_t slot, std::size_t bytes) {
    if (buffers_.size() <= slot) buffers_.resize(slot + 1, {nullptr, 0});
    auto& [pointer, size] = buffers_[slot];
    if (size < bytes) {
      if (pointer != nullptr) check(cudaFree(pointer), "cudaFree");
      pointer = nullptr;
      size = 0;
      if (slot < uploaded_.size()) uploaded_[slot].clear();
      check(cudaMalloc(&pointer, bytes), "cudaMalloc");
      size = bytes;
    }
    return pointer;
  }
  // The pinned staging buffer: kStagingBytes, for copies on the legacy stream to fill.
  unsigned char* staging() {
    if (pinned_ == nullptr) {
      void* pointer = nullptr;
      check(cudaMallocHost(&pointer, kStagingBytes), "cudaMallocHost");
      pinned_ = static_cast<unsigned char*>(pointer);
    }
    return pinned_;
  }
  // The same for the host to write: first waits for queued copies that still read it.
  unsigned char* staging_for_host() {
    if (staging_read_) {
      check(cudaStreamSynchronize(cudaStreamLegacy), "copy to device");
      staging_read_ = false;
    }
    return staging();
  }
  // Copies from the staging buffer were queued (set) or are known complete (clear).
  void staging_read(bool queued) noexcept { staging_read_ = queued; }
  // A pinned word that a device-to-host copy fills (the mass check's answer).
  unsigned long long* found() {
    if (found_ == nullptr) {
      void* pointer = nullptr;
      check(cudaMallocHost(&pointer, sizeof(unsigned long long)), "cudaMallocHost");
      found_ = static_cast<unsigned long long*>(pointer);
    }
    return found_;
  }
  // Event `k` (0 .. 2), without timing, created once.
  cudaEvent_t event(std::size_t k) {
    if (events_[k] == nullptr) {
      check(cudaEventCreateWithFlags(&events_[k], cudaEventDisableTiming), "cudaEventCreate");
    }
    return events_[k];
  }
  // Whether slot `slot` holds exactly these bytes already (remember() said so).
  bool holds(std::size_t slot, const void* host, std::size_t bytes) const {
    if (uploaded_.size() <= slot) return false;
    const std::vector<unsigned char>& last = uploaded_[slot];
    const auto* data = static_cast<const unsigned char*>(host);
    return !last.empty() && last.size() == bytes && std::equal(data, data + bytes, last.begin());
  }
  // After a successful upload of these bytes to slot `slot`.
  void remember(std::size_t slot, const void* host, std::size_t bytes) {
    if (uploaded_.size() <= slot) uploaded_.resize(slot + 1);
    const auto* data = static_cast<const unsigned char*>(host);
    uploaded_[slot].assign(data, data + bytes);
  }
  void forget(std::size_t slot) {
    if (slot < uploaded_.size()) uploaded_[slot].clear();
  }
  // Whether slot `slot` holds `bytes` bytes that remember() recorded (without comparing them).
  bool holds_size(std::size_t slot, std::size_t bytes) const {
    return slot < uploaded_.size() && !uploaded_[slot].empty() && uploaded_[slot].size() == bytes;
  }
  static constexpr std::size_t kStagingBytes = std::size_t{32} << 20;
  std::mutex mutex;
  Incidence incidence;  // of the last model

 private:
  std::vector<std::pair<void*, std::size_t>> buffers_;
  std::vector<std::vector<unsigned char>> uploaded_;
  unsigned char* pinned_ = nullptr;
  bool staging_read_ = false;
  unsigned long long* found_ = nullptr;
  cudaEvent_t events_[3] = {nullptr, nullptr, nullptr};
};

Workspace& workspace() {
  static Workspace instance;
  return instance;
}

// Makes `waiter` wait on the device for what `producer` has queued so far.
void order_after(cudaStream_t waiter, cudaStream_t producer, cudaEvent_t event) {
  check(cudaEventRecord(event, producer), "cudaEventRecord");
  check(cudaStreamWaitEvent(waiter, event, 0), "cudaStreamWaitEvent");
}

// Host <-> device copies through the pinned buffer, a chunk at a time.
void to_device(void* device, const void* host, std::size_t bytes) {
  unsigned char* pinned = workspace().staging_for_host();
  for (std::size_t done = 0; done < bytes; done += Workspace::kStagingBytes) {
    const std::size_t chunk = std::min(Workspace::kStagingBytes, bytes - done);
    std::memcpy(pinned, static_cast<const unsigned char*>(host) + done, chunk);
    check(cudaMemcpy(static_cast<unsigned char*>(device) + done, pinned, chunk,
                     cudaMemcpyHostToDevice),
          "copy to device");
  }
}

void to_host(void* host, const void* device, std::size_t bytes) {
  unsigned char* pinned = workspace().staging();
  for (std::size_t done = 0; done < bytes; done += Workspace::kStagingBytes) {
    const std::size_t chunk = std::min(Workspace::kStagingBytes, bytes - done);
    check(cudaMemcpy(pinned, static_cast<const unsigned char*>(device) + done, chunk,
                     cudaMemcpyDeviceToHost),
          "copy to host");
    std::memcpy(static_cast<unsigned char*>(host) + done, pinned, chunk);
  }
  // The legacy stream's earlier copies are done once a copy on it is.
  if (bytes > 0) workspace().staging_read(false);
}

// One copy from a host array to a device buffer, or back.
struct Upload {
  void* device;
  const void* host;
  std::size_t bytes;
};
struct Download {
  void* host;
  const void* device;
  std::size_t bytes;
};

// Offsets of the copies in the staging buffer (each 256-byte aligned), or false where they do
// not fit it together.
template <class T>
bool stage(std::initializer_list<T> transfers, std::vector<std::size_t>& offsets) {
  std::size_t total = 0;
  offsets.clear();
  for (const T& t : transfers) {
    offsets.push_back(total);
    total += (t.bytes + 255) / 256 * 256;
  }
  return total <= Workspace::kStagingBytes;
}

// Host arrays to the device: where they fit the staging buffer together, one host copy into it
// each and copies queued on the legacy stream, with no wait (a host write to the staging buffer
// waits for them: Workspace::staging_for_host); else one chunked copy after another.
void to_device_queued(std::initializer_list<Upload> transfers) {
  std::vector<std::size_t> offsets;
  if (!stage(transfers, offsets)) {
    for (const Upload& t : transfers) {
      if (t.bytes > 0) to_device(t.device, t.host, t.bytes);
    }
    return;
  }
  unsigned char* pinned = workspace().staging_for_host();
  std::size_t k = 0;
  for (const Upload& t : transfers) {
    if (t.bytes > 0) {
      std::memcpy(pinned + offsets[k], t.host, t.bytes);
      check(cudaMemcpyAsync(t.device, pinned + offsets[k], t.bytes, cudaMemcpyHostToDevice,
                            cudaStreamLegacy),
            "copy to device");
    }
    ++k;
  }
  workspace().staging_read(true);
}

// Device buffers to host arrays: where they fit the staging buffer together, every copy
// queued, one wait, then the host copies; else one after another.
void to_host_together(std::initializer_list<Download> transfers) {
  std::vector<std::size_t> offsets;
  if (!stage(transfers, offsets)) {
    for (const Download& t : transfers) {
      if (t.bytes > 0) to_host(t.host, t.device, t.bytes);
    }
    return;
  }
  // Queued after any copy that still reads the staging buffer, on the same stream.
  unsigned char* pinned = workspace().staging();
  std::size_t k = 0;
  for (const Download& t : transfers) {
    if (t.bytes > 0) {
      check(cudaMemcpyAsync(pinned + offsets[k], t.device, t.bytes, cudaMemcpyDeviceToHost,
                            cudaStreamLegacy),
            "copy to host");
    }
    ++k;
  }
  check(cudaStreamSynchronize(cudaStreamLegacy), "copy to host");
  workspace().staging_read(false);
  k = 0;
  for (const Download& t : transfers) {
    if (t.bytes > 0) std::memcpy(t.host, pinned + offsets[k], t.bytes);
    ++k;
  }
}

template <class T>
T* upload(std::size_t slot, const T* host, std::size_t count) {
  auto* device =
      static_cast<T*>(workspace().get(slot, std::max<std::size_t>(count, 1) * sizeof(T)));
  workspace().forget(slot);
  if (count > 0) to_device(device, host, count * sizeof(T));
  return device;
}

// The same for topology that repeats between calls: uploaded only when it changed.
template <class T>
T* upload_topology(std::size_t slot, const T* host, std::size_t count) {
  auto* device =
      static_cast<T*>(workspace().get(slot, std::max<std::size_t>(count, 1) * sizeof(T)));
  if (count > 0 && !workspace().holds(slot, host, count * sizeof(T))) {
    workspace().forget(slot);
    to_device(device, host, count * sizeof(T));
    workspace().remember(slot, host, count * sizeof(T));
  }
  return device;
}

template <class T>
T* scratch(std::size_t slot, std::size_t count) {
  auto* device =
      static_cast<T*>(workspace().get(slot, std::max<std::size_t>(count, 1) * sizeof(T)));
  workspace().forget(slot);
  return device;
}

void download(double* host, const double* device, std::size_t count) {
  if (count > 0) to_host(host, device, count * sizeof(double));
}

// Lowest index of a value that is not positive and finite (NaN included) into `first` (which
// starts above every index).
__global__ void first_non_positive(const double* values, std::size_t count,
                                   unsigned long long* first) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const double v = values[i];
    if (!(v > 0.0 && v <= 1.7976931348623157e308)) {
      atomicMin(first, static_cast<unsigned long long>(i));
      return;
    }
  }
}

// Blocks for first_non_positive over `count` values.
unsigned mass_check_blocks(std::size_t count) {
  return static_cast<unsigned>(std::min<std::size_t>((count + 255) / 256, 1024));
}

// What runs between the forward and the reverse kernels: the final states out, the loss, d loss /
// d final state in (into `adjoints`). With the loss on the device nothing crosses to the host and
// nothing waits on the host: the loss's work on maya's stream (`tape_stream`) waits on the device
// for the forward pass, and the reverse pass for the loss. Device results are allocated here,
// while the forward pass runs (their gradients zeroed and the masses checked on maya's stream),
// and their addresses written into `arrays`, which the reverse launch reads after this.
struct HandOver {
  const AdjointOfFinal& loss;
  HostGradients& out;
  WorldArrays& arrays;
  double* host_final;         // host [E, 2, N, D]: out.final_state itself when that is on the host
  double* host_adjoint;       // host [E, 2, N, D], for the host loss
  std::size_t count;          // E 2 N D
  std::size_t masses;         // E N
  std::size_t springs;        // E S
  const double* device_mass;  // [E, N] when the worlds are on the device, to check
  cudaStream_t tape_stream;

  void operator()(const double* states, double* adjoints) const {
    const std::size_t bytes = count * sizeof(double);
    if (out.on_device || device_mass != nullptr) prepare_on_tape_stream();
    if (out.on_device) {
      check(cudaMemcpyAsync(out.final_state, states, bytes, cudaMemcpyDeviceToDevice),
            "copy on device");
    }
    if (loss.device) {
      order_after(tape_stream, cudaStreamLegacy, workspace().event(1));
      const double* adjoint = loss.device();
      order_after(cudaStreamLegacy, tape_stream, workspace().event(2));
      check(cudaMemcpyAsync(adjoints, adjoint, bytes, cudaMemcpyDeviceToDevice), "copy on device");
      return;
    }
    download(host_final, states, count);
    loss.host(host_final, host_adjoint);
    to_device_queued({{adjoints, host_adjoint, bytes}});
  }

  // The device results and the masses' check, queued on maya's stream; the legacy stream waits
  // for them on the device.
  void prepare_on_tape_stream() const {
    if (out.on_device) {
      out.allocate(out);
      arrays.g_mass = out.mass;
      arrays.g_stiffness = out.stiffness;
      arrays.g_damping = out.damping;
      arrays.g_rest = out.rest_length;
      if (masses > 0) {
        check(cudaMemsetAsync(arrays.g_mass, 0, masses * sizeof(double), tape_stream), "memset");
      }
      for (double* g : {arrays.g_stiffness, arrays.g_damping, arrays.g_rest}) {
        if (springs > 0) {
          check(cudaMemsetAsync(g, 0, springs * sizeof(double), tape_stream), "memset");
        }
      }
    }
    if (device_mass != nullptr && masses > 0) {
      auto* first = scratch<unsigned long long>(25, 1);
      check(cudaMemsetAsync(first, 0xFF, sizeof(unsigned long long), tape_stream), "memset");
      first_non_positive<<<mass_check_blocks(masses), 256, 0, tape_stream>>>(device_mass, masses,
                                                                             first);
      check(cudaGetLastError(), "mass check launch");
      check(cudaMemcpyAsync(workspace().found(), first, sizeof(unsigned long long),
                            cudaMemcpyDeviceToHost, tape_stream),
            "copy to host");
    }
    order_after(cudaStreamLegacy, tape_stream, workspace().event(0));
  }
};

// Events around a rollout's two passes, timing each: start() before the forward pass, between()
// runs hand_over (the loss) between the passes, finish() waits for the reverse pass.
class PassTimes {
 public:
  PassTimes() {
    for (auto& mark : marks_) check(cudaEventCreate(&mark), "cudaEventCreate");
  }
  PassTimes(const PassTimes&) = delete;
  PassTimes& operator=(const PassTimes&) = delete;
  ~PassTimes() {
    for (auto& mark : marks_) {
      if (mark != nullptr) cudaEventDestroy(mark);
    }
  }
  void start() { record(0); }
  void between(const HandOver& hand_over, double* states, double* adjoints) {
    record(1);
    hand_over(states, adjoints);
    record(2);
  }
  KernelTimes finish() {
    record(3);
    check(cudaEventSynchronize(marks_[3]), "reverse kernel");
    float forward_ms = 0.0F;
    float reverse_ms = 0.0F;
    check(cudaEventElapsedTime(&forward_ms, marks_[0], marks_[1]), "cudaEventElapsedTime");
    check(cudaEventElapsedTime(&reverse_ms, marks_[2], marks_[3]), "cudaEventElapsedTime");
    return {forward_ms * 1e-3, reverse_ms * 1e-3};
  }

 private:
  void record(int i) { check(cudaEventRecord(marks_[i]), "cudaEventRecord"); }
  cudaEvent_t marks_[4] = {nullptr, nullptr, nullptr, nullptr};
};

// The passes of a family that runs one world at a time over the whole grid (one cooperative
// launch per world and direction): each world's initial state is copied into its history before
// forward(world, world_history) and its final state back after it; after the loss,
// reverse(world, world_history, world_adjoint).
template <class Forward, class Reverse>
KernelTimes run_world_by_world(std::size_t worlds, std::size_t nd, int steps, double* states,
                               double* adjoints, double* history, const HandOver& hand_over,
                               Forward&& forward, Reverse&& reverse) {
  const std::size_t per_world_history = static_cast<std::size_t>(steps + 1) * 2 * nd;
  PassTimes times;
  times.start();
  for (std::size_t world = 0; world < worlds; ++world) {
    double* world_state = states + world * 2 * nd;
    double* world_history = history + world * per_world_history;
    check(cudaMemcpyAsync(world_history, world_state, 2 * nd * sizeof(double),
                          cudaMemcpyDeviceToDevice),
          "copy on device");
    forward(world, world_history);
    check(cudaMemcpyAsync(world_state, world_history + static_cast<std::size_t>(steps) * 2 * nd,
                          2 * nd * sizeof(double), cudaMemcpyDeviceToDevice),
          "copy on device");
  }
  times.between(hand_over, states, adjoints);
  for (std::size_t world = 0; world < worlds; ++world) {
    reverse(world, history + world * per_world_history, adjoints + world * 2 * nd);
  }
  return times.finish();
}

// Block sizes: one thread per spring up to 1024 for a world in a block; 256 in the grid.
int block_threads(const HostTopology& t) {
  const std::size_t widest = std::max(t.num_springs, t.num_particles);
  return static_cast<int>(std::clamp<std::size_t>((widest + 31) / 32 * 32, 64, 1024));
}
constexpr int kGridThreads = 256;

template <int D, bool Friction>
KernelTimes run(const HostTopology& topology, const DeviceSystem& system, const WorldArrays& arrays,
                std::size_t worlds, double dt, int steps, double* states, double* adjoints,
                double* history, const HandOver& hand_over) {
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

  PassTimes times;
  const std::size_t per_world_history = static_cast<std::size_t>(steps + 1) * 2 * nd;
  if (per_block) {
    check(cudaFuncSetAttribute(forward_worlds<D, Friction>,
                               cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(forward_shared)),
          "cudaFuncSetAttribute");
    check(cudaFuncSetAttribute(reverse_worlds<D, Friction>,
                               cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(reverse_shared)),
          "cudaFuncSetAttribute");
    const int threads = block_threads(topology);
    times.start();
    forward_worlds<D, Friction><<<static_cast<unsigned>(worlds), threads, forward_shared>>>(
        system, arrays, dt, steps, states, history);
    check(cudaGetLastError(), "forward launch");
    times.between(hand_over, states, adjoints);
    reverse_worlds<D, Friction><<<static_cast<unsigned>(worlds), threads, reverse_shared>>>(
        system, arrays, dt, steps, history, adjoints);
    check(cudaGetLastError(), "reverse launch");
  } else {
    // A grid as large as can be resident at once (a cooperative launch needs every block
    // resident), but no larger than one thread per spring.
    int sms = 0;
    check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "attribute");
    int per_sm_forward = 0;
    int per_sm_reverse = 0;
    check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm_forward, forward_grid<D, Friction>,
                                                        kGridThreads, 0),
          "occupancy");
    check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm_reverse, reverse_grid<D, Friction>,
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
    times.start();
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
      check(cudaLaunchCooperativeKernel(reinterpret_cast<void*>(forward_grid<D, Friction>),
                                        forward_blocks, kGridThreads, args, 0, nullptr),
            "forward cooperative launch");
    }
    times.between(hand_over, states, adjoints);
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
      check(cudaLaunchCooperativeKernel(reinterpret_cast<void*>(reverse_grid<D, Friction>),
                                        reverse_blocks, kGridThreads, args, 0, nullptr),
            "reverse cooperative launch");
    }
  }
  return times.finish();
}

// The gathering kernels (see forward_gather): one thread per particle.
template <int D, bool Friction>
KernelTimes run_gather(const HostTopology& topology, const DeviceSystem& system,
                       const WorldArrays& arrays, std::size_t worlds, double dt, int steps,
                       double* states, double* adjoints, double* history,
                       const HandOver& hand_over) {
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
  if (per_block) {
    check(cudaFuncSetAttribute(forward_worlds_gather<D, Friction>,
                               cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(forward_shared)),
          "cudaFuncSetAttribute");
    check(cudaFuncSetAttribute(reverse_worlds_gather<D, Friction>,
                               cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(reverse_shared)),
          "cudaFuncSetAttribute");
    const int threads = static_cast<int>(std::clamp<std::size_t>((n + 31) / 32 * 32, 64, 1024));
    PassTimes times;
    times.start();
    forward_worlds_gather<D, Friction><<<static_cast<unsigned>(worlds), threads, forward_shared>>>(
        system, arrays, dt, steps, states, history);
    check(cudaGetLastError(), "forward launch");
    times.between(hand_over, states, adjoints);
    reverse_worlds_gather<D, Friction><<<static_cast<unsigned>(worlds), threads, reverse_shared>>>(
        system, arrays, dt, steps, history, adjoints);
    check(cudaGetLastError(), "reverse launch");
    return times.finish();
  }
  int sms = 0;
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "attribute");
  int per_sm_forward = 0;
  int per_sm_reverse = 0;
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
            &per_sm_forward, forward_grid_gather<D, Friction>, kGridThreads, 0),
        "occupancy");
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
            &per_sm_reverse, reverse_grid_gather<D, Friction>, kGridThreads, 0),
        "occupancy");
  const std::size_t wanted = (n + kGridThreads - 1) / kGridThreads;
  const auto blocks = [&](int per_sm) {
    return static_cast<unsigned>(
        std::max<std::size_t>(1, std::min<std::size_t>(wanted, std::size_t(per_sm) * sms)));
  };
  double* g_forces = scratch<double>(21, 2 * nd);
  double* partial = scratch<double>(22, 2 * nd);
  return run_world_by_world(
      worlds, nd, steps, states, adjoints, history, hand_over,
      [&](std::size_t world, double* world_history) {
        void* args[] = {const_cast<DeviceSystem*>(&system),
                        const_cast<WorldArrays*>(&arrays),
                        &world,
                        &dt,
                        &steps,
                        &world_history};
        check(cudaLaunchCooperativeKernel(reinterpret_cast<void*>(forward_grid_gather<D, Friction>),
                                          blocks(per_sm_forward), kGridThreads, args, 0, nullptr),
              "forward cooperative launch");
      },
      [&](std::size_t world, double* world_history, double* world_adjoint) {
        void* args[] = {const_cast<DeviceSystem*>(&system),
                        const_cast<WorldArrays*>(&arrays),
                        &world,
                        &dt,
                        &steps,
                        &world_history,
                        &g_forces,
                        &partial,
                        &world_adjoint};
        check(cudaLaunchCooperativeKernel(reinterpret_cast<void*>(reverse_grid_gather<D, Friction>),
                                          blocks(per_sm_reverse), kGridThreads, args, 0, nullptr),
              "reverse cooperative launch");
      });
}

// The tiled kernels (tiled_kernels.cuh): one cooperative launch per world and direction over the
// model's tiles, built on the first call and kept with its incidence lists. MAYA_SPRING_TILE sets
// the tile's side (1 to 16 particles, default 16), MAYA_SPRING_TILE_BLOCKS caps the grid (so
// that the tests give a block several tiles) and MAYA_SPRING_TILE_DEEP=1 stages a tile in one
// round of loads with two blocks per multiprocessor forward instead of two rounds with three
// (on the H200 at W2 G = 512 the forward kernel took 32.8 ms against 31.2, the reverse about the
// same).
// Falls back to the gathering kernels where a tile does not fit shared memory.
template <int D, bool Friction>
KernelTimes run_tiled(const HostTopology& topology, const DeviceSystem& system,
                      const WorldArrays& arrays, Incidence& topo, std::size_t worlds, double dt,
                      int steps, double* states, double* adjoints, double* history,
                      const HandOver& hand_over) {
  const std::size_t n = topology.num_particles;
  const std::size_t nd = n * D;
  const auto from_environment = [](const char* name, int fallback) {
    const char* text = std::getenv(name);
    return text != nullptr ? std::atoi(text) : fallback;
  };
  const int side = std::clamp(from_environment("MAYA_SPRING_TILE", 16), 1, 16);
  HostTiles& tiles = topo.tiles;
  if (!tiles.built || tiles.side != side) {
    tiles = build_tiles(n, topo.first, topo.second, topo.begin, topo.incidence, side);
  }
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  int shared_limit = 0;
  check(cudaDeviceGetAttribute(&shared_limit, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
        "cudaDeviceGetAttribute");
  const auto nodes = static_cast<std::size_t>(tiles.max_nodes);
  const auto springs = static_cast<std::size_t>(tiles.max_springs);
  const std::size_t forward_shared =
      (2 * D * nodes + 3 * springs) * sizeof(double) + springs * sizeof(unsigned);
  const std::size_t reverse_shared =
      (3 * D * nodes + 3 * D * springs) * sizeof(double) + springs * sizeof(unsigned);
  if (!tiles.fits || reverse_shared > static_cast<std::size_t>(shared_limit)) {
    return run_gather<D, Friction>(topology, system, arrays, worlds, dt, steps, states, adjoints,
                                   history, hand_over);
  }
  if (!tiles.uploaded) {
    DeviceTiles& d = tiles.device;
    d.owned_begin = upload(26, tiles.owned_begin.data(), tiles.owned_begin.size());
    d.owned = upload(27, tiles.owned.data(), tiles.owned.size());
    d.halo_begin = upload(28, tiles.halo_begin.data(), tiles.halo_begin.size());
    d.halo = upload(29, tiles.halo.data(), tiles.halo.size());
    d.spring_begin = upload(30, tiles.spring_begin.data(), tiles.spring_begin.size());
    d.springs = upload(31, tiles.springs.data(), tiles.springs.size());
    d.ends = upload(32, tiles.ends.data(), tiles.ends.size());
    d.code_begin = upload(33, tiles.code_begin.data(), tiles.code_begin.size());
    d.codes = upload(34, tiles.codes.data(), tiles.codes.size());
    d.owner_entry = upload(35, tiles.owner_entry.data(), tiles.owner_entry.size());
    tiles.uploaded = true;
  }
  DeviceTiles device_tiles = tiles.device;
  const auto total = static_cast<std::size_t>(device_tiles.total_springs);
  device_tiles.values = scratch<double>(36, 3 * total);
  device_tiles.gradients = scratch<double>(37, 3 * total);
  const bool deep = from_environment("MAYA_SPRING_TILE_DEEP", 0) != 0;
  auto* forward_kernel =
      deep ? forward_tiled<D, Friction, true> : forward_tiled<D, Friction, false>;
  auto* reverse_kernel =
      deep ? reverse_tiled<D, Friction, true> : reverse_tiled<D, Friction, false>;
  check(cudaFuncSetAttribute(forward_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(forward_shared)),
        "cudaFuncSetAttribute");
  check(cudaFuncSetAttribute(reverse_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(reverse_shared)),
        "cudaFuncSetAttribute");
  int sms = 0;
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "attribute");
  int per_sm_forward = 0;
  int per_sm_reverse = 0;
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm_forward, forward_kernel, kTileThreads,
                                                      forward_shared),
        "occupancy");
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm_reverse, reverse_kernel, kTileThreads,
                                                      reverse_shared),
        "occupancy");
  if (per_sm_forward == 0 || per_sm_reverse == 0) {
    return run_gather<D, Friction>(topology, system, arrays, worlds, dt, steps, states, adjoints,
                                   history, hand_over);
  }
  const int cap = from_environment("MAYA_SPRING_TILE_BLOCKS", 0);
  const auto blocks = [&](int per_sm) {
    std::size_t count = std::min<std::size_t>(static_cast<std::size_t>(tiles.device.count),
                                              static_cast<std::size_t>(per_sm) * sms);
    if (cap > 0) count = std::min<std::size_t>(count, static_cast<std::size_t>(cap));
    return static_cast<unsigned>(std::max<std::size_t>(1, count));
  };
  double* g_forces = scratch<double>(21, 2 * nd);
  double* partial = scratch<double>(22, 2 * nd);
  return run_world_by_world(
      worlds, nd, steps, states, adjoints, history, hand_over,
      [&](std::size_t world, double* world_history) {
        void* args[] = {const_cast<DeviceSystem*>(&system),
                        const_cast<WorldArrays*>(&arrays),
                        &world,
                        &device_tiles,
                        &dt,
                        &steps,
                        &world_history};
        check(cudaLaunchCooperativeKernel(reinterpret_cast<void*>(forward_kernel),
                                          blocks(per_sm_forward), kTileThreads, args,
                                          forward_shared, nullptr),
              "forward cooperative launch");
      },
      [&](std::size_t world, double* world_history, double* world_adjoint) {
        void* args[] = {const_cast<DeviceSystem*>(&system),
                        const_cast<WorldArrays*>(&arrays),
                        &world,
                        &device_tiles,
                        &dt,
                        &steps,
                        &world_history,
                        &g_forces,
                        &partial,
                        &world_adjoint};
        check(cudaLaunchCooperativeKernel(reinterpret_cast<void*>(reverse_kernel),
                                          blocks(per_sm_reverse), kTileThreads, args,
                                          reverse_shared, nullptr),
              "reverse cooperative launch");
      });
}

// The resident kernels' shared memory per block, springs per thread and threads, for each
// direction (0 springs: a world does not fit one block). One spring per thread up to 1024 springs
// forward; the reverse pass takes two per thread on at most 512 threads where that fits (twice
// the registers per thread: no spills; W2 G = 16 reverse 3.7 ms against 4.4 on the H200).
// MAYA_SPRING_RESIDENT_K=1, =2 or =4 forces one choice for both directions where it fits.
struct ResidentLaunch {
  int springs_per_thread = 0;
  int threads = 0;
};
struct ResidentShape {
  ResidentLaunch forward;
  ResidentLaunch reverse;
  int max_degree = 0;
  std::size_t forward_shared = 0;
  std::size_t reverse_shared = 0;
  [[nodiscard]] bool fits() const { return forward.springs_per_thread > 0; }
};

ResidentShape resident_shape(std::size_t n, std::size_t s, std::size_t d, unsigned max_degree) {
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  int shared_limit = 0;
  check(cudaDeviceGetAttribute(&shared_limit, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
        "cudaDeviceGetAttribute");
  ResidentShape shape;
  const auto row = [n](std::size_t values) {
    return static_cast<std::size_t>(slot_row(static_cast<int>(n), static_cast<int>(values)));
  };
  shape.max_degree = static_cast<int>(max_degree);
  shape.forward_shared =
      (2 * n * d + max_degree * d * row(d)) * sizeof(double) + 2 * s * sizeof(int);
  shape.reverse_shared =
      (3 * n * d + max_degree * 3 * d * row(3 * d)) * sizeof(double) + 2 * s * sizeof(int);
  if (n > 1024 || shape.reverse_shared > static_cast<std::size_t>(shared_limit)) return {};
  const auto round_up = [](std::size_t count) {
    return static_cast<int>(std::max<std::size_t>((count + 31) / 32 * 32, 32));
  };
  const ResidentLaunch one{1, round_up(std::max(s, n))};
  const ResidentLaunch two{2, round_up(std::max((s + 1) / 2, n))};
  const ResidentLaunch four{4, round_up(std::max((s + 3) / 4, n))};
  const bool one_fits = s <= 1024;
  const bool two_fits = s <= 1024 && n <= 512;
  const char* forced = std::getenv("MAYA_SPRING_RESIDENT_K");
  const std::string k = forced != nullptr ? forced : "";
  if (k == "1" && one_fits) {
    shape.forward = shape.reverse = one;
  } else if (k == "2" && two_fits) {
    shape.forward = shape.reverse = two;
  } else if (k == "4" && s <= 4096) {
    shape.forward = shape.reverse = four;
  } else if (one_fits) {
    shape.forward = one;
    shape.reverse = two_fits ? two : one;
  } else if (s <= 4096) {
    shape.forward = shape.reverse = four;
  } else {
    return {};
  }
  return shape;
}

template <int D, int K, int MaxThreads, bool Friction>
void launch_resident(const ResidentShape& shape, const DeviceSystem& system,
                     const WorldArrays& arrays, std::size_t worlds, double dt, int steps,
                     double* states, double* history, double* adjoints, bool forward) {
  if (forward) {
    check(cudaFuncSetAttribute(forward_resident<D, K, MaxThreads, Friction>,
                               cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(shape.forward_shared)),
          "cudaFuncSetAttribute");
    forward_resident<D, K, MaxThreads, Friction>
        <<<static_cast<unsigned>(worlds), shape.forward.threads, shape.forward_shared>>>(
            system, arrays, dt, steps, shape.max_degree, states, history);
    check(cudaGetLastError(), "forward launch");
  } else {
    check(cudaFuncSetAttribute(reverse_resident<D, K, MaxThreads, Friction>,
                               cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(shape.reverse_shared)),
          "cudaFuncSetAttribute");
    reverse_resident<D, K, MaxThreads, Friction>
        <<<static_cast<unsigned>(worlds), shape.reverse.threads, shape.reverse_shared>>>(
            system, arrays, dt, steps, shape.max_degree, history, adjoints);
    check(cudaGetLastError(), "reverse launch");
  }
}

// The resident kernels (resident_kernels.cuh), where a world fits one block.
template <int D, bool Friction>
KernelTimes run_resident(const ResidentShape& shape, const DeviceSystem& system,
                         const WorldArrays& arrays, std::size_t worlds, double dt, int steps,
                         double* states, double* adjoints, double* history,
                         const HandOver& hand_over) {
  const auto launch = [&](bool forward) {
    switch ((forward ? shape.forward : shape.reverse).springs_per_thread) {
      case 1:
        launch_resident<D, 1, 1024, Friction>(shape, system, arrays, worlds, dt, steps, states,
                                              history, adjoints, forward);
        break;
      case 2:
        launch_resident<D, 2, 512, Friction>(shape, system, arrays, worlds, dt, steps, states,
                                             history, adjoints, forward);
        break;
      default:
        launch_resident<D, 4, 1024, Friction>(shape, system, arrays, worlds, dt, steps, states,
                                              history, adjoints, forward);
        break;
    }
  };
  PassTimes times;
  times.start();
  launch(true);
  times.between(hand_over, states, adjoints);
  launch(false);
  return times.finish();
}

// Whether the lane kernels can run a world: every particle of at most kLanes kSlots springs,
// and one thread per lane all resident at once (a cooperative launch).
bool lanes_fit(std::size_t n, unsigned max_degree) {
  if (max_degree > static_cast<unsigned>(kLanes * kSlots) || n == 0) return false;
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  int sms = 0;
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "attribute");
  int per_sm = 0;
  // The reverse kernel is the larger one; the 2-D instance stands for all.
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, reverse_lanes<2, false>, kLaneBlock,
                                                      0),
        "occupancy");
  const std::size_t blocks = (n * kLanes + kLaneBlock - 1) / kLaneBlock;
  return blocks <= static_cast<std::size_t>(per_sm) * static_cast<std::size_t>(sms);
}

// The lane kernels (lane_kernels.cuh): one cooperative launch per world and direction.
template <int D, bool Friction>
KernelTimes run_lanes(const DeviceSystem& system, const WorldArrays& arrays, std::size_t worlds,
                      const std::vector<unsigned>& begin, const std::vector<unsigned>& incidence,
                      double dt, int steps, double* states, double* adjoints, double* history,
                      const HandOver& hand_over) {
  const std::size_t n = begin.size() - 1;
  const std::size_t nd = n * D;
  const std::size_t lanes = n * kLanes;
  std::vector<unsigned> codes(kSlots * lanes, kNoSpring);
  std::vector<unsigned char> degree(n);
  for (std::size_t i = 0; i < n; ++i) {
    degree[i] = static_cast<unsigned char>(begin[i + 1] - begin[i]);
    for (unsigned j = 0; j < begin[i + 1] - begin[i]; ++j) {
      const std::size_t lane = i * kLanes + j % kLanes;
      codes[(j / kLanes) * lanes + lane] = incidence[begin[i] + j];
    }
  }
  LaneSlots slots{};
  slots.codes = upload_topology(23, codes.data(), codes.size());
  slots.degree = upload_topology(24, degree.data(), degree.size());
  double* g_forces = scratch<double>(21, 2 * nd);
  const auto blocks = static_cast<unsigned>((lanes + kLaneBlock - 1) / kLaneBlock);
  return run_world_by_world(
      worlds, nd, steps, states, adjoints, history, hand_over,
      [&](std::size_t world, double* world_history) {
        void* args[] = {const_cast<DeviceSystem*>(&system),
                        const_cast<WorldArrays*>(&arrays),
                        &world,
                        &slots,
                        &dt,
                        &steps,
                        &world_history};
        check(cudaLaunchCooperativeKernel(reinterpret_cast<void*>(forward_lanes<D, Friction>),
                                          blocks, kLaneBlock, args, 0, nullptr),
              "forward cooperative launch");
      },
      [&](std::size_t world, double* world_history, double* world_adjoint) {
        void* args[] = {const_cast<DeviceSystem*>(&system),
                        const_cast<WorldArrays*>(&arrays),
                        &world,
                        &slots,
                        &dt,
                        &steps,
                        &world_history,
                        &g_forces,
                        &world_adjoint};
        check(cudaLaunchCooperativeKernel(reinterpret_cast<void*>(reverse_lanes<D, Friction>),
                                          blocks, kLaneBlock, args, 0, nullptr),
              "reverse cooperative launch");
      });
}

// Which kernels run. Where a world fits one block: the resident kernels (registers across the
// steps); else, where one thread per lane fits the GPU at once, the lane kernels; else the
// gathering ones over a cooperative grid (one synchronization per step instead of the split
// kernels' two: G = 1024 458 ms against 517; the tiled kernels, which compute each spring once,
// measured slower in sum: G = 512 117 ms against 109). MAYA_SPRING_KERNEL=split, =gather,
// =lanes, =resident or =tiled forces one (the tests run each), falling back to the gathering
// grid where it cannot run.
enum class Kernels { kSplit, kGather, kResident, kLanes, kTiled };

Kernels kernels_for(std::size_t n, std::size_t s, std::size_t d, unsigned max_degree) {
  const char* forced = std::getenv("MAYA_SPRING_KERNEL");
  const std::string name = forced != nullptr ? forced : "";
  if (name == "gather") return Kernels::kGather;
  if (name == "tiled") return Kernels::kTiled;
  if (name == "split") return Kernels::kSplit;
  if (name == "lanes") return lanes_fit(n, max_degree) ? Kernels::kLanes : Kernels::kGather;
  if (resident_shape(n, s, d, max_degree).fits()) return Kernels::kResident;
  return lanes_fit(n, max_degree) ? Kernels::kLanes : Kernels::kGather;
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

RolloutReport cuda_spring_rollout_gradient(const HostTopology& topology, const HostWorlds& worlds,
                                           double dt, std::size_t steps,
                                           const AdjointOfFinal& adjoint_of_final,
                                           HostGradients& out) {
  Workspace& space = workspace();
  const std::lock_guard lock(space.mutex);
  const std::size_t n = topology.num_particles;
  const std::size_t s = topology.num_springs;
  const std::size_t d = topology.dim;
  const std::size_t e = worlds.worlds;
  const std::size_t state_size = 2 * n * d;

  // Device tensors (worlds, results) are written by work queued on maya's stream: the legacy
  // stream, where the rollout runs, waits for it on the device.
  const bool tape_side = worlds.on_device || out.on_device || adjoint_of_final.device;
  const auto tape_stream = tape_side ? static_cast<cudaStream_t>(maya::cuda_stream()) : nullptr;
  if (tape_side) order_after(cudaStreamLegacy, tape_stream, space.event(0));

  // Each particle's springs in spring order, as in MassSpringModel::build_incidence; kept from
  // the last call when the model is the same: one with the same topology id (its springs cannot
  // have changed), else one whose springs compare equal (at W2 G = 1024, 4 million springs,
  // building them took tens of milliseconds of the call, comparing them about 15).
  Incidence& topo = space.incidence;
  const bool same_id = topology.topology_id != 0 && topo.topology_id == topology.topology_id &&
                       topo.num_particles == n && topo.end_a.size() == s;
  const bool same_topology =
      same_id || (topo.num_particles == n && topo.end_a.size() == s &&
                  std::equal(topology.first, topology.first + s, topo.end_a.begin()) &&
                  std::equal(topology.second, topology.second + s, topo.end_b.begin()));
  topo.topology_id = topology.topology_id;
  if (!same_topology) {
    topo = Incidence{};
    topo.topology_id = topology.topology_id;
    topo.num_particles = n;
    topo.end_a.assign(topology.first, topology.first + s);
    topo.end_b.assign(topology.second, topology.second + s);
    topo.first.resize(s);
    topo.second.resize(s);
    topo.begin.assign(n + 1, 0);
    for (std::size_t j = 0; j < s; ++j) {
      topo.first[j] = static_cast<int>(topology.first[j]);
      topo.second[j] = static_cast<int>(topology.second[j]);
      ++topo.begin[static_cast<std::size_t>(topo.first[j]) + 1];
      ++topo.begin[static_cast<std::size_t>(topo.second[j]) + 1];
    }
    for (std::size_t i = 0; i < n; ++i) topo.begin[i + 1] += topo.begin[i];
    topo.incidence.resize(2 * s);
    std::vector<unsigned> next(topo.begin.begin(), topo.begin.end() - 1);
    for (std::size_t j = 0; j < s; ++j) {
      topo.incidence[next[static_cast<std::size_t>(topo.first[j])]++] =
          static_cast<unsigned>(2 * j + 1);
      topo.incidence[next[static_cast<std::size_t>(topo.second[j])]++] =
          static_cast<unsigned>(2 * j);
    }
    for (std::size_t i = 0; i < n; ++i) {
      topo.max_degree = std::max(topo.max_degree, topo.begin[i + 1] - topo.begin[i]);
    }
  }
  const std::vector<unsigned>& begin = topo.begin;
  const std::vector<unsigned>& incidence = topo.incidence;
  // Uploaded only when the device does not hold them already.
  const auto topology_on_device = [&](std::size_t slot, const auto& host) {
    using T = typename std::decay_t<decltype(host)>::value_type;
    if (same_topology && space.holds_size(slot, host.size() * sizeof(T))) {
      return static_cast<T*>(space.get(slot, host.size() * sizeof(T)));
    }
    return upload_topology(slot, host.data(), host.size());
  };

  DeviceSystem system{};
  system.num_particles = static_cast<int>(n);
  system.num_springs = static_cast<int>(s);
  system.first = topology_on_device(0, topo.first);
  system.second = topology_on_device(1, topo.second);
  system.incidence_begin = topology_on_device(2, begin);
  system.incidence = topology_on_device(3, incidence);
  for (std::size_t k = 0; k < 3; ++k) system.gravity[k] = topology.gravity[k];
  system.ground_enabled = topology.ground_enabled;
  system.ground_height = topology.ground_height;
  system.ground_stiffness = topology.ground_stiffness;
  system.ground_damping = topology.ground_damping;
  system.up_axis = static_cast<int>(topology.up_axis);
  system.ground_friction = topology.ground_friction;
  system.ground_slip_velocity = topology.ground_slip_velocity;

  // Worlds in device memory are read in place (the state is copied: the kernels write it);
  // gradients in device memory accumulate in place.
  WorldArrays arrays{};
  double* states = scratch<double>(12, e * state_size);
  if (worlds.on_device) {
    arrays.mass = worlds.mass;
    arrays.stiffness = worlds.stiffness;
    arrays.damping = worlds.damping;
    arrays.rest = worlds.rest_length;
    check(cudaMemcpyAsync(states, worlds.state, e * state_size * sizeof(double),
                          cudaMemcpyDeviceToDevice),
          "copy on device");
  } else {
    double* mass = scratch<double>(4, e * n);
    double* stiffness = scratch<double>(5, e * s);
    double* damping = scratch<double>(6, e * s);
    double* rest = scratch<double>(7, e * s);
    const std::size_t params = e * s * sizeof(double);
    to_device_queued({{mass, worlds.mass, e * n * sizeof(double)},
                      {stiffness, worlds.stiffness, params},
                      {damping, worlds.damping, params},
                      {rest, worlds.rest_length, params},
                      {states, worlds.state, e * state_size * sizeof(double)}});
    arrays.mass = mass;
    arrays.stiffness = stiffness;
    arrays.damping = damping;
    arrays.rest = rest;
  }
  // Device results are allocated and zeroed while the forward pass runs (HandOver).
  if (!out.on_device) {
    arrays.g_mass = scratch<double>(8, e * n);
    arrays.g_stiffness = scratch<double>(9, e * s);
    arrays.g_damping = scratch<double>(10, e * s);
    arrays.g_rest = scratch<double>(11, e * s);
    if (e * n > 0) check(cudaMemsetAsync(arrays.g_mass, 0, e * n * sizeof(double)), "memset");
    for (double* g : {arrays.g_stiffness, arrays.g_damping, arrays.g_rest}) {
      if (e * s > 0) check(cudaMemsetAsync(g, 0, e * s * sizeof(double)), "memset");
    }
  }
  double* adjoints = scratch<double>(13, e * state_size);
  double* history = scratch<double>(14, e * (steps + 1) * state_size);

  // Host memory for the host loss: its adjoint (filled by it, no zero fill here) and, when the
  // results stay on the device, the final states it reads.
  const bool host_loss = !adjoint_of_final.device;
  const std::size_t count = e * state_size;
  const std::unique_ptr<double[]> host_adjoint(
      host_loss ? new double[std::max<std::size_t>(count, 1)] : nullptr);
  const std::unique_ptr<double[]> host_final(
      host_loss && out.on_device ? new double[std::max<std::size_t>(count, 1)] : nullptr);
  const HandOver hand_over{adjoint_of_final,
                           out,
                           arrays,
                           out.on_device ? host_final.get() : out.final_state,
                           host_adjoint.get(),
                           count,
                           e * n,
                           e * s,
                           worlds.on_device ? worlds.mass : nullptr,
                           tape_stream};
  const int t = static_cast<int>(steps);
  const unsigned max_degree = topo.max_degree;
  const Kernels kernels = kernels_for(n, s, d, max_degree);
  // The kernels are compiled for 1, 2 and 3 dimensions, with and without friction; `dim` and
  // `with` carry them as types.
  const bool friction = topology.ground_enabled && topology.ground_friction > 0.0;
  const KernelTimes times = with_dimension(d, [&](auto dim) {
    constexpr int D = decltype(dim)::value;
    return with_friction(friction, [&](auto with) {
      constexpr bool Friction = decltype(with)::value;
      switch (kernels) {
        case Kernels::kResident:
          return run_resident<D, Friction>(resident_shape(n, s, d, max_degree), system, arrays, e,
                                           dt, t, states, adjoints, history, hand_over);
        case Kernels::kLanes:
          return run_lanes<D, Friction>(system, arrays, e, begin, incidence, dt, t, states,
                                        adjoints, history, hand_over);
        case Kernels::kTiled:
          return run_tiled<D, Friction>(topology, system, arrays, topo, e, dt, t, states, adjoints,
                                        history, hand_over);
        case Kernels::kGather:
          return run_gather<D, Friction>(topology, system, arrays, e, dt, t, states, adjoints,
                                         history, hand_over);
        case Kernels::kSplit:
        default:
          return run<D, Friction>(topology, system, arrays, e, dt, t, states, adjoints, history,
                                  hand_over);
      }
    });
  });
  if (out.on_device) {
    check(cudaMemcpyAsync(out.state, adjoints, count * sizeof(double), cudaMemcpyDeviceToDevice),
          "copy on device");
    check(cudaStreamSynchronize(cudaStreamLegacy), "copy on device");
    space.staging_read(false);
  } else {
    const std::size_t params = e * s * sizeof(double);
    to_host_together({{out.state, adjoints, count * sizeof(double)},
                      {out.mass, arrays.g_mass, e * n * sizeof(double)},
                      {out.stiffness, arrays.g_stiffness, params},
                      {out.damping, arrays.g_damping, params},
                      {out.rest_length, arrays.g_rest, params}});
  }
  RolloutReport report{times, {e * n, 0.0}};
  if (worlds.on_device && e * n > 0 && *space.found() < e * n) {
    // (The rollout's last wait covered the check's copy.)
    report.bad_mass.index = static_cast<std::size_t>(*space.found());
    check(cudaMemcpy(&report.bad_mass.value, worlds.mass + report.bad_mass.index, sizeof(double),
                     cudaMemcpyDeviceToHost),
          "copy to host");
  }
  return report;
}

void cuda_copy_on_device(void* to, const void* from, std::size_t bytes) {
  if (bytes == 0) return;
  check(cudaMemcpy(to, from, bytes, cudaMemcpyDeviceToDevice), "copy on device");
  check(cudaDeviceSynchronize(), "copy on device");
}

}  // namespace maya::dynamics::detail
