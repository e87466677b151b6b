// Integer indexing: index_select / index_add along one axis (spring endpoints in, per-spring
// forces out) and torch-style gather / scatter_add. Every index is validated at record time, so
// the backward passes read the indices saved on the tape without checks. The two pairs are each
// other's adjoints: d index_select = index_add of the output gradient, and vice versa.
#include <cstdint>
#include <string>
#include <vector>

#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"
#include "tensor/axis_split.hpp"
#include "tensor/gpu_ops.hpp"
#include "tensor/small_shape.hpp"

namespace maya {
namespace {

using tensor::detail::AxisSplit;
using tensor::detail::split_at;

void check_index(const char* operation, std::int64_t index, std::size_t position, std::size_t axis,
                 ShapeView shape) {
  if (index >= 0 && static_cast<std::size_t>(index) < shape[axis]) [[likely]]
    return;
  throw ShapeError(std::string(operation) + ": index " + std::to_string(index) + " at position " +
                   std::to_string(position) + " is out of range for axis " + std::to_string(axis) +
                   " of extent " + std::to_string(shape[axis]) + " (tensor shape " +
                   shape_string(shape) + "; valid indices are 0 to " +
                   std::to_string(static_cast<long long>(shape[axis]) - 1) + ")");
}

// out[o, j, i] += x[o, indices[j], i]: the forward of index_select, the backward of index_add.
void add_selected(const double* x, AxisSplit x_split, std::span<const std::int64_t> indices,
                  double* out) {
  const std::size_t count = indices.size();
  for (std::size_t o = 0; o < x_split.outer; ++o) {
    for (std::size_t j = 0; j < count; ++j) {
      const double* from =
          x + (o * x_split.extent + static_cast<std::size_t>(indices[j])) * x_split.inner;
      double* to = out + (o * count + j) * x_split.inner;
      for (std::size_t i = 0; i < x_split.inner; ++i) to[i] += from[i];
    }
  }
}

// out[o, indices[j], i] += source[o, j, i]: the forward of index_add, the backward of
// index_select.
void add_at_indices(const double* source, AxisSplit out_split,
                    std::span<const std::int64_t> indices, double* out) {
  const std::size_t count = indices.size();
  for (std::size_t o = 0; o < out_split.outer; ++o) {
    for (std::size_t j = 0; j < count; ++j) {
      const double* from = source + (o * count + j) * out_split.inner;
      double* to =
          out + (o * out_split.extent + static_cast<std::size_t>(indices[j])) * out_split.inner;
      for (std::size_t i = 0; i < out_split.inner; ++i) to[i] += from[i];
    }
  }
}

// Both ops save the indices as saved_ints as given (no copy) and the axis as saved()[0].
class IndexSelectOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return "index_select"; }
  void backward(BackwardContext& context) const override {
    const MutableTensorView gx = context.grad_input(0);
    const AxisSplit split = split_at(gx.shape, static_cast<std::size_t>(context.saved()[0]));
    add_at_indices(context.grad_output().values, split, context.saved_ints(), gx.values);
  }
  static const IndexSelectOp& instance() {
    static const IndexSelectOp op;
    return op;
  }
};

// Inputs {x, source}.
class IndexAddOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return "index_add"; }
  void backward(BackwardContext& context) const override {
    const TensorView g = context.grad_output();
    if (context.needs_grad(0)) {
      const MutableTensorView gx = context.grad_input(0);
      for (std::size_t i = 0, n = gx.numel(); i < n; ++i) gx[i] += g[i];
    }
    if (context.needs_grad(1)) {
      const AxisSplit split = split_at(g.shape, static_cast<std::size_t>(context.saved()[0]));
      add_selected(g.values, split, context.saved_ints(), context.grad_input(1).values);
    }
  }
  static const IndexAddOp& instance() {
    static const IndexAddOp op;
    return op;
  }
};

void check_indices(const char* operation, std::size_t axis, std::span<const std::int64_t> indices,
                   ShapeView shape) {
  for (std::size_t j = 0; j < indices.size(); ++j)
    check_index(operation, indices[j], j, axis, shape);
}

// Checks index_add's source shape: x's shape with the axis extent replaced by the index count.
void check_source_shape(ShapeView x, ShapeView source, std::size_t axis, std::size_t count) {
  bool ok = source.size() == x.size();
  for (std::size_t d = 0; ok && d < x.size(); ++d) {
    ok = source[d] == (d == axis ? count : x[d]);
  }
  if (ok) return;
  Shape expected(x.begin(), x.end());
  expected[axis] = count;
  throw ShapeError("index_add: source has shape " + shape_string(source) + " but x of shape " +
                   shape_string(x) + " with " + std::to_string(count) + " indices along axis " +
                   std::to_string(axis) + " needs " + shape_string(expected));
}

// gather's saved_ints: the x offset each output element read. scatter_add's: (out offset,
// source offset) pairs. Backward is then one flat loop.
class GatherOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return "gather"; }
  void backward(BackwardContext& context) const override {
    const auto offsets = context.saved_ints();
    const TensorView g = context.grad_output();
    double* gx = context.grad_input(0).values;
    for (std::size_t i = 0; i < offsets.size(); ++i) gx[offsets[i]] += g[i];
  }
  static const GatherOp& instance() {
    static const GatherOp op;
    return op;
  }
};

class ScatterAddOp final : public TensorOp {
 public:
  std::string_view name() const noexcept override { return "scatter_add"; }
  void backward(BackwardContext& context) const override {
    const TensorView g = context.grad_output();
    if (context.needs_grad(0)) {
      const MutableTensorView gx = context.grad_input(0);
      for (std::size_t i = 0, n = gx.numel(); i < n; ++i) gx[i] += g[i];
    }
    if (context.needs_grad(1)) {
      const auto pairs = context.saved_ints();
      double* gs = context.grad_input(1).values;
      for (std::size_t p = 0; p < pairs.size(); p += 2) gs[pairs[p + 1]] += g[pairs[p]];
    }
  }
  static const ScatterAddOp& instance() {
    static const ScatterAddOp op;
    return op;
  }
};

std::string position_string(ShapeView shape, std::size_t flat) {
  std::vector<std::size_t> coord(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    coord[d] = flat % shape[d];
    flat /= shape[d];
  }
  return shape_string(coord);
}

// Checks torch's gather/scatter rules: index has x's ndim, and index.shape[d] <= x.shape[d]
// for d != axis (and <= source.shape[d] for every d, when there is a source).
void check_index_shape(const char* operation, ShapeView x, const IndexTensor& index,
                       std::size_t axis, const ShapeView* source) {
  const ShapeView is = index.shape;
  bool ok = is.size() == x.size() && (source == nullptr || source->size() == x.size());
  for (std::size_t d = 0; ok && d < is.size(); ++d) {
    ok = (d == axis || is[d] <= x[d]) && (source == nullptr || is[d] <= (*source)[d]);
  }
  if (ok) return;
  std::string message = std::string(operation) + ": index of shape " + shape_string(is) +
                        " does not fit x of shape " + shape_string(x);
  if (source != nullptr) message += " and source of shape " + shape_string(*source);
  message += " along axis " + std::to_string(axis) +
             " (index needs x's number of dimensions and extents no larger than x's on the other "
             "axes";
  message += source != nullptr ? " and the source's on every axis)" : ")";
  throw ShapeError(message);
}

// body(position, x_offset, source_offset) for every index entry, with x_offset already
// resolved through the index value along `axis` (validated here).
template <class Body>
void walk_index(const char* operation, ShapeView x, const IndexTensor& index, std::size_t axis,
                ShapeView source, Body&& body) {
  const ShapeView is = index.shape;
  const std::size_t ndim = is.size();
  const std::size_t n = index.values.size();
  std::vector<std::size_t> coord(ndim, 0);
  for (std::size_t p = 0; p < n; ++p) {
    const std::int64_t value = index.values[p];
    if (value < 0 || static_cast<std::size_t>(value) >= x[axis]) {
      throw ShapeError(std::string(operation) + ": index " + std::to_string(value) +
                       " at position " + position_string(is, p) + " is out of range for axis " +
                       std::to_string(axis) + " of extent " + std::to_string(x[axis]) +
                       " (x shape " + shape_string(x) + "; valid indices are 0 to " +
                       std::to_string(static_cast<long long>(x[axis]) - 1) + ")");
    }
    std::size_t x_offset = 0;
    std::size_t source_offset = 0;
    for (std::size_t d = 0; d < ndim; ++d) {
      x_offset = x_offset * x[d] + (d == axis ? static_cast<std::size_t>(value) : coord[d]);
      if (!source.empty()) source_offset = source_offset * source[d] + coord[d];
    }
    body(p, x_offset, source_offset);
    for (std::size_t d = ndim; d-- > 0;) {
      if (++coord[d] < is[d]) break;
      coord[d] = 0;
    }
  }
}

}  // namespace

TensorVar gather(TensorVar x, long axis, const IndexTensor& index) {
  TensorTape& tape = x.tape();
  const bool gpu = tensor::detail::on_cuda(tape, {x}, "gather");
  const TensorView vx = tape.values(x);
  const std::size_t a = normalize_axis(axis, vx.ndim(), "gather");
  check_index_shape("gather", vx.shape, index, a, nullptr);
  // From the tape's workspace, so recording a gather allocates nothing in steady state.
  auto offsets_memory = tape.workspace().borrow<std::int64_t>(index.values.size());
  std::vector<std::int64_t>& offsets = *offsets_memory;
  walk_index("gather", vx.shape, index, a, {},
             [&](std::size_t p, std::size_t x_offset, std::size_t) {
               offsets[p] = static_cast<std::int64_t>(x_offset);
             });
  if (gpu) [[unlikely]]
    return tensor::detail::gpu::gather_map("gather", x, index.shape, offsets);
  return tape.record(
      GatherOp::instance(), {x}, index.shape,
      [&](MutableTensorView out) {
        for (std::size_t i = 0; i < offsets.size(); ++i) out[i] = vx[offsets[i]];
      },
      SavedData{{}, offsets});
}

TensorVar scatter_add(TensorVar x, long axis, const IndexTensor& index, TensorVar source) {
  TensorTape& tape = x.tape();
  const bool gpu = tensor::detail::on_cuda(tape, {x, source}, "scatter_add");
  const TensorView vx = tape.values(x);
  const TensorView vs = tape.values(source);
  const std::size_t a = normalize_axis(axis, vx.ndim(), "scatter_add");
  check_index_shape("scatter_add", vx.shape, index, a, &vs.shape);
  auto pairs_memory = tape.workspace().borrow<std::int64_t>(2 * index.values.size());
  std::vector<std::int64_t>& pairs = *pairs_memory;
  walk_index("scatter_add", vx.shape, index, a, vs.shape,
             [&](std::size_t p, std::size_t x_offset, std::size_t source_offset) {
               pairs[2 * p] = static_cast<std::int64_t>(x_offset);
               pairs[2 * p + 1] = static_cast<std::int64_t>(source_offset);
             });
  if (gpu) [[unlikely]]
    return tensor::detail::gpu::scatter_pairs("scatter_add", x, source, pairs);
  return tape.record(
      ScatterAddOp::instance(), {x, source}, vx.shape,
      [&](MutableTensorView out) {
        for (std::size_t i = 0, n = out.numel(); i < n; ++i) out[i] = vx[i];
        for (std::size_t p = 0; p < pairs.size(); p += 2) out[pairs[p]] += vs[pairs[p + 1]];
      },
      SavedData{{}, pairs});
}

TensorVar index_select(TensorVar x, long axis, std::span<const std::int64_t> indices) {
  TensorTape& tape = x.tape();
  const bool gpu = tensor::detail::on_cuda(tape, {x}, "index_select");
  const TensorView vx = tape.values(x);
  const std::size_t a = normalize_axis(axis, vx.ndim(), "index_select");
  check_indices("index_select", a, indices, vx.shape);
  const double saved_axis[] = {static_cast<double>(a)};
  tensor::detail::SmallShape out_shape(vx.shape.begin(), vx.shape.end());
  out_shape[a] = indices.size();
  const AxisSplit split = split_at(vx.shape, a);
  if (gpu) [[unlikely]] {
    // out[o, j, i] = x[o, indices[j], i] as a map from output to input offsets.
    std::vector<std::int64_t> map;
    map.reserve(split.outer * indices.size() * split.inner);
    for (std::size_t o = 0; o < split.outer; ++o) {
      for (const std::int64_t j : indices) {
        const auto row = (o * split.extent + static_cast<std::size_t>(j)) * split.inner;
        for (std::size_t i = 0; i < split.inner; ++i)
          map.push_back(static_cast<std::int64_t>(row + i));
      }
    }
    return tensor::detail::gpu::gather_map("index_select", x, out_shape, map);
  }
  return tape.record(
      IndexSelectOp::instance(), {x}, out_shape,
      [&](MutableTensorView out) {
        for (std::size_t i = 0, n = out.numel(); i < n; ++i) out[i] = 0.0;
        add_selected(vx.values, split, indices, out.values);
      },
      SavedData{saved_axis, indices});
}

TensorVar index_add(TensorVar x, long axis, std::span<const std::int64_t> indices,
                    TensorVar source) {
  TensorTape& tape = x.tape();
  const bool gpu = tensor::detail::on_cuda(tape, {x, source}, "index_add");
  const TensorView vx = tape.values(x);
  const TensorView vs = tape.values(source);
  const std::size_t a = normalize_axis(axis, vx.ndim(), "index_add");
  check_source_shape(vx.shape, vs.shape, a, indices.size());
  check_indices("index_add", a, indices, vx.shape);
  const double saved_axis[] = {static_cast<double>(a)};
  const AxisSplit split = split_at(vx.shape, a);
  if (gpu) [[unlikely]] {
    // out[o, indices[j], i] += source[o, j, i] as (x offset, source offset) pairs.
    std::vector<std::int64_t> pairs;
    pairs.reserve(2 * split.outer * indices.size() * split.inner);
    for (std::size_t o = 0; o < split.outer; ++o) {
      for (std::size_t j = 0; j < indices.size(); ++j) {
        const auto row = (o * split.extent + static_cast<std::size_t>(indices[j])) * split.inner;
        const auto from = (o * indices.size() + j) * split.inner;
        for (std::size_t i = 0; i < split.inner; ++i) {
          pairs.push_back(static_cast<std::int64_t>(row + i));
          pairs.push_back(static_cast<std::int64_t>(from + i));
        }
      }
    }
    return tensor::detail::gpu::scatter_pairs("index_add", x, source, pairs);
  }
  return tape.record(
      IndexAddOp::instance(), {x, source}, vx.shape,
      [&](MutableTensorView out) {
        for (std::size_t i = 0, n = out.numel(); i < n; ++i) out[i] = vx[i];
        add_at_indices(vs.values, split, indices, out.values);
      },
      SavedData{saved_axis, indices});
}

}  // namespace maya
