#include "tensor/small_gemm.hpp"

#include <Eigen/Core>
#include <algorithm>

#include "core/simd.hpp"
#include "tensor/row_copy.hpp"
#include "tensor/small_gemm_kernels.hpp"

namespace maya::tensor::detail {
namespace {

using namespace core::simd;  // the kernels' vector vocabulary (V4, load4, ...)

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMatrix = Eigen::Map<const RowMajor>;
using Matrix = Eigen::Map<RowMajor>;

// Products of at most this many multiply-adds (the 2 x 3 matrices of a seed example, a 3 x 3
// rotation) run as plain loops: dispatching to a kernel would cost more than the arithmetic.
constexpr std::size_t kTinyWork = 256;

// Transposes below this many elements go through a stack buffer.
constexpr std::size_t kStackElements = 1024;

using gemm::SumStart;

// Each kernel of small_gemm_kernels.hpp has two entry points: one compiled for AVX-512 with
// eight-double vectors, and one with four-double vectors (run_kernel: compiled for baseline
// x86-64 and v3). The dispatchers below pick by wide_vectors(), true for the x86-64-v4 copy.
struct ScaledRows4 {
  MAYA_INLINE static void run(const double* a, const double* b, double* c, std::size_t m,
                              std::size_t k, std::size_t n, SumStart start) noexcept {
    gemm::scaled_rows<V4>(a, b, c, m, k, n, start);
  }
};
void scaled_rows_4(const double* a, const double* b, double* c, std::size_t m, std::size_t k,
                   std::size_t n, SumStart start) noexcept {
  run_kernel<ScaledRows4>(a, b, c, m, k, n, start);
}
struct RowDots4 {
  MAYA_INLINE static void run(const double* a, const double* b, double* c, std::size_t m,
                              std::size_t k, std::size_t n, bool accumulate) noexcept {
    gemm::row_dots<V4>(a, b, c, m, k, n, accumulate);
  }
};
void row_dots_4(const double* a, const double* b, double* c, std::size_t m, std::size_t k,
                std::size_t n, bool accumulate) noexcept {
  run_kernel<RowDots4>(a, b, c, m, k, n, accumulate);
}
struct OuterSums4 {
  MAYA_INLINE static void run(const double* a, const double* b, double* c, std::size_t m,
                              std::size_t k, std::size_t n, bool accumulate) noexcept {
    gemm::outer_sums<V4>(a, b, c, m, k, n, accumulate);
  }
};
void outer_sums_4(const double* a, const double* b, double* c, std::size_t m, std::size_t k,
                  std::size_t n, bool accumulate) noexcept {
  run_kernel<OuterSums4>(a, b, c, m, k, n, accumulate);
}
struct NarrowOuterSums4 {
  MAYA_INLINE static void run(const double* a, const double* b, double* ct, std::size_t m,
                              std::size_t k, std::size_t n) noexcept {
    gemm::narrow_outer_sums<V4>(a, b, ct, m, k, n);
  }
};
void narrow_outer_sums_4(const double* a, const double* b, double* ct, std::size_t m, std::size_t k,
                         std::size_t n) noexcept {
  run_kernel<NarrowOuterSums4>(a, b, ct, m, k, n);
}

#if MAYA_HAS_WIDE_KERNELS
MAYA_WIDE_KERNEL void scaled_rows_8(const double* a, const double* b, double* c, std::size_t m,
                                    std::size_t k, std::size_t n, SumStart start) noexcept {
  gemm::scaled_rows<V8>(a, b, c, m, k, n, start);
}
MAYA_WIDE_KERNEL void row_dots_8(const double* a, const double* b, double* c, std::size_t m,
                                 std::size_t k, std::size_t n, bool accumulate) noexcept {
  gemm::row_dots<V8>(a, b, c, m, k, n, accumulate);
}
MAYA_WIDE_KERNEL void outer_sums_8(const double* a, const double* b, double* c, std::size_t m,
                                   std::size_t k, std::size_t n, bool accumulate) noexcept {
  gemm::outer_sums<V8>(a, b, c, m, k, n, accumulate);
}
MAYA_WIDE_KERNEL void narrow_outer_sums_8(const double* a, const double* b, double* ct,
                                          std::size_t m, std::size_t k, std::size_t n) noexcept {
  gemm::narrow_outer_sums<V8>(a, b, ct, m, k, n);
}
#endif

// C[r, :] = start + sum_q A[r, q] B[q, :] with B row-major [k, n]: each row of C built from k
// scaled rows of B. Good for small k.
void scaled_rows(const double* a, const double* b, double* c, std::size_t m, std::size_t k,
                 std::size_t n, SumStart start) noexcept {
#if MAYA_HAS_WIDE_KERNELS
  if (wide_vectors()) return scaled_rows_8(a, b, c, m, k, n, start);
#endif
  scaled_rows_4(a, b, c, m, k, n, start);
}

// C[r, j] (+)= A[r, :] . B[j, :]: dot products. Good for few columns of C and a long inner
// dimension.
void row_dots(const double* a, const double* b, double* c, std::size_t m, std::size_t k,
              std::size_t n, bool accumulate) noexcept {
#if MAYA_HAS_WIDE_KERNELS
  if (wide_vectors()) return row_dots_8(a, b, c, m, k, n, accumulate);
#endif
  row_dots_4(a, b, c, m, k, n, accumulate);
}

// C[q, :] (+)= sum_r A[r, q] B[r, :]: one pass over the rows of A and B per group of four rows
// of C. Good for few rows of C.
void outer_sums(const double* a, const double* b, double* c, std::size_t m, std::size_t k,
                std::size_t n, bool accumulate) noexcept {
#if MAYA_HAS_WIDE_KERNELS
  if (wide_vectors()) return outer_sums_8(a, b, c, m, k, n, accumulate);
#endif
  outer_sums_4(a, b, c, m, k, n, accumulate);
}

// C^T[n, k] = B[m, n]^T A[m, k] for n <= 4, reading A's rows in order.
void narrow_outer_sums(const double* a, const double* b, double* ct, std::size_t m, std::size_t k,
                       std::size_t n) noexcept {
#if MAYA_HAS_WIDE_KERNELS
  if (wide_vectors()) return narrow_outer_sums_8(a, b, ct, m, k, n);
#endif
  narrow_outer_sums_4(a, b, ct, m, k, n);
}

// out[cols, rows] = in[rows, cols]^T.
void transpose_into(const double* in, double* out, std::size_t rows, std::size_t cols) noexcept {
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) out[j * rows + i] = in[i * cols + j];
  }
}

template <class Product>
void eigen_write(double* c, std::size_t rows, std::size_t cols, const Product& product,
                 bool accumulate) {
  Matrix out(c, static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  if (accumulate) {
    out.noalias() += product;
  } else {
    out.noalias() = product;
  }
}

Eigen::Index idx(std::size_t n) { return static_cast<Eigen::Index>(n); }

// C[i, j] (+)= sum_p A(i, p) B(p, j) for a tiny product, with A(i, p) = a[i * a_row + p * a_inner]
// and B(p, j) = b[p * b_inner + j * b_col]: one loop nest serves all three forms.
void tiny_product(const double* a, std::size_t a_row, std::size_t a_inner, const double* b,
                  std::size_t b_inner, std::size_t b_col, double* c, std::size_t rows,
                  std::size_t inner, std::size_t cols, bool accumulate) noexcept {
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) {
      double total = accumulate ? c[i * cols + j] : 0.0;
      for (std::size_t p = 0; p < inner; ++p)
        total += a[i * a_row + p * a_inner] * b[p * b_inner + j * b_col];
      c[i * cols + j] = total;
    }
  }
}

// C = start + A B, for gemm_nn and gemm_nn_bias.
void product_nn(const double* a, const double* b, double* c, std::size_t m, std::size_t k,
                std::size_t n, SumStart start) {
  const bool tiny = m * k * n <= kTinyWork;
  if (!tiny && n >= 4 && k <= 16) return scaled_rows(a, b, c, m, k, n, start);
  // The other kernels start from zero or from C: a bias is copied into C first.
  if (start.row != nullptr) copy_rows(start.row, 0, c, n, m, n);
  const bool accumulate = start.accumulate || start.row != nullptr;
  if (tiny) {
    tiny_product(a, k, 1, b, n, 1, c, m, k, n, accumulate);
  } else if (n <= 4 && k * n <= kStackElements) {
    double bt[kStackElements];
    transpose_into(b, bt, k, n);
    row_dots(a, bt, c, m, k, n, accumulate);
  } else {
    eigen_write(c, m, n, ConstMatrix(a, idx(m), idx(k)) * ConstMatrix(b, idx(k), idx(n)),
                accumulate);
  }
}

}  // namespace

void gemm_nn(const double* a, const double* b, double* c, std::size_t m, std::size_t k,
             std::size_t n, bool accumulate) {
  product_nn(a, b, c, m, k, n, SumStart{accumulate});
}

void gemm_nn_bias(const double* a, const double* b, const double* bias, double* c, std::size_t m,
                  std::size_t k, std::size_t n) {
  product_nn(a, b, c, m, k, n, SumStart{false, bias});
}

void gemm_nt(const double* a, const double* b, double* c, std::size_t m, std::size_t k,
             std::size_t n, bool accumulate) {
  if (m * k * n <= kTinyWork) {
    tiny_product(a, k, 1, b, 1, k, c, m, k, n, accumulate);
  } else if (n <= 8) {
    row_dots(a, b, c, m, k, n, accumulate);
  } else if (k <= 16 && k * n <= kStackElements) {
    double bt[kStackElements];
    transpose_into(b, bt, n, k);
    scaled_rows(a, bt, c, m, k, n, SumStart{accumulate});
  } else {
    eigen_write(c, m, n,
                ConstMatrix(a, idx(m), idx(k)) * ConstMatrix(b, idx(n), idx(k)).transpose(),
                accumulate);
  }
}

void gemm_tn(const double* a, const double* b, double* c, std::size_t m, std::size_t k,
             std::size_t n, bool accumulate) {
  if (m * k * n <= kTinyWork) {
    tiny_product(a, 1, k, b, n, 1, c, k, m, n, accumulate);
  } else if (k <= 8) {
    outer_sums(a, b, c, m, k, n, accumulate);
  } else if (n <= 8 && k * n <= kStackElements) {
    // C^T[n, k] = B^T A, then written transposed.
    double ct[kStackElements];
    if (n <= 4) {
      narrow_outer_sums(a, b, ct, m, k, n);
    } else {
      outer_sums(b, a, ct, m, n, k, false);
    }
    for (std::size_t q = 0; q < k; ++q) {
      for (std::size_t j = 0; j < n; ++j) {
        c[q * n + j] = accumulate ? c[q * n + j] + ct[j * k + q] : ct[j * k + q];
      }
    }
  } else {
    eigen_write(c, k, n,
                ConstMatrix(a, idx(m), idx(k)).transpose() * ConstMatrix(b, idx(m), idx(n)),
                accumulate);
  }
}

}  // namespace maya::tensor::detail
