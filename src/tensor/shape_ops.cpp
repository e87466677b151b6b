// Shape ops. Every result is a contiguous copy. Most are one "strided gather": output element i
// (row-major multi-index c) reads x[base + sum_d c_d stride_d], with stride 0 on broadcast axes;
// permute, transpose, slice, select and broadcast_to differ only in (base, strides), which are
// saved on the tape. The backward pass walks the same offsets and adds: gx[offset] += g[i], so
// repeated reads (broadcast) sum their gradients. Reshape-like ops are a flat copy.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"
#include "tensor/gpu_ops.hpp"
#include "tensor/row_copy.hpp"
#include "tensor/small_shape.hpp"

namespace maya {
namespace {

// A multi-index counter, on the stack for the usual few axes.
class Odometer {
 public:
  explicit Odometer(std::size_t ndim)
      : heap_(ndim > kInline ? std::make_unique<std::size_t[]>(ndim) : nullptr),
        counter_(heap_ ? heap_.get() : inline_) {
    std::fill(counter_, counter_ + ndim, std::size_t{0});
  }
  std::size_t& operator[](std::size_t axis) noexcept { return counter_[axis]; }

 private:
  static constexpr std::size_t kInline = 8;
  std::size_t inline_[kInline] = {};
  std::unique_ptr<std::size_t[]> heap_;
  std::size_t* counter_;
};

// body(i, offset) for every element i of `shape` in row-major order, offset = base + c . strides.
template <class Body>
void for_each_strided(ShapeView shape, std::span<const std::int64_t> strides, std::int64_t base,
                      Body&& body) {
  const std::size_t n = numel_of(shape);
  if (n == 0) return;
  if (shape.empty()) {
    body(std::size_t{0}, static_cast<std::size_t>(base));
    return;
  }
  const std::size_t ndim = shape.size();
  const std::size_t inner = shape[ndim - 1];
  const std::int64_t inner_stride = strides[ndim - 1];
  Odometer counter(ndim);
  std::int64_t offset = base;
  for (std::size_t i = 0; i < n; i += inner) {
    for (std::size_t j = 0; j < inner; ++j) {
      body(i + j, static_cast<std::size_t>(offset + static_cast<std::int64_t>(j) * inner_stride));
    }
    for (std::size_t axis = ndim - 1; axis-- > 0;) {
      offset += strides[axis];
      if (++counter[axis] < shape[axis]) break;
      offset -= strides[axis] * static_cast<std::int64_t>(shape[axis]);
      counter[axis] = 0;
    }
  }
}

// saved_ints = {base, stride per output axis}.
class StridedGatherOp final : public TensorOp {
 public:
  explicit constexpr StridedGatherOp(std::string_view name) noexcept : name_(name) {}
  std::string_view name() const noexcept override { return name_; }
  void backward(BackwardContext& context) const override {
    const auto ints = context.saved_ints();
    const TensorView g = context.grad_output();
    double* gx = context.grad_input(0).values;
    for_each_strided(g.shape, ints.subspan(1), ints[0],
                     [&](std::size_t i, std::size_t offset) { gx[offset] += g[i]; });
  }

 private:
  std::string_view name_;
};

// Same values, new shape: gx += g.
class FlatCopyOp final : public TensorOp {
 public:
  explicit constexpr FlatCopyOp(std::string_view name) noexcept : name_(name) {}
  std::string_view name() const noexcept override { return name_; }
  void backward(BackwardContext& context) const override {
    const TensorView g = context.grad_output();
    const MutableTensorView gx = context.grad_input(0);
    for (std::size_t i = 0, n = gx.numel(); i < n; ++i) gx[i] += g[i];
  }

 private:
  std::string_view name_;
};

// Inputs are the parts; saved_ints = {axis}. The output is [outer, total extent, inner] with
// the parts' [outer, extent_p, inner] blocks side by side; backward copies the blocks back.
// stack uses the same op: stacking is concatenating along a new axis of extent 1 per part.
class ConcatOp final : public TensorOp {
 public:
  explicit constexpr ConcatOp(std::string_view name) noexcept : name_(name) {}
  std::string_view name() const noexcept override { return name_; }
  void backward(BackwardContext& context) const override {
    const auto axis = static_cast<std::size_t>(context.saved_ints()[0]);
    const TensorView g = context.grad_output();
    std::size_t outer = 1;
    for (std::size_t d = 0; d < axis; ++d) outer *= g.shape[d];
    const std::size_t row = numel_of(g.shape) / std::max<std::size_t>(outer, 1);
    std::size_t offset = 0;  // of this part's block within an output row
    for (std::size_t p = 0; p < context.num_inputs(); ++p) {
      const std::size_t part_row =
          numel_of(context.input(p).shape) / std::max<std::size_t>(outer, 1);
      if (context.needs_grad(p)) {
        double* gp = context.grad_input(p).values;
        for (std::size_t o = 0; o < outer; ++o) {
          const double* from = g.values + o * row + offset;
          double* to = gp + o * part_row;
          for (std::size_t i = 0; i < part_row; ++i) to[i] += from[i];
        }
      }
      offset += part_row;
    }
  }

 private:
  std::string_view name_;
};

const ConcatOp kConcatOp("concat");
const ConcatOp kStackOp("stack");
const StridedGatherOp kPermuteOp("permute");
const StridedGatherOp kTransposeOp("transpose");
const StridedGatherOp kSliceOp("slice");
const StridedGatherOp kSelectOp("select");
const StridedGatherOp kBroadcastToOp("broadcast_to");
const FlatCopyOp kReshapeOp("reshape");
const FlatCopyOp kSqueezeOp("squeeze");
const FlatCopyOp kUnsqueezeOp("unsqueeze");

// Room for {base, strides...} of the usual few axes without touching the heap.
class StridePlan {
 public:
  StridePlan(const StridePlan&) = delete;
  StridePlan& operator=(const StridePlan&) = delete;
  explicit StridePlan(std::size_t ndim) : heap_(ndim + 1 > kInline ? ndim + 1 : 0) {
    ints_ = heap_.empty() ? std::span<std::int64_t>(inline_, ndim + 1) : std::span(heap_);
    std::fill(ints_.begin(), ints_.end(), 0);
  }
  std::int64_t& base() noexcept { return ints_[0]; }
  std::int64_t& stride(std::size_t axis) noexcept { return ints_[axis + 1]; }
  [[nodiscard]] std::span<const std::int64_t> ints() const noexcept { return ints_; }

 private:
  static constexpr std::size_t kInline = 9;
  std::int64_t inline_[kInline] = {};
  std::vector<std::int64_t> heap_;
  std::span<std::int64_t> ints_;
};

TensorVar record_strided(const StridedGatherOp& op, TensorVar x, const TensorView& vx,
                         ShapeView out_shape, const StridePlan& plan) {
  const auto ints = plan.ints();
  if (tensor::detail::on_cuda(x.tape(), {x}, op.name().data())) [[unlikely]]
    return tensor::detail::gpu::strided(op.name().data(), x, out_shape, ints);
  return x.tape().record(
      op, {x}, out_shape,
      [&](MutableTensorView out) {
        for_each_strided(out_shape, ints.subspan(1), ints[0],
                         [&](std::size_t i, std::size_t offset) { out[i] = vx[offset]; });
      },
      SavedData{{}, ints});
}

TensorVar record_flat(const FlatCopyOp& op, TensorVar x, const TensorView& vx,
                      ShapeView out_shape) {
  if (tensor::detail::on_cuda(x.tape(), {x}, op.name().data())) [[unlikely]]
    return tensor::detail::gpu::flat_copy(op.name().data(), x, out_shape);
  return x.tape().record(op, {x}, out_shape, [&](MutableTensorView out) {
    std::copy(vx.values, vx.values + vx.numel(), out.values);
  });
}

// Row-major strides of a shape, as signed offsets.
std::int64_t stride_of(ShapeView shape, std::size_t axis) {
  std::size_t stride = 1;
  for (std::size_t d = axis + 1; d < shape.size(); ++d) stride *= shape[d];
  return static_cast<std::int64_t>(stride);
}

// A permutation of 0..ndim-1 (negative axes allowed) applied to x.
TensorVar record_permute(const StridedGatherOp& op, TensorVar x, std::span<const long> axes) {
  const TensorView vx = x.tape().values(x);
  const std::size_t ndim = vx.ndim();
  const std::string name(op.name());
  if (axes.size() != ndim) {
    throw ShapeError(name + ": " + std::to_string(axes.size()) + " axes given for a tensor of " +
                     std::to_string(ndim) + " dimensions (shape " + shape_string(vx.shape) + ")");
  }
  tensor::detail::SmallShape out_shape(ndim, 0);
  StridePlan plan(ndim);
  std::vector<bool> seen(ndim, false);
  for (std::size_t i = 0; i < ndim; ++i) {
    const std::size_t axis = normalize_axis(axes[i], ndim, name.c_str());
    if (seen[axis]) {
      throw ShapeError(name + ": axis " + std::to_string(axes[i]) +
                       " is repeated; the axes must be a permutation of 0.." +
                       std::to_string(ndim - 1) + " (shape " + shape_string(vx.shape) + ")");
    }
    seen[axis] = true;
    out_shape[i] = vx.shape[axis];
    plan.stride(i) = stride_of(vx.shape, axis);
  }
  return record_strided(op, x, vx, out_shape, plan);
}

// Python's slice.indices() for step > 0: the clipped [start, stop) and the element count.
struct SliceRange {
  std::int64_t start = 0;
  std::size_t count = 0;
};

SliceRange python_slice(long start, long stop, long step, std::size_t extent) {
  const auto n = static_cast<long>(extent);
  const auto clip = [n](long index) {
    if (index < 0) index += n;
    return std::clamp(index, 0L, n);
  };
  const long first = clip(start);
  const long last = clip(stop);
  SliceRange range;
  range.start = first;
  range.count = last > first ? static_cast<std::size_t>((last - first + step - 1) / step) : 0;
  return range;
}

}  // namespace

TensorVar reshape(TensorVar x, Shape shape) {
  const TensorView vx = x.tape().values(x);
  if (checked_numel(shape, "reshape") != vx.numel()) {
    throw ShapeError("reshape: cannot reshape a tensor of shape " + shape_string(vx.shape) + " (" +
                     std::to_string(vx.numel()) + " elements) to " + shape_string(shape) + " (" +
                     std::to_string(numel_of(shape)) + " elements)");
  }
  return record_flat(kReshapeOp, x, vx, shape);
}

TensorVar transpose(TensorVar x) {
  const TensorView vx = x.tape().values(x);
  const std::size_t ndim = vx.ndim();
  const tensor::detail::SmallShape out_shape(vx.shape.rbegin(), vx.shape.rend());
  StridePlan plan(ndim);
  for (std::size_t d = 0; d < ndim; ++d) plan.stride(d) = stride_of(vx.shape, ndim - 1 - d);
  return record_strided(kTransposeOp, x, vx, out_shape, plan);
}

TensorVar transpose(TensorVar x, long axis0, long axis1) {
  const TensorView vx = x.tape().values(x);
  const std::size_t ndim = vx.ndim();
  const std::size_t a0 = normalize_axis(axis0, ndim, "transpose");
  const std::size_t a1 = normalize_axis(axis1, ndim, "transpose");
  tensor::detail::SmallShape out_shape(vx.shape.begin(), vx.shape.end());
  std::swap(out_shape[a0], out_shape[a1]);
  StridePlan plan(ndim);
  for (std::size_t d = 0; d < ndim; ++d) plan.stride(d) = stride_of(vx.shape, d);
  std::swap(plan.stride(a0), plan.stride(a1));
  return record_strided(kTransposeOp, x, vx, out_shape, plan);
}

TensorVar permute(TensorVar x, std::span<const long> axes) {
  return record_permute(kPermuteOp, x, axes);
}
TensorVar permute(TensorVar x, std::initializer_list<long> axes) {
  return record_permute(kPermuteOp, x, std::span<const long>(axes.begin(), axes.size()));
}

TensorVar squeeze(TensorVar x, long axis) {
  const TensorView vx = x.tape().values(x);
  const std::size_t a = normalize_axis(axis, vx.ndim(), "squeeze");
  if (vx.shape[a] != 1) {
    throw ShapeError("squeeze: axis " + std::to_string(axis) + " has extent " +
                     std::to_string(vx.shape[a]) + ", not 1 (shape " + shape_string(vx.shape) +
                     ")");
  }
  tensor::detail::SmallShape out_shape(vx.shape.begin(), vx.shape.end());
  out_shape.erase_at(a);
  return record_flat(kSqueezeOp, x, vx, out_shape);
}

TensorVar unsqueeze(TensorVar x, long axis) {
  const TensorView vx = x.tape().values(x);
  const std::size_t a = normalize_axis(axis, vx.ndim() + 1, "unsqueeze");
  tensor::detail::SmallShape out_shape(vx.shape.begin(), vx.shape.end());
  out_shape.insert_at(a, 1);
  return record_flat(kUnsqueezeOp, x, vx, out_shape);
}

TensorVar slice(TensorVar x, long axis, long start, long stop, long step) {
  const TensorView vx = x.tape().values(x);
  const std::size_t a = normalize_axis(axis, vx.ndim(), "slice");
  if (step <= 0) {
    throw ValueError("slice: step must be positive, got " + std::to_string(step) + " (axis " +
                     std::to_string(axis) + " of shape " + shape_string(vx.shape) + ")");
  }
  const SliceRange range = python_slice(start, stop, step, vx.shape[a]);
  tensor::detail::SmallShape out_shape(vx.shape.begin(), vx.shape.end());
  out_shape[a] = range.count;
  StridePlan plan(vx.ndim());
  for (std::size_t d = 0; d < vx.ndim(); ++d) plan.stride(d) = stride_of(vx.shape, d);
  plan.base() = range.start * plan.stride(a);
  plan.stride(a) *= step;
  return record_strided(kSliceOp, x, vx, out_shape, plan);
}

TensorVar select(TensorVar x, long axis, long index) {
  const TensorView vx = x.tape().values(x);
  const std::size_t a = normalize_axis(axis, vx.ndim(), "select");
  const auto extent = static_cast<long>(vx.shape[a]);
  if (index < -extent || index >= extent) {
    throw ShapeError("select: index " + std::to_string(index) + " is out of range for axis " +
                     std::to_string(axis) + " of extent " + std::to_string(extent) + " (shape " +
                     shape_string(vx.shape) + "; valid indices are " + std::to_string(-extent) +
                     " to " + std::to_string(extent - 1) + ")");
  }
  const long position = index < 0 ? index + extent : index;
  tensor::detail::SmallShape out_shape(vx.shape.begin(), vx.shape.end());
  out_shape.erase_at(a);
  StridePlan plan(out_shape.size());
  for (std::size_t d = 0, o = 0; d < vx.ndim(); ++d) {
    if (d == a) continue;
    plan.stride(o++) = stride_of(vx.shape, d);
  }
  plan.base() = position * stride_of(vx.shape, a);
  return record_strided(kSelectOp, x, vx, out_shape, plan);
}

TensorVar broadcast_to(TensorVar x, Shape shape) {
  const TensorView vx = x.tape().values(x);
  const std::size_t ndim = shape.size();
  bool ok = vx.ndim() <= ndim;
  const std::size_t lead = ok ? ndim - vx.ndim() : 0;
  for (std::size_t d = 0; ok && d < vx.ndim(); ++d) {
    ok = vx.shape[d] == shape[lead + d] || vx.shape[d] == 1;
  }
  if (!ok) {
    throw ShapeError("broadcast_to: cannot broadcast shape " + shape_string(vx.shape) + " to " +
                     shape_string(shape) +
                     " (trailing extents must match or be 1, and the target needs at least as "
                     "many dimensions)");
  }
  StridePlan plan(ndim);
  for (std::size_t d = 0; d < vx.ndim(); ++d) {
    plan.stride(lead + d) = vx.shape[d] == 1 ? 0 : stride_of(vx.shape, d);
  }
  return record_strided(kBroadcastToOp, x, vx, shape, plan);
}

TensorVar concat(std::span<const TensorVar> parts, long axis) {
  if (parts.empty()) throw ShapeError("concat: needs at least one tensor");
  TensorTape& tape = parts[0].tape();
  const bool gpu = tensor::detail::on_cuda(tape, parts, "concat");
  const TensorView first = tape.values(parts[0]);
  const std::size_t a = normalize_axis(axis, first.ndim(), "concat");
  tensor::detail::SmallShape out_shape(first.shape.begin(), first.shape.end());
  out_shape[a] = 0;
  for (std::size_t p = 0; p < parts.size(); ++p) {
    const TensorView part = tape.values(parts[p]);
    bool ok = part.ndim() == first.ndim();
    for (std::size_t d = 0; ok && d < first.ndim(); ++d)
      ok = d == a || part.shape[d] == first.shape[d];
    if (!ok) {
      throw ShapeError("concat: part " + std::to_string(p) + " has shape " +
                       shape_string(part.shape) + " but part 0 has shape " +
                       shape_string(first.shape) + "; all extents but axis " +
                       std::to_string(axis) + " must agree");
    }
    out_shape[a] += part.shape[a];
  }
  // Output rows (one per outer index) are the parts' rows laid side by side.
  std::size_t outer = 1;
  for (std::size_t d = 0; d < a; ++d) outer *= out_shape[d];
  const std::size_t divisor = std::max<std::size_t>(outer, 1);
  const std::int64_t saved_axis[] = {static_cast<std::int64_t>(a)};
  if (gpu) [[unlikely]]
    return tensor::detail::gpu::concat_rows("concat", parts, out_shape, outer);
  return tape.record(
      kConcatOp, parts, out_shape,
      [&](MutableTensorView out) {
        const std::size_t row = out.numel() / divisor;
        std::size_t offset = 0;
        for (const TensorVar p : parts) {
          const TensorView part = tape.view(p);
          const std::size_t part_row = part.numel() / divisor;
          tensor::detail::copy_rows(part.values, part_row, out.values + offset, row, outer,
                                    part_row);
          offset += part_row;
        }
      },
      SavedData{{}, saved_axis});
}

TensorVar concat(std::initializer_list<TensorVar> parts, long axis) {
  return concat(std::span<const TensorVar>(parts.begin(), parts.size()), axis);
}

// Output rows (one per index of the axes before `axis`) are the parts' rows side by side.
TensorVar stack(std::span<const TensorVar> parts, long axis) {
  if (parts.empty()) throw ShapeError("stack: needs at least one tensor");
  TensorTape& tape = parts[0].tape();
  const bool gpu = tensor::detail::on_cuda(tape, parts, "stack");
  const TensorView first = tape.values(parts[0]);
  const std::size_t a = normalize_axis(axis, first.ndim() + 1, "stack");
  for (std::size_t p = 1; p < parts.size(); ++p) {
    const TensorView part = tape.values(parts[p]);
    if (!std::equal(part.shape.begin(), part.shape.end(), first.shape.begin(), first.shape.end())) {
      throw ShapeError("stack: part " + std::to_string(p) + " has shape " +
                       shape_string(part.shape) + " but part 0 has shape " +
                       shape_string(first.shape) + "; all parts must have the same shape");
    }
  }
  tensor::detail::SmallShape out_shape(first.shape.begin(), first.shape.end());
  out_shape.insert_at(a, parts.size());
  std::size_t outer = 1;
  for (std::size_t d = 0; d < a; ++d) outer *= out_shape[d];
  const std::size_t part_row = first.numel() / std::max<std::size_t>(outer, 1);
  const std::int64_t saved_axis[] = {static_cast<std::int64_t>(a)};
  if (gpu) [[unlikely]]
    return tensor::detail::gpu::concat_rows("stack", parts, out_shape, outer);
  return tape.record(
      kStackOp, parts, out_shape,
      [&](MutableTensorView out) {
        const std::size_t row = part_row * parts.size();
        for (std::size_t p = 0; p < parts.size(); ++p) {
          const TensorView part = tape.view(parts[p]);
          tensor::detail::copy_rows(part.values, part_row, out.values + p * part_row, row, outer,
                                    part_row);
        }
      },
      SavedData{{}, saved_axis});
}

TensorVar stack(std::initializer_list<TensorVar> parts, long axis) {
  return stack(std::span<const TensorVar>(parts.begin(), parts.size()), axis);
}

TensorVar TensorVar::reshape(Shape shape) const { return maya::reshape(*this, std::move(shape)); }
TensorVar TensorVar::transpose() const { return maya::transpose(*this); }
TensorVar TensorVar::slice(long axis, long start, long stop, long step) const {
  return maya::slice(*this, axis, start, stop, step);
}
TensorVar TensorVar::select(long axis, long index) const {
  return maya::select(*this, axis, index);
}

}  // namespace maya
