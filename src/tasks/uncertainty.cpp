// The Gauss-Newton covariance of a least-squares fit from a finite-difference Jacobian.
#include "maya/tasks/uncertainty.hpp"

#include <Eigen/Dense>
#include <cmath>

#include "maya/core/check.hpp"

namespace maya::tasks {

Uncertainty laplace_uncertainty(const ResidualFunction& residuals, std::span<const Tensor> fitted,
                                double step) {
  Uncertainty out;
  std::vector<Tensor> values;
  values.assign(fitted.begin(), fitted.end());
  const std::vector<double> r0 = residuals(values);
  const auto n = static_cast<Eigen::Index>(r0.size());
  Eigen::Index p = 0;
  for (const Tensor& value : values) p += static_cast<Eigen::Index>(value.numel());
  out.residuals = r0.size();
  out.entries = static_cast<std::size_t>(p);
  if (n <= p) {
    out.reason = "the fit has " + std::to_string(n) + " residuals for " + std::to_string(p) +
                 " parameter entries; standard errors need more residuals than entries";
    return out;
  }
  double rss = 0.0;
  for (const double r : r0) rss += r * r;
  Eigen::MatrixXd jacobian(n, p);
  Eigen::Index column = 0;
  for (Tensor& value : values) {
    for (std::size_t i = 0; i < value.numel(); ++i, ++column) {
      const double x = value.data()[i];
      const double h = step * (x != 0.0 ? std::abs(x) : 1.0);
      value.mutable_data()[i] = x + h;
      const std::vector<double> plus = residuals(values);
      value.mutable_data()[i] = x - h;
      const std::vector<double> minus = residuals(values);
      value.mutable_data()[i] = x;
      for (Eigen::Index k = 0; k < n; ++k) {
        jacobian(k, column) =
            (plus[static_cast<std::size_t>(k)] - minus[static_cast<std::size_t>(k)]) / (2.0 * h);
      }
    }
  }
  if (!jacobian.allFinite() || !std::isfinite(rss)) {
    out.reason = "the residuals or their Jacobian are not finite at the fit";
    return out;
  }
  // Scale columns to unit length so that the singularity test does not depend on units.
  Eigen::VectorXd scale = jacobian.colwise().norm().transpose();
  for (Eigen::Index c = 0; c < p; ++c) {
    if (!(scale(c) > 0.0)) {
      out.reason = "the residuals do not depend on parameter entry " + std::to_string(c) +
                   "; the data do not determine it";
      return out;
    }
  }
  const Eigen::MatrixXd scaled = jacobian * scale.cwiseInverse().asDiagonal();
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(scaled.transpose() * scaled);
  const Eigen::VectorXd lambda = eigen.eigenvalues();
  if (!(lambda.minCoeff() > 1e-12 * lambda.maxCoeff())) {
    out.reason =
        "J^T J is singular (condition number above 1e12): the data do not determine "
        "the parameters separately";
    return out;
  }
  const double sigma2 = rss / static_cast<double>(n - p);
  const Eigen::MatrixXd inverse_scaled =
      eigen.eigenvectors() * lambda.cwiseInverse().asDiagonal() * eigen.eigenvectors().transpose();
  const Eigen::MatrixXd covariance = sigma2 * (scale.cwiseInverse().asDiagonal() * inverse_scaled *
                                               scale.cwiseInverse().asDiagonal());
  out.available = true;
  out.sigma = std::sqrt(sigma2);
  out.covariance.assign(covariance.data(), covariance.data() + p * p);
  Eigen::Index entry = 0;
  for (const Tensor& value : values) {
    std::vector<double> errors;
    for (std::size_t i = 0; i < value.numel(); ++i, ++entry) {
      errors.push_back(std::sqrt(covariance(entry, entry)));
    }
    out.standard_error.push_back(std::move(errors));
  }
  return out;
}

}  // namespace maya::tasks
