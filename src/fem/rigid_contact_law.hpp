// The law of penalty contact between one soft vertex and one 2-D rigid body (rigid_contact.hpp
// gives the model): the shapes as the kernels read them, the explicit and the implicit force,
// and the implicit force's potential.
//
// One contact (vertex i, body k) is a function of 13 numbers: the vertex's position and velocity
// (explicit) or its end and start positions (implicit), the body's pose and velocity, and k,
// c_d, mu_f. The laws below are written once as templates over the scalar type: with double they
// give the forces, with Dual<13> (forward mode, one tangent per input) the contact's exact 2 x 13
// Jacobian, from which the adjoints take lambda^T J and Newton's matrix takes -dF/dx1. The
// feature (circle, or the polygon face of greatest separation) is chosen on values and held.
//
// Implicit law (x1 the end, x0 the start, the body held at its pose over the step), like the
// ground's: with pen(x) the depth under the chosen feature, n its outward normal and
// u(x) = V + omega perp(x - c) the body's material velocity,
//   f_n = pen1 (k + c_d (pen1 - pen0) / dt),  pen0 = pen(x0) - dt n0 . u(x0)    (pen1 > 0)
//   f_t = -mu_f k pen(x0) v_t / q,  v_t = t0 . ((x1 - x0) / dt - u(x0)), q = sqrt(v_t^2 + eps^2)
// with n0, t0 = perp(n0) and the friction load k pen(x0) lagged at the start (pen(x0) > 0), so
// F = f_n n1 + f_t t0 is minus the gradient in x1 of
//   k pen1^2 / 2 + c_d (pen1^3 / 3 - pen0 pen1^2 / 2) / dt  +  mu_f k pen(x0) dt q
// (pen(x1) = o - n . (x1 - c) for a face, r - |x1 - c| for a circle: d pen1 / dx1 = -n1).
// pen0 counts the body's motion: a vertex carried along with the body feels no damping.
// Static equilibrium (dt = 0): f_n = k pen1, no damping or friction.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "fem/dual.hpp"
#include "maya/rigid/body_shape.hpp"

namespace maya::fem::detail {

// ---- The rigid shapes, as the kernels read them ----

// Per body: a circle (radius) or a convex polygon's faces (outward unit normals m and offsets
// o = m . vertex in the body frame: the inside is m . p < o for every face).
struct RigidShapes {
  std::vector<std::uint8_t> circle;
  std::vector<double> radius;      // circles
  std::vector<double> bound;       // distance from the centre to the farthest point
  std::vector<std::size_t> faces;  // body k's faces are faces[k] .. faces[k + 1] - 1
  std::vector<double> normals;     // [F, 2]
  std::vector<double> offsets;     // [F]

  [[nodiscard]] std::size_t num_bodies() const noexcept { return circle.size(); }
};

[[nodiscard]] inline RigidShapes make_rigid_shapes(const std::vector<rigid::BodyShape>& shapes) {
  RigidShapes s;
  s.faces.push_back(0);
  for (const rigid::BodyShape& shape : shapes) {
    const bool circle = shape.kind() == rigid::ShapeKind::kCircle;
    s.circle.push_back(circle ? 1 : 0);
    s.radius.push_back(shape.radius());
    s.bound.push_back(shape.bounding_radius());
    const auto& v = shape.vertices();
    for (std::size_t a = 0; !circle && a < v.size(); ++a) {
      const rigid::Vec2 p = v[a];
      const rigid::Vec2 q = v[(a + 1) % v.size()];
      // Counter-clockwise edge e: the outward normal is (e_y, -e_x) / |e|.
      const double length = std::hypot(q.x - p.x, q.y - p.y);
      const double mx = (q.y - p.y) / length;
      const double my = -(q.x - p.x) / length;
      s.normals.push_back(mx);
      s.normals.push_back(my);
      s.offsets.push_back(mx * p.x + my * p.y);
    }
    s.faces.push_back(s.offsets.size());
  }
  return s;
}

// The feature of body k closest to the world point (x, y), and the depth under it (> 0 inside),
// on values. `pose` is (x, y, theta) of the body.
struct Closest {
  int face = -1;  // -1: the circle
  double depth = -std::numeric_limits<double>::infinity();
};

[[nodiscard]] inline Closest closest_feature(const RigidShapes& s, std::size_t k, double x,
                                             double y, const double* pose) {
  const double dx = x - pose[0];
  const double dy = y - pose[1];
  if (s.circle[k] != 0) return {-1, s.radius[k] - std::sqrt(dx * dx + dy * dy)};
  const double c = std::cos(pose[2]);
  const double sn = std::sin(pose[2]);
  const double px = c * dx + sn * dy;  // R^T (x - centre)
  const double py = -sn * dx + c * dy;
  Closest best;
  for (std::size_t f = s.faces[k]; f < s.faces[k + 1]; ++f) {
    const double depth = s.offsets[f] - (s.normals[2 * f] * px + s.normals[2 * f + 1] * py);
    if (best.face < 0 || depth < best.depth) best = {static_cast<int>(f), depth};
  }
  return best;
}

// ---- The laws, over any scalar T ----

template <class T>
struct Point {
  T x{}, y{};
};

template <class T>
struct BodyState {
  Point<T> centre;
  T theta{};
  Point<T> velocity;
  T omega{};
};

template <class T>
struct Material {
  T stiffness{}, damping{}, friction{};
};

template <class T>
struct Depth {
  T pen{};
  Point<T> normal;  // outward
};

// Depth and outward normal at p under a feature held from closest_feature.
template <class T>
[[nodiscard]] Depth<T> depth_at(const RigidShapes& s, std::size_t k, int face, const Point<T>& p,
                                const BodyState<T>& b) {
  using std::cos;
  using std::sin;
  using std::sqrt;
  const T dx = p.x - b.centre.x;
  const T dy = p.y - b.centre.y;
  if (face < 0) {
    const T length = sqrt(dx * dx + dy * dy);
    return {s.radius[k] - length, {dx / length, dy / length}};
  }
  const auto f = static_cast<std::size_t>(face);
  const double mx = s.normals[2 * f];
  const double my = s.normals[2 * f + 1];
  const T c = cos(b.theta);
  const T sn = sin(b.theta);
  const T nx = mx * c - my * sn;  // n = R m
  const T ny = mx * sn + my * c;
  return {s.offsets[f] - (nx * dx + ny * dy), {nx, ny}};
}

// The body's material velocity at p: V + omega perp(p - centre).
template <class T>
[[nodiscard]] Point<T> body_velocity_at(const Point<T>& p, const BodyState<T>& b) {
  return {b.velocity.x - b.omega * (p.y - b.centre.y), b.velocity.y + b.omega * (p.x - b.centre.x)};
}

// Explicit law at the vertex's position x and velocity v: the force on the vertex.
template <class T>
[[nodiscard]] Point<T> explicit_contact_force(const RigidShapes& s, std::size_t k, int face,
                                              const Point<T>& x, const Point<T>& v,
                                              const BodyState<T>& b, const Material<T>& m,
                                              double eps) {
  using std::sqrt;
  const Depth<T> g = depth_at(s, k, face, x, b);
  const Point<T> u = body_velocity_at(x, b);
  const T rx = v.x - u.x;
  const T ry = v.y - u.y;
  const T normal_speed = g.normal.x * rx + g.normal.y * ry;
  const T slip = g.normal.x * ry - g.normal.y * rx;  // t . v_rel, t = (-n_y, n_x)
  const T f_n = g.pen * (m.stiffness - m.damping * normal_speed);
  const T f_t = -(m.friction * m.stiffness) * g.pen * slip / sqrt(slip * slip + eps * eps);
  return {f_n * g.normal.x - f_t * g.normal.y, f_n * g.normal.y + f_t * g.normal.x};
}

// Which parts of the implicit law act for one pair, and the features they use.
struct ImplicitPair {
  int face1 = -1;         // feature under x1
  int face0 = -1;         // feature under x0
  bool normal = false;    // pen(x1) > 0
  bool friction = false;  // pen(x0) > 0 and dt > 0
};

// Implicit law: the force on the vertex at x1 from its start x0 (dt = 0: static).
template <class T>
[[nodiscard]] Point<T> implicit_contact_force(const RigidShapes& s, std::size_t k,
                                              const ImplicitPair& pair, const Point<T>& x1,
                                              const Point<T>& x0, const BodyState<T>& b,
                                              const Material<T>& m, double dt, double eps) {
  using std::sqrt;
  Point<T> force{T(0.0), T(0.0)};
  const Depth<T> start = depth_at(s, k, pair.face0, x0, b);
  const Point<T> u0 = body_velocity_at(x0, b);
  if (pair.normal) {
    const Depth<T> end = depth_at(s, k, pair.face1, x1, b);
    T f_n = m.stiffness * end.pen;
    if (dt > 0.0) {
      const T pen0 = start.pen - dt * (start.normal.x * u0.x + start.normal.y * u0.y);
      f_n = end.pen * (m.stiffness + m.damping * (end.pen - pen0) / dt);
    }
    force.x = force.x + f_n * end.normal.x;
    force.y = force.y + f_n * end.normal.y;
  }
  if (pair.friction) {
    const Point<T> t0{-start.normal.y, start.normal.x};
    const T slip = t0.x * ((x1.x - x0.x) / dt - u0.x) + t0.y * ((x1.y - x0.y) / dt - u0.y);
    const T f_t = -(m.friction * m.stiffness) * start.pen * slip / sqrt(slip * slip + eps * eps);
    force.x = force.x + f_t * t0.x;
    force.y = force.y + f_t * t0.y;
  }
  return force;
}

// The potential whose minus gradient in x1 is implicit_contact_force.
[[nodiscard]] inline double implicit_contact_energy(
    const RigidShapes& s, std::size_t k, const ImplicitPair& pair, const Point<double>& x1,
    const Point<double>& x0, const BodyState<double>& b, const Material<double>& m, double dt,
    double eps) {
  double total = 0.0;
  const Depth<double> start = depth_at(s, k, pair.face0, x0, b);
  const Point<double> u0 = body_velocity_at(x0, b);
  if (pair.normal) {
    const double pen1 = depth_at(s, k, pair.face1, x1, b).pen;
    total += 0.5 * m.stiffness * pen1 * pen1;
    if (dt > 0.0) {
      const double pen0 = start.pen - dt * (start.normal.x * u0.x + start.normal.y * u0.y);
      total += m.damping * (pen1 * pen1 * pen1 / 3.0 - 0.5 * pen0 * pen1 * pen1) / dt;
    }
  }
  if (pair.friction) {
    const Point<double> t0{-start.normal.y, start.normal.x};
    const double slip = t0.x * ((x1.x - x0.x) / dt - u0.x) + t0.y * ((x1.y - x0.y) / dt - u0.y);
    total += m.friction * m.stiffness * start.pen * dt * std::sqrt(slip * slip + eps * eps);
  }
  return total;
}

}  // namespace maya::fem::detail
