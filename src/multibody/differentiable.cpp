// Multibody steps on the tensor tape: the fused step, its composed twin, contact forces and step
// Jacobians. Every backward pass is exact, from the templated dynamics evaluated on other
// numbers: the fused step's in reverse mode (reverse.hpp: one recorded evaluation and one sweep,
// whatever the number of inputs), the composed twin's nodes, the contact forces, body points and
// the step Jacobians in chunked forward mode (jacobian.hpp: ceil(inputs / 8) dual evaluations).
// No finite differences anywhere.
#include "maya/multibody/differentiable.hpp"

#include <array>
#include <string>

#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"
#include "multibody/algorithms.hpp"
#include "multibody/checks.hpp"
#include "multibody/jacobian.hpp"
#include "multibody/model_ops.hpp"
#include "multibody/reverse.hpp"

namespace maya::multibody {

namespace {

using detail::ChunkDual;
using detail::InputBlock;

void check_var(const char* op, const char* what, TensorVar x, std::size_t expected) {
  if (x.shape().size() != 1 || x.numel() != expected) {
    throw ShapeError(std::string(op) + ": " + what + " must have shape [" +
                     std::to_string(expected) + "], got " + shape_string(x.shape()));
  }
}

// grad_input(b) += J_b^T g for every block b that needs a gradient, J_b = d out / d input b.
template <class Evaluate>
void backward_by_columns(BackwardContext& context, std::size_t num_outputs, Evaluate&& evaluate) {
  std::array<InputBlock, 3> blocks{};
  std::array<double*, 3> sinks{};
  const std::size_t n = context.num_inputs();
  for (std::size_t b = 0; b < n; ++b) {
    const TensorView in = context.input(b);
    const bool seeded = context.needs_grad(b);
    blocks[b] = {in.values, in.numel(), seeded};
    sinks[b] = seeded ? context.grad_input(b).values : nullptr;
  }
  const double* g = context.grad_output().values;
  detail::jacobian_columns(std::span<const InputBlock>(blocks.data(), n), num_outputs, evaluate,
                           [&](std::size_t b, std::size_t i, auto column) {
                             double sum = 0.0;
                             for (std::size_t row = 0; row < num_outputs; ++row) {
                               sum += g[row] * column(row);
                             }
                             sinks[b][i] += sum;
                           });
}

// The same contraction in reverse mode: the evaluation is recorded on Rev numbers (reverse.hpp)
// with a leaf per input entry that needs a gradient, and one sweep from g gives J_b^T g for every
// block at once.
template <class Evaluate>
void backward_by_reverse(BackwardContext& context, std::size_t num_outputs, Evaluate&& evaluate) {
  using detail::Rev;
  detail::RevTape& tape = detail::rev_tape();
  tape.nodes.clear();
  const std::size_t n = context.num_inputs();
  thread_local std::vector<std::vector<Rev>> inputs;
  thread_local std::vector<Rev> out;
  std::array<std::uint32_t, 3> first{};
  inputs.resize(n);
  for (std::size_t b = 0; b < n; ++b) {
    const TensorView in = context.input(b);
    inputs[b].resize(in.numel());
    first[b] = static_cast<std::uint32_t>(tape.nodes.size());
    const bool leaf = context.needs_grad(b);
    for (std::size_t j = 0; j < in.numel(); ++j) {
      inputs[b][j] = leaf ? Rev::input(in.values[j]) : Rev(in.values[j]);
    }
  }
  out.resize(num_outputs);
  evaluate(inputs, out.data());
  tape.adjoints.assign(tape.nodes.size(), 0.0);
  const double* g = context.grad_output().values;
  for (std::size_t k = 0; k < num_outputs; ++k) {
    if (out[k].i != detail::kConstant) tape.adjoints[out[k].i] += g[k];
  }
  tape.sweep();
  for (std::size_t b = 0; b < n; ++b) {
    if (!context.needs_grad(b)) continue;
    double* grad = context.grad_input(b).values;
    for (std::size_t j = 0; j < inputs[b].size(); ++j) grad[j] += tape.adjoints[first[b] + j];
  }
}

template <class S>
void step_any(const Model& model, const S* x, const S* u, const S* p, double dt,
              Integrator integrator, S* out) {
  thread_local detail::StepScratch<S> scratch;
  detail::step(model, p, x, u, dt, integrator, out, scratch);
}

template <class S>
void acceleration_composed(const Model& model, const S* x, const S* u, const S* p, S* qdd) {
  thread_local detail::Workspace<S> ws;
  thread_local std::vector<S> q, M, bias;
  q.assign(x, x + model.nq());
  detail::normalize_quaternions(model, q.data());
  detail::acceleration_crba(model, p, q.data(), x + model.nq(), u, qdd, ws, M, bias);
}

template <class S>
void integrate_any(const Model& model, const S* q, const S* v, double dt, S* q1) {
  thread_local std::vector<S> normalized;
  normalized.assign(q, q + model.nq());
  detail::normalize_quaternions(model, normalized.data());
  detail::integrate_positions(model, normalized.data(), v, dt, q1);
}

template <class S>
void contact_forces_any(const Model& model, const S* x, const S* p, S* forces) {
  thread_local detail::Workspace<S> ws;
  thread_local std::vector<S> q;
  q.assign(x, x + model.nq());
  detail::normalize_quaternions(model, q.data());
  detail::kinematics(model, p, q.data(), x + model.nq(), ws);
  detail::contact_wrenches(model, p, ws, forces);
}

template <class S>
void point_any(const Model& model, const S* x, const S* p, std::size_t body, const Vec3& point,
               S* out) {
  thread_local detail::Workspace<S> ws;
  thread_local std::vector<S> q;
  q.assign(x, x + model.nq());
  detail::normalize_quaternions(model, q.data());
  detail::kinematics(model, p, q.data(), static_cast<const S*>(nullptr), ws);
  const detail::Transform<S>& X = ws.X_world[body];
  const detail::Vec3<S> local{S(point[0]), S(point[1]), S(point[2])};
  const detail::Vec3<S> world = detail::add(X.r, detail::mul_transpose(X.E, local));
  for (int k = 0; k < 3; ++k) out[k] = world[k];
}

}  // namespace

namespace detail {

void PointOp::backward(BackwardContext& context) const {
  const Model& model = *model_;
  const auto body = static_cast<std::size_t>(context.saved_ints()[0]);
  const multibody::Vec3 point{context.saved()[0], context.saved()[1], context.saved()[2]};
  backward_by_columns(context, 3, [&](std::vector<std::vector<ChunkDual>>& in, ChunkDual* out) {
    point_any(model, in[0].data(), in[1].data(), body, point, out);
  });
}

void StepOp::backward(BackwardContext& context) const {
  const Model& model = *model_;
  const double dt = context.saved()[0];
  const auto integrator = static_cast<Integrator>(context.saved_ints()[0]);
  backward_by_reverse(context, model.nx(), [&](auto& in, auto* out) {
    step_any(model, in[0].data(), in[1].data(), in[2].data(), dt, integrator, out);
  });
}

void AccelerationOp::backward(BackwardContext& context) const {
  const Model& model = *model_;
  backward_by_columns(context, model.nv(),
                      [&](std::vector<std::vector<ChunkDual>>& in, ChunkDual* out) {
                        acceleration_composed(model, in[0].data(), in[1].data(), in[2].data(), out);
                      });
}

void IntegrateOp::backward(BackwardContext& context) const {
  const Model& model = *model_;
  const double dt = context.saved()[0];
  backward_by_columns(context, model.nq(),
                      [&](std::vector<std::vector<ChunkDual>>& in, ChunkDual* out) {
                        integrate_any(model, in[0].data(), in[1].data(), dt, out);
                      });
}

void ContactForcesOp::backward(BackwardContext& context) const {
  const Model& model = *model_;
  backward_by_columns(context, 3 * model.contact_points().size(),
                      [&](std::vector<std::vector<ChunkDual>>& in, ChunkDual* out) {
                        contact_forces_any(model, in[0].data(), in[1].data(), out);
                      });
}

}  // namespace detail

TensorVar step(const Model& model, TensorVar state, TensorVar control, TensorVar params, double dt,
               Integrator integrator) {
  const char* op = "multibody::step";
  check_var(op, "state", state, model.nx());
  check_var(op, "control", control, model.nu());
  check_var(op, "params", params, model.num_parameters());
  detail::check_dt(op, dt);
  TensorTape& tape = state.tape();
  const double* x = tape.view(state).values;
  const double* u = tape.view(control).values;
  const double* p = tape.view(params).values;
  const double saved[] = {dt};
  const std::int64_t saved_ints[] = {static_cast<std::int64_t>(integrator)};
  const Shape shape{model.nx()};
  return tape.record(
      model.tape_ops().step, {state, control, params}, shape,
      [&](MutableTensorView out) {
        step_any(model, x, u, p, dt, integrator, out.values);
        detail::check_finite_state(model, op, out.values, 0);
      },
      SavedData{saved, saved_ints});
}

TensorVar step_composed(const Model& model, TensorVar state, TensorVar control, TensorVar params,
                        double dt) {
  const char* op = "multibody::step_composed";
  check_var(op, "state", state, model.nx());
  check_var(op, "control", control, model.nu());
  check_var(op, "params", params, model.num_parameters());
  detail::check_dt(op, dt);
  TensorTape& tape = state.tape();
  const long nq = static_cast<long>(model.nq()), nx = static_cast<long>(model.nx());
  const double* x = tape.view(state).values;
  const double* u = tape.view(control).values;
  const double* p = tape.view(params).values;
  const Shape v_shape{model.nv()};
  const TensorVar qdd = tape.record(
      model.tape_ops().acceleration, {state, control, params}, v_shape,
      [&](MutableTensorView out) { acceleration_composed(model, x, u, p, out.values); });
  const TensorVar q = slice(state, 0, 0, nq);
  const TensorVar v1 = slice(state, 0, nq, nx) + qdd * dt;
  const double* q_values = tape.view(q).values;
  const double* v1_values = tape.view(v1).values;
  const double saved[] = {dt};
  const Shape q_shape{model.nq()};
  const TensorVar q1 = tape.record(
      model.tape_ops().integrate, {q, v1}, q_shape,
      [&](MutableTensorView out) { integrate_any(model, q_values, v1_values, dt, out.values); },
      SavedData{saved, {}});
  return concat({q1, v1}, 0);
}

TensorVar contact_forces(const Model& model, TensorVar state, TensorVar params) {
  const char* op = "multibody::contact_forces";
  check_var(op, "state", state, model.nx());
  check_var(op, "params", params, model.num_parameters());
  TensorTape& tape = state.tape();
  const double* x = tape.view(state).values;
  const double* p = tape.view(params).values;
  const Shape shape{model.contact_points().size(), 3};
  return tape.record(model.tape_ops().contact_forces, {state, params}, shape,
                     [&](MutableTensorView out) { contact_forces_any(model, x, p, out.values); });
}

TensorVar body_point(const Model& model, TensorVar state, TensorVar params, std::size_t body,
                     const Vec3& point) {
  const char* op = "multibody::body_point";
  check_var(op, "state", state, model.nx());
  check_var(op, "params", params, model.num_parameters());
  if (body >= model.num_bodies()) {
    throw ValueError(std::string(op) + ": body " + std::to_string(body) +
                     " is out of range; the model has " + std::to_string(model.num_bodies()));
  }
  TensorTape& tape = state.tape();
  const double* x = tape.view(state).values;
  const double* p = tape.view(params).values;
  const double saved[] = {point[0], point[1], point[2]};
  const std::int64_t saved_ints[] = {static_cast<std::int64_t>(body)};
  const Shape shape{3};
  return tape.record(
      model.tape_ops().point, {state, params}, shape,
      [&](MutableTensorView out) { point_any(model, x, p, body, point, out.values); },
      SavedData{saved, saved_ints});
}

StepJacobians step_jacobians(const Model& model, const Tensor& states, const Tensor& controls,
                             std::span<const double> params, double dt, Integrator integrator,
                             bool with_parameters) {
  const char* op = "multibody::step_jacobians";
  const std::size_t nx = model.nx(), nu = model.nu(), np = model.num_parameters();
  if (states.ndim() != 2 || states.shape()[1] != nx) {
    throw ShapeError(std::string(op) + ": states must have shape [T, " + std::to_string(nx) +
                     "], got " + shape_string(states.shape()));
  }
  const std::size_t T = states.shape()[0];
  if (controls.ndim() != 2 || controls.shape()[0] != T || controls.shape()[1] != nu) {
    throw ShapeError(std::string(op) + ": controls must have shape [" + std::to_string(T) + ", " +
                     std::to_string(nu) + "], got " + shape_string(controls.shape()));
  }
  detail::check_length(op, "params", params.size(), np);
  detail::check_dt(op, dt);
  StepJacobians result{Tensor::zeros({T, nx, nx}), Tensor::zeros({T, nx, nu}),
                       with_parameters ? Tensor::zeros({T, nx, np}) : Tensor{}};
  double* A = result.state.mutable_data().data();
  double* B = result.control.mutable_data().data();
  double* P = with_parameters ? result.parameters.mutable_data().data() : nullptr;
  const double* x = states.data().data();
  const double* u = controls.data().data();
  for (std::size_t t = 0; t < T; ++t) {
    const std::array<InputBlock, 3> blocks{InputBlock{x + t * nx, nx, true},
                                           InputBlock{u + t * nu, nu, true},
                                           InputBlock{params.data(), np, with_parameters}};
    const std::array<std::pair<double*, std::size_t>, 3> targets{
        std::pair{A + t * nx * nx, nx}, std::pair{B + t * nx * nu, nu},
        std::pair{P != nullptr ? P + t * nx * np : nullptr, np}};
    detail::jacobian_columns(
        blocks, nx,
        [&](std::vector<std::vector<ChunkDual>>& in, ChunkDual* out) {
          step_any(model, in[0].data(), in[1].data(), in[2].data(), dt, integrator, out);
        },
        [&](std::size_t b, std::size_t i, auto column) {
          auto [target, cols] = targets[b];
          for (std::size_t row = 0; row < nx; ++row) target[row * cols + i] = column(row);
        });
  }
  return result;
}

}  // namespace maya::multibody
