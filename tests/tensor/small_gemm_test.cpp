// The three row-major products of small_gemm.hpp against their definition, over shapes that
// reach every kernel, every register-block tail and the Eigen fallback, assigning and adding;
// with every compiled copy of the kernels the CPU runs: the four-double ones (baseline x86-64 and
// x86-64-v3) and the eight-double ones (x86-64-v4, AVX-512).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "../../src/tensor/small_gemm.hpp"
#include "support/kernel_copies.hpp"

namespace {

enum class Form { nn, nt, tn };

std::vector<double> random_values(std::size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<double> v(n);
  for (double& x : v) x = uniform(rng);
  return v;
}

// Element (i, j) of the product, by its definition.
double reference(Form form, const std::vector<double>& a, const std::vector<double>& b,
                 std::size_t m, std::size_t k, std::size_t n, std::size_t i, std::size_t j) {
  double total = 0.0;
  switch (form) {
    case Form::nn:  // C[m, n] = A[m, k] B[k, n]
      for (std::size_t p = 0; p < k; ++p) total += a[i * k + p] * b[p * n + j];
      break;
    case Form::nt:  // C[m, n] = A[m, k] B[n, k]^T
      for (std::size_t p = 0; p < k; ++p) total += a[i * k + p] * b[j * k + p];
      break;
    case Form::tn:  // C[k, n] = A[m, k]^T B[m, n]
      for (std::size_t p = 0; p < m; ++p) total += a[p * k + i] * b[p * n + j];
      break;
  }
  return total;
}

// Parameter: the copy of the kernels that runs.
class SmallGemm : public kernel_copies::EveryKernelCopy {};

TEST_P(SmallGemm, EveryFormAndShapeMatchesTheDefinition) {
  std::mt19937 rng(7);
  const std::size_t ms[] = {0, 1, 3, 4, 5, 9, 33};
  const std::size_t ks[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 20, 64};
  const std::size_t ns[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 17, 20, 64, 130};
  std::size_t checked = 0;
  for (const Form form : {Form::nn, Form::nt, Form::tn}) {
    for (const std::size_t m : ms) {
      for (const std::size_t k : ks) {
        for (const std::size_t n : ns) {
          for (const bool accumulate : {false, true}) {
            const std::vector<double> a = random_values(m * k, rng);
            const std::vector<double> b = random_values(form == Form::tn ? m * n : k * n, rng);
            const std::size_t rows = form == Form::tn ? k : m;
            const std::vector<double> start = random_values(rows * n, rng);
            std::vector<double> c = start;
            switch (form) {
              case Form::nn:
                maya::tensor::detail::gemm_nn(a.data(), b.data(), c.data(), m, k, n, accumulate);
                break;
              case Form::nt:
                maya::tensor::detail::gemm_nt(a.data(), b.data(), c.data(), m, k, n, accumulate);
                break;
              case Form::tn:
                maya::tensor::detail::gemm_tn(a.data(), b.data(), c.data(), m, k, n, accumulate);
                break;
            }
            for (std::size_t i = 0; i < rows; ++i) {
              for (std::size_t j = 0; j < n; ++j) {
                const double expected =
                    reference(form, a, b, m, k, n, i, j) + (accumulate ? start[i * n + j] : 0.0);
                ASSERT_NEAR(c[i * n + j], expected, 1e-13)
                    << "form " << static_cast<int>(form) << " m " << m << " k " << k << " n " << n
                    << " accumulate " << accumulate << " at (" << i << ", " << j << ")";
                ++checked;
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 100000u);
}

TEST_P(SmallGemm, BiasStartsEveryRowOfTheProduct) {
  std::mt19937 rng(11);
  const std::size_t ms[] = {0, 1, 3, 4, 5, 33};
  const std::size_t ks[] = {1, 2, 3, 4, 5, 8, 9, 13, 17, 64};
  const std::size_t ns[] = {1, 2, 3, 4, 5, 8, 9, 13, 20, 64, 130};
  for (const std::size_t m : ms) {
    for (const std::size_t k : ks) {
      for (const std::size_t n : ns) {
        const std::vector<double> a = random_values(m * k, rng);
        const std::vector<double> b = random_values(k * n, rng);
        const std::vector<double> bias = random_values(n, rng);
        std::vector<double> c = random_values(m * n, rng);  // overwritten, never read
        maya::tensor::detail::gemm_nn_bias(a.data(), b.data(), bias.data(), c.data(), m, k, n);
        for (std::size_t i = 0; i < m; ++i) {
          for (std::size_t j = 0; j < n; ++j) {
            ASSERT_NEAR(c[i * n + j], bias[j] + reference(Form::nn, a, b, m, k, n, i, j), 1e-13)
                << "m " << m << " k " << k << " n " << n << " at (" << i << ", " << j << ")";
          }
        }
      }
    }
  }
}

MAYA_INSTANTIATE_FOR_EVERY_KERNEL_COPY(SmallGemm);

}  // namespace
