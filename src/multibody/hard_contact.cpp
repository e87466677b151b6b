// The multibody hard-contact step: the problem built by hard_contact.hpp on doubles, solved by
// maya::contact, and as one tape node whose backward pass chains the solver's implicit-function
// adjoint through the problem's construction recorded in reverse mode (reverse.hpp).
#include "maya/multibody/hard_contact.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "maya/contact/solve_op.hpp"
#include "maya/contact/solver.hpp"
#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"
#include "multibody/checks.hpp"
#include "multibody/hard_contact.hpp"
#include "multibody/jacobian.hpp"
#include "multibody/model_ops.hpp"
#include "multibody/reverse.hpp"
#include "multibody/scratch.hpp"

namespace maya::multibody {

namespace detail {

namespace {

contact::SolverOptions solver_options(const Model& model) {
  const HardContactSettings& options = model.options().hard_contact;
  contact::SolverOptions out;
  out.smoothing = options.smoothing;
  out.tolerance = options.tolerance;
  out.max_iterations = options.max_iterations;
  return out;
}

// What a plain step and a recorded one share: the contact set, the problem and its solution.
struct HardContactSolve {
  HardContactSelection selection;
  contact::ContactProblem problem;
  contact::ContactSolution solution;
  std::vector<double> impulses;  // [3 nc] (lambda_n, lambda_t, lambda_b) per contact
};

void check_parameters(const char* op, const Model& model, const double* params, double dt,
                      Integrator integrator) {
  check_dt(op, dt);
  if (integrator != Integrator::kSemiImplicitEuler) {
    throw ValueError(std::string(op) +
                     ": hard contact steps with semi-implicit Euler only (velocity-level time "
                     "stepping), got the RK4 integrator");
  }
  const double friction = params[PL::kPerBody * model.num_bodies() + PL::kFriction];
  if (!(friction >= 0.0) || !std::isfinite(friction)) {
    throw ValueError(std::string(op) + ": the friction coefficient must be non-negative and " +
                     "finite, got " + format_number(friction));
  }
  for (std::size_t i = 0; i < model.num_bodies(); ++i) {
    const double mass = params[PL::kPerBody * i + PL::kMass];
    if (!(mass > 0.0) || !std::isfinite(mass)) {
      throw ValueError(std::string(op) + ": the mass of body " + std::to_string(i) + " '" +
                       model.body(i).name + "' must be positive and finite, got " +
                       format_number(mass));
    }
  }
}

[[noreturn]] void throw_indefinite(const char* op) {
  throw ValueError(std::string(op) +
                   ": the mass matrix is not positive definite at this state (an inertia in "
                   "params that is not positive definite?)");
}

// The problem's data from stage 1.
void fill_problem(const HardContactData<double>& d, std::size_t nv, contact::ContactProblem& p) {
  const std::size_t nc = d.offsets.size();
  p.num_velocities = nv;
  p.mass.assign(nv, 1.0);
  p.momentum = d.momentum;
  p.joint_jacobian.clear();
  p.joint_target.clear();
  p.normal_jacobian = d.normal_rows;
  p.normal_offset = d.offsets;
  p.tangent_jacobian = d.tangent_rows;
  p.bitangent_jacobian = nc > 0 ? d.bitangent_rows : std::vector<double>{};
  p.friction.assign(nc, d.friction);
}

// Chooses the contact set, builds the problem and solves it; `d` is left built for `out`.
void solve_step(const char* op, const Model& model, const double* params, const double* x,
                const double* u, double dt, HardContactData<double>& d, HardContactSolve& r) {
  const std::size_t nv = model.nv();
  const HardContactSettings& options = model.options().hard_contact;
  r.selection.points.clear();
  r.selection.slots.clear();
  r.selection.fixed_basis.clear();
  if (!build_tree(model, params, x, u, dt, d)) throw_indefinite(op);
  // A contact enters with its basis flag: fixed when its free slip is below kSlipBasisSpeed.
  const auto select = [&](int index, int slot, const ContactGeometry<double>& g) {
    contact_jacobian(model, d.ws, g, d.jacobian.data(), d.jacobian_a.data());
    Vec3<double> slip{0.0, 0.0, 0.0};
    for (int row = 0; row < 3; ++row) {
      for (std::size_t j = 0; j < nv; ++j) slip[row] += d.jacobian[row * nv + j] * d.v_free[j];
    }
    slip = sub(slip, scale(dot(g.normal, slip), g.normal));
    r.selection.points.push_back(index);
    r.selection.slots.push_back(slot);
    r.selection.fixed_basis.push_back(std::sqrt(dot(slip, slip)) < kSlipBasisSpeed ? 1 : 0);
  };
  const std::size_t num_points = model.contact_points().size();
  for (std::size_t k = 0; k < num_points; ++k) {
    ContactGeometry<double> g;
    if (!contact_geometry(model, d.ws, static_cast<int>(k), 0, g)) continue;
    if (!(g.distance < options.margin)) continue;
    select(static_cast<int>(k), 0, g);
  }
  std::array<PairContact<double>, 16> contacts;
  const auto& pairs = model.contact_pairs();
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    const ContactPair& pair = pairs[k];
    const Transform<double>& Xa = d.ws.X_world[static_cast<std::size_t>(pair.body_a)];
    const Transform<double>& Xb = d.ws.X_world[static_cast<std::size_t>(pair.body_b)];
    if (!may_touch(pair, Xa, Xb, options.margin)) continue;
    const std::size_t count = pair_contacts(pair, Xa, Xb, contacts, options.margin);
    for (std::size_t c = 0; c < count; ++c) {
      select(static_cast<int>(num_points + k), contacts[c].slot, pair_geometry(pair, contacts[c]));
    }
  }
  build_contacts(model, params, dt, r.selection, d);
  fill_problem(d, nv, r.problem);
  r.solution = contact::solve(r.problem, solver_options(model));
  const std::size_t nc = r.selection.points.size();
  r.impulses.assign(3 * nc, 0.0);
  for (std::size_t c = 0; c < nc; ++c) {
    r.impulses[3 * c] = r.solution.normal_impulse[c];
    r.impulses[3 * c + 1] = r.solution.friction_impulse[c];
    r.impulses[3 * c + 2] = r.solution.bitangent_impulse[c];
  }
}

struct HardContactScratch {
  HardContactData<double> data;
  HardContactSolve solve;
};

HardContactSelection selection_of(std::span<const std::int64_t> ints) {
  HardContactSelection selection;
  const auto nc = static_cast<std::size_t>(ints[0]);
  for (std::size_t c = 0; c < nc; ++c) {
    selection.points.push_back(static_cast<int>(ints[1 + c]));
    selection.fixed_basis.push_back(static_cast<char>(ints[1 + nc + c]));
    selection.slots.push_back(static_cast<int>(ints[1 + 2 * nc + c]));
  }
  return selection;
}

std::vector<std::int64_t> selection_ints(const HardContactSelection& selection) {
  std::vector<std::int64_t> ints;
  ints.push_back(static_cast<std::int64_t>(selection.points.size()));
  for (const int point : selection.points) ints.push_back(point);
  for (const char fixed : selection.fixed_basis) ints.push_back(fixed);
  for (const int slot : selection.slots) ints.push_back(slot);
  return ints;
}

// The composed twin's problem node: P = [momentum (nv), normal, tangent and bitangent rows
// (3 nc nv), offsets (nc), friction (nc)].
std::size_t problem_size(std::size_t nv, std::size_t nc) { return nv + 3 * nc * nv + 2 * nc; }

template <class S>
void problem_values(const Model& model, const S* x, const S* u, const S* p, double dt,
                    const HardContactSelection& selection, HardContactData<S>& d, S* out) {
  if (!build_hard_contact(model, p, x, u, dt, selection, d)) {
    throw_indefinite("multibody::hard_contact_step_composed");
  }
  S* at = out;
  for (const auto* part :
       {&d.momentum, &d.normal_rows, &d.tangent_rows, &d.bitangent_rows, &d.offsets}) {
    for (const S& value : *part) *at++ = value;
  }
  for (std::size_t c = 0; c < selection.points.size(); ++c) *at++ = d.friction;
}

// The composed twin's last node: x1 = (q (+) dt L^-T w, L^-T w). L and q do not depend on the
// control, so it is left at zero.
template <class S>
void finish_values(const Model& model, const S* x, const S* p, const S* w, double dt,
                   HardContactData<S>& d, std::vector<S>& zero_control, S* out) {
  zero_control.assign(model.nu(), S(0.0));
  if (!build_tree(model, p, x, zero_control.data(), dt, d)) {
    throw_indefinite("multibody::hard_contact_step_composed");
  }
  const std::size_t nq = model.nq(), nv = model.nv();
  S* v1 = out + nq;
  for (std::size_t j = 0; j < nv; ++j) v1[j] = w[j];
  solve_lower_transposed(d.L.data(), v1, nv);
  integrate_positions(model, d.q.data(), v1, dt, out);
}

// grad_input(b) += J_b^T g for every block b that needs a gradient, J_b = d out / d input b, by
// chunked forward mode (jacobian.hpp).
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
  jacobian_columns(context.workspace(), std::span<const InputBlock>(blocks.data(), n), num_outputs,
                   evaluate, [&](std::size_t b, std::size_t i, auto column) {
                     double sum = 0.0;
                     for (std::size_t row = 0; row < num_outputs; ++row)
                       sum += g[row] * column(row);
                     sinks[b][i] += sum;
                   });
}

struct ComposedScratch {
  HardContactData<ChunkDual> data;
  std::vector<ChunkDual> zero_control;
};

}  // namespace

void HardContactProblemOp::backward(BackwardContext& context) const {
  const Model& model = *model_;
  const double dt = context.saved()[0];
  const HardContactSelection selection = selection_of(context.saved_ints());
  Lent<ComposedScratch> scratch(context.workspace());
  backward_by_columns(context, problem_size(model.nv(), selection.points.size()),
                      [&](std::vector<std::vector<ChunkDual>>& in, ChunkDual* out) {
                        problem_values(model, in[0].data(), in[1].data(), in[2].data(), dt,
                                       selection, scratch->data, out);
                      });
}

void HardContactFinishOp::backward(BackwardContext& context) const {
  const Model& model = *model_;
  const double dt = context.saved()[0];
  Lent<ComposedScratch> scratch(context.workspace());
  backward_by_columns(context, model.nx(),
                      [&](std::vector<std::vector<ChunkDual>>& in, ChunkDual* out) {
                        finish_values(model, in[0].data(), in[1].data(), in[2].data(), dt,
                                      scratch->data, scratch->zero_control, out);
                      });
}

// The step's adjoint. With y = Phi(x, u, p, w, Lambda) the outputs (stage 2) and
// w, Lambda = solve(P(x, u, p)) the solver's answer for the problem data P (stage 1):
//   g_(x,u,p) = dPhi/d(x,u,p)^T g_y + dP/d(x,u,p)^T gP,   gP = contact::differentiate(g_w, g_Lambda),
// g_w and g_Lambda = dPhi/d(w, Lambda)^T g_y. Both stages are recorded once on Rev numbers with
// w and Lambda as leaves; one sweep from g_y gives the first term and (g_w, g_Lambda), a second
// from gP on the problem's entries the second term. apply() may run many times on one recording
// (a Jacobian's rows).
class HardContactAdjoint {
 public:
  // inputs: x [nx], u [nu], p [np]; `leaf` says which need gradients. w [nv], multipliers and
  // slacks: the solver's answer; impulses [3 nc].
  void record(const Model& model, const double* const inputs[3], const bool leaf[3], double dt,
              const HardContactSelection& selection, std::span<const double> w,
              std::span<const double> multipliers, std::span<const double> slacks,
              const double* impulses) {
    model_ = &model;
    nc_ = selection.points.size();
    const std::size_t nv = model.nv();
    const std::size_t sizes[3] = {model.nx(), model.nu(), model.num_parameters()};
    if (!build_hard_contact(model, inputs[2], inputs[0], inputs[1], dt, selection, d_)) {
      throw_indefinite("multibody::hard_contact_step (adjoint)");
    }
    fill_problem(d_, nv, problem_);
    solution_.velocity.assign(w.begin(), w.end());
    solution_.joint_impulse.clear();
    solution_.multipliers.assign(multipliers.begin(), multipliers.end());
    solution_.slacks.assign(slacks.begin(), slacks.end());

    tape_.nodes.clear();
    for (std::size_t b = 0; b < 3; ++b) {
      leaf_[b] = leaf[b];
      first_[b] = static_cast<std::uint32_t>(tape_.nodes.size());
      inputs_[b].resize(sizes[b]);
      for (std::size_t j = 0; j < sizes[b]; ++j) {
        inputs_[b][j] = leaf[b] ? Rev::input(tape_, inputs[b][j]) : Rev(inputs[b][j]);
      }
    }
    first_w_ = static_cast<std::uint32_t>(tape_.nodes.size());
    w_.resize(nv);
    lambda_.resize(3 * nc_);
    for (std::size_t j = 0; j < nv; ++j) w_[j] = Rev::input(tape_, w[j]);
    for (std::size_t k = 0; k < 3 * nc_; ++k) lambda_[k] = Rev::input(tape_, impulses[k]);
    if (!build_hard_contact(model, inputs_[2].data(), inputs_[0].data(), inputs_[1].data(), dt,
                            selection, r_)) {
      throw_indefinite("multibody::hard_contact_step (adjoint)");
    }
    out_.resize(model.nx() + 3 * contact_rows(model));
    finish_hard_contact(model, r_, w_.data(), lambda_.data(), selection, dt, out_.data());
  }

  // grad[b] += d(g . out) / d input b for the inputs recorded as leaves; g [nx + 3 P].
  void apply(const double* g, double* const grad[3]) {
    const std::size_t nv = model_->nv();
    // Sweep 1: from the outputs' gradient.
    tape_.adjoints.assign(tape_.nodes.size(), 0.0);
    for (std::size_t k = 0; k < out_.size(); ++k) {
      if (out_[k].i != kConstant) tape_.adjoints[out_[k].i] += g[k];
    }
    tape_.sweep();
    for (std::size_t b = 0; b < 3; ++b) {
      if (!leaf_[b]) continue;
      for (std::size_t j = 0; j < inputs_[b].size(); ++j) {
        grad[b][j] += tape_.adjoints[first_[b] + j];
      }
    }
    g_w_.resize(nv);
    g_normal_.resize(nc_);
    g_tangent_.resize(nc_);
    g_bitangent_.resize(nc_);
    for (std::size_t j = 0; j < nv; ++j) g_w_[j] = tape_.adjoints[first_w_ + j];
    for (std::size_t c = 0; c < nc_; ++c) {
      g_normal_[c] = tape_.adjoints[first_w_ + nv + 3 * c];
      g_tangent_[c] = tape_.adjoints[first_w_ + nv + 3 * c + 1];
      g_bitangent_[c] = tape_.adjoints[first_w_ + nv + 3 * c + 2];
    }

    // The solver's adjoint: one transposed KKT solve at the solution.
    const contact::ProblemGradient gp = contact::differentiate(
        problem_, solution_, solver_options(*model_), g_w_, g_normal_, g_tangent_,
        nc_ > 0 ? std::span<const double>(g_bitangent_) : std::span<const double>());

    // Sweep 2: from the problem's entries.
    tape_.adjoints.assign(tape_.nodes.size(), 0.0);
    const auto seed = [&](const Rev& value, double adjoint) {
      if (value.i != kConstant) tape_.adjoints[value.i] += adjoint;
    };
    for (std::size_t j = 0; j < nv; ++j) seed(r_.momentum[j], gp.momentum[j]);
    for (std::size_t k = 0; k < nc_ * nv; ++k) {
      seed(r_.normal_rows[k], gp.normal_jacobian[k]);
      seed(r_.tangent_rows[k], gp.tangent_jacobian[k]);
      if (!gp.bitangent_jacobian.empty()) seed(r_.bitangent_rows[k], gp.bitangent_jacobian[k]);
    }
    for (std::size_t c = 0; c < nc_; ++c) {
      seed(r_.offsets[c], gp.normal_offset[c]);
      seed(r_.friction, gp.friction[c]);
    }
    tape_.sweep();
    for (std::size_t b = 0; b < 3; ++b) {
      if (!leaf_[b]) continue;
      for (std::size_t j = 0; j < inputs_[b].size(); ++j) {
        grad[b][j] += tape_.adjoints[first_[b] + j];
      }
    }
  }

 private:
  const Model* model_ = nullptr;
  std::size_t nc_ = 0;
  HardContactData<double> d_;
  HardContactData<Rev> r_;
  contact::ContactProblem problem_;
  contact::ContactSolution solution_;
  RevTape tape_;
  std::vector<Rev> inputs_[3], w_, lambda_, out_;
  bool leaf_[3] = {false, false, false};
  std::uint32_t first_[3] = {0, 0, 0}, first_w_ = 0;
  std::vector<double> g_w_, g_normal_, g_tangent_, g_bitangent_;
};

void HardContactStepOp::backward(BackwardContext& context) const {
  const Model& model = *model_;
  const std::size_t nv = model.nv();
  const std::span<const double> saved = context.saved();
  const double dt = saved[0];
  const HardContactSelection selection = selection_of(context.saved_ints());
  const std::size_t nc = selection.points.size();
  const std::size_t pairs = (saved.size() - 1 - nv - 3 * nc) / 2;
  const double* const inputs[3] = {context.input(0).values, context.input(1).values,
                                   context.input(2).values};
  const bool leaf[3] = {context.needs_grad(0), context.needs_grad(1), context.needs_grad(2)};
  Lent<HardContactAdjoint> adjoint(context.workspace());
  adjoint->record(model, inputs, leaf, dt, selection, saved.subspan(1, nv),
                  saved.subspan(1 + nv, pairs), saved.subspan(1 + nv + pairs, pairs),
                  saved.data() + 1 + nv + 2 * pairs);
  double* const grad[3] = {leaf[0] ? context.grad_input(0).values : nullptr,
                           leaf[1] ? context.grad_input(1).values : nullptr,
                           leaf[2] ? context.grad_input(2).values : nullptr};
  adjoint->apply(context.grad_output().values, grad);
}

}  // namespace detail

HardContactResult hard_contact_step(const Model& model, std::span<const double> params,
                                    std::span<const double> state, std::span<const double> control,
                                    double dt, Workspace* workspace) {
  const char* op = "multibody::hard_contact_step";
  detail::check_length(op, "params", params.size(), model.num_parameters());
  detail::check_length(op, "state", state.size(), model.nx());
  detail::check_length(op, "control", control.size(), model.nu());
  detail::check_parameters(op, model, params.data(), dt, Integrator::kSemiImplicitEuler);
  Workspace own;
  detail::Lent<detail::HardContactScratch> scratch(workspace != nullptr ? *workspace : own);
  detail::HardContactSolve& r = scratch->solve;
  detail::solve_step(op, model, params.data(), state.data(), control.data(), dt, scratch->data, r);
  HardContactResult result;
  std::vector<double> out(model.nx() + 3 * detail::contact_rows(model));
  detail::finish_hard_contact(model, scratch->data, r.solution.velocity.data(), r.impulses.data(),
                              r.selection, dt, out.data());
  detail::check_finite_state(model, op, out.data(), [] { return std::string("after the step"); });
  result.state.assign(out.begin(), out.begin() + static_cast<long>(model.nx()));
  result.impulses.assign(out.begin() + static_cast<long>(model.nx()), out.end());
  result.contacts = r.selection.points.size();
  result.iterations = r.solution.iterations;
  return result;
}

HardContactVars hard_contact_step(const Model& model, TensorVar state, TensorVar control,
                                  TensorVar params, double dt) {
  const char* op = "multibody::hard_contact_step";
  detail::check_var(op, "state", state, model.nx());
  detail::check_var(op, "control", control, model.nu());
  detail::check_var(op, "params", params, model.num_parameters());
  TensorTape& tape = state.tape();
  const double* x = tape.view(state).values;
  const double* u = tape.view(control).values;
  const double* p = tape.view(params).values;
  detail::check_parameters(op, model, p, dt, Integrator::kSemiImplicitEuler);
  detail::Lent<detail::HardContactScratch> scratch(tape.workspace());
  detail::HardContactSolve& r = scratch->solve;
  detail::solve_step(op, model, p, x, u, dt, scratch->data, r);

  const std::size_t nv = model.nv(), nc = r.selection.points.size();
  std::vector<double> saved;
  saved.reserve(1 + nv + 2 * r.solution.multipliers.size() + 3 * nc);
  saved.push_back(dt);
  saved.insert(saved.end(), r.solution.velocity.begin(), r.solution.velocity.end());
  saved.insert(saved.end(), r.solution.multipliers.begin(), r.solution.multipliers.end());
  saved.insert(saved.end(), r.solution.slacks.begin(), r.solution.slacks.end());
  saved.insert(saved.end(), r.impulses.begin(), r.impulses.end());
  const std::vector<std::int64_t> saved_ints = detail::selection_ints(r.selection);

  const std::size_t num_points = detail::contact_rows(model);
  const Shape shape{model.nx() + 3 * num_points};
  tape.keep_alive(model.shared_tape_ops());
  const TensorVar out = tape.record(
      model.tape_ops().hard_contact_step, {state, control, params}, shape,
      [&](MutableTensorView values) {
        detail::finish_hard_contact(model, scratch->data, r.solution.velocity.data(),
                                    r.impulses.data(), r.selection, dt, values.values);
        detail::check_finite_state(model, op, values.values, [&] {
          return "in the step recorded as tape node " + std::to_string(tape.size());
        });
      },
      SavedData{saved, saved_ints});
  const auto nx = static_cast<long>(model.nx());
  HardContactVars vars;
  vars.state = slice(out, 0, 0, nx);
  vars.impulses =
      reshape(slice(out, 0, nx, nx + 3 * static_cast<long>(num_points)), Shape{num_points, 3});
  return vars;
}

TensorVar hard_contact_step_composed(const Model& model, TensorVar state, TensorVar control,
                                     TensorVar params, double dt) {
  const char* op = "multibody::hard_contact_step_composed";
  detail::check_var(op, "state", state, model.nx());
  detail::check_var(op, "control", control, model.nu());
  detail::check_var(op, "params", params, model.num_parameters());
  TensorTape& tape = state.tape();
  const double* x = tape.view(state).values;
  const double* u = tape.view(control).values;
  const double* p = tape.view(params).values;
  detail::check_parameters(op, model, p, dt, Integrator::kSemiImplicitEuler);
  detail::Lent<detail::HardContactScratch> scratch(tape.workspace());
  detail::HardContactSolve& r = scratch->solve;
  detail::solve_step(op, model, p, x, u, dt, scratch->data, r);  // chooses the contact set
  const std::size_t nv = model.nv(), nc = r.selection.points.size();
  const std::vector<std::int64_t> saved_ints = detail::selection_ints(r.selection);
  const double saved[] = {dt};
  tape.keep_alive(model.shared_tape_ops());
  const TensorVar data = tape.record(
      model.tape_ops().hard_contact_problem, {state, control, params},
      Shape{detail::problem_size(nv, nc)},
      [&](MutableTensorView out) {
        detail::problem_values(model, x, u, p, dt, r.selection, scratch->data, out.values);
      },
      SavedData{saved, saved_ints});
  const auto n = static_cast<long>(nv), c = static_cast<long>(nc);
  const auto rows = [&](long k) {
    return reshape(slice(data, 0, n + k * c * n, n + (k + 1) * c * n), Shape{nc, nv});
  };
  contact::ProblemTensors problem;
  problem.mass = tape.constant(Tensor::from_data(std::vector<double>(nv, 1.0), {nv}));
  problem.momentum = slice(data, 0, 0, n);
  problem.joint_jacobian = tape.constant(Tensor::zeros({0, nv}));
  problem.joint_target = tape.constant(Tensor::zeros({0}));
  problem.normal_jacobian = rows(0);
  problem.tangent_jacobian = rows(1);
  if (nc > 0) problem.bitangent_jacobian = rows(2);
  problem.normal_offset = slice(data, 0, n + 3 * c * n, n + 3 * c * n + c);
  problem.friction = slice(data, 0, n + 3 * c * n + c, n + 3 * c * n + 2 * c);
  const TensorVar w = contact::solve_velocities(problem, detail::solver_options(model));
  const double* w_values = tape.view(w).values;
  return tape.record(
      model.tape_ops().hard_contact_finish, {state, params, w}, Shape{model.nx()},
      [&](MutableTensorView out) {
        std::vector<double> zero_control;
        detail::finish_values(model, x, p, w_values, dt, scratch->data, zero_control, out.values);
      },
      SavedData{saved, {}});
}

StepJacobians hard_contact_step_jacobians(const Model& model, const Tensor& states,
                                          const Tensor& controls, std::span<const double> params,
                                          double dt, bool with_parameters) {
  const char* op = "multibody::hard_contact_step_jacobians";
  const std::size_t nx = model.nx(), nu = model.nu(), np = model.num_parameters();
  if (states.ndim() != 2 || states.shape()[1] != nx) {
    throw ShapeError(std::string(op) + ": states must have shape [T, " + std::to_string(nx) +
                     "], got " + shape_string(states.shape()));
  }
  const std::size_t steps = states.shape()[0];
  if (controls.ndim() != 2 || controls.shape()[0] != steps || controls.shape()[1] != nu) {
    throw ShapeError(std::string(op) + ": controls must have shape [" + std::to_string(steps) +
                     ", " + std::to_string(nu) + "], got " + shape_string(controls.shape()));
  }
  detail::check_length(op, "params", params.size(), np);
  detail::check_parameters(op, model, params.data(), dt, Integrator::kSemiImplicitEuler);
  StepJacobians result{Tensor::zeros({steps, nx, nx}), Tensor::zeros({steps, nx, nu}),
                       with_parameters ? Tensor::zeros({steps, nx, np}) : Tensor{}};
  double* A = result.state.mutable_data().data();
  double* B = result.control.mutable_data().data();
  double* P = with_parameters ? result.parameters.mutable_data().data() : nullptr;
  Workspace workspace;
  detail::Lent<detail::HardContactScratch> scratch(workspace);
  detail::Lent<detail::HardContactAdjoint> adjoint(workspace);
  std::vector<double> seed(nx + 3 * detail::contact_rows(model), 0.0);
  const bool leaf[3] = {true, true, with_parameters};
  // Row i of each Jacobian is the adjoint of x1_i: nx applications of one recording.
  for (std::size_t t = 0; t < steps; ++t) {
    const double* x = states.data().data() + t * nx;
    const double* u = controls.data().data() + t * nu;
    detail::HardContactSolve& r = scratch->solve;
    detail::solve_step(op, model, params.data(), x, u, dt, scratch->data, r);
    const double* const inputs[3] = {x, u, params.data()};
    adjoint->record(model, inputs, leaf, dt, r.selection, r.solution.velocity,
                    r.solution.multipliers, r.solution.slacks, r.impulses.data());
    for (std::size_t i = 0; i < nx; ++i) {
      seed[i] = 1.0;
      double* const grad[3] = {A + (t * nx + i) * nx, B + (t * nx + i) * nu,
                               P != nullptr ? P + (t * nx + i) * np : nullptr};
      adjoint->apply(seed.data(), grad);
      seed[i] = 0.0;
    }
  }
  return result;
}

namespace detail {

void hard_contact_batched_jacobians(const Model& model, std::size_t worlds, std::size_t steps,
                                    const double* states, const double* controls,
                                    const double* params, bool per_world, double dt, double* state,
                                    double* control, double* parameters) {
  const std::size_t nx = model.nx(), nu = model.nu(), np = model.num_parameters();
  for (std::size_t e = 0; e < worlds; ++e) {
    const Tensor world_states = Tensor::from_data(
        std::vector<double>(states + e * steps * nx, states + (e + 1) * steps * nx), {steps, nx});
    const Tensor world_controls = Tensor::from_data(
        std::vector<double>(controls + e * steps * nu, controls + (e + 1) * steps * nu),
        {steps, nu});
    const std::span<const double> p(params + (per_world ? e * np : 0), np);
    const StepJacobians J = hard_contact_step_jacobians(model, world_states, world_controls, p, dt,
                                                        parameters != nullptr);
    const auto copy = [&](const Tensor& from, double* to, std::size_t width) {
      const std::span<const double> values = from.data();
      std::copy(values.begin(), values.end(), to + e * steps * nx * width);
    };
    copy(J.state, state, nx);
    copy(J.control, control, nu);
    if (parameters != nullptr) copy(J.parameters, parameters, np);
  }
}

}  // namespace detail

}  // namespace maya::multibody
