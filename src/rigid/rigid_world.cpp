// The rigid world: construction and validation, parameter values from shapes, the contact query,
// and wrenches of forces applied at world points.
#include "maya/rigid/rigid_world.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/dynamics/mass_spring.hpp"
#include "maya/tensor/expect_shape.hpp"
#include "maya/tensor/ops.hpp"
#include "rigid/contact_detection.hpp"

namespace maya::rigid {

GroundPlane GroundPlane::through(Vec2 point, Vec2 normal) noexcept {
  const double length = std::hypot(normal.x, normal.y);
  const Vec2 unit{normal.x / length, normal.y / length};
  return {unit, unit.x * point.x + unit.y * point.y};
}

RigidParameters RigidParameterValues::constants(TensorTape& tape) const {
  return {tape.constant(mass),    tape.constant(inertia), tape.constant(vertices),
          tape.constant(radius),  tape.constant(applied), tape.constant(stiffness),
          tape.constant(damping), tape.constant(friction)};
}

RigidWorld2D::RigidWorld2D(std::vector<BodyShape> shapes, RigidWorldOptions options)
    : shapes_(std::move(shapes)), options_(std::move(options)) {
  if (shapes_.empty()) throw ValueError("RigidWorld2D: a world needs at least one body");
  (void)check_finite(options_.gravity.x, "RigidWorld2D: gravity.x");
  (void)check_finite(options_.gravity.y, "RigidWorld2D: gravity.y");
  for (std::size_t g = 0; g < options_.grounds.size(); ++g) {
    GroundPlane& plane = options_.grounds[g];
    const double length = std::hypot(plane.normal.x, plane.normal.y);
    if (!(length > 0.0) || !std::isfinite(length) || !std::isfinite(plane.offset)) {
      throw ValueError("RigidWorld2D: ground " + std::to_string(g) + " has normal (" +
                       std::to_string(plane.normal.x) + ", " + std::to_string(plane.normal.y) +
                       ") and offset " + std::to_string(plane.offset) +
                       "; the normal must be non-zero and both finite");
    }
    plane.normal = {plane.normal.x / length, plane.normal.y / length};
  }
  (void)check_positive(options_.friction_smoothing, "RigidWorld2D: friction_smoothing");
  (void)check_non_negative(options_.linear_damping, "RigidWorld2D: linear_damping");
  (void)check_non_negative(options_.angular_damping, "RigidWorld2D: angular_damping");
  build_topology();
  step_op_ = std::make_shared<const StepOp>(std::make_shared<const RigidWorld2D>(*this));
}

void RigidWorld2D::build_topology() {
  first_vertex_.assign(shapes_.size(), 0);
  next_vertex_.clear();
  for (std::size_t k = 0; k < shapes_.size(); ++k) {
    const auto first = static_cast<std::uint32_t>(next_vertex_.size());
    first_vertex_[k] = first;
    if (shapes_[k].kind() != ShapeKind::kPolygon) continue;
    const std::size_t count = shapes_[k].vertices().size();
    for (std::size_t i = 0; i < count; ++i) {
      next_vertex_.push_back(static_cast<std::int32_t>(first + (i + 1) % count));
    }
  }
}

RigidParameterValues RigidWorld2D::parameters_from_density(double density,
                                                           ContactMaterial material) const {
  (void)check_positive(density, "RigidWorld2D::parameters_from_density: density");
  std::vector<double> masses(shapes_.size());
  for (std::size_t k = 0; k < shapes_.size(); ++k) masses[k] = density * shapes_[k].area();
  return parameters_from_masses(masses, material);
}

RigidParameterValues RigidWorld2D::parameters_from_masses(const std::vector<double>& masses,
                                                          ContactMaterial material) const {
  const std::size_t n = shapes_.size();
  if (masses.size() != n) {
    throw ShapeError("RigidWorld2D::parameters_from_masses: " + std::to_string(masses.size()) +
                     " masses for " + std::to_string(n) + " bodies");
  }
  std::vector<double> inertia(n), radius(n, 0.0), vertices;
  for (std::size_t k = 0; k < n; ++k) {
    if (!(masses[k] > 0.0) || !std::isfinite(masses[k])) {
      (void)check_positive(
          masses[k], "RigidWorld2D::parameters_from_masses: mass of body " + std::to_string(k));
    }
    inertia[k] = shapes_[k].inertia_for_mass(masses[k]);
    radius[k] = shapes_[k].radius();
    for (const Vec2 v : shapes_[k].vertices()) {
      vertices.push_back(v.x);
      vertices.push_back(v.y);
    }
  }
  const std::size_t num_vertices = next_vertex_.size();
  return {Tensor::from_data(masses, {n}),
          Tensor::from_data(std::move(inertia), {n}),
          Tensor::from_data(std::move(vertices), {num_vertices, 2}),
          Tensor::from_data(std::move(radius), {n}),
          Tensor::zeros({n, 3}),
          Tensor::scalar(material.stiffness),
          Tensor::scalar(material.damping),
          Tensor::scalar(material.friction)};
}

Tensor RigidWorld2D::make_state(const Tensor& poses, const Tensor& velocities) {
  if (poses.shape() != velocities.shape() || poses.ndim() != 2 || poses.shape()[1] != 3) {
    throw ShapeError("RigidWorld2D::make_state: poses " + shape_string(poses.shape()) +
                     " and velocities " + shape_string(velocities.shape()) +
                     " must both be [K, 3]");
  }
  std::vector<double> values(poses.data().begin(), poses.data().end());
  values.insert(values.end(), velocities.data().begin(), velocities.data().end());
  return Tensor::from_data(std::move(values), {2, poses.shape()[0], 3});
}

void RigidWorld2D::check_inputs(TensorVar state, const RigidParameters& params,
                                const char* operation) const {
  const std::size_t n = shapes_.size();
  const auto one = [&](TensorVar var, const char* what, bool positive) {
    if (var.numel() != 1) {
      throw ShapeError(std::string(operation) + ": " + what + " must have one element, got shape " +
                       shape_string(var.shape()));
    }
    const double value = var.view()[0];
    // Runs every step: the checks (and their messages, heap strings) only for a value that a
    // plain test does not already pass.
    if (std::isfinite(value) && (positive ? value > 0.0 : value >= 0.0)) [[likely]] {
      return;
    }
    if (positive) {
      (void)check_positive(value, std::string(operation) + ": " + what);
    } else {
      (void)check_non_negative(value, std::string(operation) + ": " + what);
    }
  };
  expect_shape(state.shape(), {2, n, 3}, operation, "state");
  expect_shape(params.mass.shape(), {n}, operation, "mass");
  expect_shape(params.inertia.shape(), {n}, operation, "inertia");
  expect_shape(params.vertices.shape(), {next_vertex_.size(), 2}, operation, "vertices");
  expect_shape(params.radius.shape(), {n}, operation, "radius");
  expect_shape(params.applied.shape(), {n, 3}, operation, "applied");
  one(params.stiffness, "stiffness", true);
  one(params.damping, "damping", false);
  one(params.friction, "friction", false);
  const auto mass = params.mass.view();
  const auto inertia = params.inertia.view();
  const auto radius = params.radius.view();
  // Runs every step: a plain test per body, the message built only for a bad value.
  const auto bad = [](double value) { return !(value > 0.0) || !std::isfinite(value); };
  for (std::size_t k = 0; k < n; ++k) {
    const bool circle = shapes_[k].kind() == ShapeKind::kCircle;
    if (bad(mass[k]) || bad(inertia[k]) || (circle && bad(radius[k]))) [[unlikely]] {
      const char* what = bad(mass[k]) ? "mass" : bad(inertia[k]) ? "inertia" : "radius";
      const double value = bad(mass[k]) ? mass[k] : bad(inertia[k]) ? inertia[k] : radius[k];
      (void)check_positive(value,
                           std::string(operation) + ": " + what + " of body " + std::to_string(k));
    }
  }
}

std::vector<Contact> RigidWorld2D::find_contacts(TensorVar state,
                                                 const RigidParameters& params) const {
  check_inputs(state, params, "RigidWorld2D::find_contacts");
  std::vector<detail::BodyFrame> frames(shapes_.size());
  detail::fill_frames(state.view().values, shapes_.size(), frames.data());
  const detail::ContactInputs in{frames.data(), params.vertices.view().values,
                                 params.radius.view().values, options_.grounds.data(),
                                 next_vertex_.data()};
  std::vector<Contact> contacts;
  detail::for_each_ground_contact(
      *this, in, [&](const Contact& c, const detail::Geometry&) { contacts.push_back(c); });
  Workspace work;
  if (options_.body_contacts) detail::find_pair_contacts(*this, in, contacts, work);
  return contacts;
}

TensorVar wrench_at_points(TensorVar state, std::span<const std::int64_t> bodies, TensorVar points,
                           TensorVar forces) {
  const ShapeView s = state.shape();
  if (s.size() != 3 || s[0] != 2 || s[2] != 3) {
    throw ShapeError("wrench_at_points: state must be [2, K, 3], got " + shape_string(s));
  }
  const Shape expected{bodies.size(), 2};
  const auto matches = [&](TensorVar v) {
    return std::equal(v.shape().begin(), v.shape().end(), expected.begin(), expected.end());
  };
  if (!matches(points) || !matches(forces)) {
    throw ShapeError("wrench_at_points: points " + shape_string(points.shape()) + " and forces " +
                     shape_string(forces.shape()) + " must both be " + shape_string(expected) +
                     " for " + std::to_string(bodies.size()) + " body indices");
  }
  const std::size_t n = s[1];
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    if (bodies[i] < 0 || static_cast<std::size_t>(bodies[i]) >= n) {
      throw ValueError("wrench_at_points: entry " + std::to_string(i) + " names body " +
                       std::to_string(bodies[i]) + ", but bodies are numbered 0.." +
                       std::to_string(n - 1));
    }
  }
  TensorTape& tape = state.tape();
  const TensorVar centres = index_select(slice(dynamics::positions_of(state), 1, 0, 2), 0, bodies);
  const TensorVar arm = points - centres;
  // tau = arm x f = arm_x f_y - arm_y f_x
  const TensorVar torque =
      select(arm, 1, 0) * select(forces, 1, 1) - select(arm, 1, 1) * select(forces, 1, 0);
  const TensorVar wrench = concat({forces, unsqueeze(torque, 1)}, 1);
  return index_add(tape.constant(Tensor::zeros({n, 3})), 0, bodies, wrench);
}

}  // namespace maya::rigid
