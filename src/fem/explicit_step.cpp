// Ground forces as a fused node and their composed twin; the semi-implicit Euler step as a fused
// node, and its composed twin built from the forces' composed twins and elementwise ops.
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

TensorVar ground_forces(const SoftBody& body, TensorVar positions, TensorVar velocities) {
  const detail::SoftBodyModel& model = body.model();
  const Shape expected{model.num_vertices(), model.dim()};
  for (const TensorVar var : {positions, velocities}) {
    const ShapeView shape = var.shape();
    if (!std::equal(shape.begin(), shape.end(), expected.begin(), expected.end())) {
      throw ShapeError("fem::ground_forces: positions and velocities must be " +
                       shape_string(expected) + ", got " + shape_string(shape));
    }
  }
  TensorTape& tape = positions.tape();
  const double* x = tape.view(positions).values;
  const double* v = tape.view(velocities).values;
  const detail::GroundKernel kernel(model.options.ground, model.dim(), model.pinned_mask.data());
  tape.keep_alive(body.ops());
  return tape.record(body.ops()->ground, {positions, velocities}, expected,
                     [&](MutableTensorView out) {
                       std::fill(out.values, out.values + out.numel(), 0.0);
                       kernel.add_explicit_forces(x, v, model.num_vertices(), out.values);
                     });
}

void detail::GroundOp::backward(BackwardContext& context) const {
  const detail::GroundKernel kernel(model_->options.ground, model_->dim(),
                                    model_->pinned_mask.data());
  enum Input : std::size_t { kPositions, kVelocities };
  double* g_x = context.needs_grad(kPositions) ? context.grad_input(kPositions).values : nullptr;
  double* g_v = context.needs_grad(kVelocities) ? context.grad_input(kVelocities).values : nullptr;
  kernel.explicit_vjp(context.input(kPositions).values, context.input(kVelocities).values,
                      model_->num_vertices(), context.grad_output().values, g_x, g_v);
}

// The explicit law of GroundContact over the vertices below the ground (the contact set the fused
// node finds): f_up = pen (k - c v_up), f_t = -mu_f k pen v_t / sqrt(|v_t|^2 + eps^2).
TensorVar ground_forces_composed(const SoftBody& body, TensorVar positions, TensorVar velocities) {
  const detail::SoftBodyModel& model = body.model();
  const std::size_t n = model.num_vertices();
  const std::size_t d = model.dim();
  const Shape expected{n, d};
  for (const TensorVar var : {positions, velocities}) {
    const ShapeView shape = var.shape();
    if (!std::equal(shape.begin(), shape.end(), expected.begin(), expected.end())) {
      throw ShapeError("fem::ground_forces_composed: positions and velocities must be " +
                       shape_string(expected) + ", got " + shape_string(shape));
    }
  }
  TensorTape& tape = positions.tape();
  TensorVar force = tape.constant(Tensor::zeros(expected));
  const GroundContact& ground = model.options.ground;
  if (!ground.enabled) return force;
  const std::size_t up = ground.up_axis;
  const double* x_values = tape.view(positions).values;
  std::vector<std::int64_t> touching;
  for (std::size_t i = 0; i < n; ++i) {
    if (model.pinned_mask[i] == 0 && ground.height - x_values[i * d + up] > 0.0) {
      touching.push_back(static_cast<std::int64_t>(i));
    }
  }
  if (touching.empty()) return force;
  const TensorVar x = index_select(positions, 0, touching);
  const TensorVar v = index_select(velocities, 0, touching);
  const auto column = [](TensorVar a, std::size_t k) { return select(a, 1, static_cast<long>(k)); };
  const TensorVar pen = ground.height - column(x, up);
  TensorVar slip_squared =
      tape.constant(Tensor::full({touching.size()}, ground.slip_velocity * ground.slip_velocity));
  for (std::size_t t = 0; t < d; ++t) {
    if (t != up) slip_squared = slip_squared + column(v, t) * column(v, t);
  }
  const TensorVar friction_scale = -(ground.friction * ground.stiffness) * pen / sqrt(slip_squared);
  std::vector<TensorVar> components;
  for (std::size_t t = 0; t < d; ++t) {
    components.push_back(t == up ? pen * (ground.stiffness - ground.damping * column(v, up))
                                 : friction_scale * column(v, t));
  }
  return index_add(force, 0, touching, stack(components, 1));
}

namespace detail {

void check_state(const SoftBodyModel& model, TensorVar state, double dt,
                 std::string_view operation) {
  (void)check_positive(dt, std::string(operation) + ": dt");
  const ShapeView shape = state.shape();
  const Shape expected{2, model.num_vertices(), model.dim()};
  if (!std::equal(shape.begin(), shape.end(), expected.begin(), expected.end())) {
    throw ShapeError(std::string(operation) + ": state of shape " + shape_string(shape) +
                     ", expected " + shape_string(expected));
  }
}

}  // namespace detail

namespace {

// The step from tensor ops only: every force is a composed twin, so this checks the fused node's
// forces and adjoints as well as its integrator.
TensorVar compose_explicit(const SoftBody& body, TensorVar state, const BodyParameters& params,
                           double dt, const RigidObstacles* obstacles) {
  const detail::SoftBodyModel& model = body.model();
  const char* operation = "fem::step_explicit_composed";
  detail::check_state(model, state, dt, operation);
  detail::check_parameters(model, params, operation, true);
  detail::check_obstacles(model, obstacles, operation);
  TensorTape& tape = state.tape();
  const std::size_t n = model.num_vertices();
  const std::size_t d = model.dim();
  const TensorVar x = dynamics::positions_of(state);
  const TensorVar v = dynamics::velocities_of(state);
  TensorVar force = elastic_forces_composed(body, x, params);
  if (model.options.ground.enabled) force = force + ground_forces_composed(body, x, v);
  if (obstacles != nullptr)
    force = force + rigid_contact_forces_composed(body, state, *obstacles).soft;
  const TensorVar gravity = tape.constant(Tensor::from_data(model.gravity, {d}));
  TensorVar v1 = v + dt * (force / unsqueeze(params.mass, 1) + gravity);
  if (!model.options.pinned.empty()) {
    std::vector<double> free(n);
    for (std::size_t i = 0; i < n; ++i) free[i] = model.pinned_mask[i] ? 0.0 : 1.0;
    v1 = v1 * tape.constant(Tensor::from_data(std::move(free), {n, 1}));
  }
  return stack({x + dt * v1, v1}, 0);
}

}  // namespace

TensorVar step_explicit_composed(const SoftBody& body, TensorVar state,
                                 const BodyParameters& params, double dt) {
  return compose_explicit(body, state, params, dt, nullptr);
}

TensorVar step_explicit_composed(const SoftBody& body, TensorVar state,
                                 const BodyParameters& params, double dt,
                                 const RigidObstacles& obstacles) {
  return compose_explicit(body, state, params, dt, &obstacles);
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

TensorVar record_explicit(const SoftBody& body, TensorVar state, const BodyParameters& params,
                          double dt, const RigidObstacles* obstacles) {
  const detail::SoftBodyModel& model = body.model();
  const char* operation = "fem::step_explicit";
  detail::check_state(model, state, dt, operation);
  detail::check_parameters(model, params, operation, true);
  detail::check_obstacles(model, obstacles, operation);
  TensorTape& tape = state.tape();
  const std::size_t n = model.num_vertices();
  const std::size_t d = model.dim();
  const double* x = tape.view(state).values;
  const double* v = x + n * d;
  const double* mass = tape.view(params.mass).values;
  const bool actuated = params.actuation.valid();
  const TensorView actuation = actuated ? tape.view(params.actuation) : TensorView{};
  const detail::ElementInputs in = detail::element_inputs(
      model, x, tape.view(params.rest.inverse_edges), tape.view(params.rest.volumes),
      tape.view(params.lame.mu), tape.view(params.lame.lambda), actuated ? &actuation : nullptr);
  const detail::GroundKernel ground(model.options.ground, d, model.pinned_mask.data());
  std::vector<TensorVar> inputs{state,          params.rest.inverse_edges, params.rest.volumes,
                                params.lame.mu, params.lame.lambda,        params.mass};
  if (actuated) inputs.push_back(params.actuation);
  detail::RigidContactKernel rigid;
  if (obstacles != nullptr) {
    const RigidContactMaterial& m = obstacles->material;
    rigid = detail::rigid_kernel(model, *obstacles);
    inputs.insert(inputs.end(), {obstacles->state, m.stiffness, m.damping, m.friction});
  }
  const double saved[] = {dt};
  tape.keep_alive(body.ops());
  return tape.record(
      body.ops()->explicit_step, inputs, Shape{2, n, d},
      [&](MutableTensorView out) {
        double* x1 = out.values;
        double* v1 = out.values + n * d;  // holds the forces until overwritten
        total_forces(in, model.options.energy, d, ground, rigid, x, v, n, v1);
        for (std::size_t j = 0; j < n * d; ++j) {
          const std::size_t i = j / d;
          v1[j] = model.pinned_mask[i] ? 0.0 : v[j] + dt * (v1[j] / mass[i] + model.gravity[j % d]);
          x1[j] = x[j] + dt * v1[j];
        }
      },
      SavedData{saved, {}});
}

}  // namespace

TensorVar step_explicit(const SoftBody& body, TensorVar state, const BodyParameters& params,
                        double dt) {
  return record_explicit(body, state, params, dt, nullptr);
}

TensorVar step_explicit(const SoftBody& body, TensorVar state, const BodyParameters& params,
                        double dt, const RigidObstacles& obstacles) {
  return record_explicit(body, state, params, dt, &obstacles);
}

// x1 = x + dt v1, v1 = v + dt (f / m + g) on free vertices (v1 = 0, x1 = x on pinned ones):
// the adjoint reaching v1 is g_v1 + dt g_x1, so dL/df = dt (g_v1 + dt g_x1) / m, and
// dL/dm = -dL/df . f / m; dL/df then flows through the force adjoints.
void detail::ExplicitOp::backward(BackwardContext& context) const {
  const SoftBodyModel& model = *model_;
  const std::size_t n = model.num_vertices();
  const std::size_t d = model.dim();
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
      model, x, context.input(Slot::kInverseEdges), context.input(Slot::kVolumes),
      context.input(Slot::kMu), context.input(Slot::kLambda), actuated ? &actuation : nullptr);
  const detail::GroundKernel ground(model.options.ground, d, model.pinned_mask.data());
  const std::size_t r = layout.rigid_state;
  const detail::RigidContactKernel rigid =
      layout.rigid ? detail::rigid_kernel(model, context, r) : detail::RigidContactKernel{};

  auto g_force_memory = context.workspace().borrow<double>(nd);  // zeros
  std::vector<double>& g_force = *g_force_memory;
  const bool state_grad = context.needs_grad(Slot::kState);
  double* g_x = state_grad ? context.grad_input(Slot::kState).values : nullptr;
  double* g_v = state_grad ? g_x + nd : nullptr;
  for (std::size_t j = 0; j < nd; ++j) {
    if (state_grad) g_x[j] += g_x1[j];
    if (model.pinned_mask[j / d]) continue;
    const double g_velocity = g_v1[j] + dt * g_x1[j];
    if (state_grad) g_v[j] += g_velocity;
    g_force[j] = dt * g_velocity / mass[j / d];
  }
  if (context.needs_grad(Slot::kMass)) {
    auto force_memory = context.workspace().borrow<double>(nd);
    std::vector<double>& force = *force_memory;
    total_forces(in, model.options.energy, d, ground, rigid, x, v, n, force.data());
    double* g_mass = context.grad_input(Slot::kMass).values;
    for (std::size_t j = 0; j < nd; ++j) g_mass[j / d] -= g_force[j] * force[j] / mass[j / d];
  }
  detail::ElementGradients out;
  out.positions = g_x;
  layout.point_element_gradients(context, out);
  detail::dispatch(model.options.energy, d, [&]<int D, template <int> class Material>() {
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
