// The 3 x 3 rotation-variant SVD of src/fem/svd3.hpp (the corotational material's, on the CPU and
// the GPU) against Eigen's JacobiSVD: the factors rebuild F, U and V are rotations, the singular
// values are Eigen's with det F's sign on the last, and the rotation U V^T is the one Eigen's
// factors give wherever it is unique; on inverted, flat, rank-one, zero, repeated and badly
// scaled matrices. The polar rotation's differential against central differences; and the 2-D
// closed-form polar rotation (also compiled for the device) against Eigen's SVD.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>
#include <vector>

#include "fem/constitutive.hpp"
#include "fem/svd3.hpp"

namespace {

using Eigen::Matrix3d;
using Eigen::Vector3d;
using maya::fem::detail::rotation_variant_svd;
using maya::fem::detail::Svd3;

// The rotation of the rotation-variant SVD from Eigen's factors (the sign of the smallest
// singular value moved so that det U = det V = +1).
Matrix3d eigen_rotation(const Matrix3d& f) {
  const Eigen::JacobiSVD<Matrix3d> svd(f, Eigen::ComputeFullU | Eigen::ComputeFullV);
  Matrix3d u = svd.matrixU();
  Matrix3d v = svd.matrixV();
  if (u.determinant() < 0.0) u.col(2) *= -1.0;
  if (v.determinant() < 0.0) v.col(2) *= -1.0;
  return u * v.transpose();
}

void expect_valid(const Matrix3d& f, const Svd3& svd) {
  const double scale = std::max(f.norm(), 1e-300);
  const Matrix3d rebuilt = svd.u * svd.sigma.asDiagonal() * svd.v.transpose();
  EXPECT_LE((rebuilt - f).norm() / scale, 1e-14) << "F =\n" << f;
  EXPECT_LE((svd.u.transpose() * svd.u - Matrix3d::Identity()).norm(), 1e-14);
  EXPECT_LE((svd.v.transpose() * svd.v - Matrix3d::Identity()).norm(), 1e-14);
  EXPECT_NEAR(svd.u.determinant(), 1.0, 1e-14);
  EXPECT_NEAR(svd.v.determinant(), 1.0, 1e-14);
  EXPECT_GE(svd.sigma(0), svd.sigma(1));
  EXPECT_GE(svd.sigma(1), std::abs(svd.sigma(2)));
  const Eigen::JacobiSVD<Matrix3d> eigen(f);
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(std::abs(svd.sigma(k)), eigen.singularValues()(k), 1e-14 * scale) << k;
  }
  const double det = f.determinant();
  if (std::abs(det) > 1e-10 * scale * scale * scale) {
    EXPECT_EQ(svd.sigma(2) < 0.0, det < 0.0) << "F =\n" << f;
  }
}

// Random matrices: near the identity, general, inverted (a reflection applied), each scaled.
std::vector<Matrix3d> random_matrices() {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<Matrix3d> out;
  for (int i = 0; i < 300; ++i) {
    Matrix3d m;
    for (int k = 0; k < 9; ++k) m(k / 3, k % 3) = uniform(rng);
    if (i % 3 == 0) m = Matrix3d::Identity() + 0.1 * m;
    if (i % 5 == 1) m.row(0) *= -1.0;  // inverted
    const double scales[] = {1.0, 1e-3, 1e4};
    out.push_back(scales[i % 3] * m);
  }
  return out;
}

TEST(Svd3, RandomMatricesMatchEigen) {
  for (const Matrix3d& f : random_matrices()) {
    const Svd3 svd = rotation_variant_svd(f);
    expect_valid(f, svd);
    // Well separated singular values: the rotation is unique, so it is Eigen's.
    const Vector3d s = Eigen::JacobiSVD<Matrix3d>(f).singularValues();
    if (s(0) - s(1) > 1e-3 * s(0) && s(1) - s(2) > 1e-3 * s(0) && s(2) > 1e-3 * s(0)) {
      EXPECT_LE((svd.u * svd.v.transpose() - eigen_rotation(f)).norm(), 1e-11) << "F =\n" << f;
    }
  }
}

TEST(Svd3, DegenerateAndInvertedMatrices) {
  Matrix3d rotation;
  rotation = Eigen::AngleAxisd(0.7, Vector3d(1.0, 2.0, -0.5).normalized());
  std::vector<Matrix3d> cases;
  cases.push_back(Matrix3d::Zero());
  cases.push_back(Matrix3d::Identity());
  cases.push_back(-Matrix3d::Identity());                             // det -1: inverted
  cases.push_back(rotation);                                          // three equal values
  cases.push_back(rotation * Vector3d(2.0, 2.0, 1.0).asDiagonal());   // a repeated pair
  cases.push_back(rotation * Vector3d(3.0, 1.0, -0.5).asDiagonal());  // inverted
  cases.push_back(rotation * Vector3d(3.0, 1.0, 0.0).asDiagonal());   // flat (rank 2)
  cases.push_back(rotation * Vector3d(3.0, 0.0, 0.0).asDiagonal());   // a line (rank 1)
  cases.push_back(Vector3d(1.0, 2.0, 3.0) * Vector3d(-1.0, 0.5, 2.0).transpose());  // rank 1
  Matrix3d flat;  // a tetrahedron squashed into a plane: its third edge in the first two's plane
  flat << 1.0, 0.0, 0.5, 0.0, 1.0, 0.25, 0.0, 0.0, 0.0;
  cases.push_back(rotation * flat);
  cases.push_back(1e-150 * (rotation * Vector3d(3.0, 1.0, -0.5).asDiagonal()));
  cases.push_back(1e150 * (rotation * Vector3d(3.0, 1.0, 0.5).asDiagonal()));
  for (const Matrix3d& f : cases) {
    const Svd3 svd = rotation_variant_svd(f);
    expect_valid(f, svd);
  }
  // Inverted: the rotation is the nearest one, with the reflection carried by sigma_2 < 0.
  const Matrix3d inverted = rotation * Vector3d(3.0, 1.0, -0.5).asDiagonal();
  const Svd3 svd = rotation_variant_svd(inverted);
  EXPECT_LE((svd.u * svd.v.transpose() - rotation).norm(), 1e-14);
  EXPECT_NEAR(svd.sigma(2), -0.5, 1e-14);
  // Flat: R is unique (u_2 = u_0 x u_1) and is the rotation.
  const Svd3 flat_svd = rotation_variant_svd(rotation * Vector3d(3.0, 1.0, 0.0).asDiagonal());
  EXPECT_LE((flat_svd.u * flat_svd.v.transpose() - rotation).norm(), 1e-14);
}

// dR[dF] of the corotational material's Polar<3> (R^T dF - dF^T R = Omega S + S Omega), built
// from this SVD, against central differences of R, for general and inverted F.
TEST(Svd3, PolarRotationDifferentialMatchesCentralDifferences) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (int i = 0; i < 40; ++i) {
    Matrix3d f;
    Matrix3d df;
    for (int k = 0; k < 9; ++k) {
      f(k / 3, k % 3) = (k % 4 == 0 ? 1.0 : 0.0) + 0.4 * uniform(rng);
      df(k / 3, k % 3) = uniform(rng);
    }
    if (i % 2 == 1) f.row(1) *= -1.0;
    const Eigen::Vector3d s = Eigen::JacobiSVD<Matrix3d>(f).singularValues();
    if (s(1) + s(2) < 0.05) continue;  // near where dR is undefined
    const double h = 1e-6;
    using maya::fem::detail::Polar;
    const Matrix3d numeric =
        (Polar<3>(f + h * df).rotation - Polar<3>(f - h * df).rotation) / (2.0 * h);
    const Matrix3d analytic = Polar<3>(f).differential(df);
    EXPECT_LE((analytic - numeric).norm(), 1e-7 * std::max(numeric.norm(), 1.0)) << "F =\n" << f;
  }
}

// The 2-D rotation of the angle of (F00 + F11, F10 - F01) is the closest rotation to F (it
// maximizes tr(R^T F)), which is U diag(1, det(U V^T)) V^T from Eigen's SVD: for general,
// inverted and flat F; the zero matrix gives the identity. Its differential against central
// differences.
TEST(Polar2, ClosedFormRotationMatchesEigenAndItsDifferential) {
  using Eigen::Matrix2d;
  using maya::fem::detail::Polar;
  std::mt19937 rng(13);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<Matrix2d> cases;
  for (int i = 0; i < 200; ++i) {
    Matrix2d m;
    m << uniform(rng), uniform(rng), uniform(rng), uniform(rng);
    if (i % 3 == 0) m += Matrix2d::Identity();
    cases.push_back(m);
  }
  Matrix2d flat;
  flat << 2.0, 1.0, 4.0, 2.0;  // rank 1
  cases.push_back(flat);
  cases.push_back(Matrix2d(Eigen::Vector2d(1.5, -0.5).asDiagonal()));  // inverted
  for (const Matrix2d& f : cases) {
    const Eigen::JacobiSVD<Matrix2d> svd(f, Eigen::ComputeFullU | Eigen::ComputeFullV);
    const Eigen::Vector2d s = svd.singularValues();
    if (s(0) - s(1) < 1e-6 && f.determinant() < 0.0) continue;  // no unique closest rotation
    const double det = (svd.matrixU() * svd.matrixV().transpose()).determinant();
    const Matrix2d expected =
        svd.matrixU() * Eigen::Vector2d(1.0, det).asDiagonal() * svd.matrixV().transpose();
    const Polar<2> polar(f);
    EXPECT_LE((polar.rotation - expected).norm(), 1e-12) << "F =\n" << f;
    EXPECT_LE((polar.rotation * polar.stretch - f).norm(), 1e-14 * std::max(f.norm(), 1.0));
    EXPECT_LE((polar.stretch - polar.stretch.transpose()).norm(), 1e-14 * std::max(f.norm(), 1.0));
    if (polar.stretch.trace() < 0.05) continue;  // near where dR is undefined
    Matrix2d df;
    df << uniform(rng), uniform(rng), uniform(rng), uniform(rng);
    const double h = 1e-6;
    const Matrix2d numeric =
        (Polar<2>(f + h * df).rotation - Polar<2>(f - h * df).rotation) / (2.0 * h);
    EXPECT_LE((polar.differential(df) - numeric).norm(), 1e-7 * std::max(numeric.norm(), 1.0));
  }
  EXPECT_EQ(Polar<2>(Matrix2d::Zero()).rotation, Matrix2d::Identity());
}

}  // namespace
