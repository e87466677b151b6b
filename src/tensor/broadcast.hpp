// Iteration over two or three operands broadcast to a common shape. for_each calls
// body(out_index, a_offset, b_offset) for every output element; equal shapes and scalar operands
// take flat loops the compiler vectorizes, the general case walks the last axis innermost.
#pragma once

#include <cstddef>
#include <vector>

#include "core/simd.hpp"
#include "maya/tensor/shape.hpp"
#include "tensor/small_shape.hpp"

namespace maya::tensor::detail {

using namespace core::simd;  // the kernels' vector vocabulary (V4, load4, ...)

struct BroadcastPlan {
  SmallShape out_shape;
  std::size_t numel = 0;
  // kRowsA / kRowsB: that operand is a trailing block of `inner` elements repeated over `rows`
  // (a bias added to every row of a batch), the other has the output's shape.
  enum class Kind { kSame, kScalarA, kScalarB, kRowsA, kRowsB, kGeneral } kind = Kind::kGeneral;
  std::size_t rows = 0;
  std::size_t inner = 0;
  // Strides of a and b in out's axes (0 along broadcast axes).
  SmallShape stride_a;
  SmallShape stride_b;
};

[[nodiscard]] BroadcastPlan plan_broadcast(ShapeView a, ShapeView b, const char* operation);

// Strides of an operand of `shape` viewed in the (longer or equal) shape `out`.
[[nodiscard]] SmallShape broadcast_strides(ShapeView shape, ShapeView out);

// The broadcast of shapes a and b into `out`; throws maya::ShapeError naming `operation`.
void broadcast_shape_into(ShapeView a, ShapeView b, const char* operation, SmallShape& out);

// Always inlined, so that a kernel compiled for several instruction sets (simd.hpp) gets its
// own copy of these loops.
template <class Body>
MAYA_INLINE void for_each_broadcast(const BroadcastPlan& plan, Body&& body) {
  const std::size_t n = plan.numel;
  switch (plan.kind) {
    case BroadcastPlan::Kind::kSame:
      for (std::size_t i = 0; i < n; ++i) body(i, i, i);
      return;
    case BroadcastPlan::Kind::kScalarA:
      for (std::size_t i = 0; i < n; ++i) body(i, std::size_t{0}, i);
      return;
    case BroadcastPlan::Kind::kScalarB:
      for (std::size_t i = 0; i < n; ++i) body(i, i, std::size_t{0});
      return;
    case BroadcastPlan::Kind::kRowsA:
      for (std::size_t r = 0, i = 0; r < plan.rows; ++r) {
        for (std::size_t j = 0; j < plan.inner; ++j, ++i) body(i, j, i);
      }
      return;
    case BroadcastPlan::Kind::kRowsB:
      for (std::size_t r = 0, i = 0; r < plan.rows; ++r) {
        for (std::size_t j = 0; j < plan.inner; ++j, ++i) body(i, i, j);
      }
      return;
    case BroadcastPlan::Kind::kGeneral: break;
  }
  const std::size_t ndim = plan.out_shape.size();
  if (n == 0) return;
  const std::size_t inner = plan.out_shape[ndim - 1];
  const std::size_t inner_a = plan.stride_a[ndim - 1];
  const std::size_t inner_b = plan.stride_b[ndim - 1];
  SmallShape counter(ndim, 0);
  std::size_t offset_a = 0;
  std::size_t offset_b = 0;
  for (std::size_t out = 0; out < n; out += inner) {
    for (std::size_t j = 0; j < inner; ++j)
      body(out + j, offset_a + j * inner_a, offset_b + j * inner_b);
    // Advance the odometer over all but the last axis.
    for (std::size_t axis = ndim - 1; axis-- > 0;) {
      offset_a += plan.stride_a[axis];
      offset_b += plan.stride_b[axis];
      if (++counter[axis] < plan.out_shape[axis]) break;
      offset_a -= plan.stride_a[axis] * plan.out_shape[axis];
      offset_b -= plan.stride_b[axis] * plan.out_shape[axis];
      counter[axis] = 0;
    }
  }
}

}  // namespace maya::tensor::detail
