// The CUDA backend's ops, as the CPU ops see them: each public op checks where its operands live
// (on_cuda) and hands operands on Device::kCuda to the function here, after its own validation.
// Implemented in tensor/cuda/ops*.cpp; without CUDA, tensor/no_cuda/gpu_ops.cpp (never reached,
// since no node can live on kCuda there).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>

#include "maya/tensor/ops.hpp"
#include "tensor/op_codes.hpp"

namespace maya::tensor::detail {

// True when every operand lives on kCuda, false when all are on the CPU (or an operand is not
// of `tape`, which the CPU op then reports); maya::DeviceError naming `operation` and both
// devices when they are mixed.
// A tape that never held a GPU node answers at once (the CPU path pays one load and a branch).
[[nodiscard]] bool operands_on_cuda(const TensorTape& tape, std::span<const TensorVar> operands,
                                    const char* operation);
[[nodiscard]] inline bool on_cuda(const TensorTape& tape, std::span<const TensorVar> operands,
                                  const char* operation) {
  if (!tape.holds_cuda_nodes()) [[likely]]
    return false;
  return operands_on_cuda(tape, operands, operation);
}
[[nodiscard]] inline bool on_cuda(const TensorTape& tape, std::initializer_list<TensorVar> operands,
                                  const char* operation) {
  return on_cuda(tape, std::span<const TensorVar>(operands.begin(), operands.size()), operation);
}

namespace gpu {

[[nodiscard]] TensorVar binary(BinaryCode code, const char* name, TensorVar a, TensorVar b);
[[nodiscard]] TensorVar constant(BinaryCode code, const char* name, TensorVar x, double c,
                                 bool left);
[[nodiscard]] TensorVar unary(UnaryCode code, const char* name, TensorVar x, double lo = 0.0,
                              double hi = 0.0);
[[nodiscard]] TensorVar sum_all(TensorVar x, bool mean);
[[nodiscard]] TensorVar sum_axis(TensorVar x, std::size_t axis, bool keepdim, bool mean);
[[nodiscard]] TensorVar matmul(TensorVar a, TensorVar b);
[[nodiscard]] TensorVar dense(TensorVar x, TensorVar w, TensorVar b, Activation activation);
// Same elements, new shape (reshape, squeeze, unsqueeze).
[[nodiscard]] TensorVar flat_copy(const char* name, TensorVar x, ShapeView out_shape);
// out[i] = x[ints[0] + sum_d c_d ints[1 + d]] (transpose, permute, slice, select, broadcast_to).
[[nodiscard]] TensorVar strided(const char* name, TensorVar x, ShapeView out_shape,
                                std::span<const std::int64_t> ints);
// Parts laid side by side in rows: `outer` rows of each part, out_shape the result.
[[nodiscard]] TensorVar concat_rows(const char* name, std::span<const TensorVar> parts,
                                    ShapeView out_shape, std::size_t outer);
// out[i] = x[map[i]] (gather, index_select); gradient summed over repeats in a fixed order.
[[nodiscard]] TensorVar gather_map(const char* name, TensorVar x, ShapeView out_shape,
                                   std::span<const std::int64_t> map);
// out = x; out[pairs[2p]] += source[pairs[2p + 1]] (scatter_add, index_add), in pair order.
[[nodiscard]] TensorVar scatter_pairs(const char* name, TensorVar x, TensorVar source,
                                      std::span<const std::int64_t> pairs);

// A fused elementwise program (its encoding in tensor/fused_program.hpp) over `inputs`.
[[nodiscard]] TensorVar fused(std::span<const TensorVar> inputs, ShapeView out_shape,
                              std::span<const double> saved, std::span<const std::int64_t> ints);
// max, min or L2 norm along the middle axis of x viewed as [outer, extent, inner].
enum class AxisReduction : int { max, min, norm };
[[nodiscard]] TensorVar axis_reduce(AxisReduction reduction, TensorVar x, ShapeView out_shape,
                                    std::size_t outer, std::size_t extent, std::size_t inner);

}  // namespace gpu
}  // namespace maya::tensor::detail
