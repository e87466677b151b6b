#include "tensor/broadcast.hpp"

#include <algorithm>
#include <string>

#include "maya/core/error.hpp"

namespace maya::tensor::detail {
namespace {

// Whether `small`, after dropping leading 1s, equals a trailing part of `out`: then its values
// repeat every numel(small) elements of out.
bool is_trailing_block(ShapeView small, ShapeView out) {
  std::size_t first = 0;
  while (first < small.size() && small[first] == 1) ++first;
  const std::size_t kept = small.size() - first;
  if (kept > out.size()) return false;
  for (std::size_t i = 0; i < kept; ++i) {
    if (small[first + i] != out[out.size() - kept + i]) return false;
  }
  return true;
}

}  // namespace

void broadcast_shape_into(ShapeView a, ShapeView b, const char* operation, SmallShape& out) {
  const std::size_t ndim = std::max(a.size(), b.size());
  out.resize(ndim);
  for (std::size_t i = 0; i < ndim; ++i) {
    const std::size_t ea = i < ndim - a.size() ? 1 : a[i - (ndim - a.size())];
    const std::size_t eb = i < ndim - b.size() ? 1 : b[i - (ndim - b.size())];
    if (ea != eb && ea != 1 && eb != 1) {
      throw ShapeError(std::string(operation) + ": shapes " + shape_string(a) + " and " +
                       shape_string(b) + " cannot be broadcast (axis " + std::to_string(i) + ": " +
                       std::to_string(ea) + " vs " + std::to_string(eb) + ")");
    }
    out[i] = ea == 1 ? eb : ea;
  }
  (void)checked_numel(out, operation);
}

SmallShape broadcast_strides(ShapeView shape, ShapeView out) {
  SmallShape strides(out.size(), 0);
  const std::size_t lead = out.size() - shape.size();
  std::size_t stride = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[lead + i] = shape[i] == 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

BroadcastPlan plan_broadcast(ShapeView a, ShapeView b, const char* operation) {
  BroadcastPlan plan;
  broadcast_shape_into(a, b, operation, plan.out_shape);
  plan.numel = checked_numel(plan.out_shape, operation);
  const std::size_t na = numel_of(a);
  const std::size_t nb = numel_of(b);
  if (na == plan.numel && nb == plan.numel) {
    plan.kind = BroadcastPlan::Kind::kSame;
  } else if (na == 1 && nb == plan.numel) {
    plan.kind = BroadcastPlan::Kind::kScalarA;
  } else if (nb == 1 && na == plan.numel) {
    plan.kind = BroadcastPlan::Kind::kScalarB;
  } else if (na == plan.numel && nb > 0 && is_trailing_block(b, plan.out_shape)) {
    plan.kind = BroadcastPlan::Kind::kRowsB;
    plan.inner = nb;
    plan.rows = plan.numel / nb;
  } else if (nb == plan.numel && na > 0 && is_trailing_block(a, plan.out_shape)) {
    plan.kind = BroadcastPlan::Kind::kRowsA;
    plan.inner = na;
    plan.rows = plan.numel / na;
  } else {
    plan.kind = BroadcastPlan::Kind::kGeneral;
    plan.stride_a = broadcast_strides(a, plan.out_shape);
    plan.stride_b = broadcast_strides(b, plan.out_shape);
  }
  return plan;
}

}  // namespace maya::tensor::detail
