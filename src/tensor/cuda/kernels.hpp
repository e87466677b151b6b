// Launchers of the CUDA backend's kernels, as plain C++ (no CUDA headers), all queued on maya's
// stream. Every tensor is contiguous row-major float64 in device memory; an Indexer maps the
// row-major element i of an iteration shape to up to three operands' offsets.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/fused_program.hpp"
#include "tensor/op_codes.hpp"

namespace maya::tensor::detail::kernels {

inline constexpr int kMaxDims = 8;

struct Indexer {
  int ndim = 0;
  std::int64_t shape[kMaxDims] = {};
  std::int64_t stride[3][kMaxDims] = {};
};

using detail::BinaryCode;
using detail::UnaryCode;
// Activations of the dense layer (maya::Activation's values).
enum class ActivationCode : int { identity, tanh, sigmoid, relu };

// out[i] = F(a[ia], b[ib]) over ix (operand 0 = a, 1 = b).
void binary_values(BinaryCode code, const Indexer& ix, std::size_t n, const double* a,
                   const double* b, double* out);
// dst[i] (= or +=) g[i] dF/d(operand) at element i of the output (dst has the output's shape).
void binary_partials(BinaryCode code, int operand, const Indexer& ix, std::size_t n,
                     const double* a, const double* b, const double* out, const double* g,
                     double* dst, bool accumulate);
// out = F(x, c), or F(c, x) when left; gx (= or +=) g dF/dx.
void constant_values(BinaryCode code, bool left, std::size_t n, const double* x, double c,
                     double* out);
void constant_partials(BinaryCode code, bool left, std::size_t n, const double* x, double c,
                       const double* out, const double* g, double* gx, bool accumulate);
// out = f(x); gx (= or +=) g f'(x, y). lo and hi are clamp's bounds.
void unary_values(UnaryCode code, std::size_t n, const double* x, double lo, double hi,
                  double* out);
void unary_partials(UnaryCode code, std::size_t n, const double* x, const double* y, double lo,
                    double hi, const double* g, double* gx, bool accumulate);

// out[i] (= or +=) scale x[base + offset_0(i)]: strided gathers, broadcasts (stride 0).
void gather_strided(const Indexer& ix, std::size_t n, std::int64_t base, const double* x,
                    double* out, double scale, bool accumulate);
// x[base + offset_0(i)] += g[i], for offsets that are all distinct.
void scatter_add_strided(const Indexer& ix, std::size_t n, std::int64_t base, const double* g,
                         double* x);

// out[o] (= or +=) scale sum_r x[offset(kept o) + offset(reduced r)], summed in a fixed order.
struct ReducePlan {
  Indexer kept;     // output shape, input strides (stride[0])
  Indexer reduced;  // reduced extents, input strides (stride[0])
  std::size_t outputs = 0;
  std::size_t count = 0;
};
void reduce_sum(const ReducePlan& plan, const double* x, double* out, double scale,
                bool accumulate);

// out[i] (= or +=) x[map[i]].
void gather_map(const std::int64_t* map, std::size_t n, const double* x, double* out,
                bool accumulate);
// out[t] (= or +=) sum of src[items[j]] for j in [offsets[t], offsets[t + 1]), in order.
void csr_sum(const std::int64_t* offsets, const std::int64_t* items, std::size_t targets,
             const double* src, double* out, bool accumulate);

// Parts side by side in rows: out[o, offset[p] + j] = part p [o, j] for `outer` rows of `row`
// elements, and the reverse (gradient p (= or +=) g's columns of part p; null parts skipped).
inline constexpr int kMaxParts = 8;
struct RowParts {
  int count = 0;
  const double* values[kMaxParts] = {};
  double* gradients[kMaxParts] = {};
  bool accumulate[kMaxParts] = {};
  std::int64_t width[kMaxParts] = {};
  std::int64_t offset[kMaxParts] = {};
};
void join_rows(const RowParts& parts, std::size_t outer, std::size_t row, double* out);
void split_rows(const RowParts& parts, std::size_t outer, std::size_t row, const double* g);

// The dense layer y = act(x w + b): x [m, k], w [k, n], b [n].
void dense_forward(const double* x, const double* w, const double* b, double* y, std::size_t m,
                   std::size_t k, std::size_t n, ActivationCode activation);

// The backward pass in one launch, with dz = g act'(y) formed on the fly from the output gradient
// g and the output y: gx [m, k] (= or +=) dz w^T, gw [k, n] (= or +=) x^T dz and gb [n]
// (= or +=) the column sums of dz, each in a fixed order; gx, gw or gb may be null.
void dense_backward(const double* x, const double* w, const double* g, const double* y, double* gx,
                    double* gw, double* gb, std::size_t m, std::size_t k, std::size_t n,
                    ActivationCode activation, bool accumulate_x, bool accumulate_w,
                    bool accumulate_b);

// Row-major C (= or += when beta is 1) op(A) op(B), batched with element strides (0 reuses one
// matrix): A is [m, k] ([k, m] when trans_a), B is [k, n] ([n, k] when trans_b). cuBLAS.
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const double* a,
          const double* b, double* c, double beta, std::size_t batch, std::int64_t stride_a,
          std::int64_t stride_b, std::int64_t stride_c);

// Fused elementwise programs (tensor/fused_program.hpp): out[i] = program(inputs at element i),
// one thread per element; backward recomputes the program's registers and writes every input's
// gradient from one pass: gradients[k] (= or += when accumulate[k]) at input k's offset (null
// inputs skipped; a broadcast input's gradient must be a buffer of the output's shape).
using FusedPointers = fused::Pointers;
void fused_forward(const fused::Program& program, const fused::Layout& layout, std::size_t n,
                   const FusedPointers& pointers, double* out);
void fused_backward(const fused::Program& program, const fused::Layout& layout, std::size_t n,
                    const FusedPointers& pointers, const double* g);
// The same program compiled to a kernel of its own at first use (tensor/cuda/fused_jit.cpp):
// launches it on `blocks` x `threads` and returns true, or returns false where programs are not
// compiled (then fused_jit_fallback_reason() says why) and the caller runs the interpreter.
bool fused_jit_forward(const fused::Program& program, const fused::Layout& layout, std::size_t n,
                       const FusedPointers& pointers, double* out, unsigned blocks,
                       unsigned threads);
bool fused_jit_backward(const fused::Program& program, const fused::Layout& layout, std::size_t n,
                        const FusedPointers& pointers, const double* g, unsigned blocks,
                        unsigned threads);

// max, min or L2 norm along the middle axis of x viewed as [outer, extent, inner]; out is
// [outer, inner]. max/min keep the first of ties and propagate NaN as the CPU ops do; the
// gradient goes to the first arg-max (arg-min), and norm's is 0 where the norm is 0.
enum class AxisReduceCode : int { max, min, norm };
void axis_reduce(AxisReduceCode code, std::size_t outer, std::size_t extent, std::size_t inner,
                 const double* x, double* out);
// gx [outer, extent, inner] (= or +=) the gradient from g [outer, inner].
void axis_reduce_backward(AxisReduceCode code, std::size_t outer, std::size_t extent,
                          std::size_t inner, const double* x, const double* out, const double* g,
                          double* gx, bool accumulate);

}  // namespace maya::tensor::detail::kernels
