// The strain energy densities of material.hpp at one element, for the fused kernels. Each model
// is built from F once per element (polar decomposition, invariants) and then answers
//   energy parts   Psi = mu Psi_mu + lambda Psi_lambda,
//   stress parts   P = dPsi/dF = mu P_mu + lambda P_lambda,
//   differential   dP[dF] = (d^2 Psi / dF^2) : dF, symmetric in the sense dP[X]:Y = dP[Y]:X,
// so one routine gives the Hessian (Newton), the force adjoint and the Hessian-vector products.
// Compiled for the device too (MAYA_FEM_HD): the GPU rollout evaluates these same formulas.
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "fem/host_device.hpp"
#include "fem/svd3.hpp"

namespace maya::fem::detail {

template <int D>
using Mat = Eigen::Matrix<double, D, D>;
template <int D>
using Vec = Eigen::Matrix<double, D, 1>;

// cof(F) = dJ/dF, J = det F: in 2-D [[F11, -F10], [-F01, F00]]; in 3-D its columns are
// f1 x f2, f2 x f0, f0 x f1 (f_k the columns of F).
MAYA_FEM_HD inline Mat<2> cofactor(const Mat<2>& f) {
  Mat<2> c;
  c << f(1, 1), -f(1, 0), -f(0, 1), f(0, 0);
  return c;
}
MAYA_FEM_HD inline Mat<3> cofactor(const Mat<3>& f) {
  Mat<3> c;
  c.col(0) = f.col(1).cross(f.col(2));
  c.col(1) = f.col(2).cross(f.col(0));
  c.col(2) = f.col(0).cross(f.col(1));
  return c;
}
// d cof(F)[dF]: linear in 2-D; the product rule on the cross products in 3-D.
MAYA_FEM_HD inline Mat<2> cofactor_differential(const Mat<2>&, const Mat<2>& df) {
  return cofactor(df);
}
MAYA_FEM_HD inline Mat<3> cofactor_differential(const Mat<3>& f, const Mat<3>& df) {
  Mat<3> c;
  c.col(0) = df.col(1).cross(f.col(2)) + f.col(1).cross(df.col(2));
  c.col(1) = df.col(2).cross(f.col(0)) + f.col(2).cross(df.col(0));
  c.col(2) = df.col(0).cross(f.col(1)) + f.col(0).cross(df.col(1));
  return c;
}

// Psi = mu eps:eps + lambda/2 tr(eps)^2, eps = sym(F) - I.  P = 2 mu eps + lambda tr(eps) I.
template <int D>
class LinearMaterial {
 public:
  MAYA_FEM_HD explicit LinearMaterial(const Mat<D>& f)
      : strain_(0.5 * (f + f.transpose()) - Mat<D>::Identity()), trace_(strain_.trace()) {}
  [[nodiscard]] MAYA_FEM_HD double energy_mu() const { return strain_.squaredNorm(); }
  [[nodiscard]] MAYA_FEM_HD double energy_lambda() const { return 0.5 * trace_ * trace_; }
  [[nodiscard]] MAYA_FEM_HD Mat<D> stress_mu() const { return 2.0 * strain_; }
  [[nodiscard]] MAYA_FEM_HD Mat<D> stress_lambda() const { return trace_ * Mat<D>::Identity(); }
  [[nodiscard]] MAYA_FEM_HD Mat<D> differential(const Mat<D>& df, double mu, double lambda) const {
    return mu * (df + df.transpose()) + (lambda * df.trace()) * Mat<D>::Identity();
  }

 private:
  Mat<D> strain_;
  double trace_;
};

// Psi = mu E:E + lambda/2 tr(E)^2, E = (F^T F - I)/2.  P = F (2 mu E + lambda tr(E) I);
// dP = dF S + F dS with dE = sym(F^T dF).
template <int D>
class StVenantKirchhoffMaterial {
 public:
  MAYA_FEM_HD explicit StVenantKirchhoffMaterial(const Mat<D>& f)
      : f_(f), green_(0.5 * (f.transpose() * f - Mat<D>::Identity())), trace_(green_.trace()) {}
  [[nodiscard]] MAYA_FEM_HD double energy_mu() const { return green_.squaredNorm(); }
  [[nodiscard]] MAYA_FEM_HD double energy_lambda() const { return 0.5 * trace_ * trace_; }
  [[nodiscard]] MAYA_FEM_HD Mat<D> stress_mu() const { return 2.0 * f_ * green_; }
  [[nodiscard]] MAYA_FEM_HD Mat<D> stress_lambda() const { return trace_ * f_; }
  [[nodiscard]] MAYA_FEM_HD Mat<D> differential(const Mat<D>& df, double mu, double lambda) const {
    const Mat<D> ft_df = f_.transpose() * df;
    const Mat<D> d_green = 0.5 * (ft_df + ft_df.transpose());
    const Mat<D> second = 2.0 * mu * green_ + (lambda * trace_) * Mat<D>::Identity();
    const Mat<D> d_second = 2.0 * mu * d_green + (lambda * d_green.trace()) * Mat<D>::Identity();
    return df * second + f_ * d_second;
  }

 private:
  Mat<D> f_;
  Mat<D> green_;
  double trace_;
};

// F = R S with R a rotation (det R = +1) and S symmetric: in 2-D R rotates by the angle of
// (F00 + F11, F10 - F01); in 3-D R = U V^T from the SVD with the sign of the smallest singular
// value moved so that det U = det V = 1 (the rotation-variant SVD of svd3.hpp, defined for
// inverted F).
// Its differential: R^T dF - dF^T R = Omega S + S Omega with Omega = R^T dR skew, so
//   2-D: Omega = theta [[0, -1], [1, 0]], theta = (R^T dF - dF^T R)_10 / tr S;
//   3-D: Omega = [w]x, w = (tr(S) I - S)^-1 axial(R^T dF - dF^T R).
template <int D>
struct Polar;

template <>
struct Polar<2> {
  Mat<2> rotation;
  Mat<2> stretch;
  MAYA_FEM_HD explicit Polar(const Mat<2>& f) {
    const double c = f(0, 0) + f(1, 1);
    const double s = f(1, 0) - f(0, 1);
    const double norm = std::hypot(c, s);
    if (norm > 0.0) {
      rotation << c / norm, -s / norm, s / norm, c / norm;
    } else {
      rotation.setIdentity();
    }
    stretch = rotation.transpose() * f;
  }
  [[nodiscard]] MAYA_FEM_HD Mat<2> differential(const Mat<2>& df) const {
    const Mat<2> a = rotation.transpose() * df;
    const double trace = std::max(stretch.trace(), 1e-12);
    const double theta = (a(1, 0) - a(0, 1)) / trace;
    Mat<2> omega;
    omega << 0.0, -theta, theta, 0.0;
    return rotation * omega;
  }
};

template <>
struct Polar<3> {
  Mat<3> rotation;
  Mat<3> stretch;
  Mat<3> inverse_trace_minus_stretch;  // (tr(S) I - S)^-1
  MAYA_FEM_HD explicit Polar(const Mat<3>& f) {
    const Svd3 svd = rotation_variant_svd(f);
    const Mat<3>& v = svd.v;
    const Vec<3>& sigma = svd.sigma;
    rotation = svd.u * v.transpose();
    stretch = v * sigma.asDiagonal() * v.transpose();
    // Eigenvalues of tr(S) I - S are sums of two singular values; keep them off zero.
    Vec<3> pair_sums(sigma(1) + sigma(2), sigma(0) + sigma(2), sigma(0) + sigma(1));
    for (int k = 0; k < 3; ++k) {
      if (std::abs(pair_sums(k)) < 1e-12) pair_sums(k) = pair_sums(k) < 0.0 ? -1e-12 : 1e-12;
    }
    inverse_trace_minus_stretch = v * pair_sums.cwiseInverse().asDiagonal() * v.transpose();
  }
  [[nodiscard]] MAYA_FEM_HD Mat<3> differential(const Mat<3>& df) const {
    const Mat<3> a = rotation.transpose() * df;
    const Mat<3> skew = a - a.transpose();
    const Vec<3> w = inverse_trace_minus_stretch * Vec<3>(skew(2, 1), skew(0, 2), skew(1, 0));
    Mat<3> omega;
    omega << 0.0, -w(2), w(1), w(2), 0.0, -w(0), -w(1), w(0), 0.0;
    return rotation * omega;
  }
};

// Psi = mu |F - R|^2 + lambda/2 (tr S - d)^2.  P = 2 mu (F - R) + lambda (tr S - d) R;
// dP = 2 mu (dF - dR) + lambda (tr(R^T dF) R + (tr S - d) dR)   (d tr S = tr(R^T dF)).
template <int D>
class CorotationalMaterial {
 public:
  MAYA_FEM_HD explicit CorotationalMaterial(const Mat<D>& f)
      : f_(f), polar_(f), volume_strain_(polar_.stretch.trace() - D) {}
  [[nodiscard]] MAYA_FEM_HD double energy_mu() const {
    return (f_ - polar_.rotation).squaredNorm();
  }
  [[nodiscard]] MAYA_FEM_HD double energy_lambda() const {
    return 0.5 * volume_strain_ * volume_strain_;
  }
  [[nodiscard]] MAYA_FEM_HD Mat<D> stress_mu() const { return 2.0 * (f_ - polar_.rotation); }
  [[nodiscard]] MAYA_FEM_HD Mat<D> stress_lambda() const {
    return volume_strain_ * polar_.rotation;
  }
  [[nodiscard]] MAYA_FEM_HD Mat<D> differential(const Mat<D>& df, double mu, double lambda) const {
    const Mat<D> d_rotation = polar_.differential(df);
    const double d_trace = (polar_.rotation.transpose() * df).trace();
    return 2.0 * mu * (df - d_rotation) +
           lambda * (d_trace * polar_.rotation + volume_strain_ * d_rotation);
  }

 private:
  Mat<D> f_;
  Polar<D> polar_;
  double volume_strain_;
};

// Stable Neo-Hookean (material.hpp) with mu' = a mu, lambda' = lambda + b mu, kappa = d/(d+1):
//   P = mu' (1 - 1/(I_C + 1)) F - mu' kappa cof F + lambda' (J - 1) cof F,
//   dP = mu' ((1 - 1/(I_C+1)) dF + 2 (F:dF)/(I_C+1)^2 F - kappa dcof)
//        + lambda' ((cof F : dF) cof F + (J - 1) dcof).
template <int D>
class StableNeoHookeanMaterial {
 public:
  static constexpr double kMuScale = (D + 1.0) / D;                                // a
  static constexpr double kLambdaShift = (D - 1.0) * (D + 2.0) / (D * (D + 1.0));  // b
  static constexpr double kKappa = D / (D + 1.0);
  // (Eigen's scalar products take their scalar by reference, and nvcc has no device definition of
  // a static member; the functions below copy the constants into locals first.)

  MAYA_FEM_HD explicit StableNeoHookeanMaterial(const Mat<D>& f)
      : f_(f),
        cofactor_(cofactor(f)),
        invariant_(f.squaredNorm()),
        volume_ratio_(f.determinant()) {}
  [[nodiscard]] MAYA_FEM_HD double energy_mu() const {
    return kMuScale * shear_energy() + kLambdaShift * volume_energy();
  }
  [[nodiscard]] MAYA_FEM_HD double energy_lambda() const { return volume_energy(); }
  [[nodiscard]] MAYA_FEM_HD Mat<D> stress_mu() const {
    const double a = kMuScale;
    const double b = kLambdaShift;
    return a * shear_stress() + b * volume_stress();
  }
  [[nodiscard]] MAYA_FEM_HD Mat<D> stress_lambda() const { return volume_stress(); }
  [[nodiscard]] MAYA_FEM_HD Mat<D> differential(const Mat<D>& df, double mu, double lambda) const {
    const double mu_s = kMuScale * mu;
    const double lambda_s = lambda + kLambdaShift * mu;
    const double q = invariant_ + 1.0;
    const Mat<D> d_cofactor = cofactor_differential(f_, df);
    const double f_df = f_.cwiseProduct(df).sum();
    const double cof_df = cofactor_.cwiseProduct(df).sum();
    const double kappa = kKappa;
    return mu_s * ((1.0 - 1.0 / q) * df + (2.0 * f_df / (q * q)) * f_ - kappa * d_cofactor) +
           lambda_s * (cof_df * cofactor_ + (volume_ratio_ - 1.0) * d_cofactor);
  }

 private:
  [[nodiscard]] MAYA_FEM_HD double shear_energy() const {
    return 0.5 * (invariant_ - D) - kKappa * (volume_ratio_ - 1.0) -
           0.5 * std::log((invariant_ + 1.0) / (D + 1.0));
  }
  [[nodiscard]] MAYA_FEM_HD double volume_energy() const {
    return 0.5 * (volume_ratio_ - 1.0) * (volume_ratio_ - 1.0);
  }
  [[nodiscard]] MAYA_FEM_HD Mat<D> shear_stress() const {
    const double kappa = kKappa;
    return (1.0 - 1.0 / (invariant_ + 1.0)) * f_ - kappa * cofactor_;
  }
  [[nodiscard]] MAYA_FEM_HD Mat<D> volume_stress() const {
    return (volume_ratio_ - 1.0) * cofactor_;
  }

  Mat<D> f_;
  Mat<D> cofactor_;
  double invariant_;     // I_C = |F|^2
  double volume_ratio_;  // J = det F
};

}  // namespace maya::fem::detail
