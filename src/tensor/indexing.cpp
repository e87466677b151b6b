// Integer indexing: index_select / index_add along one axis (spring endpoints in, per-spring
// forces out) and torch-style gather / scatter_add. Every index is validated at record time, so
// the backward passes read the indices saved on the tape without checks. The two pairs are each
// other's adjoints: d index_select = index_add of the output gradient, and vice versa.
#include <cstdint>
#include <string>
#include <vector>

#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"

namespace maya {
namespace {

// A tensor viewed as [outer, extent, inner] around one axis.
struct AxisSplit {
  std::size_t outer = 1;
  std::size_t extent = 1;
  std::size_t inner = 1;
};

AxisSplit split_at(ShapeView shape, std::size_t axis) {
  AxisSplit s;
  for (std::size_t i = 0; i < axis; ++i) s.outer *= shape[i];
  s.extent = shape[axis];
  for (std::size_t i = axis + 1; i < shape.size(); ++i) s.inner *= shape[i];
  return s;
}

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
      for (std::size_t i = 0; i < gx.numel(); ++i) gx[i] += g[i];
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

}  // namespace

TensorVar index_select(TensorVar x, long axis, std::span<const std::int64_t> indices) {
  TensorTape& tape = x.tape();
  const TensorView vx = tape.view(x);
  const std::size_t a = normalize_axis(axis, vx.ndim(), "index_select");
  check_indices("index_select", a, indices, vx.shape);
  const double saved_axis[] = {static_cast<double>(a)};
  Shape out_shape(vx.shape.begin(), vx.shape.end());
  out_shape[a] = indices.size();
  const AxisSplit split = split_at(vx.shape, a);
  return tape.record(
      IndexSelectOp::instance(), {x}, out_shape,
      [&](MutableTensorView out) {
        for (std::size_t i = 0; i < out.numel(); ++i) out[i] = 0.0;
        add_selected(vx.values, split, indices, out.values);
      },
      SavedData{saved_axis, indices});
}

TensorVar index_add(TensorVar x, long axis, std::span<const std::int64_t> indices,
                    TensorVar source) {
  TensorTape& tape = x.tape();
  const TensorView vx = tape.view(x);
  const TensorView vs = tape.view(source);
  const std::size_t a = normalize_axis(axis, vx.ndim(), "index_add");
  check_source_shape(vx.shape, vs.shape, a, indices.size());
  check_indices("index_add", a, indices, vx.shape);
  const double saved_axis[] = {static_cast<double>(a)};
  const AxisSplit split = split_at(vx.shape, a);
  return tape.record(
      IndexAddOp::instance(), {x, source}, vx.shape,
      [&](MutableTensorView out) {
        for (std::size_t i = 0; i < out.numel(); ++i) out[i] = vx[i];
        add_at_indices(vs.values, split, indices, out.values);
      },
      SavedData{saved_axis, indices});
}

}  // namespace maya
