// Matrix products through cuBLAS (float64). cuBLAS is column-major: the row-major product
// C = op(A) op(B) is the column-major C^T = op(B)^T op(A)^T, so the operands swap places.
#include <cublas_v2.h>

#include <algorithm>
#include <string>

#include "maya/core/error.hpp"
#include "tensor/cuda/kernels.hpp"
#include "tensor/device_runtime.hpp"

namespace maya::tensor::detail::kernels {

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const double* a,
          const double* b, double* c, double beta, std::size_t batch, std::int64_t stride_a,
          std::int64_t stride_b, std::int64_t stride_c) {
  if (m == 0 || n == 0 || batch == 0) return;
  auto handle = static_cast<cublasHandle_t>(cublas());
  const double alpha = 1.0;
  const auto lda = static_cast<int>(std::max<std::size_t>(trans_a ? m : k, 1));
  const auto ldb = static_cast<int>(std::max<std::size_t>(trans_b ? k : n, 1));
  const cublasStatus_t status = cublasDgemmStridedBatched(
      handle, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
      static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), &alpha, b, ldb, stride_b, a,
      lda, stride_a, &beta, c, static_cast<int>(n), stride_c, static_cast<int>(batch));
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw DeviceError("matmul: cuBLAS dgemm failed: " + std::string(cublasGetStatusString(status)));
  }
}

}  // namespace maya::tensor::detail::kernels
