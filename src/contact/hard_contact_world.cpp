// The hard-contact world: construction and validation, parameter values, input checks, energies.
#include "maya/contact/hard_contact_world.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/expect_shape.hpp"

namespace maya::contact {

namespace {

void check_material(const SurfaceMaterial& m, const std::string& what) {
  (void)check_non_negative(m.friction, "HardContactWorld2D: " + what + " friction");
  (void)check_in_range(m.restitution, 0.0, 1.0, "HardContactWorld2D: " + what + " restitution");
}

}  // namespace

HardContactParameters HardContactParameterValues::constants(TensorTape& tape) const {
  return {tape.constant(mass),   tape.constant(inertia), tape.constant(vertices),
          tape.constant(radius), tape.constant(applied), tape.constant(anchors)};
}

HardContactParameters HardContactParameterValues::vars(TensorTape& tape) const {
  return {tape.var(mass),   tape.var(inertia), tape.var(vertices),
          tape.var(radius), tape.var(applied), tape.var(anchors)};
}

HardContactWorld2D::HardContactWorld2D(rigid::RigidWorld2D bodies,
                                       std::vector<RevoluteJoint> joints,
                                       HardContactOptions options)
    : bodies_(std::move(bodies)), joints_(std::move(joints)), options_(std::move(options)) {
  const auto k = static_cast<std::int32_t>(bodies_.num_bodies());
  for (std::size_t j = 0; j < joints_.size(); ++j) {
    const RevoluteJoint& joint = joints_[j];
    if (joint.body_a < 0 || joint.body_a >= k || joint.body_b < kWorld || joint.body_b >= k) {
      throw ValueError("HardContactWorld2D: joint " + std::to_string(j) + " joins bodies " +
                       std::to_string(joint.body_a) + " and " + std::to_string(joint.body_b) +
                       ", but bodies are numbered 0.." + std::to_string(k - 1) +
                       " (and body_b may be kWorld = -1)");
    }
    if (joint.body_a == joint.body_b) {
      throw ValueError("HardContactWorld2D: joint " + std::to_string(j) + " joins body " +
                       std::to_string(joint.body_a) + " to itself");
    }
  }
  check_material(options_.material, "material");
  check_material(options_.ground_material, "ground_material");
  if (!options_.body_materials.empty() && options_.body_materials.size() != bodies_.num_bodies()) {
    throw ValueError("HardContactWorld2D: " + std::to_string(options_.body_materials.size()) +
                     " body materials for " + std::to_string(bodies_.num_bodies()) + " bodies");
  }
  for (std::size_t b = 0; b < options_.body_materials.size(); ++b) {
    check_material(options_.body_materials[b], "body " + std::to_string(b));
  }
  (void)check_in_range(options_.stabilization, 0.0, 1.0, "HardContactWorld2D: stabilization");
  (void)check_non_negative(options_.slop, "HardContactWorld2D: slop");
  next_vertex_.resize(bodies_.num_vertices());
  for (std::size_t v = 0; v < next_vertex_.size(); ++v) next_vertex_[v] = bodies_.next_vertex(v);
  step_op_ = std::make_shared<const StepOp>(std::make_shared<const HardContactWorld2D>(*this));
}

SurfaceMaterial HardContactWorld2D::material_of(std::int32_t body) const noexcept {
  if (body < 0) return options_.ground_material;
  if (options_.body_materials.empty()) return options_.material;
  return options_.body_materials[static_cast<std::size_t>(body)];
}

HardContactParameterValues HardContactWorld2D::parameters(
    const std::vector<double>& masses, const Tensor& state,
    const std::vector<rigid::Vec2>& pivots) const {
  const std::size_t k = num_bodies();
  if (state.shape() != Shape{2, k, 3}) {
    throw ShapeError("HardContactWorld2D::parameters: state of shape " +
                     shape_string(state.shape()) + ", expected " + shape_string(Shape{2, k, 3}));
  }
  if (pivots.size() != joints_.size()) {
    throw ShapeError("HardContactWorld2D::parameters: " + std::to_string(pivots.size()) +
                     " pivots for " + std::to_string(joints_.size()) + " joints");
  }
  const rigid::RigidParameterValues rigid = bodies_.parameters_from_masses(masses);
  HardContactParameterValues out{rigid.mass,   rigid.inertia, rigid.vertices,
                                 rigid.radius, rigid.applied, Tensor::zeros({joints_.size(), 4})};
  const auto pose = state.data();
  // r = R(theta)^T (pivot - x): the pivot in the body's frame.
  const auto local = [&](std::int32_t body, rigid::Vec2 pivot) {
    const auto b = static_cast<std::size_t>(body);
    const double dx = pivot.x - pose[3 * b];
    const double dy = pivot.y - pose[3 * b + 1];
    const double c = std::cos(pose[3 * b + 2]);
    const double s = std::sin(pose[3 * b + 2]);
    return rigid::Vec2{c * dx + s * dy, -s * dx + c * dy};
  };
  auto anchors = out.anchors.mutable_data();
  for (std::size_t j = 0; j < joints_.size(); ++j) {
    const rigid::Vec2 a = local(joints_[j].body_a, pivots[j]);
    const rigid::Vec2 b =
        joints_[j].body_b == kWorld ? pivots[j] : local(joints_[j].body_b, pivots[j]);
    anchors[4 * j] = a.x;
    anchors[4 * j + 1] = a.y;
    anchors[4 * j + 2] = b.x;
    anchors[4 * j + 3] = b.y;
  }
  return out;
}

void HardContactWorld2D::check_inputs(TensorVar state, const HardContactParameters& params,
                                      double dt) const {
  const std::size_t k = num_bodies();
  expect_shape(state.shape(), {2, k, 3}, "hard_contact_step", "state");
  expect_shape(params.mass.shape(), {k}, "hard_contact_step", "mass");
  expect_shape(params.inertia.shape(), {k}, "hard_contact_step", "inertia");
  expect_shape(params.vertices.shape(), {bodies_.num_vertices(), 2}, "hard_contact_step",
               "vertices");
  expect_shape(params.radius.shape(), {k}, "hard_contact_step", "radius");
  expect_shape(params.applied.shape(), {k, 3}, "hard_contact_step", "applied");
  expect_shape(params.anchors.shape(), {joints_.size(), 4}, "hard_contact_step", "anchors");
  (void)check_positive(dt, "hard_contact_step: dt");
  const auto mass = params.mass.view();
  const auto inertia = params.inertia.view();
  for (std::size_t b = 0; b < k; ++b) {
    if (!(mass[b] > 0.0) || !(inertia[b] > 0.0) || !std::isfinite(mass[b] + inertia[b])) {
      (void)check_positive(mass[b], "hard_contact_step: the mass of body " + std::to_string(b));
      (void)check_positive(inertia[b],
                           "hard_contact_step: the inertia of body " + std::to_string(b));
    }
  }
  const auto values = state.view().data();
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      (void)check_finite(values[i], "hard_contact_step: state entry " + std::to_string(i));
    }
  }
}

double kinetic_energy(const Tensor& state, const Tensor& mass, const Tensor& inertia) {
  const std::size_t k = mass.numel();
  if (state.numel() != 6 * k || inertia.numel() != k) {
    throw ShapeError("kinetic_energy: state " + shape_string(state.shape()) + ", mass " +
                     shape_string(mass.shape()) + " and inertia " + shape_string(inertia.shape()) +
                     " do not describe the same bodies");
  }
  const auto v = state.data().subspan(3 * k);
  double total = 0.0;
  for (std::size_t b = 0; b < k; ++b) {
    total += 0.5 * mass.data()[b] * (v[3 * b] * v[3 * b] + v[3 * b + 1] * v[3 * b + 1]) +
             0.5 * inertia.data()[b] * v[3 * b + 2] * v[3 * b + 2];
  }
  return total;
}

double potential_energy(const Tensor& state, const Tensor& mass, rigid::Vec2 gravity) {
  const std::size_t k = mass.numel();
  if (state.numel() != 6 * k) {
    throw ShapeError("potential_energy: state " + shape_string(state.shape()) + " and mass " +
                     shape_string(mass.shape()) + " do not describe the same bodies");
  }
  const auto x = state.data();
  double total = 0.0;
  for (std::size_t b = 0; b < k; ++b) {
    total -= mass.data()[b] * (gravity.x * x[3 * b] + gravity.y * x[3 * b + 1]);
  }
  return total;
}

}  // namespace maya::contact
