// Kernels of the fused elementwise node (the interpreter of tensor/fused_program.hpp, one thread
// per element, forward and backward: where a program is not compiled to its own kernel,
// tensor/cuda/fused_jit.cpp) and of max/min/norm along an axis (one thread per output,
// adding in the CPU ops' order).
#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "maya/core/error.hpp"
#include "tensor/cuda/kernels.hpp"
#include "tensor/cuda/launch.cuh"
#include "tensor/fused_program.hpp"

namespace maya::tensor::detail::kernels {
namespace {

constexpr int kThreads = 128;

unsigned blocks_for(std::size_t n) {
  return static_cast<unsigned>(
      std::max<std::size_t>(1, std::min<std::size_t>((n + kThreads - 1) / kThreads, 8192)));
}

#define MAYA_GRID_LOOP(i, n)                                                              \
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; \
       i < static_cast<std::int64_t>(n); i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)

template <bool kFull>
__global__ void fused_forward_kernel(fused::Program program, fused::Layout layout, std::size_t n,
                                     FusedPointers pointers, double* out) {
  MAYA_KERNEL_BEGIN();
  double r[fused::kMaxRegisters];
  MAYA_GRID_LOOP(i, n) {
    for (int k = 0; k < program.num_inputs; ++k) {
      r[k] = pointers.inputs[k][fused::input_offset(layout, k, i)];
    }
    fused::evaluate<kFull>(program, r);
    out[i] = r[program.output];
  }
}

template <bool kFull>
__global__ void fused_backward_kernel(fused::Program program, fused::Layout layout, std::size_t n,
                                      FusedPointers pointers, const double* g) {
  MAYA_KERNEL_BEGIN();
  double r[fused::kMaxRegisters];
  double adj[fused::kMaxRegisters];
  MAYA_GRID_LOOP(i, n) {
    for (int k = 0; k < program.num_inputs; ++k) {
      r[k] = pointers.inputs[k][fused::input_offset(layout, k, i)];
    }
    fused::evaluate<kFull>(program, r);
    fused::backpropagate<kFull>(program, r, g[i], adj);
    for (int k = 0; k < program.num_inputs; ++k) {
      double* target = pointers.gradients[k];
      if (target == nullptr) continue;
      // A broadcast input's gradient is a buffer of the output's shape (summed back after).
      if (pointers.accumulate[k]) {
        target[i] += adj[k];
      } else {
        target[i] = adj[k];
      }
    }
  }
}

__device__ bool replaces(AxisReduceCode code, double candidate, double best) {
  const bool better = code == AxisReduceCode::max ? candidate > best : candidate < best;
  return better || (::isnan(candidate) && !::isnan(best));
}

__global__ void axis_reduce_kernel(AxisReduceCode code, std::size_t outer, std::size_t extent,
                                   std::size_t inner, const double* x, double* out) {
  MAYA_KERNEL_BEGIN();
  MAYA_GRID_LOOP(t, outer * inner) {
    const std::int64_t o = t / static_cast<std::int64_t>(inner);
    const std::int64_t i = t % static_cast<std::int64_t>(inner);
    const double* first = x + o * static_cast<std::int64_t>(extent * inner) + i;
    if (code == AxisReduceCode::norm) {
      double sum = 0.0;
      for (std::size_t e = 0; e < extent; ++e) {
        const double v = first[e * inner];
        sum = __dadd_rn(sum, __dmul_rn(v, v));  // as the CPU rounds: no fused multiply-add
      }
      out[t] = ::sqrt(sum);
    } else {
      double best = first[0];
      for (std::size_t e = 1; e < extent; ++e) {
        const double v = first[e * inner];
        if (replaces(code, v, best)) best = v;
      }
      out[t] = best;
    }
  }
}

__global__ void axis_reduce_backward_kernel(AxisReduceCode code, std::size_t outer,
                                            std::size_t extent, std::size_t inner, const double* x,
                                            const double* out, const double* g, double* gx,
                                            bool accumulate) {
  MAYA_KERNEL_BEGIN();
  MAYA_GRID_LOOP(t, outer * inner) {
    const std::int64_t o = t / static_cast<std::int64_t>(inner);
    const std::int64_t i = t % static_cast<std::int64_t>(inner);
    const std::int64_t base = o * static_cast<std::int64_t>(extent * inner) + i;
    const double y = out[t];
    if (code == AxisReduceCode::norm) {
      const double factor = y == 0.0 ? 0.0 : g[t] / y;
      for (std::size_t e = 0; e < extent; ++e) {
        const std::int64_t at = base + static_cast<std::int64_t>(e * inner);
        const double d = factor * x[at];
        if (accumulate) {
          gx[at] += d;
        } else {
          gx[at] = d;
        }
      }
    } else {
      bool found = false;
      for (std::size_t e = 0; e < extent; ++e) {
        const std::int64_t at = base + static_cast<std::int64_t>(e * inner);
        const bool hit = !found && (x[at] == y || (::isnan(y) && ::isnan(x[at])));
        found = found || hit;
        if (accumulate) {
          if (hit) gx[at] += g[t];
        } else {
          gx[at] = hit ? g[t] : 0.0;
        }
      }
    }
  }
}

}  // namespace

void fused_forward(const fused::Program& program, const fused::Layout& layout, std::size_t n,
                   const FusedPointers& pointers, double* out) {
  if (n == 0) return;
  if (fused_jit_forward(program, layout, n, pointers, out, blocks_for(n), kThreads)) return;
  // Programs of plain arithmetic take the interpreter without the transcendental functions: a
  // fraction of the code, so far fewer instruction-cache misses per launch.
  launch("fused_forward",
         fused::arithmetic_only(program) ? fused_forward_kernel<false> : fused_forward_kernel<true>,
         blocks_for(n), kThreads, program, layout, n, pointers, out);
}

void fused_backward(const fused::Program& program, const fused::Layout& layout, std::size_t n,
                    const FusedPointers& pointers, const double* g) {
  if (n == 0) return;
  if (fused_jit_backward(program, layout, n, pointers, g, blocks_for(n), kThreads)) return;
  launch(
      "fused_backward",
      fused::arithmetic_only(program) ? fused_backward_kernel<false> : fused_backward_kernel<true>,
      blocks_for(n), kThreads, program, layout, n, pointers, g);
}

void axis_reduce(AxisReduceCode code, std::size_t outer, std::size_t extent, std::size_t inner,
                 const double* x, double* out) {
  if (outer * inner == 0) return;
  launch("axis_reduce", axis_reduce_kernel, blocks_for(outer * inner), kThreads, code, outer,
         extent, inner, x, out);
}

void axis_reduce_backward(AxisReduceCode code, std::size_t outer, std::size_t extent,
                          std::size_t inner, const double* x, const double* out, const double* g,
                          double* gx, bool accumulate) {
  if (outer * inner == 0) return;
  launch("axis_reduce_backward", axis_reduce_backward_kernel, blocks_for(outer * inner), kThreads,
         code, outer, extent, inner, x, out, g, gx, accumulate);
}

}  // namespace maya::tensor::detail::kernels
