// Test problems for the optimizers, each as an Objective over one parameter "x" of shape [n]
// with a known minimizer.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include <maya/maya.hpp>
#include <maya/optim/optim.hpp>

namespace maya::optim::problems {

// f(x) = 1/2 x^T A x - b^T x with A = M M^T / n + diag(scale) (symmetric positive definite) and
// b = A x_star, so the minimizer is x_star exactly.
struct Quadratic {
  std::size_t n;
  std::vector<double> a;  // row-major n x n
  std::vector<double> b;
  std::vector<double> x_star;

  static Quadratic random(std::size_t n, double diagonal_min, double diagonal_max,
                          std::uint64_t seed) {
    Quadratic q{n, std::vector<double>(n * n, 0.0), std::vector<double>(n, 0.0), {}};
    const Tensor m = Tensor::uniform({n, n}, -1.0, 1.0, seed);
    const Tensor d = Tensor::uniform({n}, diagonal_min, diagonal_max, seed + 1);
    const Tensor x = Tensor::uniform({n}, -2.0, 2.0, seed + 2);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        double sum = 0.0;
        for (std::size_t k = 0; k < n; ++k) sum += m.data()[i * n + k] * m.data()[j * n + k];
        q.a[i * n + j] = sum / static_cast<double>(n) + (i == j ? d.data()[i] : 0.0);
      }
    }
    q.x_star.assign(x.data().begin(), x.data().end());
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) q.b[i] += q.a[i * n + j] * q.x_star[j];
    }
    return q;
  }

  double operator()(std::span<const Tensor> values, std::span<Tensor> gradients) const {
    const auto x = values[0].data();
    const auto g = gradients[0].mutable_data();
    double loss = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      double ax = 0.0;
      for (std::size_t j = 0; j < n; ++j) ax += a[i * n + j] * x[j];
      loss += 0.5 * x[i] * ax - b[i] * x[i];
      g[i] = ax - b[i];
    }
    return loss;
  }
};

// Extended Rosenbrock: sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2, minimum 0 at x = (1, ..., 1).
inline double rosenbrock(std::span<const Tensor> values, std::span<Tensor> gradients) {
  const auto x = values[0].data();
  const auto g = gradients[0].mutable_data();
  double loss = 0.0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    const double valley = x[i + 1] - x[i] * x[i];
    const double offset = 1.0 - x[i];
    loss += 100.0 * valley * valley + offset * offset;
    g[i] += -400.0 * x[i] * valley - 2.0 * offset;
    g[i + 1] += 200.0 * valley;
  }
  return loss;
}

// The classic start (-1.2, 1, -1.2, 1, ...).
inline Tensor rosenbrock_start(std::size_t n) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = i % 2 == 0 ? -1.2 : 1.0;
  return Tensor::from_data(std::move(x), {n});
}

inline double distance_to_ones(const Tensor& x) {
  double worst = 0.0;
  for (const double v : x.data()) worst = std::max(worst, std::abs(v - 1.0));
  return worst;
}

}  // namespace maya::optim::problems
