// The vector kernels behind small_gemm.cpp, as templates on the vector V (V4 or V8, simd.hpp):
// small_gemm.cpp compiles each once with eight-double vectors for AVX-512 and once with four for
// the other instruction sets. Every helper here is inlined into those entry points. Column and
// inner-dimension tails narrower than V are finished with V4, then with scalars.
#pragma once

#include <algorithm>
#include <cstddef>

#include "core/simd.hpp"

namespace maya::tensor::detail::gemm {

using namespace core::simd;  // the kernels' vector vocabulary (V4, load4, ...)

// Where the sums of the scaled-row kernels start: at zero, at C's current values (accumulate),
// or at a row vector repeated in every row of C (a dense layer's bias, so that C is written
// once instead of filled with the bias first).
struct SumStart {
  bool accumulate = false;
  const double* row = nullptr;
};

template <class V>
MAYA_INLINE V start_vector(const SumStart& start, const double* c_row, std::size_t j) noexcept {
  if (start.row != nullptr) return load<V>(start.row + j);
  return start.accumulate ? load<V>(c_row + j) : V{};
}

MAYA_INLINE double start_scalar(const SumStart& start, const double* c_row,
                                std::size_t j) noexcept {
  if (start.row != nullptr) return start.row[j];
  return start.accumulate ? c_row[j] : 0.0;
}

// The most rows (8, 4, 2 or 1) a block may hold when each row takes per_row registers and the
// block `shared` more, keeping one register free for the compiler.
constexpr std::size_t block_rows(std::size_t per_row, std::size_t shared,
                                 std::size_t registers) noexcept {
  std::size_t rows = 8;
  while (rows > 1 && rows * per_row + shared > registers - 1) rows /= 2;
  return rows;
}

// GCC 12 reports the broadcast arrays s[][] below as maybe uninitialized once the broadcast's
// shuffle is inlined, though every element is assigned before it is read; silenced here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// ---- C[m, n] (+)= A[m, k] B[k, n] as scaled rows of B: good for small k ----

// Rows rows of C from column j on, Chunks vectors of columns at a time: each load of B feeds
// Rows multiply-adds. Returns the first column not done.
template <class V, std::size_t Rows, std::size_t Chunks>
MAYA_INLINE std::size_t scaled_columns(const double* a, const double* b, double* c, std::size_t k,
                                       std::size_t n, const SumStart& start,
                                       std::size_t j) noexcept {
  constexpr std::size_t L = kLanes<V>;
  for (; j + Chunks * L <= n; j += Chunks * L) {
    V acc[Rows][Chunks];
    for (std::size_t r = 0; r < Rows; ++r) {
      for (std::size_t h = 0; h < Chunks; ++h) {
        acc[r][h] = start_vector<V>(start, c + r * n, j + h * L);
      }
    }
    for (std::size_t q = 0; q < k; ++q) {
      V bq[Chunks];
      for (std::size_t h = 0; h < Chunks; ++h) bq[h] = load<V>(b + q * n + j + h * L);
      for (std::size_t r = 0; r < Rows; ++r) {
        const V s = splat<V>(a[r * k + q]);
        for (std::size_t h = 0; h < Chunks; ++h) acc[r][h] += s * bq[h];
      }
    }
    for (std::size_t r = 0; r < Rows; ++r) {
      for (std::size_t h = 0; h < Chunks; ++h) store(c + r * n + j + h * L, acc[r][h]);
    }
  }
  return j;
}

template <class V, std::size_t Rows>
MAYA_INLINE void scaled_row_block(const double* a, const double* b, double* c, std::size_t k,
                                  std::size_t n, const SumStart& start) noexcept {
  std::size_t j = scaled_columns<V, Rows, 2>(a, b, c, k, n, start, 0);
  j = scaled_columns<V, Rows, 1>(a, b, c, k, n, start, j);
  if constexpr (kLanes<V> == 8) j = scaled_columns<V4, Rows, 1>(a, b, c, k, n, start, j);
  for (; j < n; ++j) {
    for (std::size_t r = 0; r < Rows; ++r) {
      double total = start_scalar(start, c + r * n, j);
      for (std::size_t q = 0; q < k; ++q) total += a[r * k + q] * b[q * n + j];
      c[r * n + j] = total;
    }
  }
}

// The same for an inner dimension K known at compile time (a state of 1-8 components): the
// K x Rows scalars of A stay broadcast in registers across all of C's columns, so each column
// vector costs K loads of B, K x Rows multiply-adds and Rows stores.
template <class V, std::size_t K, std::size_t Rows>
MAYA_INLINE std::size_t fixed_scaled_columns(const double* a, const double* b, double* c,
                                             std::size_t n, const SumStart& start,
                                             std::size_t j) noexcept {
  constexpr std::size_t L = kLanes<V>;
  if (j + L > n) return j;
  V s[Rows][K];
  for (std::size_t r = 0; r < Rows; ++r) {
    for (std::size_t q = 0; q < K; ++q) s[r][q] = splat<V>(a[r * K + q]);
  }
  for (; j + L <= n; j += L) {
    V acc[Rows];
    for (std::size_t r = 0; r < Rows; ++r) acc[r] = start_vector<V>(start, c + r * n, j);
    for (std::size_t q = 0; q < K; ++q) {
      const V bq = load<V>(b + q * n + j);
      for (std::size_t r = 0; r < Rows; ++r) acc[r] += s[r][q] * bq;
    }
    for (std::size_t r = 0; r < Rows; ++r) store(c + r * n + j, acc[r]);
  }
  return j;
}

template <class V, std::size_t K, std::size_t Rows>
MAYA_INLINE void fixed_scaled_row_block(const double* a, const double* b, double* c, std::size_t n,
                                        const SumStart& start) noexcept {
  std::size_t j = fixed_scaled_columns<V, K, Rows>(a, b, c, n, start, 0);
  if constexpr (kLanes<V> == 8) j = fixed_scaled_columns<V4, K, Rows>(a, b, c, n, start, j);
  for (; j < n; ++j) {
    for (std::size_t r = 0; r < Rows; ++r) {
      double total = start_scalar(start, c + r * n, j);
      for (std::size_t q = 0; q < K; ++q) total += a[r * K + q] * b[q * n + j];
      c[r * n + j] = total;
    }
  }
}

template <class V, std::size_t K>
MAYA_INLINE void fixed_scaled_rows(const double* a, const double* b, double* c, std::size_t m,
                                   std::size_t n, const SumStart& start) noexcept {
  // Per row: K broadcasts and a sum; shared: one row of B.
  constexpr std::size_t kRows = block_rows(K + 1, 1, kRegisters<V>);
  std::size_t r = 0;
  for (; r + kRows <= m; r += kRows) {
    fixed_scaled_row_block<V, K, kRows>(a + r * K, b, c + r * n, n, start);
  }
  for (; r < m; ++r) fixed_scaled_row_block<V, K, 1>(a + r * K, b, c + r * n, n, start);
}

template <class V>
MAYA_INLINE void scaled_rows(const double* a, const double* b, double* c, std::size_t m,
                             std::size_t k, std::size_t n, const SumStart& start) noexcept {
  switch (k) {
    case 1: return fixed_scaled_rows<V, 1>(a, b, c, m, n, start);
    case 2: return fixed_scaled_rows<V, 2>(a, b, c, m, n, start);
    case 3: return fixed_scaled_rows<V, 3>(a, b, c, m, n, start);
    case 4: return fixed_scaled_rows<V, 4>(a, b, c, m, n, start);
    case 6: return fixed_scaled_rows<V, 6>(a, b, c, m, n, start);
    case 8: return fixed_scaled_rows<V, 8>(a, b, c, m, n, start);
    default: break;
  }
  // Per row: two sums; shared: two vectors of B and a broadcast.
  constexpr std::size_t kRows = block_rows(2, 3, kRegisters<V>);
  std::size_t r = 0;
  for (; r + kRows <= m; r += kRows) {
    scaled_row_block<V, kRows>(a + r * k, b, c + r * n, k, n, start);
  }
  for (; r < m; ++r) scaled_row_block<V, 1>(a + r * k, b, c + r * n, k, n, start);
}

// ---- C[r, j0 + t] (+)= A[r, :] . B[j0 + t, :]: few columns of C, a long inner dimension ----

// Count dot products for each of Rows rows of A, sharing the loads of both.
template <class V, std::size_t Rows, std::size_t Count>
MAYA_INLINE void dot_block(const double* a, const double* b, double* c, std::size_t k,
                           std::size_t n, std::size_t j0, bool accumulate) noexcept {
  constexpr std::size_t L = kLanes<V>;
  V acc[Rows][Count] = {};
  std::size_t q = 0;
  for (; q + L <= k; q += L) {
    V x[Rows];
    for (std::size_t r = 0; r < Rows; ++r) x[r] = load<V>(a + r * k + q);
    for (std::size_t t = 0; t < Count; ++t) {
      const V y = load<V>(b + (j0 + t) * k + q);
      for (std::size_t r = 0; r < Rows; ++r) acc[r][t] += x[r] * y;
    }
  }
  V4 partial[Rows][Count];
  for (std::size_t r = 0; r < Rows; ++r) {
    for (std::size_t t = 0; t < Count; ++t) partial[r][t] = fold4(acc[r][t]);
  }
  if constexpr (L == 8) {
    if (q + 4 <= k) {
      for (std::size_t r = 0; r < Rows; ++r) {
        const V4 x = load4(a + r * k + q);
        for (std::size_t t = 0; t < Count; ++t) partial[r][t] += x * load4(b + (j0 + t) * k + q);
      }
      q += 4;
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    double total[Count];
    if constexpr (Count == 4) {
      const V4 sums = lane_sums(partial[r][0], partial[r][1], partial[r][2], partial[r][3]);
      for (std::size_t t = 0; t < Count; ++t) total[t] = sums[t];
    } else {
      for (std::size_t t = 0; t < Count; ++t) total[t] = lane_sum(partial[r][t]);
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

template <class V, std::size_t Count>
MAYA_INLINE void dot_group(const double* a, const double* b, double* c, std::size_t m,
                           std::size_t k, std::size_t n, std::size_t j0, bool accumulate) noexcept {
  // Per row: Count sums and a vector of A; shared: a vector of B. At least eight independent
  // sums are in flight, to cover the latency of the multiply-adds.
  constexpr std::size_t kRows = block_rows(Count + 1, 1, kRegisters<V>);
  std::size_t r = 0;
  for (; r + kRows <= m; r += kRows) {
    dot_block<V, kRows, Count>(a + r * k, b, c + r * n, k, n, j0, accumulate);
  }
  for (; r < m; ++r) dot_block<V, 1, Count>(a + r * k, b, c + r * n, k, n, j0, accumulate);
}

template <class V>
MAYA_INLINE void row_dots(const double* a, const double* b, double* c, std::size_t m, std::size_t k,
                          std::size_t n, bool accumulate) noexcept {
  std::size_t j = 0;
  for (; j + 4 <= n; j += 4) dot_group<V, 4>(a, b, c, m, k, n, j, accumulate);
  switch (n - j) {
    case 3: dot_group<V, 3>(a, b, c, m, k, n, j, accumulate); break;
    case 2: dot_group<V, 2>(a, b, c, m, k, n, j, accumulate); break;
    case 1: dot_group<V, 1>(a, b, c, m, k, n, j, accumulate); break;
    default: break;
  }
}

// ---- C[k, n] (+)= A[m, k]^T B[m, n]: few rows of C (a small k) ----

// Rows q0 .. q0 + Count of C from column j on, Chunks vectors of columns in registers, one pass
// over the rows of A and B. Returns the first column not done.
template <class V, std::size_t Count, std::size_t Chunks>
MAYA_INLINE std::size_t outer_columns(const double* a, const double* b, double* c, std::size_t m,
                                      std::size_t k, std::size_t n, std::size_t q0, bool accumulate,
                                      std::size_t j) noexcept {
  constexpr std::size_t L = kLanes<V>;
  for (; j + Chunks * L <= n; j += Chunks * L) {
    V acc[Count][Chunks];
    for (std::size_t t = 0; t < Count; ++t) {
      for (std::size_t h = 0; h < Chunks; ++h) {
        acc[t][h] = accumulate ? load<V>(c + (q0 + t) * n + j + h * L) : V{};
      }
    }
    for (std::size_t r = 0; r < m; ++r) {
      V bv[Chunks];
      for (std::size_t h = 0; h < Chunks; ++h) bv[h] = load<V>(b + r * n + j + h * L);
      for (std::size_t t = 0; t < Count; ++t) {
        const V s = splat<V>(a[r * k + q0 + t]);
        for (std::size_t h = 0; h < Chunks; ++h) acc[t][h] += s * bv[h];
      }
    }
    for (std::size_t t = 0; t < Count; ++t) {
      for (std::size_t h = 0; h < Chunks; ++h) store(c + (q0 + t) * n + j + h * L, acc[t][h]);
    }
  }
  return j;
}

template <class V, std::size_t Count>
MAYA_INLINE void outer_group(const double* a, const double* b, double* c, std::size_t m,
                             std::size_t k, std::size_t n, std::size_t q0,
                             bool accumulate) noexcept {
  std::size_t j = outer_columns<V, Count, 2>(a, b, c, m, k, n, q0, accumulate, 0);
  j = outer_columns<V, Count, 1>(a, b, c, m, k, n, q0, accumulate, j);
  if constexpr (kLanes<V> == 8)
    j = outer_columns<V4, Count, 1>(a, b, c, m, k, n, q0, accumulate, j);
  for (; j < n; ++j) {
    double total[Count];
    for (std::size_t t = 0; t < Count; ++t) total[t] = accumulate ? c[(q0 + t) * n + j] : 0.0;
    for (std::size_t r = 0; r < m; ++r) {
      for (std::size_t t = 0; t < Count; ++t) total[t] += a[r * k + q0 + t] * b[r * n + j];
    }
    for (std::size_t t = 0; t < Count; ++t) c[(q0 + t) * n + j] = total[t];
  }
}

template <class V>
MAYA_INLINE void outer_sums(const double* a, const double* b, double* c, std::size_t m,
                            std::size_t k, std::size_t n, bool accumulate) noexcept {
  std::size_t q = 0;
  for (; q + 4 <= k; q += 4) outer_group<V, 4>(a, b, c, m, k, n, q, accumulate);
  switch (k - q) {
    case 3: outer_group<V, 3>(a, b, c, m, k, n, q, accumulate); break;
    case 2: outer_group<V, 2>(a, b, c, m, k, n, q, accumulate); break;
    case 1: outer_group<V, 1>(a, b, c, m, k, n, q, accumulate); break;
    default: break;
  }
}

// ---- C^T[n, k] = B[m, n]^T A[m, k] for few (1-4) columns of B: a wide A read row by row ----

// C^T[j, q] += sum_r A[r, q] B[r, j] for Rows rows: A's rows are read in order, each scaled by
// its row's N values of B (held broadcast in registers) into the N rows of C^T, which stay in
// L1. For a weight gradient x^T dz with a wide x and a narrow dz: the column-block form
// (outer_sums) would read x in strided passes.
template <class V, std::size_t N, std::size_t Rows>
MAYA_INLINE std::size_t narrow_outer_columns(const double* a, const double* b, double* ct,
                                             std::size_t k, std::size_t q) noexcept {
  constexpr std::size_t L = kLanes<V>;
  if (q + L > k) return q;
  V s[Rows][N];
  for (std::size_t r = 0; r < Rows; ++r) {
    for (std::size_t j = 0; j < N; ++j) s[r][j] = splat<V>(b[r * N + j]);
  }
  for (; q + L <= k; q += L) {
    V acc[N];
    for (std::size_t j = 0; j < N; ++j) acc[j] = load<V>(ct + j * k + q);
    for (std::size_t r = 0; r < Rows; ++r) {
      const V x = load<V>(a + r * k + q);
      for (std::size_t j = 0; j < N; ++j) acc[j] += s[r][j] * x;
    }
    for (std::size_t j = 0; j < N; ++j) store(ct + j * k + q, acc[j]);
  }
  return q;
}

template <class V, std::size_t N, std::size_t Rows>
MAYA_INLINE void narrow_outer_block(const double* a, const double* b, double* ct,
                                    std::size_t k) noexcept {
  std::size_t q = narrow_outer_columns<V, N, Rows>(a, b, ct, k, 0);
  if constexpr (kLanes<V> == 8) q = narrow_outer_columns<V4, N, Rows>(a, b, ct, k, q);
  for (; q < k; ++q) {
    for (std::size_t j = 0; j < N; ++j) {
      double total = ct[j * k + q];
      for (std::size_t r = 0; r < Rows; ++r) total += a[r * k + q] * b[r * N + j];
      ct[j * k + q] = total;
    }
  }
}

template <class V, std::size_t N>
MAYA_INLINE void narrow_outer(const double* a, const double* b, double* ct, std::size_t m,
                              std::size_t k) noexcept {
  // Per row: N broadcasts; shared: N sums and a vector of A.
  constexpr std::size_t kRows = block_rows(N, N + 1, kRegisters<V>);
  std::fill(ct, ct + N * k, 0.0);
  std::size_t r = 0;
  for (; r + kRows <= m; r += kRows) {
    narrow_outer_block<V, N, kRows>(a + r * k, b + r * N, ct, k);
  }
  for (; r < m; ++r) narrow_outer_block<V, N, 1>(a + r * k, b + r * N, ct, k);
}

template <class V>
MAYA_INLINE void narrow_outer_sums(const double* a, const double* b, double* ct, std::size_t m,
                                   std::size_t k, std::size_t n) noexcept {
  switch (n) {
    case 1: return narrow_outer<V, 1>(a, b, ct, m, k);
    case 2: return narrow_outer<V, 2>(a, b, ct, m, k);
    case 3: return narrow_outer<V, 3>(a, b, ct, m, k);
    case 4: return narrow_outer<V, 4>(a, b, ct, m, k);
    default: break;
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace maya::tensor::detail::gemm
