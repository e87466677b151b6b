// The fused dense layer y = act(x w + b) on the GPU, for the small layers of policies and
// surrogates: one thread per output element, and the parameter gradients as one block per
// element of w and b that sums over the rows in a fixed order (deterministic).
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
