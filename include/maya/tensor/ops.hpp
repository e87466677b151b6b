// Every differentiable tensor op, as free functions on TensorVar (found by argument-dependent
// lookup). Elementwise ops broadcast as NumPy does; the gradient of a broadcast operand is summed
// back to its own shape. Errors are maya::ShapeError / maya::ValueError naming the op and shapes.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

#include "maya/tensor/index_tensor.hpp"
#include "maya/tensor/tensor_tape.hpp"
#include "maya/tensor/tensor_var.hpp"

namespace maya {

// ---- Devices (tensor_tape.cpp) ----
// x copied to `device`, differentiably: the gradient is copied back. One tape then holds nodes on
// both devices, and grad() runs each node where its values live. Every other op needs its
// operands on one device and throws maya::DeviceError naming the op and both devices otherwise.
[[nodiscard]] TensorVar to(TensorVar x, Device device);

// ---- Elementwise, broadcasting (elementwise.cpp) ----
[[nodiscard]] TensorVar operator+(TensorVar a, TensorVar b);
[[nodiscard]] TensorVar operator-(TensorVar a, TensorVar b);
[[nodiscard]] TensorVar operator*(TensorVar a, TensorVar b);
[[nodiscard]] TensorVar operator/(TensorVar a, TensorVar b);
[[nodiscard]] TensorVar operator+(TensorVar a, double b);
[[nodiscard]] TensorVar operator+(double a, TensorVar b);
[[nodiscard]] TensorVar operator-(TensorVar a, double b);
[[nodiscard]] TensorVar operator-(double a, TensorVar b);
[[nodiscard]] TensorVar operator*(TensorVar a, double b);
[[nodiscard]] TensorVar operator*(double a, TensorVar b);
[[nodiscard]] TensorVar operator/(TensorVar a, double b);
[[nodiscard]] TensorVar operator/(double a, TensorVar b);
[[nodiscard]] TensorVar operator-(TensorVar a);
[[nodiscard]] TensorVar neg(TensorVar a);
// x * factor for a constant factor. A 0-d or one-element TensorVar (a stiffness, a mass)
// multiplies a tensor through ordinary broadcasting: k * x.
[[nodiscard]] TensorVar scale(TensorVar x, double factor);
[[nodiscard]] TensorVar pow(TensorVar base, TensorVar exponent);
[[nodiscard]] TensorVar pow(TensorVar base, double exponent);
[[nodiscard]] TensorVar maximum(TensorVar a, TensorVar b);  // ties: gradient to a
[[nodiscard]] TensorVar minimum(TensorVar a, TensorVar b);  // ties: gradient to a
[[nodiscard]] TensorVar maximum(TensorVar a, double b);
[[nodiscard]] TensorVar minimum(TensorVar a, double b);
// mask != 0 ? a : b, broadcasting all three; no gradient flows to the mask.
[[nodiscard]] TensorVar where(TensorVar mask, TensorVar a, TensorVar b);

// ---- Unary (unary.cpp). Conventions: abs'(0) = 0, relu'(0) = 0, sqrt'(0) = +inf ----
[[nodiscard]] TensorVar sin(TensorVar x);
[[nodiscard]] TensorVar cos(TensorVar x);
[[nodiscard]] TensorVar tan(TensorVar x);
[[nodiscard]] TensorVar exp(TensorVar x);
[[nodiscard]] TensorVar log(TensorVar x);
[[nodiscard]] TensorVar sqrt(TensorVar x);
[[nodiscard]] TensorVar tanh(TensorVar x);
[[nodiscard]] TensorVar sigmoid(TensorVar x);
[[nodiscard]] TensorVar relu(TensorVar x);
[[nodiscard]] TensorVar softplus(TensorVar x);
[[nodiscard]] TensorVar abs(TensorVar x);
[[nodiscard]] TensorVar square(TensorVar x);
// Gradient 1 strictly inside [lo, hi], 0 outside; throws maya::ValueError when lo > hi.
[[nodiscard]] TensorVar clamp(TensorVar x, double lo, double hi);

// ---- Reductions (reductions.cpp). Full reductions return a 0-d tensor ----
[[nodiscard]] TensorVar sum(TensorVar x);
[[nodiscard]] TensorVar sum(TensorVar x, long axis, bool keepdim = false);
[[nodiscard]] TensorVar mean(TensorVar x);
[[nodiscard]] TensorVar mean(TensorVar x, long axis, bool keepdim = false);
// Gradient flows to the first arg-max (arg-min) along the axis.
[[nodiscard]] TensorVar max(TensorVar x, long axis, bool keepdim = false);
[[nodiscard]] TensorVar min(TensorVar x, long axis, bool keepdim = false);
// L2 norm along an axis; its gradient at a zero vector is taken as 0.
[[nodiscard]] TensorVar norm(TensorVar x, long axis, bool keepdim = false);
// Inner product of two 1-d tensors of equal length.
[[nodiscard]] TensorVar dot(TensorVar a, TensorVar b);

// ---- Matrix products (matmul.cpp), as numpy.matmul: 2-D x 2-D, matrix-vector,
// vector-matrix, and batched (>= 3-D, batch axes broadcast). dA = dC B^T, dB = A^T dC ----
[[nodiscard]] TensorVar matmul(TensorVar a, TensorVar b);

// ---- Fused layer (dense.cpp) ----
enum class Activation : std::uint8_t { identity, tanh, sigmoid, relu };
// activation(x w + b) as ONE tape node that keeps only its output: the fast form of
// `activation(matmul(x, w) + b)`, which it equals to rounding. x is [..., in] (the leading axes
// are rows), w is [in, out], b is [out]; the result is [..., out].
[[nodiscard]] TensorVar dense(TensorVar x, TensorVar w, TensorVar b,
                              Activation activation = Activation::identity);

// ---- Shape (shape_ops.cpp). Results are contiguous copies ----
[[nodiscard]] TensorVar reshape(TensorVar x, Shape shape);
[[nodiscard]] TensorVar transpose(TensorVar x);  // reverses all axes
[[nodiscard]] TensorVar transpose(TensorVar x, long axis0, long axis1);
[[nodiscard]] TensorVar permute(TensorVar x, std::span<const long> axes);
[[nodiscard]] TensorVar permute(TensorVar x, std::initializer_list<long> axes);
[[nodiscard]] TensorVar squeeze(TensorVar x, long axis);  // the axis must have extent 1
[[nodiscard]] TensorVar unsqueeze(TensorVar x, long axis);
// Elements start, start + step, ... < stop along `axis` (Python slicing: negative start/stop
// count from the end and are clipped; step > 0).
[[nodiscard]] TensorVar slice(TensorVar x, long axis, long start, long stop, long step = 1);
// The sub-tensor at `index` along `axis`, which is removed from the shape.
[[nodiscard]] TensorVar select(TensorVar x, long axis, long index);
[[nodiscard]] TensorVar concat(std::span<const TensorVar> parts, long axis);
[[nodiscard]] TensorVar concat(std::initializer_list<TensorVar> parts, long axis);
[[nodiscard]] TensorVar stack(std::span<const TensorVar> parts, long axis);
[[nodiscard]] TensorVar stack(std::initializer_list<TensorVar> parts, long axis);
// A tensor of `shape` whose values are x broadcast to it (gradient summed back).
[[nodiscard]] TensorVar broadcast_to(TensorVar x, Shape shape);

// ---- Indexing (indexing.cpp) ----
// out = x taken at `indices` along `axis` (numpy.take / torch.index_select): reads spring ends.
[[nodiscard]] TensorVar index_select(TensorVar x, long axis, std::span<const std::int64_t> indices);
// out = x with source's slices added at `indices` along `axis` (repeats accumulate):
// assembles per-spring forces into per-particle forces.
[[nodiscard]] TensorVar index_add(TensorVar x, long axis, std::span<const std::int64_t> indices,
                                  TensorVar source);
// torch.gather: out[i][j] = x[index[i][j]][j] for axis 0 (index has x's ndim).
[[nodiscard]] TensorVar gather(TensorVar x, long axis, const IndexTensor& index);
// torch.scatter_add: out = x; out[index[i][j]][j] += source[i][j] for axis 0.
[[nodiscard]] TensorVar scatter_add(TensorVar x, long axis, const IndexTensor& index,
                                    TensorVar source);

}  // namespace maya
