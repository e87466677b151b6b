#include "small_gemm.hpp"

#include <Eigen/Core>
#include <algorithm>

#include "../core/simd.hpp"
#include "row_copy.hpp"

namespace maya::detail {
namespace {

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMatrix = Eigen::Map<const RowMajor>;
using Matrix = Eigen::Map<RowMajor>;

// Products of at most this many multiply-adds (the 2 x 3 matrices of a seed example, a 3 x 3
// rotation) run as plain loops: dispatching to a kernel would cost more than the arithmetic.
constexpr std::size_t kTinyWork = 256;

// Transposes below this many elements go through a stack buffer.
constexpr std::size_t kStackElements = 1024;

// Where the sums of the scaled-row kernels start: at zero, at C's current values (accumulate),
// or at a row vector repeated in every row of C (a dense layer's bias, so that C is written
// once instead of filled with the bias first).
struct SumStart {
  bool accumulate = false;
  const double* row = nullptr;
};

MAYA_INLINE V4 start4(const SumStart& start, const double* c, std::size_t j) noexcept {
  if (start.row != nullptr) return load4(start.row + j);
  return start.accumulate ? load4(c + j) : V4{};
}

MAYA_INLINE double start1(const SumStart& start, const double* c, std::size_t j) noexcept {
  if (start.row != nullptr) return start.row[j];
  return start.accumulate ? c[j] : 0.0;
}

// C[r, :] (+)= sum_q A[r, q] B[q, :] with B row-major [k, n]: each row of C is built from k
// scaled rows of B, eight columns at a time held in registers, for four rows of C at once so
// that each load of B feeds four multiply-adds. Good for small k.
template <std::size_t Rows>
MAYA_INLINE void scaled_row_block(const double* a, const double* b, double* c, std::size_t k,
                                  std::size_t n, const SumStart& start) noexcept {
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    V4 lo[Rows];
    V4 hi[Rows];
    for (std::size_t r = 0; r < Rows; ++r) {
      lo[r] = start4(start, c + r * n, j);
      hi[r] = start4(start, c + r * n, j + 4);
    }
    for (std::size_t q = 0; q < k; ++q) {
      const V4 b0 = load4(b + q * n + j);
      const V4 b1 = load4(b + q * n + j + 4);
      for (std::size_t r = 0; r < Rows; ++r) {
        const V4 s = splat4(a[r * k + q]);
        lo[r] += s * b0;
        hi[r] += s * b1;
      }
    }
    for (std::size_t r = 0; r < Rows; ++r) {
      store4(c + r * n + j, lo[r]);
      store4(c + r * n + j + 4, hi[r]);
    }
  }
  if (j + 4 <= n) {
    V4 lo[Rows];
    for (std::size_t r = 0; r < Rows; ++r) lo[r] = start4(start, c + r * n, j);
    for (std::size_t q = 0; q < k; ++q) {
      const V4 b0 = load4(b + q * n + j);
      for (std::size_t r = 0; r < Rows; ++r) lo[r] += splat4(a[r * k + q]) * b0;
    }
    for (std::size_t r = 0; r < Rows; ++r) store4(c + r * n + j, lo[r]);
    j += 4;
  }
  for (; j < n; ++j) {
    for (std::size_t r = 0; r < Rows; ++r) {
      double total = start1(start, c + r * n, j);
      for (std::size_t q = 0; q < k; ++q) total += a[r * k + q] * b[q * n + j];
      c[r * n + j] = total;
    }
  }
}

// The same product for an inner dimension K known at compile time (a state of 1-8 components):
// the K x Rows scalars of A stay broadcast in registers across all of C's columns, so each
// column block costs K loads of B, K x Rows multiply-adds and Rows stores.
// GCC 12 reports s[][] as maybe uninitialized once splat4's shuffle is inlined, though every
// element is assigned before the column loop reads it; the warning is silenced for this block.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
template <std::size_t K, std::size_t Rows>
MAYA_INLINE void fixed_scaled_row_block(const double* a, const double* b, double* c, std::size_t n,
                                        const SumStart& start) noexcept {
  V4 s[Rows][K];
  for (std::size_t r = 0; r < Rows; ++r) {
    for (std::size_t q = 0; q < K; ++q) s[r][q] = splat4(a[r * K + q]);
  }
  std::size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    V4 acc[Rows];
    for (std::size_t r = 0; r < Rows; ++r) acc[r] = start4(start, c + r * n, j);
    for (std::size_t q = 0; q < K; ++q) {
      const V4 bq = load4(b + q * n + j);
      for (std::size_t r = 0; r < Rows; ++r) acc[r] += s[r][q] * bq;
    }
    for (std::size_t r = 0; r < Rows; ++r) store4(c + r * n + j, acc[r]);
  }
  for (; j < n; ++j) {
    for (std::size_t r = 0; r < Rows; ++r) {
      double total = start1(start, c + r * n, j);
      for (std::size_t q = 0; q < K; ++q) total += a[r * K + q] * b[q * n + j];
      c[r * n + j] = total;
    }
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

template <std::size_t K>
MAYA_INLINE void fixed_scaled_rows(const double* a, const double* b, double* c, std::size_t m,
                                   std::size_t n, const SumStart& start) noexcept {
  // Broadcasts, loads of B and sums together within 16 vector registers.
  constexpr std::size_t kRows = K <= 2 ? 4 : K <= 4 ? 2 : 1;
  std::size_t r = 0;
  for (; r + kRows <= m; r += kRows) {
    fixed_scaled_row_block<K, kRows>(a + r * K, b, c + r * n, n, start);
  }
  for (; r < m; ++r) fixed_scaled_row_block<K, 1>(a + r * K, b, c + r * n, n, start);
}

MAYA_KERNEL_CLONES void scaled_rows(const double* a, const double* b, double* c, std::size_t m,
                                    std::size_t k, std::size_t n, SumStart start) noexcept {
  switch (k) {
    case 1: return fixed_scaled_rows<1>(a, b, c, m, n, start);
    case 2: return fixed_scaled_rows<2>(a, b, c, m, n, start);
    case 3: return fixed_scaled_rows<3>(a, b, c, m, n, start);
    case 4: return fixed_scaled_rows<4>(a, b, c, m, n, start);
    case 6: return fixed_scaled_rows<6>(a, b, c, m, n, start);
    case 8: return fixed_scaled_rows<8>(a, b, c, m, n, start);
    default: break;
  }
  std::size_t r = 0;
  for (; r + 4 <= m; r += 4) scaled_row_block<4>(a + r * k, b, c + r * n, k, n, start);
  for (; r < m; ++r) scaled_row_block<1>(a + r * k, b, c + r * n, k, n, start);
}

// C[r, j0 + t] (+)= A[r, :] . B[j0 + t, :] for t < Count: Count dot products for each of Rows
// rows of A, sharing the loads of both. Good for few columns of C and a long inner dimension.
template <std::size_t Rows, std::size_t Count>
MAYA_INLINE void dot_block(const double* a, const double* b, double* c, std::size_t k,
                           std::size_t n, std::size_t j0, bool accumulate) noexcept {
  V4 acc[Rows][Count] = {};
  std::size_t q = 0;
  for (; q + 4 <= k; q += 4) {
    V4 x[Rows];
    for (std::size_t r = 0; r < Rows; ++r) x[r] = load4(a + r * k + q);
    for (std::size_t t = 0; t < Count; ++t) {
      const V4 y = load4(b + (j0 + t) * k + q);
      for (std::size_t r = 0; r < Rows; ++r) acc[r][t] += x[r] * y;
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    double total[Count];
    if constexpr (Count == 4) {
      const V4 sums = lane_sums(acc[r][0], acc[r][1], acc[r][2], acc[r][3]);
      for (std::size_t t = 0; t < Count; ++t) total[t] = sums[t];
    } else {
      for (std::size_t t = 0; t < Count; ++t) total[t] = lane_sum(acc[r][t]);
    }
    if (q < k) {  // the tail of the inner dimension; a branch, so the common case stays lean
      for (std::size_t t = 0; t < Count; ++t) {
        for (std::size_t p = q; p < k; ++p) total[t] += a[r * k + p] * b[(j0 + t) * k + p];
      }
    }
    for (std::size_t t = 0; t < Count; ++t) {
      double& out = c[r * n + j0 + t];
      out = accumulate ? out + total[t] : total[t];
    }
  }
}

template <std::size_t Count>
MAYA_INLINE void dot_group(const double* a, const double* b, double* c, std::size_t m,
                           std::size_t k, std::size_t n, std::size_t j0, bool accumulate) noexcept {
  // At least eight independent sums in flight, to cover the latency of the multiply-adds.
  constexpr std::size_t kRows = Count <= 2 ? 4 : 2;
  std::size_t r = 0;
  for (; r + kRows <= m; r += kRows) {
    dot_block<kRows, Count>(a + r * k, b, c + r * n, k, n, j0, accumulate);
  }
  for (; r < m; ++r) dot_block<1, Count>(a + r * k, b, c + r * n, k, n, j0, accumulate);
}

MAYA_KERNEL_CLONES void row_dots(const double* a, const double* b, double* c, std::size_t m,
                                 std::size_t k, std::size_t n, bool accumulate) noexcept {
  std::size_t j = 0;
  for (; j + 4 <= n; j += 4) dot_group<4>(a, b, c, m, k, n, j, accumulate);
  switch (n - j) {
    case 3: dot_group<3>(a, b, c, m, k, n, j, accumulate); break;
    case 2: dot_group<2>(a, b, c, m, k, n, j, accumulate); break;
    case 1: dot_group<1>(a, b, c, m, k, n, j, accumulate); break;
    default: break;
  }
}

// C[q0 + t, :] (+)= sum_r A[r, q0 + t] B[r, :] for t < Count: Count rows of C at a time, eight
// columns in registers, one pass over the rows of A and B. Good for few rows of C.
template <std::size_t Count>
MAYA_INLINE void outer_group(const double* a, const double* b, double* c, std::size_t m,
                             std::size_t k, std::size_t n, std::size_t q0,
                             bool accumulate) noexcept {
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    V4 lo[Count];
    V4 hi[Count];
    for (std::size_t t = 0; t < Count; ++t) {
      lo[t] = accumulate ? load4(c + (q0 + t) * n + j) : V4{};
      hi[t] = accumulate ? load4(c + (q0 + t) * n + j + 4) : V4{};
    }
    for (std::size_t r = 0; r < m; ++r) {
      const V4 b0 = load4(b + r * n + j);
      const V4 b1 = load4(b + r * n + j + 4);
      for (std::size_t t = 0; t < Count; ++t) {
        const V4 s = splat4(a[r * k + q0 + t]);
        lo[t] += s * b0;
        hi[t] += s * b1;
      }
    }
    for (std::size_t t = 0; t < Count; ++t) {
      store4(c + (q0 + t) * n + j, lo[t]);
      store4(c + (q0 + t) * n + j + 4, hi[t]);
    }
  }
  for (; j < n; ++j) {
    double total[Count];
    for (std::size_t t = 0; t < Count; ++t) total[t] = accumulate ? c[(q0 + t) * n + j] : 0.0;
    for (std::size_t r = 0; r < m; ++r) {
      for (std::size_t t = 0; t < Count; ++t) total[t] += a[r * k + q0 + t] * b[r * n + j];
    }
    for (std::size_t t = 0; t < Count; ++t) c[(q0 + t) * n + j] = total[t];
  }
}

MAYA_KERNEL_CLONES void outer_sums(const double* a, const double* b, double* c, std::size_t m,
                                   std::size_t k, std::size_t n, bool accumulate) noexcept {
  std::size_t q = 0;
  for (; q + 4 <= k; q += 4) outer_group<4>(a, b, c, m, k, n, q, accumulate);
  switch (k - q) {
    case 3: outer_group<3>(a, b, c, m, k, n, q, accumulate); break;
    case 2: outer_group<2>(a, b, c, m, k, n, q, accumulate); break;
    case 1: outer_group<1>(a, b, c, m, k, n, q, accumulate); break;
    default: break;
  }
}

// C^T[j, q] += sum_r A[r, q] B[r, j] for the N (1-4) columns of B: A's rows are read once, in
// order, each scaled by its row's N values of B (held broadcast in registers for Rows rows at a
// time) into the N rows of C^T, which stay in L1. For a weight gradient x^T dz with a wide x
// and a narrow dz; the column-block form (outer_group) reads x in strided passes instead.
// The same GCC 12 false positive as for fixed_scaled_row_block, on s[][].
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
template <std::size_t N, std::size_t Rows>
MAYA_INLINE void narrow_outer_block(const double* a, const double* b, double* ct,
                                    std::size_t k) noexcept {
  V4 s[Rows][N];
  for (std::size_t r = 0; r < Rows; ++r) {
    for (std::size_t j = 0; j < N; ++j) s[r][j] = splat4(b[r * N + j]);
  }
  std::size_t q = 0;
  for (; q + 4 <= k; q += 4) {
    V4 acc[N];
    for (std::size_t j = 0; j < N; ++j) acc[j] = load4(ct + j * k + q);
    for (std::size_t r = 0; r < Rows; ++r) {
      const V4 x = load4(a + r * k + q);
      for (std::size_t j = 0; j < N; ++j) acc[j] += s[r][j] * x;
    }
    for (std::size_t j = 0; j < N; ++j) store4(ct + j * k + q, acc[j]);
  }
  for (; q < k; ++q) {
    for (std::size_t j = 0; j < N; ++j) {
      double total = ct[j * k + q];
      for (std::size_t r = 0; r < Rows; ++r) total += a[r * k + q] * b[r * N + j];
      ct[j * k + q] = total;
    }
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

template <std::size_t N>
MAYA_INLINE void narrow_outer(const double* a, const double* b, double* ct, std::size_t m,
                              std::size_t k) noexcept {
  // Rows x N broadcasts, N sums and a row of A within 16 vector registers.
  constexpr std::size_t kRows = N == 1 ? 8 : N == 2 ? 4 : 2;
  std::fill(ct, ct + N * k, 0.0);
  std::size_t r = 0;
  for (; r + kRows <= m; r += kRows) narrow_outer_block<N, kRows>(a + r * k, b + r * N, ct, k);
  for (; r < m; ++r) narrow_outer_block<N, 1>(a + r * k, b + r * N, ct, k);
}

// C^T[n, k] = B[m, n]^T A[m, k] for n <= 4.
MAYA_KERNEL_CLONES void narrow_outer_sums(const double* a, const double* b, double* ct,
                                          std::size_t m, std::size_t k, std::size_t n) noexcept {
  switch (n) {
    case 1: return narrow_outer<1>(a, b, ct, m, k);
    case 2: return narrow_outer<2>(a, b, ct, m, k);
    case 3: return narrow_outer<3>(a, b, ct, m, k);
    case 4: return narrow_outer<4>(a, b, ct, m, k);
    default: break;
  }
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

}  // namespace maya::detail
