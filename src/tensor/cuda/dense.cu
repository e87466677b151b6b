// The fused dense layer y = act(x w + b) on the GPU, for the small layers of policies and
// surrogates: one thread per output element, and the parameter gradients as one block per
// element of w and b that sums over the rows in a fixed order (deterministic); for tall batches,
// blocks over slices of rows whose partial sums the last block adds in order.
// MAYA_CUDA_DENSE_SPLIT=0 keeps the block-per-element kernel for every batch.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
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

// The input gradient with a warp per element of gx when n >= 32.
__global__ void input_gradient_warp_kernel(const double* g, const double* y, const double* w,
                                           double* gx, std::int64_t m, std::int64_t k,
                                           std::int64_t n, ActivationCode activation,
                                           bool accumulate) {
  MAYA_KERNEL_BEGIN();
  const int lane = static_cast<int>(threadIdx.x % 32);
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * blockDim.x / 32;
  for (std::int64_t e = (blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / 32;
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
}

// With dz = g act'(y) on the fly: gx[r, i] (= or +=) sum_j dz[r, j] w[i, j].
__global__ void input_gradient_kernel(const double* g, const double* y, const double* w, double* gx,
                                      std::int64_t m, std::int64_t k, std::int64_t n,
                                      ActivationCode activation, bool accumulate) {
  MAYA_KERNEL_BEGIN();
  MAYA_GRID_LOOP(i, m * k) {
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

// Block e < k n: gw[e] = sum_r x[r, e / n] dz[r, e % n]; block k n + j: gb[j] = sum_r dz[r, j].
__global__ void parameter_gradients_kernel(const double* x, const double* g, const double* y,
                                           double* gw, double* gb, std::int64_t m, std::int64_t k,
                                           std::int64_t n, ActivationCode activation,
                                           bool accumulate_w, bool accumulate_b) {
  MAYA_KERNEL_BEGIN();
  __shared__ double partial[kThreads];
  const std::int64_t element = blockIdx.x;
  const bool weight = element < k * n;
  const std::int64_t input = weight ? element / n : 0;
  const std::int64_t column = weight ? element % n : element - k * n;
  double sum = 0.0;
  for (std::int64_t r = threadIdx.x; r < m; r += blockDim.x) {
    const double dz = g[r * n + column] * activation_slope(activation, y[r * n + column]);
    sum += weight ? x[r * k + input] * dz : dz;
  }
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int width = kThreads / 2; width > 0; width /= 2) {
    if (threadIdx.x < width) partial[threadIdx.x] += partial[threadIdx.x + width];
    __syncthreads();
  }
  if (threadIdx.x != 0) return;
  if (weight) {
    gw[element] = accumulate_w ? gw[element] + partial[0] : partial[0];
  } else {
    gb[column] = accumulate_b ? gb[column] + partial[0] : partial[0];
  }
}

// Tall batches (m >= kSplitRows): block p sums its own slice of rows for EVERY element of gw and
// gb (threads over the elements, so the loads of g and y are coalesced), writes the partial sums
// to partials[p], and the last block to finish adds the partials in block order (deterministic).
constexpr std::int64_t kSplitRows = 1024;
__device__ unsigned int split_blocks_done = 0;

__global__ void parameter_gradients_split_kernel(const double* x, const double* g, const double* y,
                                                 double* gw, double* gb, std::int64_t m,
                                                 std::int64_t k, std::int64_t n,
                                                 ActivationCode activation, bool accumulate_w,
                                                 bool accumulate_b, double* partials) {
  MAYA_KERNEL_BEGIN();
  const std::int64_t weights = gw != nullptr ? k * n : 0;
  const std::int64_t elements = weights + (gb != nullptr ? n : 0);
  const std::int64_t blocks = gridDim.x;
  const std::int64_t chunk = (m + blocks - 1) / blocks;
  const std::int64_t first = blockIdx.x * chunk;
  const std::int64_t last = first + chunk < m ? first + chunk : m;
  for (std::int64_t e = threadIdx.x; e < elements; e += blockDim.x) {
    const bool weight = e < weights;
    const std::int64_t input = weight ? e / n : 0;
    const std::int64_t column = weight ? e % n : e - weights;
    double sum = 0.0;
#pragma unroll 4
    for (std::int64_t r = first; r < last; ++r) {
      const double dz = g[r * n + column] * activation_slope(activation, y[r * n + column]);
      sum += weight ? x[r * k + input] * dz : dz;
    }
    partials[blockIdx.x * elements + e] = sum;
  }
  // The last block to finish reduces (threadfence: its partials are visible to that block).
  __shared__ bool is_last;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) {
    is_last = atomicAdd(&split_blocks_done, 1u) == gridDim.x - 1;
  }
  __syncthreads();
  if (!is_last) return;
  __threadfence();
  for (std::int64_t e = threadIdx.x; e < elements; e += blockDim.x) {
    double sum = 0.0;
    for (std::int64_t p = 0; p < blocks; ++p) sum += partials[p * elements + e];
    if (e < weights) {
      gw[e] = accumulate_w ? gw[e] + sum : sum;
    } else {
      const std::int64_t column = e - weights;
      gb[column] = accumulate_b ? gb[column] + sum : sum;
    }
  }
  if (threadIdx.x == 0) split_blocks_done = 0;
}

bool split_parameter_gradients() {
  static const bool enabled = [] {
    const char* setting = std::getenv("MAYA_CUDA_DENSE_SPLIT");
    return setting == nullptr || std::strcmp(setting, "0") != 0;
  }();
  return enabled;
}

}  // namespace

void dense_forward(const double* x, const double* w, const double* b, double* y, std::size_t m,
                   std::size_t k, std::size_t n, ActivationCode activation) {
  if (m * n == 0) return;
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

void dense_input_gradient(const double* g, const double* y, const double* w, double* gx,
                          std::size_t m, std::size_t k, std::size_t n, ActivationCode activation,
                          bool accumulate) {
  if (m * k == 0) return;
  if (n >= 32) {
    launch("input_gradient_warp_kernel", input_gradient_warp_kernel, blocks_for(32 * m * k),
           kThreads, g, y, w, gx, static_cast<std::int64_t>(m), static_cast<std::int64_t>(k),
           static_cast<std::int64_t>(n), activation, accumulate);
    return;
  }
  launch("input_gradient_kernel", input_gradient_kernel, blocks_for(m * k), kThreads, g, y, w, gx,
         static_cast<std::int64_t>(m), static_cast<std::int64_t>(k), static_cast<std::int64_t>(n),
         activation, accumulate);
  check_launch("dense_input_gradient");
}

void dense_parameter_gradients(const double* x, const double* g, const double* y, double* gw,
                               double* gb, std::size_t m, std::size_t k, std::size_t n,
                               ActivationCode activation, bool accumulate_w, bool accumulate_b) {
  // Blocks for gw (when asked) and gb (when asked) in one launch; absent ones are skipped.
  const std::size_t weight_blocks = gw != nullptr ? k * n : 0;
  const std::size_t bias_blocks = gb != nullptr ? n : 0;
  if (weight_blocks + bias_blocks == 0) return;
  if (static_cast<std::int64_t>(m) >= kSplitRows && split_parameter_gradients()) {
    // About 128 rows per block, at most 64 blocks.
    const std::size_t blocks = std::min<std::size_t>(64, (m + 127) / 128);
    double* partials = device_allocate(blocks * (weight_blocks + bias_blocks), "dense");
    launch("parameter_gradients_split_kernel", parameter_gradients_split_kernel,
           static_cast<unsigned>(blocks), kThreads, x, g, y, gw, gb, static_cast<std::int64_t>(m),
           static_cast<std::int64_t>(k), static_cast<std::int64_t>(n), activation, accumulate_w,
           accumulate_b, partials);
    device_free(partials);  // queued after the kernel
    return;
  }
  if (weight_blocks > 0 && bias_blocks > 0) {
    launch("parameter_gradients_kernel", parameter_gradients_kernel,
           static_cast<unsigned>(k * n + n), kThreads, x, g, y, gw, gb,
           static_cast<std::int64_t>(m), static_cast<std::int64_t>(k), static_cast<std::int64_t>(n),
           activation, accumulate_w, accumulate_b);
  } else if (weight_blocks > 0) {
    launch("parameter_gradients_kernel", parameter_gradients_kernel, static_cast<unsigned>(k * n),
           kThreads, x, g, y, gw, gb, static_cast<std::int64_t>(m), static_cast<std::int64_t>(k),
           static_cast<std::int64_t>(n), activation, accumulate_w, accumulate_b);
  } else if (bias_blocks > 0) {
    // Only gb: pretend k = 0 so every block is a bias block.
    launch("parameter_gradients_kernel", parameter_gradients_kernel, static_cast<unsigned>(n),
           kThreads, x, g, y, gw, gb, static_cast<std::int64_t>(m), 0, static_cast<std::int64_t>(n),
           activation, accumulate_w, accumulate_b);
  } else {
    return;
  }
  check_launch("dense_parameter_gradients");
}

}  // namespace maya::tensor::detail::kernels
