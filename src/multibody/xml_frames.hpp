// Helpers the MJCF and URDF readers share: rotations from the files' angle conventions, and the
// inertia of a solid shape.
#pragma once

#include <array>
#include <cmath>
#include <numbers>

#include "maya/multibody/model.hpp"
#include "multibody/spatial.hpp"

namespace maya::multibody::detail {

inline Mat3<double> rotation_x(double a) {
  return {1, 0, 0, 0, std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a)};
}
inline Mat3<double> rotation_y(double a) {
  return {std::cos(a), 0, std::sin(a), 0, 1, 0, -std::sin(a), 0, std::cos(a)};
}
inline Mat3<double> rotation_z(double a) {
  return {std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a), 0, 0, 0, 1};
}

// Inertia (about the centre, in the shape's frame: diagonal) and mass of a solid of density rho.
struct ShapeMass {
  double mass = 0.0;
  multibody::Vec3 inertia{0.0, 0.0, 0.0};
};

inline ShapeMass solid_sphere(double rho, double r) {
  const double m = rho * 4.0 / 3.0 * std::numbers::pi * r * r * r;
  const double I = 0.4 * m * r * r;
  return {m, {I, I, I}};
}
inline ShapeMass solid_box(double rho, const multibody::Vec3& half) {
  const double m = rho * 8.0 * half[0] * half[1] * half[2];
  const double x2 = half[0] * half[0], y2 = half[1] * half[1], z2 = half[2] * half[2];
  return {m, {m * (y2 + z2) / 3.0, m * (x2 + z2) / 3.0, m * (x2 + y2) / 3.0}};
}
inline ShapeMass solid_cylinder(double rho, double r, double half_length) {
  const double m = rho * std::numbers::pi * r * r * 2.0 * half_length;
  const double across = m * (3.0 * r * r + 4.0 * half_length * half_length) / 12.0;
  return {m, {across, across, 0.5 * m * r * r}};
}
// A cylinder of half length h with hemispherical caps: the caps (mass ms together) contribute
// ms (2/5 r^2 + h^2 + 3/4 h r) across the axis (parallel axes from their centres at h + 3r/8).
inline ShapeMass solid_capsule(double rho, double r, double h) {
  const ShapeMass cylinder = solid_cylinder(rho, r, h);
  const double ms = rho * 4.0 / 3.0 * std::numbers::pi * r * r * r;
  const double across = cylinder.inertia[0] + ms * (0.4 * r * r + h * h + 0.75 * h * r);
  return {cylinder.mass + ms, {across, across, cylinder.inertia[2] + 0.4 * ms * r * r}};
}

// Accumulates solids into one body's mass, centre of mass and inertia about that centre.
class MassAccumulator {
 public:
  // A solid of `shape` whose centre is at `p` and whose axes are the columns of R (body frame).
  void add(const ShapeMass& shape, const Mat3<double>& R, const multibody::Vec3& p) {
    mass_ += shape.mass;
    for (int k = 0; k < 3; ++k) moment_[k] += shape.mass * p[k];
    // R diag(I) R^T + m (|p|^2 1 - p p^T): the inertia about the body origin.
    const double pp = p[0] * p[0] + p[1] * p[1] + p[2] * p[2];
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) {
        double s = 0.0;
        for (int k = 0; k < 3; ++k) s += R[3 * i + k] * shape.inertia[k] * R[3 * j + k];
        origin_[3 * i + j] += s + shape.mass * ((i == j ? pp : 0.0) - p[i] * p[j]);
      }
    }
  }
  [[nodiscard]] double mass() const { return mass_; }
  [[nodiscard]] multibody::Vec3 com() const {
    return {moment_[0] / mass_, moment_[1] / mass_, moment_[2] / mass_};
  }
  // Ixx Iyy Izz Ixy Ixz Iyz about the centre of mass.
  [[nodiscard]] std::array<double, 6> inertia() const {
    const multibody::Vec3 c = com();
    const double cc = c[0] * c[0] + c[1] * c[1] + c[2] * c[2];
    Mat3<double> I;
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) {
        I[3 * i + j] = origin_[3 * i + j] - mass_ * ((i == j ? cc : 0.0) - c[i] * c[j]);
      }
    }
    return {I[0], I[4], I[8], I[1], I[2], I[5]};
  }

 private:
  double mass_ = 0.0;
  multibody::Vec3 moment_{0.0, 0.0, 0.0};
  Mat3<double> origin_{0, 0, 0, 0, 0, 0, 0, 0, 0};
};

// R diag(d) R^T as Ixx Iyy Izz Ixy Ixz Iyz.
inline std::array<double, 6> rotate_inertia(const Mat3<double>& R, const multibody::Vec3& d) {
  Mat3<double> I;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      double s = 0.0;
      for (int k = 0; k < 3; ++k) s += R[3 * i + k] * d[k] * R[3 * j + k];
      I[3 * i + j] = s;
    }
  }
  return {I[0], I[4], I[8], I[1], I[2], I[5]};
}

}  // namespace maya::multibody::detail
