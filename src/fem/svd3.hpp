// The rotation-variant SVD of a 3 x 3 matrix for the corotational material, on the host and the
// device: F = U diag(sigma) V^T with U, V rotations (det +1), sigma_0 >= sigma_1 >= |sigma_2| and
// sigma_2 carrying the sign of det F. One-sided Jacobi (Hestenes): plane rotations V make the
// columns of B = F V orthogonal; then sigma_k = |b_k| and U = B diag(sigma)^-1, completed to a
// rotation where F is rank-deficient. Float64 throughout; no Eigen decomposition (which does not
// compile for the device), only fixed-size Eigen arithmetic.
#pragma once

#include <Eigen/Dense>
#include <cmath>

#include "fem/host_device.hpp"

namespace maya::fem::detail {

struct Svd3 {
  Eigen::Matrix3d u;
  Eigen::Vector3d sigma;
  Eigen::Matrix3d v;
};

namespace svd3 {

// A rotation stops once |b_p . b_q| <= kTolerance |b_p| |b_q| for every pair; one-sided Jacobi
// converges quadratically, so a few sweeps get there (the bound only stops NaN input).
inline constexpr double kTolerance = 1e-15;
inline constexpr int kMaxSweeps = 30;

// A unit vector orthogonal to the unit vector a: a x e_k for the axis k least aligned with a.
MAYA_FEM_HD inline Eigen::Vector3d orthogonal_to(const Eigen::Vector3d& a) {
  int k = 0;
  for (int j = 1; j < 3; ++j) {
    if (std::abs(a(j)) < std::abs(a(k))) k = j;
  }
  const Eigen::Vector3d axis = Eigen::Vector3d::Unit(k);
  const Eigen::Vector3d c = a.cross(axis);
  return c / c.norm();
}

MAYA_FEM_HD inline void swap_columns(Eigen::Matrix3d& m, int p, int q) {
  for (int i = 0; i < 3; ++i) {
    const double t = m(i, p);
    m(i, p) = m(i, q);
    m(i, q) = t;
  }
}

}  // namespace svd3

MAYA_FEM_HD inline Svd3 rotation_variant_svd(const Eigen::Matrix3d& f) {
  Eigen::Matrix3d b = f;
  Eigen::Matrix3d v = Eigen::Matrix3d::Identity();
  for (int sweep = 0; sweep < svd3::kMaxSweeps; ++sweep) {
    bool rotated = false;
    for (int pair = 0; pair < 3; ++pair) {
      const int p = pair == 2 ? 1 : 0;  // (0, 1), (0, 2), (1, 2)
      const int q = pair == 0 ? 1 : 2;
      const double alpha = b.col(p).squaredNorm();
      const double beta = b.col(q).squaredNorm();
      const double gamma = b.col(p).dot(b.col(q));
      if (!(std::abs(gamma) > svd3::kTolerance * std::sqrt(alpha) * std::sqrt(beta))) continue;
      rotated = true;
      // [b_p, b_q] [[c, s], [-s, c]] has orthogonal columns where t = s/c solves
      // t^2 + 2 zeta t - 1 = 0, zeta = (beta - alpha) / (2 gamma); the smaller root.
      const double zeta = (beta - alpha) / (2.0 * gamma);
      const double t = (zeta >= 0.0 ? 1.0 : -1.0) / (std::abs(zeta) + std::hypot(1.0, zeta));
      const double c = 1.0 / std::sqrt(1.0 + t * t);
      const double s = c * t;
      for (int i = 0; i < 3; ++i) {
        const double bp = b(i, p);
        const double bq = b(i, q);
        b(i, p) = c * bp - s * bq;
        b(i, q) = s * bp + c * bq;
        const double vp = v(i, p);
        const double vq = v(i, q);
        v(i, p) = c * vp - s * vq;
        v(i, q) = s * vp + c * vq;
      }
    }
    if (!rotated) break;
  }
  Eigen::Vector3d norms(b.col(0).norm(), b.col(1).norm(), b.col(2).norm());
  // Descending order (three compare-and-swaps), the same permutation on B and V.
  const int order[3][2] = {{0, 1}, {1, 2}, {0, 1}};
  for (const auto& pq : order) {
    if (norms(pq[0]) < norms(pq[1])) {
      const double t = norms(pq[0]);
      norms(pq[0]) = norms(pq[1]);
      norms(pq[1]) = t;
      svd3::swap_columns(b, pq[0], pq[1]);
      svd3::swap_columns(v, pq[0], pq[1]);
    }
  }
  // det V = +1 (flipping v_2 flips b_2 = F v_2 with it).
  if (v.determinant() < 0.0) {
    v.col(2) = -v.col(2);
    b.col(2) = -b.col(2);
  }
  Svd3 out;
  out.v = v;
  // u_0, u_1: the first two columns of B normalized (u_1 re-orthogonalized against u_0), or any
  // orthonormal completion where they vanish; u_2 = u_0 x u_1, so det U = +1, and sigma_2 takes
  // the sign of u_2 . b_2, which is that of det F.
  Eigen::Vector3d u0 =
      norms(0) > 0.0 ? Eigen::Vector3d(b.col(0) / norms(0)) : Eigen::Vector3d::UnitX();
  Eigen::Vector3d u1 = b.col(1) - u0.dot(b.col(1)) * u0;
  const double u1_norm = u1.norm();
  u1 = u1_norm > 0.0 ? Eigen::Vector3d(u1 / u1_norm) : svd3::orthogonal_to(u0);
  const Eigen::Vector3d u2 = u0.cross(u1);
  out.u.col(0) = u0;
  out.u.col(1) = u1;
  out.u.col(2) = u2;
  out.sigma = Eigen::Vector3d(norms(0), norms(1), u2.dot(b.col(2)) < 0.0 ? -norms(2) : norms(2));
  return out;
}

}  // namespace maya::fem::detail
