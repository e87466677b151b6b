// Elementwise, strided, reduction and index kernels of the CUDA backend. Each thread handles
// elements i, i + stride, ... (grid-stride loops); reductions add in a fixed order, so results
// are deterministic. The formulas mirror the CPU functors in tensor/elementwise.cpp and unary.cpp.
#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "maya/core/error.hpp"
#include "tensor/cuda/kernels.hpp"
#include "tensor/cuda/launch.cuh"
#include "tensor/device_runtime.hpp"

namespace maya::tensor::detail {
namespace kernels {
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

__device__ std::int64_t offset_of(const Indexer& ix, int operand, std::int64_t i) {
  std::int64_t offset = 0;
  for (int d = ix.ndim - 1; d >= 0; --d) {
    const std::int64_t extent = ix.shape[d];
    offset += (i % extent) * ix.stride[operand][d];
    i /= extent;
  }
  return offset;
}

__device__ double binary_value(BinaryCode code, double a, double b) {
  switch (code) {
    case BinaryCode::add: return a + b;
    case BinaryCode::sub: return a - b;
    case BinaryCode::mul: return a * b;
    case BinaryCode::div: return a / b;
    case BinaryCode::pow: return ::pow(a, b);
    case BinaryCode::maximum: return a >= b ? a : b;
    case BinaryCode::minimum: return a <= b ? a : b;
  }
  return 0.0;
}

// d F / d a (operand 0) or d F / d b (operand 1), given the output.
__device__ double binary_partial(BinaryCode code, int operand, double a, double b, double out) {
  switch (code) {
    case BinaryCode::add: return 1.0;
    case BinaryCode::sub: return operand == 0 ? 1.0 : -1.0;
    case BinaryCode::mul: return operand == 0 ? b : a;
    case BinaryCode::div: return operand == 0 ? 1.0 / b : -out / b;
    case BinaryCode::pow:
      if (operand == 0) return b == 0.0 ? 0.0 : b * ::pow(a, b - 1.0);
      return out == 0.0 ? 0.0 : out * ::log(a);
    case BinaryCode::maximum: return (a >= b) == (operand == 0) ? 1.0 : 0.0;
    case BinaryCode::minimum: return (a <= b) == (operand == 0) ? 1.0 : 0.0;
  }
  return 0.0;
}

__device__ double stable_sigmoid(double x) {
  if (x >= 0.0) return 1.0 / (1.0 + ::exp(-x));
  const double e = ::exp(x);
  return e / (1.0 + e);
}

__device__ double unary_value(UnaryCode code, double x, double lo, double hi) {
  switch (code) {
    case UnaryCode::sin: return ::sin(x);
    case UnaryCode::cos: return ::cos(x);
    case UnaryCode::tan: return ::tan(x);
    case UnaryCode::exp: return ::exp(x);
    case UnaryCode::log: return ::log(x);
    case UnaryCode::sqrt: return ::sqrt(x);
    case UnaryCode::tanh: return ::tanh(x);
    case UnaryCode::sigmoid: return stable_sigmoid(x);
    case UnaryCode::relu: return x > 0.0 ? x : 0.0;
    case UnaryCode::softplus: return x > 0.0 ? x + ::log1p(::exp(-x)) : ::log1p(::exp(x));
    case UnaryCode::abs: return ::fabs(x);
    case UnaryCode::square: return x * x;
    case UnaryCode::clamp: return ::fmin(::fmax(x, lo), hi);
  }
  return 0.0;
}

__device__ double unary_derivative(UnaryCode code, double x, double y, double lo, double hi) {
  switch (code) {
    case UnaryCode::sin: return ::cos(x);
    case UnaryCode::cos: return -::sin(x);
    case UnaryCode::tan: return 1.0 + y * y;
    case UnaryCode::exp: return y;
    case UnaryCode::log: return 1.0 / x;
    case UnaryCode::sqrt: return 0.5 / y;
    case UnaryCode::tanh: return 1.0 - y * y;
    case UnaryCode::sigmoid: return y * (1.0 - y);
    case UnaryCode::relu: return x > 0.0 ? 1.0 : 0.0;
    case UnaryCode::softplus: return stable_sigmoid(x);
    case UnaryCode::abs: return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0);
    case UnaryCode::square: return 2.0 * x;
    case UnaryCode::clamp: return x > lo && x < hi ? 1.0 : 0.0;
  }
  return 0.0;
}

__device__ void store(double* target, double value, bool accumulate) {
  if (accumulate) {
    *target += value;
  } else {
    *target = value;
  }
}

#define MAYA_GRID_LOOP(i, n)                                                              \
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; \
       i < static_cast<std::int64_t>(n); i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)

__global__ void binary_values_kernel(BinaryCode code, Indexer ix, std::size_t n, const double* a,
                                     const double* b, double* out) {
  MAYA_KERNEL_BEGIN();
  MAYA_GRID_LOOP(i, n) {
    out[i] = binary_value(code, a[offset_of(ix, 0, i)], b[offset_of(ix, 1, i)]);
  }
}

__global__ void binary_partials_kernel(BinaryCode code, int operand, Indexer ix, std::size_t n,
                                       const double* a, const double* b, const double* out,
                                       const double* g, double* dst, bool accumulate) {
  MAYA_KERNEL_BEGIN();
  MAYA_GRID_LOOP(i, n) {
    const double partial =
        binary_partial(code, operand, a[offset_of(ix, 0, i)], b[offset_of(ix, 1, i)], out[i]);
    store(dst + i, g[i] * partial, accumulate);
  }
}

__global__ void constant_values_kernel(BinaryCode code, bool left, std::size_t n, const double* x,
                                       double c, double* out) {
  MAYA_KERNEL_BEGIN();
  MAYA_GRID_LOOP(i, n) {
    out[i] = left ? binary_value(code, c, x[i]) : binary_value(code, x[i], c);
  }
}

__global__ void constant_partials_kernel(BinaryCode code, bool left, std::size_t n, const double* x,
                                         double c, const double* out, const double* g, double* gx,
                                         bool accumulate) {
  MAYA_KERNEL_BEGIN();
  MAYA_GRID_LOOP(i, n) {
    const double partial =
        left ? binary_partial(code, 1, c, x[i], out[i]) : binary_partial(code, 0, x[i], c, out[i]);
    store(gx + i, g[i] * partial, accumulate);
  }
}

__global__ void unary_values_kernel(UnaryCode code, std::size_t n, const double* x, double lo,
                                    double hi, double* out) {
  MAYA_KERNEL_BEGIN();
  MAYA_GRID_LOOP(i, n) { out[i] = unary_value(code, x[i], lo, hi); }
}

__global__ void unary_partials_kernel(UnaryCode code, std::size_t n, const double* x,
                                      const double* y, double lo, double hi, const double* g,
                                      double* gx, bool accumulate) {
  MAYA_KERNEL_BEGIN();
  MAYA_GRID_LOOP(i, n) {
    store(gx + i, g[i] * unary_derivative(code, x[i], y[i], lo, hi), accumulate);
  }
}

__global__ void gather_strided_kernel(Indexer ix, std::size_t n, std::int64_t base, const double* x,
                                      double* out, double scale, bool accumulate) {
  MAYA_KERNEL_BEGIN();
  MAYA_GRID_LOOP(i, n) { store(out + i, scale * x[base + offset_of(ix, 0, i)], accumulate); }
}

__global__ void scatter_add_strided_kernel(Indexer ix, std::size_t n, std::int64_t base,
                                           const double* g, double* x) {
  MAYA_KERNEL_BEGIN();
  MAYA_GRID_LOOP(i, n) { x[base + offset_of(ix, 0, i)] += g[i]; }
}

// One thread per output: short reductions.
__global__ void reduce_rows_kernel(ReducePlan plan, const double* x, double* out, double scale,
                                   bool accumulate) {
  MAYA_KERNEL_BEGIN();
  MAYA_GRID_LOOP(o, plan.outputs) {
    const double* start = x + offset_of(plan.kept, 0, o);
    double sum = 0.0;
    for (std::int64_t r = 0; r < static_cast<std::int64_t>(plan.count); ++r) {
      sum += start[offset_of(plan.reduced, 0, r)];
    }
    store(out + o, scale * sum, accumulate);
  }
}

// One block per output: long reductions, a strided partial sum per thread then a tree.
__global__ void reduce_blocks_kernel(ReducePlan plan, const double* x, double* out, double scale,
                                     bool accumulate) {
  MAYA_KERNEL_BEGIN();
  __shared__ double partial[kThreads];
  for (std::int64_t o = blockIdx.x; o < static_cast<std::int64_t>(plan.outputs); o += gridDim.x) {
    const double* start = x + offset_of(plan.kept, 0, o);
    double sum = 0.0;
    for (std::int64_t r = threadIdx.x; r < static_cast<std::int64_t>(plan.count); r += blockDim.x) {
      sum += start[offset_of(plan.reduced, 0, r)];
    }
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int width = kThreads / 2; width > 0; width /= 2) {
      if (threadIdx.x < width) partial[threadIdx.x] += partial[threadIdx.x + width];
      __syncthreads();
    }
    if (threadIdx.x == 0) store(out + o, scale * partial[0], accumulate);
    __syncthreads();
  }
}

__global__ void gather_map_kernel(const std::int64_t* map, std::size_t n, const double* x,
                                  double* out, bool accumulate) {
  MAYA_KERNEL_BEGIN();
  // A negative entry reads nothing (a source element no index reached).
  MAYA_GRID_LOOP(i, n) {
    if (map[i] >= 0) {
      store(out + i, x[map[i]], accumulate);
    } else if (!accumulate) {
      out[i] = 0.0;
    }
  }
}

__global__ void csr_sum_kernel(const std::int64_t* offsets, const std::int64_t* items,
                               std::size_t targets, const double* src, double* out,
                               bool accumulate) {
  MAYA_KERNEL_BEGIN();
  MAYA_GRID_LOOP(t, targets) {
    double sum = 0.0;
    for (std::int64_t j = offsets[t]; j < offsets[t + 1]; ++j) sum += src[items[j]];
    store(out + t, sum, accumulate);
  }
}

// The part holding column c of a joined row (parts are few: a linear search).
__device__ int part_of(const RowParts& parts, std::int64_t column) {
  int p = 0;
  while (p + 1 < parts.count && column >= parts.offset[p + 1]) ++p;
  return p;
}

__global__ void join_rows_kernel(RowParts parts, std::int64_t outer, std::int64_t row,
                                 double* out) {
  MAYA_KERNEL_BEGIN();
  MAYA_GRID_LOOP(i, outer * row) {
    const std::int64_t o = i / row;
    const std::int64_t column = i % row;
    const int p = part_of(parts, column);
    out[i] = parts.values[p][o * parts.width[p] + column - parts.offset[p]];
  }
}

__global__ void split_rows_kernel(RowParts parts, std::int64_t outer, std::int64_t row,
                                  const double* g) {
  MAYA_KERNEL_BEGIN();
  MAYA_GRID_LOOP(i, outer * row) {
    const std::int64_t o = i / row;
    const std::int64_t column = i % row;
    const int p = part_of(parts, column);
    if (parts.gradients[p] == nullptr) continue;
    store(parts.gradients[p] + o * parts.width[p] + column - parts.offset[p], g[i],
          parts.accumulate[p]);
  }
}

__global__ void fill_kernel(double* to, double value, std::size_t n) {
  MAYA_KERNEL_BEGIN();
  MAYA_GRID_LOOP(i, n) { to[i] = value; }
}

__global__ void add_kernel(double* to, const double* from, std::size_t n) {
  MAYA_KERNEL_BEGIN();
  MAYA_GRID_LOOP(i, n) { to[i] += from[i]; }
}

}  // namespace

void binary_values(BinaryCode code, const Indexer& ix, std::size_t n, const double* a,
                   const double* b, double* out) {
  if (n == 0) return;
  launch("binary_values_kernel", binary_values_kernel, blocks_for(n), kThreads, code, ix, n, a, b,
         out);
  check_launch("binary_values");
}

void binary_partials(BinaryCode code, int operand, const Indexer& ix, std::size_t n,
                     const double* a, const double* b, const double* out, const double* g,
                     double* dst, bool accumulate) {
  if (n == 0) return;
  launch("binary_partials_kernel", binary_partials_kernel, blocks_for(n), kThreads, code, operand,
         ix, n, a, b, out, g, dst, accumulate);
  check_launch("binary_partials");
}

void constant_values(BinaryCode code, bool left, std::size_t n, const double* x, double c,
                     double* out) {
  if (n == 0) return;
  launch("constant_values_kernel", constant_values_kernel, blocks_for(n), kThreads, code, left, n,
         x, c, out);
  check_launch("constant_values");
}

void constant_partials(BinaryCode code, bool left, std::size_t n, const double* x, double c,
                       const double* out, const double* g, double* gx, bool accumulate) {
  if (n == 0) return;
  launch("constant_partials_kernel", constant_partials_kernel, blocks_for(n), kThreads, code, left,
         n, x, c, out, g, gx, accumulate);
  check_launch("constant_partials");
}

void unary_values(UnaryCode code, std::size_t n, const double* x, double lo, double hi,
                  double* out) {
  if (n == 0) return;
  launch("unary_values_kernel", unary_values_kernel, blocks_for(n), kThreads, code, n, x, lo, hi,
         out);
  check_launch("unary_values");
}

void unary_partials(UnaryCode code, std::size_t n, const double* x, const double* y, double lo,
                    double hi, const double* g, double* gx, bool accumulate) {
  if (n == 0) return;
  launch("unary_partials_kernel", unary_partials_kernel, blocks_for(n), kThreads, code, n, x, y, lo,
         hi, g, gx, accumulate);
  check_launch("unary_partials");
}

void gather_strided(const Indexer& ix, std::size_t n, std::int64_t base, const double* x,
                    double* out, double scale, bool accumulate) {
  if (n == 0) return;
  launch("gather_strided_kernel", gather_strided_kernel, blocks_for(n), kThreads, ix, n, base, x,
         out, scale, accumulate);
  check_launch("gather_strided");
}

void scatter_add_strided(const Indexer& ix, std::size_t n, std::int64_t base, const double* g,
                         double* x) {
  if (n == 0) return;
  launch("scatter_add_strided_kernel", scatter_add_strided_kernel, blocks_for(n), kThreads, ix, n,
         base, g, x);
  check_launch("scatter_add_strided");
}

void reduce_sum(const ReducePlan& plan, const double* x, double* out, double scale,
                bool accumulate) {
  if (plan.outputs == 0) return;
  if (plan.count < 128) {
    launch("reduce_rows_kernel", reduce_rows_kernel, blocks_for(plan.outputs), kThreads, plan, x,
           out, scale, accumulate);
  } else {
    const auto blocks = static_cast<unsigned>(std::min<std::size_t>(plan.outputs, 65535));
    launch("reduce_blocks_kernel", reduce_blocks_kernel, blocks, kThreads, plan, x, out, scale,
           accumulate);
  }
  check_launch("reduce_sum");
}

void gather_map(const std::int64_t* map, std::size_t n, const double* x, double* out,
                bool accumulate) {
  if (n == 0) return;
  launch("gather_map_kernel", gather_map_kernel, blocks_for(n), kThreads, map, n, x, out,
         accumulate);
  check_launch("gather_map");
}

void csr_sum(const std::int64_t* offsets, const std::int64_t* items, std::size_t targets,
             const double* src, double* out, bool accumulate) {
  if (targets == 0) return;
  launch("csr_sum_kernel", csr_sum_kernel, blocks_for(targets), kThreads, offsets, items, targets,
         src, out, accumulate);
  check_launch("csr_sum");
}

void join_rows(const RowParts& parts, std::size_t outer, std::size_t row, double* out) {
  if (outer * row == 0) return;
  launch("join_rows_kernel", join_rows_kernel, blocks_for(outer * row), kThreads, parts,
         static_cast<std::int64_t>(outer), static_cast<std::int64_t>(row), out);
  check_launch("join_rows");
}

void split_rows(const RowParts& parts, std::size_t outer, std::size_t row, const double* g) {
  if (outer * row == 0) return;
  launch("split_rows_kernel", split_rows_kernel, blocks_for(outer * row), kThreads, parts,
         static_cast<std::int64_t>(outer), static_cast<std::int64_t>(row), g);
  check_launch("split_rows");
}

}  // namespace kernels

void fill_value(double* device, double value, std::size_t count) {
  if (count == 0) return;
  kernels::launch("fill_kernel", kernels::fill_kernel, kernels::blocks_for(count),
                  kernels::kThreads, device, value, count);
  kernels::check_launch("fill_value");
}

void add_on_device(double* to, const double* from, std::size_t count) {
  if (count == 0) return;
  kernels::launch("add_kernel", kernels::add_kernel, kernels::blocks_for(count), kernels::kThreads,
                  to, from, count);
  kernels::check_launch("add_on_device");
}

}  // namespace maya::tensor::detail
