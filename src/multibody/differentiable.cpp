// Multibody steps on the tensor tape: the fused step, its composed twin, contact forces and step
// Jacobians. Every backward pass is exact, from the templated dynamics evaluated on other
// numbers: the fused step's in reverse mode (reverse.hpp; for Euler through the implicit-function
// form, euler_step_adjoint), the composed twin's nodes, the contact forces, body points and the
// step Jacobians in chunked forward mode (jacobian.hpp: ceil(inputs / 8) dual evaluations). No
// finite differences anywhere.
#include "maya/multibody/differentiable.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <string>

#include "core/parallel.hpp"
#include "maya/core/error.hpp"
#include "maya/multibody/hard_contact.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"
#include "multibody/checks.hpp"
#include "multibody/integration.hpp"
#include "multibody/jacobian.hpp"
#include "multibody/model_ops.hpp"
#include "multibody/newton_euler_adjoint.hpp"
#include "multibody/reverse.hpp"
#include "multibody/scratch.hpp"

namespace maya::multibody {

namespace {

using detail::ChunkDual;
using detail::InputBlock;

using detail::check_var;

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
  detail::jacobian_columns(context.workspace(), std::span<const InputBlock>(blocks.data(), n),
                           num_outputs, evaluate, [&](std::size_t b, std::size_t i, auto column) {
                             double sum = 0.0;
                             for (std::size_t row = 0; row < num_outputs; ++row) {
                               sum += g[row] * column(row);
                             }
                             sinks[b][i] += sum;
                           });
}

// Reverse mode: the inputs that need a gradient become leaves of the Rev tape (reverse.hpp), the
// evaluation is recorded, and one sweep from g gives J_b^T g for every block at once.
struct RevInputs {
  std::vector<std::vector<detail::Rev>> values;
  std::array<std::uint32_t, 3> first{};

  void record(BackwardContext& context, detail::RevTape& tape) {
    values.resize(context.num_inputs());
    for (std::size_t b = 0; b < context.num_inputs(); ++b) {
      const TensorView in = context.input(b);
      values[b].resize(in.numel());
      first[b] = static_cast<std::uint32_t>(tape.nodes.size());
      const bool leaf = context.needs_grad(b);
      for (std::size_t j = 0; j < in.numel(); ++j) {
        values[b][j] = leaf ? detail::Rev::input(tape, in.values[j]) : detail::Rev(in.values[j]);
      }
    }
  }
  // After a sweep: grad_input(b) += the leaves' adjoints.
  void add_gradients(BackwardContext& context, const detail::RevTape& tape) const {
    for (std::size_t b = 0; b < context.num_inputs(); ++b) {
      if (!context.needs_grad(b)) continue;
      double* grad = context.grad_input(b).values;
      for (std::size_t j = 0; j < values[b].size(); ++j) grad[j] += tape.adjoints[first[b] + j];
    }
  }
};

template <class Evaluate>
void backward_by_reverse(BackwardContext& context, std::size_t num_outputs, Evaluate&& evaluate) {
  Workspace& workspace = context.workspace();
  detail::Lent<detail::RevTape> lent_tape(workspace);
  detail::Lent<RevInputs> lent_inputs(workspace);
  detail::RevTape& tape = *lent_tape;
  RevInputs& inputs = *lent_inputs;
  auto out_loan = workspace.borrow<detail::Rev>(num_outputs);
  std::vector<detail::Rev>& out = *out_loan;
  tape.nodes.clear();
  inputs.record(context, tape);
  evaluate(workspace, inputs.values, out.data());
  tape.adjoints.assign(tape.nodes.size(), 0.0);
  const double* g = context.grad_output().values;
  for (std::size_t k = 0; k < num_outputs; ++k) {
    if (out[k].i != detail::kConstant) tape.adjoints[out[k].i] += g[k];
  }
  tape.sweep();
  inputs.add_gradients(context, tape);
}

// The scratch of euler_step_adjoint, each borrowed as one loan: the hand path's, then the
// recorded path's.
struct EulerAdjointScratch {
  detail::TreeScratch<double> ws;
  detail::NewtonEulerAdjointScratch reverse;
  std::vector<double> q, qdd, g_qdd, lambda, q_bar, qd_bar, u_bar;
};
struct EulerRevScratch {
  detail::RevTape tape;
  RevInputs inputs;
  detail::TreeScratch<detail::Rev> ws;
  std::vector<detail::Rev> q_rev, qdd_rev, out, tau, inverse, qdd_constant;
};

// The semi-implicit Euler step's adjoint without recording the articulated-body algorithm.
// x1 = (q (+) dt v1, v1), v1 = v + dt qdd, and qdd solves R = ID(q, v, qdd) - tau(q, v, u) = 0
// (inverse dynamics with the contact forces, tau the actuator, damping and limit forces). So
//   d loss / d theta = g_qdd^T d qdd / d theta = -lambda^T dR / d theta,  lambda = M^-1 g_qdd,
// with qdd held at its value: one recorded position update gives g_qdd, one O(n) pass lambda,
// and one recorded Newton-Euler pass (a third of ABA's operations) the rest. On trees of
// scalar joints without contact and without a parameter gradient the step kept its forward
// pass's transforms, velocities, accelerations and articulated-body factorization with the node
// (step() below), and everything is by hand: q1 = q + dt v1 (no quaternions), so g_v1 gathers
// dt g_q1, lambda comes from the kept factorization, and Newton-Euler's reverse pass
// (newton_euler_adjoint.hpp) replaces the recorded one.
void euler_step_adjoint(const Model& model, BackwardContext& context, double dt) {
  using detail::Rev;
  const std::size_t nq = model.nq(), nv = model.nv();
  const double* x = context.input(0).values;
  const double* u = context.input(1).values;
  const double* p = context.input(2).values;
  Workspace& workspace = context.workspace();
  detail::Lent<EulerAdjointScratch> scratch(workspace);
  detail::TreeScratch<double>& ws = scratch->ws;
  std::vector<double>&q = scratch->q, &qdd = scratch->qdd, &g_qdd = scratch->g_qdd,
  &lambda = scratch->lambda;
  const double* g = context.grad_output().values;

  const std::span<const double> saved = context.saved();
  if (context.saved_ints().size() > 1 && context.saved_ints()[1] == 1) {
    // By hand, on what the recorded step kept: neither kinematics nor the articulated-body
    // algorithm runs again.
    const double* kept = saved.data() + 1;
    std::vector<double>&q_bar = scratch->q_bar, &qd_bar = scratch->qd_bar, &u_bar = scratch->u_bar;
    q_bar.assign(g, g + nq);
    qd_bar.resize(nv);
    g_qdd.resize(nv);
    for (std::size_t k = 0; k < nv; ++k) {
      qd_bar[k] = g[nq + k] + dt * g[k];
      g_qdd[k] = dt * qd_bar[k];
    }
    detail::restore_factorization(model, kept, ws);
    lambda.resize(nv);
    detail::apply_inverse_mass(model, ws, g_qdd.data(), lambda.data());
    detail::restore_forces(model, p, kept, ws, scratch->reverse);
    detail::newton_euler_adjoint(model, ws, scratch->reverse, x + nq, lambda.data(), q_bar.data(),
                                 qd_bar.data());
    u_bar.assign(model.nu(), 0.0);
    detail::joint_forces_adjoint(model, p, x, u, lambda.data(), q_bar.data(), qd_bar.data(),
                                 u_bar.data());
    if (context.needs_grad(0)) {
      double* gx = context.grad_input(0).values;
      for (std::size_t k = 0; k < nq; ++k) gx[k] += q_bar[k];
      for (std::size_t k = 0; k < nv; ++k) gx[nq + k] += qd_bar[k];
    }
    if (context.needs_grad(1)) {
      double* gu = context.grad_input(1).values;
      for (std::size_t k = 0; k < model.nu(); ++k) gu[k] += u_bar[k];
    }
    return;
  }

  q.assign(x, x + nq);
  detail::normalize_quaternions(model, q.data());
  qdd.resize(nv);
  const double implicit_dt = model.options().implicit_damping ? dt : 0.0;
  detail::acceleration(model, p, q.data(), x + nq, u, qdd.data(), ws, implicit_dt);

  detail::Lent<EulerRevScratch> rev(workspace);
  detail::RevTape& tape = rev->tape;
  RevInputs& inputs = rev->inputs;
  std::vector<Rev>&q_rev = rev->q_rev, &qdd_rev = rev->qdd_rev, &out = rev->out;
  // 1. The position and velocity update, with qdd as leaves.
  tape.nodes.clear();
  inputs.record(context, tape);
  const std::uint32_t qdd_first = static_cast<std::uint32_t>(tape.nodes.size());
  qdd_rev.resize(nv);
  for (std::size_t k = 0; k < nv; ++k) qdd_rev[k] = Rev::input(tape, qdd[k]);
  q_rev.assign(inputs.values[0].begin(), inputs.values[0].begin() + static_cast<long>(nq));
  detail::normalize_quaternions(model, q_rev.data());
  out.resize(nq + nv);
  for (std::size_t k = 0; k < nv; ++k) out[nq + k] = inputs.values[0][nq + k] + dt * qdd_rev[k];
  detail::integrate_positions(model, q_rev.data(), out.data() + nq, dt, out.data());
  tape.adjoints.assign(tape.nodes.size(), 0.0);
  for (std::size_t k = 0; k < nq + nv; ++k) {
    if (out[k].i != detail::kConstant) tape.adjoints[out[k].i] += g[k];
  }
  tape.sweep();
  inputs.add_gradients(context, tape);
  g_qdd.resize(nv);
  for (std::size_t k = 0; k < nv; ++k) g_qdd[k] = tape.adjoints[qdd_first + k];
  // 2. lambda = M^-1 g_qdd.
  lambda.resize(nv);
  detail::apply_inverse_mass(model, ws, g_qdd.data(), lambda.data());
  // 3. psi = lambda^T (tau - ID) recorded with qdd constant; its gradient is the rest.
  tape.nodes.clear();
  inputs.record(context, tape);
  detail::TreeScratch<Rev>& ws_rev = rev->ws;
  std::vector<Rev>&tau = rev->tau, &inverse = rev->inverse, &qdd_constant = rev->qdd_constant;
  q_rev.assign(inputs.values[0].begin(), inputs.values[0].begin() + static_cast<long>(nq));
  detail::normalize_quaternions(model, q_rev.data());
  const Rev* v_rev = inputs.values[0].data() + nq;
  const Rev* p_rev = inputs.values[2].data();
  detail::kinematics(model, p_rev, q_rev.data(), v_rev, ws_rev, model.has_contact());
  tau.resize(nv);
  detail::joint_forces(model, p_rev, q_rev.data(), v_rev, inputs.values[1].data(), tau.data());
  if (model.has_contact()) {
    detail::contact_wrenches(model, p_rev, ws_rev, static_cast<Rev*>(nullptr));
  }
  qdd_constant.assign(qdd.begin(), qdd.end());
  inverse.resize(nv);
  detail::newton_euler(
      model, qdd_constant.data(), inverse.data(), ws_rev,
      detail::ImplicitDamping<Rev>{implicit_dt > 0.0 ? p_rev : nullptr, implicit_dt});
  tape.adjoints.assign(tape.nodes.size(), 0.0);
  // d psi / d node: lambda_k on tau_k, -lambda_k on ID_k; seeding them directly avoids
  // recording the sum.
  for (std::size_t k = 0; k < nv; ++k) {
    if (tau[k].i != detail::kConstant) tape.adjoints[tau[k].i] += lambda[k];
    if (inverse[k].i != detail::kConstant) tape.adjoints[inverse[k].i] -= lambda[k];
  }
  tape.sweep();
  inputs.add_gradients(context, tape);
}

template <class S>
void step_any(Workspace& workspace, const Model& model, const S* x, const S* u, const S* p,
              double dt, Integrator integrator, S* out) {
  detail::Lent<detail::StepScratch<S>> scratch(workspace);
  detail::step(model, p, x, u, dt, integrator, out, *scratch);
}

template <class S>
void acceleration_composed(Workspace& workspace, const Model& model, const S* x, const S* u,
                           const S* p, double dt, S* qdd) {
  detail::Lent<detail::TreeScratch<S>> ws(workspace);
  auto q_loan = workspace.borrow<S>(), M_loan = workspace.borrow<S>();
  auto bias_loan = workspace.borrow<S>();
  std::vector<S>&q = *q_loan, &M = *M_loan, &bias = *bias_loan;
  q.assign(x, x + model.nq());
  detail::normalize_quaternions(model, q.data());
  detail::acceleration_crba(model, p, q.data(), x + model.nq(), u, qdd, *ws, M, bias,
                            model.options().implicit_damping ? dt : 0.0);
}

template <class S>
void integrate_any(Workspace& workspace, const Model& model, const S* q, const S* v, double dt,
                   S* q1) {
  auto normalized_loan = workspace.borrow<S>();
  std::vector<S>& normalized = *normalized_loan;
  normalized.assign(q, q + model.nq());
  detail::normalize_quaternions(model, normalized.data());
  detail::integrate_positions(model, normalized.data(), v, dt, q1);
}

template <class S>
void contact_forces_any(Workspace& workspace, const Model& model, const S* x, const S* p,
                        S* forces) {
  detail::Lent<detail::TreeScratch<S>> lent_ws(workspace);
  detail::TreeScratch<S>& ws = *lent_ws;
  auto q_loan = workspace.borrow<S>();
  std::vector<S>& q = *q_loan;
  q.assign(x, x + model.nq());
  detail::normalize_quaternions(model, q.data());
  detail::kinematics(model, p, q.data(), x + model.nq(), ws);
  detail::contact_wrenches(model, p, ws, forces);
}

template <class S>
void point_any(Workspace& workspace, const Model& model, const S* x, const S* p, std::size_t body,
               const Vec3& point, S* out) {
  detail::Lent<detail::TreeScratch<S>> lent_ws(workspace);
  detail::TreeScratch<S>& ws = *lent_ws;
  auto q_loan = workspace.borrow<S>();
  std::vector<S>& q = *q_loan;
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
  Workspace& workspace = context.workspace();
  backward_by_columns(context, 3, [&](std::vector<std::vector<ChunkDual>>& in, ChunkDual* out) {
    point_any(workspace, model, in[0].data(), in[1].data(), body, point, out);
  });
}

void StepOp::backward(BackwardContext& context) const {
  const Model& model = *model_;
  const double dt = context.saved()[0];
  const auto integrator = static_cast<Integrator>(context.saved_ints()[0]);
  if (integrator == Integrator::kSemiImplicitEuler) {
    euler_step_adjoint(model, context, dt);
    return;
  }
  backward_by_reverse(context, model.nx(), [&](Workspace& workspace, auto& in, auto* out) {
    step_any(workspace, model, in[0].data(), in[1].data(), in[2].data(), dt, integrator, out);
  });
}

void AccelerationOp::backward(BackwardContext& context) const {
  const Model& model = *model_;
  const double dt = context.saved()[0];
  Workspace& workspace = context.workspace();
  backward_by_columns(
      context, model.nv(), [&](std::vector<std::vector<ChunkDual>>& in, ChunkDual* out) {
        acceleration_composed(workspace, model, in[0].data(), in[1].data(), in[2].data(), dt, out);
      });
}

void IntegrateOp::backward(BackwardContext& context) const {
  const Model& model = *model_;
  const double dt = context.saved()[0];
  Workspace& workspace = context.workspace();
  backward_by_columns(context, model.nq(),
                      [&](std::vector<std::vector<ChunkDual>>& in, ChunkDual* out) {
                        integrate_any(workspace, model, in[0].data(), in[1].data(), dt, out);
                      });
}

void ContactForcesOp::backward(BackwardContext& context) const {
  const Model& model = *model_;
  Workspace& workspace = context.workspace();
  backward_by_columns(context, 3 * (model.contact_points().size() + model.contact_pairs().size()),
                      [&](std::vector<std::vector<ChunkDual>>& in, ChunkDual* out) {
                        contact_forces_any(workspace, model, in[0].data(), in[1].data(), out);
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
  if (model.options().contact_model == ContactModel::kHard) {
    detail::check_hard_contact_integrator(op, integrator);
    return hard_contact_step(model, state, control, params, dt).state;
  }
  TensorTape& tape = state.tape();
  const double* x = tape.view(state).values;
  const double* u = tape.view(control).values;
  const double* p = tape.view(params).values;
  // saved: dt, then what the hand adjoint keeps; saved_ints: the integrator, whether it kept.
  const std::int64_t saved_ints[] = {static_cast<std::int64_t>(integrator), 0};
  const std::int64_t kept_ints[] = {static_cast<std::int64_t>(integrator), 1};
  const Shape shape{model.nx()};
  tape.keep_alive(model.shared_tape_ops());
  if (integrator == Integrator::kSemiImplicitEuler && !tape.requires_grad(params) &&
      (tape.requires_grad(state) || tape.requires_grad(control)) && !model.has_contact() &&
      detail::scalar_joints_only(model)) {
    // The step's hand adjoint needs the transforms, velocities, accelerations and the
    // articulated-body factorization of this state: kept with the node (31 numbers a body)
    // rather than computed again in the backward pass.
    Workspace& workspace = tape.workspace();
    detail::Lent<detail::StepScratch<double>> scratch(workspace);
    auto saved_loan = workspace.borrow_unset<double>(1 + detail::kKeptPerBody * model.num_bodies());
    auto out_loan = workspace.borrow_unset<double>(model.nx());
    std::vector<double>& kept = *saved_loan;
    std::vector<double>& x1 = *out_loan;
    detail::step(model, p, x, u, dt, integrator, x1.data(), *scratch);
    kept[0] = dt;
    detail::keep_forward(model, scratch->ws, kept.data() + 1);
    return tape.record(
        model.tape_ops().step, {state, control, params}, shape,
        [&](MutableTensorView out) {
          std::copy(x1.begin(), x1.begin() + static_cast<long>(model.nx()), out.values);
          detail::check_finite_state(model, op, out.values, [&] {
            return "in the step recorded as tape node " + std::to_string(tape.size());
          });
        },
        SavedData{
            std::span<const double>(kept.data(), 1 + detail::kKeptPerBody * model.num_bodies()),
            kept_ints});
  }
  const double saved[] = {dt};
  return tape.record(
      model.tape_ops().step, {state, control, params}, shape,
      [&](MutableTensorView out) {
        step_any(tape.workspace(), model, x, u, p, dt, integrator, out.values);
        detail::check_finite_state(model, op, out.values, [&] {
          return "in the step recorded as tape node " + std::to_string(tape.size());
        });
      },
      SavedData{saved, saved_ints});
}

TensorVar step_composed(const Model& model, TensorVar state, TensorVar control, TensorVar params,
                        double dt) {
  const char* op = "multibody::step_composed";
  detail::check_penalty_contact(op, model);
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
  const double saved_dt[] = {dt};
  tape.keep_alive(model.shared_tape_ops());
  const TensorVar qdd = tape.record(
      model.tape_ops().acceleration, {state, control, params}, v_shape,
      [&](MutableTensorView out) {
        acceleration_composed(tape.workspace(), model, x, u, p, dt, out.values);
      },
      SavedData{saved_dt, {}});
  const TensorVar q = slice(state, 0, 0, nq);
  const TensorVar v1 = slice(state, 0, nq, nx) + qdd * dt;
  const double* q_values = tape.view(q).values;
  const double* v1_values = tape.view(v1).values;
  const double saved[] = {dt};
  const Shape q_shape{model.nq()};
  tape.keep_alive(model.shared_tape_ops());
  const TensorVar q1 = tape.record(
      model.tape_ops().integrate, {q, v1}, q_shape,
      [&](MutableTensorView out) {
        integrate_any(tape.workspace(), model, q_values, v1_values, dt, out.values);
      },
      SavedData{saved, {}});
  return concat({q1, v1}, 0);
}

TensorVar contact_forces(const Model& model, TensorVar state, TensorVar params) {
  const char* op = "multibody::contact_forces";
  detail::check_penalty_contact(op, model);
  check_var(op, "state", state, model.nx());
  check_var(op, "params", params, model.num_parameters());
  TensorTape& tape = state.tape();
  const double* x = tape.view(state).values;
  const double* p = tape.view(params).values;
  const Shape shape{model.contact_points().size() + model.contact_pairs().size(), 3};
  tape.keep_alive(model.shared_tape_ops());
  return tape.record(model.tape_ops().contact_forces, {state, params}, shape,
                     [&](MutableTensorView out) {
                       contact_forces_any(tape.workspace(), model, x, p, out.values);
                     });
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
  tape.keep_alive(model.shared_tape_ops());
  return tape.record(
      model.tape_ops().point, {state, params}, shape,
      [&](MutableTensorView out) {
        point_any(tape.workspace(), model, x, p, body, point, out.values);
      },
      SavedData{saved, saved_ints});
}

namespace {

// Jacobians of `items` independent steps; item k linearizes at states + k nx, controls + k nu
// with the parameters of world k / steps_per_world (params + world * np when per_world, else the
// one vector) and writes its blocks at k's place in A, B and P. Items are split across maya's
// threads, each part with a workspace of its own; every item is computed by one thread, so the
// values do not depend on the thread count.
void fill_step_jacobians(const Model& model, std::size_t items, std::size_t steps_per_world,
                         const double* states, const double* controls, const double* params,
                         bool per_world, double dt, Integrator integrator, double* A, double* B,
                         double* P) {
  const std::size_t nx = model.nx(), nu = model.nu(), np = model.num_parameters();
  const auto run = [&](std::size_t begin, std::size_t end, Workspace& workspace) {
    for (std::size_t k = begin; k < end; ++k) {
      const double* p = params + (per_world ? (k / steps_per_world) * np : 0);
      const std::array<InputBlock, 3> blocks{InputBlock{states + k * nx, nx, true},
                                             InputBlock{controls + k * nu, nu, true},
                                             InputBlock{p, np, P != nullptr}};
      const std::array<std::pair<double*, std::size_t>, 3> targets{
          std::pair{A + k * nx * nx, nx}, std::pair{B + k * nx * nu, nu},
          std::pair{P != nullptr ? P + k * nx * np : nullptr, np}};
      detail::jacobian_columns(
          workspace, blocks, nx,
          [&](std::vector<std::vector<ChunkDual>>& in, ChunkDual* out) {
            step_any(workspace, model, in[0].data(), in[1].data(), in[2].data(), dt, integrator,
                     out);
          },
          [&](std::size_t b, std::size_t i, auto column) {
            auto [target, cols] = targets[b];
            for (std::size_t row = 0; row < nx; ++row) target[row * cols + i] = column(row);
          });
    }
  };
  const std::size_t parts = std::min(core::detail::pool_threads(), items);
  if (parts <= 1) {
    Workspace workspace;
    run(0, items, workspace);
    return;
  }
  std::vector<Workspace> workspaces(parts);
  struct Context {
    const decltype(run)* body;
    std::vector<Workspace>* workspaces;
    std::size_t items, parts;
  } context{&run, &workspaces, items, parts};
  core::detail::run_parts(
      parts,
      [](void* raw, std::size_t part) {
        const auto& c = *static_cast<const Context*>(raw);
        (*c.body)(c.items * part / c.parts, c.items * (part + 1) / c.parts, (*c.workspaces)[part]);
      },
      &context);
}

std::string dims(std::initializer_list<std::size_t> sizes) {
  std::string out = "[";
  for (const std::size_t n : sizes) out += (out.size() > 1 ? ", " : "") + std::to_string(n);
  return out + "]";
}

}  // namespace

StepJacobians step_jacobians(const Model& model, const Tensor& states, const Tensor& controls,
                             std::span<const double> params, double dt, Integrator integrator,
                             bool with_parameters) {
  const char* op = "multibody::step_jacobians";
  if (model.options().contact_model == ContactModel::kHard) {
    detail::check_hard_contact_integrator(op, integrator);
    return hard_contact_step_jacobians(model, states, controls, params, dt, with_parameters);
  }
  const std::size_t nx = model.nx(), nu = model.nu(), np = model.num_parameters();
  if (states.ndim() != 2 || states.shape()[1] != nx) {
    throw ShapeError(std::string(op) + ": states must have shape [T, " + std::to_string(nx) +
                     "], got " + shape_string(states.shape()));
  }
  const std::size_t T = states.shape()[0];
  if (controls.ndim() != 2 || controls.shape()[0] != T || controls.shape()[1] != nu) {
    throw ShapeError(std::string(op) + ": controls must have shape " + dims({T, nu}) + ", got " +
                     shape_string(controls.shape()));
  }
  detail::check_length(op, "params", params.size(), np);
  detail::check_dt(op, dt);
  StepJacobians result{Tensor::zeros({T, nx, nx}), Tensor::zeros({T, nx, nu}),
                       with_parameters ? Tensor::zeros({T, nx, np}) : Tensor{}};
  fill_step_jacobians(model, T, std::max<std::size_t>(T, 1), states.data().data(),
                      controls.data().data(), params.data(), false, dt, integrator,
                      result.state.mutable_data().data(), result.control.mutable_data().data(),
                      with_parameters ? result.parameters.mutable_data().data() : nullptr);
  return result;
}

StepJacobians batched_step_jacobians(const Model& model, const Tensor& states,
                                     const Tensor& controls, const Tensor& params, double dt,
                                     Integrator integrator, bool with_parameters) {
  const char* op = "multibody::batched_step_jacobians";
  const std::size_t nx = model.nx(), nu = model.nu(), np = model.num_parameters();
  if (states.ndim() != 3 || states.shape()[2] != nx) {
    throw ShapeError(std::string(op) + ": states must have shape [E, T, " + std::to_string(nx) +
                     "], got " + shape_string(states.shape()));
  }
  const std::size_t E = states.shape()[0], T = states.shape()[1];
  if (controls.ndim() != 3 || controls.shape()[0] != E || controls.shape()[1] != T ||
      controls.shape()[2] != nu) {
    throw ShapeError(std::string(op) + ": controls must have shape " + dims({E, T, nu}) +
                     " to match states " + shape_string(states.shape()) + ", got " +
                     shape_string(controls.shape()));
  }
  const bool per_world = params.ndim() == 2;
  if (!(params.ndim() == 1 && params.shape()[0] == np) &&
      !(per_world && params.shape()[0] == E && params.shape()[1] == np)) {
    throw ShapeError(std::string(op) + ": params must have shape " + dims({np}) + " or " +
                     dims({E, np}) + ", got " + shape_string(params.shape()));
  }
  detail::check_dt(op, dt);
  StepJacobians result{Tensor::zeros({E, T, nx, nx}), Tensor::zeros({E, T, nx, nu}),
                       with_parameters ? Tensor::zeros({E, T, nx, np}) : Tensor{}};
  if (model.options().contact_model == ContactModel::kHard) {
    detail::check_hard_contact_integrator(op, integrator);
    detail::hard_contact_batched_jacobians(
        model, E, T, states.data().data(), controls.data().data(), params.data().data(), per_world,
        dt, result.state.mutable_data().data(), result.control.mutable_data().data(),
        with_parameters ? result.parameters.mutable_data().data() : nullptr);
    return result;
  }
  fill_step_jacobians(model, E * T, std::max<std::size_t>(T, 1), states.data().data(),
                      controls.data().data(), params.data().data(), per_world, dt, integrator,
                      result.state.mutable_data().data(), result.control.mutable_data().data(),
                      with_parameters ? result.parameters.mutable_data().data() : nullptr);
  return result;
}

}  // namespace maya::multibody
