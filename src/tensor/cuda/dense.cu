// The fused dense layer y = act(x w + b) on the GPU, for the small layers of policies and
// surrogates: one thread per output element, and the parameter gradients as one block per
// element of w and b that sums over the rows in a fixed order (deterministic). The backward pass
// is one launch: blocks for the parameter gradients (a block per column of w and up to eight of
// its rows, bias included) followed by blocks for the input gradient.
#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "maya/core/error.hpp"
#include "tensor/cuda/kernels.hpp"
#include "tensor/cuda/launch.cuh"
#include "tensor/device_runtime.hpp"

namespace maya::tensor::detail::kernels {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(std::size_t n) {
  return static_cast<unsigned>(std::min<std::size_t>((n + kThreads - 1) / kThreads, 8192));
}

void check_launch(const char* kernel) {
  const cudaError_t error = cudaGetLastError();
  if (error != cudaSuccess) {
    throw DeviceError(std::string("CUDA kernel ") + kernel + ": " + cudaGetErrorString(error));
  }
}

__device__ double activate(ActivationCode activation, double z) {
  switch (activation) {
    case ActivationCode::identity: return z;
    case ActivationCode::tanh: return ::tanh(z);
    case ActivationCode::sigmoid: {
      if (z >= 0.0) return 1.0 / (1.0 + ::exp(-z));
      const double e = ::exp(z);
      return e / (1.0 + e);
    }
    case ActivationCode::relu: return z > 0.0 ? z : 0.0;
  }
  return z;
}

// d act / d z written through the output y.
__device__ double activation_slope(ActivationCode activation, double y) {
  switch (activation) {
    case ActivationCode::identity: return 1.0;
    case ActivationCode::tanh: return 1.0 - y * y;
    case ActivationCode::sigmoid: return y * (1.0 - y);
    case ActivationCode::relu: return y > 0.0 ? 1.0 : 0.0;
  }
  return 1.0;
}

#define MAYA_GRID_LOOP(i, n)                                                              \
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; \
       i < static_cast<std::int64_t>(n); i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)

__global__ void dense_forward_kernel(const double* x, const double* w, const double* b, double* y,
                                     std::int64_t m, std::int64_t k, std::int64_t n,
                                     ActivationCode activation) {
  MAYA_KERNEL_BEGIN();
  MAYA_GRID_LOOP(i, m * n) {
    const std::int64_t row = i / n;
    const std::int64_t column = i % n;
    const double* x_row = x + row * k;
    double z = b[column];
    for (std::int64_t j = 0; j < k; ++j) z += x_row[j] * w[j * n + column];
    y[i] = activate(activation, z);
  }
}

// Sum over the 32 lanes of a warp, in a fixed tree order.
__device__ double warp_sum(double value) {
  for (int offset = 16; offset > 0; offset /= 2)
    value += __shfl_down_sync(0xffffffffu, value, offset);
  return value;
}

// Layers of at most this many outputs (forward, k >= 32) or inputs (the input gradient,
// n >= 32) take a warp per row: its lanes form each product once for all the row's sums.
constexpr int kRowInputs = 8;

// Long inner products of narrow layers (k >= 32, n <= kRowInputs: W3's 64 x 2 layer): a warp
// per row, each sum added in the order of the warp-per-element kernel below.
__global__ void dense_forward_row_kernel(const double* x, const double* w, const double* b,
                                         double* y, std::int64_t m, std::int64_t k, std::int64_t n,
                                         ActivationCode activation) {
  MAYA_KERNEL_BEGIN();
  const int lane = static_cast<int>(threadIdx.x % 32);
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * blockDim.x / 32;
  for (std::int64_t row = (blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / 32;
       row < m; row += warps) {
    double z[kRowInputs];
#pragma unroll
    for (int c = 0; c < kRowInputs; ++c) z[c] = 0.0;
    for (std::int64_t j = lane; j < k; j += 32) {
      const double xj = x[row * k + j];
#pragma unroll
      for (int c = 0; c < kRowInputs; ++c) {
        if (c < n) z[c] += xj * w[j * n + c];
      }
    }
#pragma unroll
    for (int c = 0; c < kRowInputs; ++c) {
      if (c >= n) break;
      const double total = warp_sum(z[c]);
      if (lane == 0) y[row * n + c] = activate(activation, b[c] + total);
    }
  }
}

// Long inner products (k >= 32): a warp per output element, its lanes over the k products, so
// the loop per thread is k / 32 long instead of k (one thread per output is latency-bound there).
__global__ void dense_forward_warp_kernel(const double* x, const double* w, const double* b,
                                          double* y, std::int64_t m, std::int64_t k, std::int64_t n,
                                          ActivationCode activation) {
  MAYA_KERNEL_BEGIN();
  const int lane = static_cast<int>(threadIdx.x % 32);
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * blockDim.x / 32;
  for (std::int64_t e = (blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / 32;
       e < m * n; e += warps) {
    const std::int64_t row = e / n;
    const std::int64_t column = e % n;
    double z = 0.0;
    for (std::int64_t j = lane; j < k; j += 32) z += x[row * k + j] * w[j * n + column];
    z = warp_sum(z);
    if (lane == 0) y[e] = activate(activation, b[column] + z);
  }
}

// The input gradient, over blocks [0, blocks) of the input part of the backward launch:
// gx[r, i] (= or +=) sum_j dz[r, j] w[i, j], with dz = g act'(y) formed on the fly. A warp per
// element of gx when n >= 32 (its lanes over j), a thread per element otherwise.
__device__ void input_gradient_blocks(std::int64_t block, std::int64_t blocks, const double* g,
                                      const double* y, const double* w, double* gx, std::int64_t m,
                                      std::int64_t k, std::int64_t n, ActivationCode activation,
                                      bool accumulate) {
  if (n >= 32 && k <= kRowInputs) {
    // Few inputs (W3's 4 x 64 layer): a warp per row forms each dz once for all k sums; every
    // sum adds in the order of the warp-per-element path below (lanes over j, then the tree).
    const int lane = static_cast<int>(threadIdx.x % 32);
    const std::int64_t warps = blocks * blockDim.x / 32;
    for (std::int64_t row = (block * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / 32;
         row < m; row += warps) {
      double sum[kRowInputs];
#pragma unroll
      for (int i = 0; i < kRowInputs; ++i) sum[i] = 0.0;
      for (std::int64_t j = lane; j < n; j += 32) {
        const double dz = g[row * n + j] * activation_slope(activation, y[row * n + j]);
#pragma unroll
        for (int i = 0; i < kRowInputs; ++i) {
          if (i < k) sum[i] += dz * w[i * n + j];
        }
      }
#pragma unroll
      for (int i = 0; i < kRowInputs; ++i) {
        if (i >= k) break;
        const double total = warp_sum(sum[i]);
        if (lane == 0) {
          double* target = gx + row * k + i;
          *target = accumulate ? *target + total : total;
        }
      }
    }
    return;
  }
  if (n >= 32) {
    const int lane = static_cast<int>(threadIdx.x % 32);
    const std::int64_t warps = blocks * blockDim.x / 32;
    for (std::int64_t e = (block * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / 32;
         e < m * k; e += warps) {
      const std::int64_t row = e / k;
      const std::int64_t input = e % k;
      double sum = 0.0;
      for (std::int64_t j = lane; j < n; j += 32) {
        sum += g[row * n + j] * activation_slope(activation, y[row * n + j]) * w[input * n + j];
      }
      sum = warp_sum(sum);
      if (lane == 0) gx[e] = accumulate ? gx[e] + sum : sum;
    }
    return;
  }
  for (std::int64_t i = block * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < m * k;
       i += blocks * static_cast<std::int64_t>(blockDim.x)) {
    const std::int64_t row = i / k;
    const std::int64_t input = i % k;
    const double* g_row = g + row * n;
    const double* y_row = y + row * n;
    const double* w_row = w + input * n;
    double sum = 0.0;
    for (std::int64_t j = 0; j < n; ++j) {
      sum += g_row[j] * activation_slope(activation, y_row[j]) * w_row[j];
    }
    gx[i] = accumulate ? gx[i] + sum : sum;
  }
}

// Parameter gradients: per column j of w, the k + 1 sums gw[i, j] = sum_r x[r, i] dz[r, j]
// (i < k) and gb[j] = sum_r dz[r, j], in groups of kGroup sums a block. Each block reads its
// column of dz once for the whole group; threads stride over rows, then a warp-shuffle tree and
// the warps' partials in a fixed order (deterministic).
constexpr int kGroup = 8;
// Threads a block of the backward launch: a parameter block strides over the batch with all of
// them, so a tall batch (W3's 4096 rows) gives each thread 8 rows instead of 16 (512 threads keep the registers unspilled).
constexpr int kBackwardThreads = 512;
// Batches from this many rows split each group's rows over up to kMaxSlices blocks, when there
// are fewer than kSliceBelowGroups groups (W3 at B = 4096 on an H200: the 64 x 2 layer's 18 groups
// took 12.8 us sliced against 23 us unsliced; the 4 x 64 layer's 64 groups 28 us sliced against
// 17 us unsliced).
constexpr std::size_t kSliceFrom = 1024;
constexpr std::size_t kSliceBelowGroups = 32;
// Rows of one slice, and the most slices, of the column blocks below (64 slices of 64 rows at
// B = 4096: 8 rows a thread).
constexpr std::size_t kColumnSliceRows = 64;
constexpr std::size_t kMaxColumnSlices = 64;
constexpr std::size_t kMaxSlices = 32;

// Tall batches split the rows of each group over `slices` blocks: each writes its group's sums
// to partials[(group * slices + slice) * kGroup + q], and the last of them to finish (a counter
// per group, reset by that block) adds the slices' sums in slice order, so the result does not
// depend on which block came last.
struct SliceScratch {
  double* partials = nullptr;
  unsigned* counters = nullptr;
  std::int64_t slices = 1;
  bool columns = false;  // column_parameter_block's layout
};

// Wide, short layers of tall batches (n >= 32, at most kGroup sums a column: W3's 4 x 64 layer):
// a block covers kColumns columns and one slice of rows, its threads a column each in kPhases
// phases over the rows, so each row of dz is read coalesced. The phases' sums meet in shared
// memory in phase order, the slices' sums in the last block in slice order (deterministic).
constexpr int kColumns = 64;
constexpr int kPhases = kBackwardThreads / kColumns;
static_assert(kColumns * kGroup == kBackwardThreads, "the last block maps a thread to a sum");

__device__ void write_parameter_gradient(std::int64_t o, std::int64_t column, double total,
                                         std::int64_t weights, std::int64_t n, double* gw,
                                         double* gb, bool accumulate_w, bool accumulate_b) {
  if (o < weights) {
    const std::int64_t e = o * n + column;
    gw[e] = accumulate_w ? gw[e] + total : total;
  } else {
    gb[column] = accumulate_b ? gb[column] + total : total;
  }
}

__device__ void column_parameter_block(std::int64_t block, const double* x, const double* g,
                                       const double* y, double* gw, double* gb, std::int64_t m,
                                       std::int64_t k, std::int64_t n, ActivationCode activation,
                                       bool accumulate_w, bool accumulate_b, SliceScratch scratch) {
  __shared__ double phase_sums[kPhases][kColumns];
  __shared__ bool last_slice;
  const std::int64_t weights = gw != nullptr ? k : 0;
  const std::int64_t outputs = weights + (gb != nullptr ? 1 : 0);
  const std::int64_t slice = block % scratch.slices;
  const std::int64_t column_block = block / scratch.slices;
  const int lane_column = static_cast<int>(threadIdx.x % kColumns);
  const int phase = static_cast<int>(threadIdx.x / kColumns);
  const std::int64_t column = column_block * kColumns + lane_column;
  const bool active = column < n;
  const std::int64_t rows = (m + scratch.slices - 1) / scratch.slices;
  const std::int64_t row_end = (slice + 1) * rows < m ? (slice + 1) * rows : m;
  double sum[kGroup];
#pragma unroll
  for (int q = 0; q < kGroup; ++q) sum[q] = 0.0;
  if (active) {
#pragma unroll 4
    for (std::int64_t r = slice * rows + phase; r < row_end; r += kPhases) {
      const double dz = g[r * n + column] * activation_slope(activation, y[r * n + column]);
      const double* x_row = x + r * k;
#pragma unroll
      for (int q = 0; q < kGroup; ++q) {
        if (q < weights) {
          sum[q] += x_row[q] * dz;
        } else if (q < outputs) {
          sum[q] += dz;
        }
      }
    }
  }
  // The phases' sums, added in phase order, replace each thread's own (fewer registers).
  double* total = sum;
#pragma unroll
  for (int q = 0; q < kGroup; ++q) {
    phase_sums[phase][lane_column] = sum[q];
    __syncthreads();
    double all = 0.0;
    if (phase == 0) {
      for (int p = 0; p < kPhases; ++p) all += phase_sums[p][lane_column];
    }
    total[q] = all;
    __syncthreads();
  }
  if (scratch.slices == 1) {
    if (phase != 0 || !active) return;
#pragma unroll
    for (int q = 0; q < kGroup; ++q) {
      if (q < outputs) {
        write_parameter_gradient(q, column, total[q], weights, n, gw, gb, accumulate_w,
                                 accumulate_b);
      }
    }
    return;
  }
  if (phase == 0 && active) {
    double* mine = scratch.partials +
                   ((column_block * scratch.slices + slice) * kColumns + lane_column) * kGroup;
#pragma unroll
    for (int q = 0; q < kGroup; ++q) mine[q] = total[q];
    __threadfence();
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    const unsigned done = atomicAdd(scratch.counters + column_block, 1u);
    last_slice = done == static_cast<unsigned>(scratch.slices - 1);
  }
  __syncthreads();
  if (!last_slice) return;
  __threadfence();
  if (threadIdx.x == 0) scratch.counters[column_block] = 0;
  const int t = static_cast<int>(threadIdx.x);
  const int q = t % kGroup;
  const std::int64_t final_column = column_block * kColumns + t / kGroup;
  if (final_column >= n || q >= outputs) return;
  const volatile double* sums =
      scratch.partials + (column_block * scratch.slices * kColumns + t / kGroup) * kGroup + q;
  double all = 0.0;
  for (std::int64_t sl = 0; sl < scratch.slices; ++sl) all += sums[sl * kColumns * kGroup];
  write_parameter_gradient(q, final_column, all, weights, n, gw, gb, accumulate_w, accumulate_b);
}

__device__ void parameter_gradient_block(std::int64_t block, const double* x, const double* g,
                                         const double* y, double* gw, double* gb, std::int64_t m,
                                         std::int64_t k, std::int64_t n, ActivationCode activation,
                                         bool accumulate_w, bool accumulate_b,
                                         SliceScratch scratch) {
  __shared__ double partial[kBackwardThreads / 32][kGroup];
  __shared__ bool last_slice;
  const std::int64_t weights = gw != nullptr ? k : 0;
  const std::int64_t outputs = weights + (gb != nullptr ? 1 : 0);
  const std::int64_t groups = (outputs + kGroup - 1) / kGroup;
  const std::int64_t slice = block % scratch.slices;
  const std::int64_t group_block = block / scratch.slices;
  const std::int64_t column = group_block / groups;
  const std::int64_t first = (group_block % groups) * kGroup;
  const std::int64_t rows = (m + scratch.slices - 1) / scratch.slices;
  const std::int64_t row_end = (slice + 1) * rows < m ? (slice + 1) * rows : m;
  double sum[kGroup];
#pragma unroll
  for (int q = 0; q < kGroup; ++q) sum[q] = 0.0;
#pragma unroll 4
  for (std::int64_t r = slice * rows + threadIdx.x; r < row_end; r += blockDim.x) {
    const double dz = g[r * n + column] * activation_slope(activation, y[r * n + column]);
    const double* x_row = x + r * k;
#pragma unroll
    for (int q = 0; q < kGroup; ++q) {
      const std::int64_t o = first + q;
      if (o < weights) {
        sum[q] += x_row[o] * dz;
      } else if (o < outputs) {
        sum[q] += dz;
      }
    }
  }
  const int lane = static_cast<int>(threadIdx.x % 32);
  const int warp = static_cast<int>(threadIdx.x / 32);
#pragma unroll
  for (int q = 0; q < kGroup; ++q) {
    const double total = warp_sum(sum[q]);
    if (lane == 0) partial[warp][q] = total;
  }
  __syncthreads();
  const int q = static_cast<int>(threadIdx.x);
  double total = 0.0;
  if (q < kGroup) {
    for (int w = 0; w < static_cast<int>(blockDim.x / 32); ++w) total += partial[w][q];
  }
  if (scratch.slices > 1) {
    if (q < kGroup) {
      scratch.partials[(group_block * scratch.slices + slice) * kGroup + q] = total;
      __threadfence();
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      const unsigned done = atomicAdd(scratch.counters + group_block, 1u);
      last_slice = done == static_cast<unsigned>(scratch.slices - 1);
    }
    __syncthreads();
    if (!last_slice) return;
    __threadfence();
    if (threadIdx.x == 0) scratch.counters[group_block] = 0;
    if (q >= kGroup) return;
    total = 0.0;
    const volatile double* slices = scratch.partials + group_block * scratch.slices * kGroup;
    for (std::int64_t s = 0; s < scratch.slices; ++s) total += slices[s * kGroup + q];
  }
  if (q >= kGroup) return;
  const std::int64_t o = first + q;
  if (o >= outputs) return;
  if (o < weights) {
    const std::int64_t e = o * n + column;
    gw[e] = accumulate_w ? gw[e] + total : total;
  } else {
    gb[column] = accumulate_b ? gb[column] + total : total;
  }
}

// Blocks [0, parameter_blocks) for the parameter gradients, the rest for the input gradient.
__global__ void __launch_bounds__(kBackwardThreads)
    dense_backward_kernel(std::int64_t parameter_blocks, const double* x, const double* w,
                          const double* g, const double* y, double* gx, double* gw, double* gb,
                          std::int64_t m, std::int64_t k, std::int64_t n, ActivationCode activation,
                          bool accumulate_x, bool accumulate_w, bool accumulate_b,
                          SliceScratch scratch) {
  MAYA_KERNEL_BEGIN();
  const std::int64_t block = blockIdx.x;
  if (block < parameter_blocks) {
    if (scratch.columns) {
      column_parameter_block(block, x, g, y, gw, gb, m, k, n, activation, accumulate_w,
                             accumulate_b, scratch);
    } else {
      parameter_gradient_block(block, x, g, y, gw, gb, m, k, n, activation, accumulate_w,
                               accumulate_b, scratch);
    }
    return;
  }
  input_gradient_blocks(block - parameter_blocks, gridDim.x - parameter_blocks, g, y, w, gx, m, k,
                        n, activation, accumulate_x);
}

}  // namespace

void dense_forward(const double* x, const double* w, const double* b, double* y, std::size_t m,
                   std::size_t k, std::size_t n, ActivationCode activation) {
  if (m * n == 0) return;
  if (k >= 32 && n <= static_cast<std::size_t>(kRowInputs)) {
    launch("dense_forward_row_kernel", dense_forward_row_kernel, blocks_for(32 * m), kThreads, x, w,
           b, y, static_cast<std::int64_t>(m), static_cast<std::int64_t>(k),
           static_cast<std::int64_t>(n), activation);
    return;
  }
  if (k >= 32) {
    launch("dense_forward_warp_kernel", dense_forward_warp_kernel, blocks_for(32 * m * n), kThreads,
           x, w, b, y, static_cast<std::int64_t>(m), static_cast<std::int64_t>(k),
           static_cast<std::int64_t>(n), activation);
    return;
  }
  launch("dense_forward_kernel", dense_forward_kernel, blocks_for(m * n), kThreads, x, w, b, y,
         static_cast<std::int64_t>(m), static_cast<std::int64_t>(k), static_cast<std::int64_t>(n),
         activation);
  check_launch("dense_forward");
}

namespace {

// The slices' sums and counters of tall batches: device memory kept for the process (grown
// outside stream capture only, so a captured graph holds no allocation of its own); counters
// start at zero and every group's last block resets its own.
struct SliceMemory {
  double* partials = nullptr;
  unsigned* counters = nullptr;
  std::size_t partial_capacity = 0;
  std::size_t counter_capacity = 0;
};

// Room for `partials` sums and `counters` counters, or false while the stream is captured and
// the memory would have to grow (the caller then uses one slice).
bool reserve_slices(SliceMemory& memory, std::size_t partials, std::size_t counters) {
  if (partials <= memory.partial_capacity && counters <= memory.counter_capacity) return true;
  const auto s = static_cast<cudaStream_t>(stream());
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(s, &status) != cudaSuccess || status != cudaStreamCaptureStatusNone) {
    return false;
  }
  if (cudaStreamSynchronize(s) != cudaSuccess) check_launch("dense_backward (before growing)");
  cudaFree(memory.partials);
  cudaFree(memory.counters);
  memory = SliceMemory{};
  const std::size_t new_partials = std::max<std::size_t>(partials, 4096);
  const std::size_t new_counters = std::max<std::size_t>(counters, 1024);
  if (cudaMalloc(&memory.partials, new_partials * sizeof(double)) != cudaSuccess ||
      cudaMalloc(&memory.counters, new_counters * sizeof(unsigned)) != cudaSuccess ||
      cudaMemset(memory.counters, 0, new_counters * sizeof(unsigned)) != cudaSuccess) {
    cudaGetLastError();
    throw DeviceError("dense_backward: cannot allocate " +
                      std::to_string(new_partials * sizeof(double)) +
                      " bytes for the parameter gradients' partial sums");
  }
  memory.partial_capacity = new_partials;
  memory.counter_capacity = new_counters;
  return true;
}

SliceMemory& slice_memory() {
  static SliceMemory memory;
  return memory;
}

}  // namespace

void dense_backward(const double* x, const double* w, const double* g, const double* y, double* gx,
                    double* gw, double* gb, std::size_t m, std::size_t k, std::size_t n,
                    ActivationCode activation, bool accumulate_x, bool accumulate_w,
                    bool accumulate_b) {
  const std::size_t outputs = (gw != nullptr ? k : 0) + (gb != nullptr ? 1 : 0);
  const std::size_t group_blocks = outputs > 0 ? n * ((outputs + kGroup - 1) / kGroup) : 0;
  // Batches of kSliceFrom rows or more: slices of about kBackwardThreads rows each (8 at 4096).
  SliceScratch scratch;
  if (group_blocks > 0 && group_blocks < kSliceBelowGroups && m >= kSliceFrom) {
    const std::size_t slices =
        std::min<std::size_t>((m + kBackwardThreads - 1) / kBackwardThreads, kMaxSlices);
    SliceMemory& memory = slice_memory();
    if (reserve_slices(memory, group_blocks * slices * kGroup, group_blocks)) {
      scratch.partials = memory.partials;
      scratch.counters = memory.counters;
      scratch.slices = static_cast<std::int64_t>(slices);
    }
  }
  std::size_t parameter_blocks = group_blocks * static_cast<std::size_t>(scratch.slices);
  if (group_blocks > 0 && n >= 32 && outputs <= static_cast<std::size_t>(kGroup) &&
      m >= kSliceFrom) {
    // Wide, short layers: column blocks over slices of kColumnSliceRows rows.
    const std::size_t column_blocks = (n + kColumns - 1) / kColumns;
    const std::size_t slices =
        std::min<std::size_t>((m + kColumnSliceRows - 1) / kColumnSliceRows, kMaxColumnSlices);
    SliceMemory& memory = slice_memory();
    if (reserve_slices(memory, column_blocks * slices * kColumns * kGroup, column_blocks)) {
      scratch.partials = memory.partials;
      scratch.counters = memory.counters;
      scratch.slices = static_cast<std::int64_t>(slices);
      scratch.columns = true;
      parameter_blocks = column_blocks * slices;
    }
  }
  std::size_t input_blocks = 0;
  if (gx != nullptr && m * k > 0) {
    const std::size_t threads =
        n >= 32 ? 32 * (k <= static_cast<std::size_t>(kRowInputs) ? m : m * k) : m * k;
    input_blocks = std::min<std::size_t>((threads + kBackwardThreads - 1) / kBackwardThreads, 2048);
  }
  if (parameter_blocks + input_blocks == 0) return;
  launch("dense_backward_kernel", dense_backward_kernel,
         static_cast<unsigned>(parameter_blocks + input_blocks), kBackwardThreads,
         static_cast<std::int64_t>(parameter_blocks), x, w, g, y, gx, gw, gb,
         static_cast<std::int64_t>(m), static_cast<std::int64_t>(k), static_cast<std::int64_t>(n),
         activation, accumulate_x, accumulate_w, accumulate_b, scratch);
}

}  // namespace maya::tensor::detail::kernels
