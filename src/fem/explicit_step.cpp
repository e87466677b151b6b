// Ground forces as a fused node, and the semi-implicit Euler step composed around the fused
// force nodes.
#include <string>
#include <utility>
#include <vector>

#include "fem/ground_contact.hpp"
#include "fem/rigid_contact_kernel.hpp"
#include "fem/soft_body_ops.hpp"
#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/dynamics/mass_spring.hpp"
#include "maya/tensor/ops.hpp"

namespace maya::fem {

using Slot = detail::StepInputs;  // the step nodes' named inputs

TensorVar SoftBody::ground_forces(TensorVar positions, TensorVar velocities) const {
  const Shape expected{num_vertices(), dim()};
  for (const TensorVar var : {positions, velocities}) {
    const ShapeView shape = var.shape();
    if (!std::equal(shape.begin(), shape.end(), expected.begin(), expected.end())) {
      throw ShapeError("SoftBody::ground_forces: positions and velocities must be " +
                       shape_string(expected) + ", got " + shape_string(shape));
    }
  }
  TensorTape& tape = positions.tape();
  const double* x = tape.view(positions).values;
  const double* v = tape.view(velocities).values;
  const detail::GroundKernel kernel(options_.ground, dim(), pinned_mask_.data());
  return tape.record(*ground_op_, {positions, velocities}, expected, [&](MutableTensorView out) {
    std::fill(out.values, out.values + out.numel(), 0.0);
    kernel.add_explicit_forces(x, v, num_vertices(), out.values);
  });
}

void SoftBody::GroundOp::backward(BackwardContext& context) const {
  const detail::GroundKernel kernel(body_->options_.ground, body_->dim(),
                                    body_->pinned_mask_.data());
  enum Input : std::size_t { kPositions, kVelocities };
  double* g_x = context.needs_grad(kPositions) ? context.grad_input(kPositions).values : nullptr;
  double* g_v = context.needs_grad(kVelocities) ? context.grad_input(kVelocities).values : nullptr;
  kernel.explicit_vjp(context.input(kPositions).values, context.input(kVelocities).values,
                      body_->num_vertices(), context.grad_output().values, g_x, g_v);
}

void SoftBody::check_state(TensorVar state, double dt, std::string_view operation) const {
  (void)check_positive(dt, std::string(operation) + ": dt");
  const ShapeView shape = state.shape();
  const Shape expected{2, num_vertices(), dim()};
  if (!std::equal(shape.begin(), shape.end(), expected.begin(), expected.end())) {
    throw ShapeError(std::string(operation) + ": state of shape " + shape_string(shape) +
                     ", expected " + shape_string(expected));
  }
}

TensorVar SoftBody::step_explicit_composed(TensorVar state, const BodyParameters& params,
                                           double dt) const {
  return compose_explicit(state, params, dt, nullptr);
}

TensorVar SoftBody::step_explicit_composed(TensorVar state, const BodyParameters& params, double dt,
                                           const RigidObstacles& obstacles) const {
  return compose_explicit(state, params, dt, &obstacles);
}

TensorVar SoftBody::compose_explicit(TensorVar state, const BodyParameters& params, double dt,
                                     const RigidObstacles* obstacles) const {
  check_state(state, dt, "SoftBody::step_explicit_composed");
  check_parameters(params, "SoftBody::step_explicit_composed", true);
  check_obstacles(obstacles, "SoftBody::step_explicit_composed");
  TensorTape& tape = state.tape();
  const TensorVar x = dynamics::positions_of(state);
  const TensorVar v = dynamics::velocities_of(state);
  TensorVar force = elastic_forces(x, params);
  if (options_.ground.enabled) force = force + ground_forces(x, v);
  if (obstacles != nullptr) force = force + rigid_contact_forces(state, *obstacles).soft;
  const TensorVar gravity = tape.constant(Tensor::from_data(gravity_, {dim()}));
  TensorVar v1 = v + dt * (force / unsqueeze(params.mass, 1) + gravity);
  if (!options_.pinned.empty()) {
    std::vector<double> free(num_vertices());
    for (std::size_t i = 0; i < free.size(); ++i) free[i] = pinned_mask_[i] ? 0.0 : 1.0;
    v1 = v1 * tape.constant(Tensor::from_data(std::move(free), {num_vertices(), 1}));
  }
  return stack({x + dt * v1, v1}, 0);
}

namespace {

// f(x, v) = elastic + ground + rigid contact forces, into `force` [N, D].
void total_forces(const detail::ElementInputs& in, Energy energy, std::size_t dim,
                  const detail::GroundKernel& ground, const detail::RigidContactKernel& rigid,
                  const double* x, const double* v, std::size_t n, double* force) {
  std::fill(force, force + n * dim, 0.0);
  detail::dispatch(energy, dim, [&]<int D, template <int> class Material>() {
    detail::add_elastic_forces<D, Material>(in, force);
  });
  ground.add_explicit_forces(x, v, n, force);
  rigid.add_explicit_forces(x, v, n, force, nullptr);
}

}  // namespace

TensorVar SoftBody::step_explicit(TensorVar state, const BodyParameters& params, double dt) const {
  return record_explicit(state, params, dt, nullptr);
}

TensorVar SoftBody::step_explicit(TensorVar state, const BodyParameters& params, double dt,
                                  const RigidObstacles& obstacles) const {
  return record_explicit(state, params, dt, &obstacles);
}

TensorVar SoftBody::record_explicit(TensorVar state, const BodyParameters& params, double dt,
                                    const RigidObstacles* obstacles) const {
  check_state(state, dt, "SoftBody::step_explicit");
  check_parameters(params, "SoftBody::step_explicit", true);
  check_obstacles(obstacles, "SoftBody::step_explicit");
  TensorTape& tape = state.tape();
  const std::size_t n = num_vertices();
  const std::size_t d = dim();
  const double* x = tape.view(state).values;
  const double* v = x + n * d;
  const double* mass = tape.view(params.mass).values;
  const bool actuated = params.actuation.valid();
  const TensorView actuation = actuated ? tape.view(params.actuation) : TensorView{};
  const detail::ElementInputs in = detail::element_inputs(
      *this, x, tape.view(params.rest.inverse_edges), tape.view(params.rest.volumes),
      tape.view(params.lame.mu), tape.view(params.lame.lambda), actuated ? &actuation : nullptr);
  const detail::GroundKernel ground(options_.ground, d, pinned_mask_.data());
  std::vector<TensorVar> inputs{state,          params.rest.inverse_edges, params.rest.volumes,
                                params.lame.mu, params.lame.lambda,        params.mass};
  if (actuated) inputs.push_back(params.actuation);
  detail::RigidContactKernel rigid;
  if (obstacles != nullptr) {
    const RigidContactMaterial& m = obstacles->material;
    rigid = rigid_kernel(*obstacles);
    inputs.insert(inputs.end(), {obstacles->state, m.stiffness, m.damping, m.friction});
  }
  const double saved[] = {dt};
  return tape.record(
      *explicit_op_, inputs, Shape{2, n, d},
      [&](MutableTensorView out) {
        double* x1 = out.values;
        double* v1 = out.values + n * d;  // holds the forces until overwritten
        total_forces(in, options_.energy, d, ground, rigid, x, v, n, v1);
        for (std::size_t j = 0; j < n * d; ++j) {
          const std::size_t i = j / d;
          v1[j] = pinned_mask_[i] ? 0.0 : v[j] + dt * (v1[j] / mass[i] + gravity_[j % d]);
          x1[j] = x[j] + dt * v1[j];
        }
      },
      SavedData{saved, {}});
}

// x1 = x + dt v1, v1 = v + dt (f / m + g) on free vertices (v1 = 0, x1 = x on pinned ones):
// the adjoint reaching v1 is g_v1 + dt g_x1, so dL/df = dt (g_v1 + dt g_x1) / m, and
// dL/dm = -dL/df . f / m; dL/df then flows through the force adjoints.
void SoftBody::ExplicitOp::backward(BackwardContext& context) const {
  const SoftBody& body = *body_;
  const std::size_t n = body.num_vertices();
  const std::size_t d = body.dim();
  const std::size_t nd = n * d;
  const double dt = context.saved()[0];
  const double* x = context.input(Slot::kState).values;
  const double* v = x + nd;
  const double* mass = context.input(Slot::kMass).values;
  const double* g_x1 = context.grad_output().values;
  const double* g_v1 = g_x1 + nd;
  const detail::StepInputs layout = detail::StepInputs::of(context.num_inputs());
  const bool actuated = layout.actuated;
  const TensorView actuation = actuated ? context.input(Slot::kActuation) : TensorView{};
  const detail::ElementInputs in = detail::element_inputs(
      body, x, context.input(Slot::kInverseEdges), context.input(Slot::kVolumes),
      context.input(Slot::kMu), context.input(Slot::kLambda), actuated ? &actuation : nullptr);
  const detail::GroundKernel ground(body.options_.ground, d, body.pinned_mask_.data());
  const std::size_t r = layout.rigid_state;
  const detail::RigidContactKernel rigid =
      layout.rigid ? body.rigid_kernel(context, r) : detail::RigidContactKernel{};

  auto g_force_memory = context.workspace().borrow<double>(nd);  // zeros
  std::vector<double>& g_force = *g_force_memory;
  const bool state_grad = context.needs_grad(Slot::kState);
  double* g_x = state_grad ? context.grad_input(Slot::kState).values : nullptr;
  double* g_v = state_grad ? g_x + nd : nullptr;
  for (std::size_t j = 0; j < nd; ++j) {
    if (state_grad) g_x[j] += g_x1[j];
    if (body.pinned_mask_[j / d]) continue;
    const double g_velocity = g_v1[j] + dt * g_x1[j];
    if (state_grad) g_v[j] += g_velocity;
    g_force[j] = dt * g_velocity / mass[j / d];
  }
  if (context.needs_grad(Slot::kMass)) {
    auto force_memory = context.workspace().borrow<double>(nd);
    std::vector<double>& force = *force_memory;
    total_forces(in, body.options_.energy, d, ground, rigid, x, v, n, force.data());
    double* g_mass = context.grad_input(Slot::kMass).values;
    for (std::size_t j = 0; j < nd; ++j) g_mass[j / d] -= g_force[j] * force[j] / mass[j / d];
  }
  detail::ElementGradients out;
  out.positions = g_x;
  layout.point_element_gradients(context, out);
  detail::dispatch(body.options_.energy, d, [&]<int D, template <int> class Material>() {
    detail::elastic_force_vjp<D, Material>(in, g_force.data(), out);
  });
  if (state_grad) ground.explicit_vjp(x, v, n, g_force.data(), g_x, g_v);
  if (layout.rigid) {
    double g_material[3] = {0.0, 0.0, 0.0};
    double* g_rigid = context.needs_grad(r) ? context.grad_input(r).values : nullptr;
    rigid.explicit_vjp(x, v, n, g_force.data(), nullptr, g_x, g_v, g_rigid, g_material);
    for (std::size_t j = 0; j < 3; ++j) {
      if (context.needs_grad(layout.rigid_material(j)))
        context.grad_input(layout.rigid_material(j)).values[0] += g_material[j];
    }
  }
}

}  // namespace maya::fem
