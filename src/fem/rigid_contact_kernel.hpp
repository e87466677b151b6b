// Rigid contact over a whole soft body: every unpinned vertex against every rigid body, the
// forces and the bodies' wrench, and the derivatives the explicit and implicit nodes need. Each
// active pair's derivatives come from one Dual<13> evaluation of its law (rigid_contact_law.hpp),
// seeded in this order: vertex position (or end position x1) 0-1, velocity (or start position
// x0) 2-3, body pose 4-6, body velocity 7-9, then stiffness, damping, friction 10-12.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "fem/rigid_contact_law.hpp"

namespace maya::fem::detail {

class RigidContactKernel {
 public:
  using D = Dual<13>;

  // No bodies: every call adds nothing.
  RigidContactKernel() = default;
  // rigid_state: the [2, K, 3] values.
  RigidContactKernel(const RigidShapes& shapes, const std::uint8_t* pinned,
                     const double* rigid_state, double stiffness, double damping, double friction,
                     double slip_velocity)
      : shapes_(&shapes),
        pinned_(pinned),
        state_(rigid_state),
        material_{stiffness, damping, friction},
        eps_(slip_velocity) {}

  [[nodiscard]] bool active() const noexcept { return shapes_ != nullptr; }
  [[nodiscard]] std::size_t num_bodies() const noexcept {
    return active() ? shapes_->num_bodies() : 0;
  }

  // f [N, 2] += the forces on the vertices; wrench [K, 3] (may be null) += minus them on the
  // bodies, at the vertex: force -F and torque -(x - c) x F.
  void add_explicit_forces(const double* x, const double* v, std::size_t n, double* f,
                           double* wrench) const {
    for_each_touching(x, n, [&](std::size_t i, std::size_t k, int face) {
      const Point<double> force =
          explicit_contact_force(*shapes_, k, face, Point<double>{x[2 * i], x[2 * i + 1]},
                                 Point<double>{v[2 * i], v[2 * i + 1]}, body(k), material(), eps_);
      f[2 * i] += force.x;
      f[2 * i + 1] += force.y;
      if (wrench == nullptr) return;
      const double* pose = state_ + 3 * k;
      wrench[3 * k] -= force.x;
      wrench[3 * k + 1] -= force.y;
      wrench[3 * k + 2] -= (x[2 * i] - pose[0]) * force.y - (x[2 * i + 1] - pose[1]) * force.x;
    });
  }

  // The adjoint of add_explicit_forces for output gradients g_force [N, 2] and g_wrench [K, 3]
  // (either may be null); any sink may be null.
  void explicit_vjp(const double* x, const double* v, std::size_t n, const double* g_force,
                    const double* g_wrench, double* g_x, double* g_v, double* g_state,
                    double* g_material) const {
    for_each_touching(x, n, [&](std::size_t i, std::size_t k, int face) {
      const Point<D> xi{D::input(x[2 * i], 0), D::input(x[2 * i + 1], 1)};
      const Point<D> vi{D::input(v[2 * i], 2), D::input(v[2 * i + 1], 3)};
      const BodyState<D> b = body_dual(k);
      const Point<D> force =
          explicit_contact_force(*shapes_, k, face, xi, vi, b, material_dual(), eps_);
      D loss(0.0);
      if (g_force != nullptr) {
        loss = loss + g_force[2 * i] * force.x + g_force[2 * i + 1] * force.y;
      }
      if (g_wrench != nullptr) {
        const D torque =
            (xi.x - b.centre.x) * force.y - (xi.y - b.centre.y) * force.x;  // of F, about c
        loss = loss - g_wrench[3 * k] * force.x - g_wrench[3 * k + 1] * force.y -
               g_wrench[3 * k + 2] * torque;
      }
      scatter(loss, i, k, g_x, g_v, g_state, g_material);
    });
  }

  // Implicit forces at x1 from the start x0 (dt > 0), or static ones (dt = 0), into f [N, 2].
  void add_implicit_forces(const double* x1, const double* x0, double dt, std::size_t n,
                           double* f) const {
    for_each_implicit(x1, x0, dt, n, [&](std::size_t i, std::size_t k, const ImplicitPair& pair) {
      const Point<double> force = implicit_contact_force(
          *shapes_, k, pair, Point<double>{x1[2 * i], x1[2 * i + 1]},
          Point<double>{x0[2 * i], x0[2 * i + 1]}, body(k), material(), dt, eps_);
      f[2 * i] += force.x;
      f[2 * i + 1] += force.y;
    });
  }

  [[nodiscard]] double implicit_energy(const double* x1, const double* x0, double dt,
                                       std::size_t n) const {
    double total = 0.0;
    for_each_implicit(x1, x0, dt, n, [&](std::size_t i, std::size_t k, const ImplicitPair& pair) {
      total += implicit_contact_energy(*shapes_, k, pair, Point<double>{x1[2 * i], x1[2 * i + 1]},
                                       Point<double>{x0[2 * i], x0[2 * i + 1]}, body(k), material(),
                                       dt, eps_);
    });
    return total;
  }

  // -dF/dx1 into the vertex diagonal blocks (slots as SystemPattern::vertex_slots); `project`
  // clamps the block's negative eigenvalues (a circle's curvature, fast separation) to zero.
  void add_implicit_stiffness(const double* x1, const double* x0, double dt, std::size_t n,
                              const std::int32_t* vertex_slots, double* values,
                              bool project) const {
    for_each_implicit(x1, x0, dt, n, [&](std::size_t i, std::size_t k, const ImplicitPair& pair) {
      const Point<D> force = implicit_force_dual(x1, x0, i, k, pair, dt);
      // H = -dF/dx1, symmetric in exact arithmetic (F is minus a gradient): symmetrize roundoff.
      double a = -force.x.d[0];
      double b = -0.5 * (force.x.d[1] + force.y.d[0]);
      double d = -force.y.d[1];
      if (project) project_block(a, b, d);
      const std::int32_t* slots = vertex_slots + i * 4;
      values[slots[0]] += a;
      values[slots[1]] += b;
      values[slots[2]] += b;
      values[slots[3]] += d;
    });
  }

  // lambda^T dF/d(x0, rigid state, material) into the sinks (any may be null).
  void implicit_vjp(const double* x1, const double* x0, double dt, std::size_t n,
                    const double* lambda, double* g_x0, double* g_state, double* g_material) const {
    for_each_implicit(x1, x0, dt, n, [&](std::size_t i, std::size_t k, const ImplicitPair& pair) {
      const Point<D> force = implicit_force_dual(x1, x0, i, k, pair, dt);
      const D loss = lambda[2 * i] * force.x + lambda[2 * i + 1] * force.y;
      scatter(loss, i, k, nullptr, g_x0, g_state, g_material);
    });
  }

 private:
  [[nodiscard]] BodyState<double> body(std::size_t k) const {
    const double* pose = state_ + 3 * k;
    const double* velocity = state_ + 3 * (num_bodies() + k);
    return {{pose[0], pose[1]}, pose[2], {velocity[0], velocity[1]}, velocity[2]};
  }
  [[nodiscard]] BodyState<D> body_dual(std::size_t k) const {
    const double* pose = state_ + 3 * k;
    const double* velocity = state_ + 3 * (num_bodies() + k);
    return {{D::input(pose[0], 4), D::input(pose[1], 5)},
            D::input(pose[2], 6),
            {D::input(velocity[0], 7), D::input(velocity[1], 8)},
            D::input(velocity[2], 9)};
  }
  [[nodiscard]] Material<double> material() const { return material_; }
  [[nodiscard]] Material<D> material_dual() const {
    return {D::input(material_.stiffness, 10), D::input(material_.damping, 11),
            D::input(material_.friction, 12)};
  }

  [[nodiscard]] Point<D> implicit_force_dual(const double* x1, const double* x0, std::size_t i,
                                             std::size_t k, const ImplicitPair& pair,
                                             double dt) const {
    return implicit_contact_force(*shapes_, k, pair,
                                  Point<D>{D::input(x1[2 * i], 0), D::input(x1[2 * i + 1], 1)},
                                  Point<D>{D::input(x0[2 * i], 2), D::input(x0[2 * i + 1], 3)},
                                  body_dual(k), material_dual(), dt, eps_);
  }

  // The gradient of one pair's scalar `loss` into the sinks of its 13 inputs.
  void scatter(const D& loss, std::size_t i, std::size_t k, double* g_first, double* g_second,
               double* g_state, double* g_material) const {
    const auto& d = loss.d;
    if (g_first != nullptr) {
      g_first[2 * i] += d[0];
      g_first[2 * i + 1] += d[1];
    }
    if (g_second != nullptr) {
      g_second[2 * i] += d[2];
      g_second[2 * i + 1] += d[3];
    }
    if (g_state != nullptr) {
      for (std::size_t j = 0; j < 3; ++j) {
        g_state[3 * k + j] += d[4 + j];
        g_state[3 * (num_bodies() + k) + j] += d[7 + j];
      }
    }
    if (g_material != nullptr) {
      for (std::size_t j = 0; j < 3; ++j) g_material[j] += d[10 + j];
    }
  }

  // visit(i, k, face) for every unpinned vertex i inside body k (depth > 0 at x).
  template <class Visit>
  void for_each_touching(const double* x, std::size_t n, Visit&& visit) const {
    for (std::size_t k = 0; k < num_bodies(); ++k) {
      const double* pose = state_ + 3 * k;
      for (std::size_t i = 0; i < n; ++i) {
        if (pinned_[i] != 0 || !near(x, i, k)) continue;
        const Closest c = closest_feature(*shapes_, k, x[2 * i], x[2 * i + 1], pose);
        if (c.depth > 0.0) visit(i, k, c.face);
      }
    }
  }

  // visit(i, k, pair) for every unpinned vertex whose end or (friction) start is inside body k.
  template <class Visit>
  void for_each_implicit(const double* x1, const double* x0, double dt, std::size_t n,
                         Visit&& visit) const {
    for (std::size_t k = 0; k < num_bodies(); ++k) {
      const double* pose = state_ + 3 * k;
      for (std::size_t i = 0; i < n; ++i) {
        if (pinned_[i] != 0) continue;
        const bool end_near = near(x1, i, k);
        const bool start_near = dt > 0.0 && near(x0, i, k);
        if (!end_near && !start_near) continue;
        const Closest end = closest_feature(*shapes_, k, x1[2 * i], x1[2 * i + 1], pose);
        const Closest start = closest_feature(*shapes_, k, x0[2 * i], x0[2 * i + 1], pose);
        ImplicitPair pair{end.face, start.face, end.depth > 0.0, dt > 0.0 && start.depth > 0.0};
        if (pair.normal || pair.friction) visit(i, k, pair);
      }
    }
  }

  // Whether vertex i at x is within body k's bounding circle (else it cannot be inside).
  [[nodiscard]] bool near(const double* x, std::size_t i, std::size_t k) const {
    const double* pose = state_ + 3 * k;
    const double dx = x[2 * i] - pose[0];
    const double dy = x[2 * i + 1] - pose[1];
    const double bound = shapes_->bound[k];
    return dx * dx + dy * dy < bound * bound;
  }

  // The symmetric block [[a, b], [b, d]] with its negative eigenvalues set to zero.
  static void project_block(double& a, double& b, double& d) {
    const double mean = 0.5 * (a + d);
    const double radius = std::hypot(0.5 * (a - d), b);
    const double low = mean - radius;
    if (low >= 0.0) return;
    const double high = std::max(mean + radius, 0.0);
    if (radius == 0.0) {  // a multiple of the identity, negative
      a = d = b = 0.0;
      return;
    }
    // Eigenvector of the larger eigenvalue: (cos, sin) of half the angle of (a - d, 2 b).
    const double angle = 0.5 * std::atan2(2.0 * b, a - d);
    const double c = std::cos(angle);
    const double s = std::sin(angle);
    a = high * c * c;
    b = high * c * s;
    d = high * s * s;
  }

  const RigidShapes* shapes_ = nullptr;
  const std::uint8_t* pinned_ = nullptr;
  const double* state_ = nullptr;
  Material<double> material_{};
  double eps_ = 1.0;
};

}  // namespace maya::fem::detail
