// Row-major matrix products for the shapes of small networks and simulators, where one dimension
// is a handful (4 state components in, 2 actions out). Eigen's GEMM packs both operands into
// blocks first, which for such shapes costs more than the multiply; these products use direct
// kernels there and hand every other shape to Eigen. All matrices are dense and row-major.
#pragma once

#include <cstddef>

namespace maya::tensor::detail {

// C[m, n] = A[m, k] B[k, n], or C += ... when `accumulate`.
void gemm_nn(const double* a, const double* b, double* c, std::size_t m, std::size_t k,
             std::size_t n, bool accumulate);

// C[m, n] = bias + A[m, k] B[k, n], with bias[n] added to every row of C.
void gemm_nn_bias(const double* a, const double* b, const double* bias, double* c, std::size_t m,
                  std::size_t k, std::size_t n);

// C[m, n] = A[m, k] B[n, k]^T, or C += ... when `accumulate`.
void gemm_nt(const double* a, const double* b, double* c, std::size_t m, std::size_t k,
             std::size_t n, bool accumulate);

// C[k, n] = A[m, k]^T B[m, n], or C += ... when `accumulate`.
void gemm_tn(const double* a, const double* b, double* c, std::size_t m, std::size_t k,
             std::size_t n, bool accumulate);

}  // namespace maya::tensor::detail
