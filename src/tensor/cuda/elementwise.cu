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

// The functions and their derivatives are tensor/fused_program.hpp's, the ones the fused
// programs and the CPU's fused node evaluate: one table for every path.
__device__ double binary_value(BinaryCode code, double a, double b) {
  return fused::binary_value(static_cast<std::int32_t>(code), a, b);
}

// d F / d a (operand 0) or d F / d b (operand 1), given the output.
__device__ double binary_partial(BinaryCode code, int operand, double a, double b, double out) {
  double da = 0.0;
  double db = 0.0;
  fused::binary_partials(static_cast<std::int32_t>(code), a, b, out, da, db);
  return operand == 0 ? da : db;
}

__device__ double unary_value(UnaryCode code, double x, double lo, double hi) {
  return fused::unary_value(static_cast<std::int32_t>(code), x, lo, hi);
}

__device__ double unary_derivative(UnaryCode code, double x, double y, double lo, double hi) {
  return fused::unary_derivative(static_cast<std::int32_t>(code), x, y, lo, hi);
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
