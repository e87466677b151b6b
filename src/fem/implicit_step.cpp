// Backward Euler and static equilibrium by Newton's method, differentiated by the implicit
// function theorem. With r(x1; theta) = 0 at the solution and J = dr/dx1 (symmetric: mass,
// elastic Hessian, contact blocks), dx1/dtheta = -J^-1 dr/dtheta, so a loss with gradient g at x1
// has dL/dtheta = -lambda^T dr/dtheta where J lambda = g: one adjoint solve per step. Then
//   r = M (x1 - x0 - dt v0) / dt^2 - M g - f_el(x1) - f_ground(x1; x0)
//   dL/dx0 = M lambda / dt^2 + lambda^T df_ground/dx0,   dL/dv0 = M lambda / dt,
//   dL/dm_i = -lambda_i . ((x1 - x0 - dt v0)_i / dt^2 - g),
//   dL/d(B, W, mu, lambda, a) = lambda^T df_el/d(...)     (the fused force adjoint with g = lambda)
// plus v1 = (x1 - x0) / dt read directly. Pinned vertices are not unknowns: x1 = x0 there, and
// they reach the free ones through f_el, which adds lambda^T df_el/dx_pinned to their gradient.
#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "fem/ground_contact.hpp"
#include "fem/rigid_contact_kernel.hpp"
#include "fem/soft_body_ops.hpp"
#include "fem/sparse_system.hpp"
#include "maya/core/check.hpp"
#include "maya/core/error.hpp"

namespace maya::fem {

using Slot = detail::StepInputs;  // the step nodes' named inputs
namespace {

struct ImplicitProblem {
  const detail::SystemPattern& pattern;
  detail::ElementInputs elastic;
  detail::GroundKernel ground;
  detail::RigidContactKernel rigid;
  Energy energy;
  std::size_t n;
  std::size_t dim;
  const double* x0;    // start positions, or the given positions of a static solve
  const double* v0;    // nullptr when static
  const double* mass;  // [N]
  std::span<const double> gravity;
  double dt;  // 0 when static

  // The residual at x1 over all degrees of freedom (pinned ones 0).
  void residual(const double* x1, std::vector<double>& r) {
    r.assign(n * dim, 0.0);
    elastic.positions = x1;
    detail::dispatch(energy, dim, [&]<int D, template <int> class Material>() {
      detail::add_elastic_forces<D, Material>(elastic, r.data());
    });
    ground.add_implicit_forces(x1, x0, dt, n, r.data());
    rigid.add_implicit_forces(x1, x0, dt, n, r.data());
    const double inertia = dt > 0.0 ? 1.0 / (dt * dt) : 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t k = 0; k < dim; ++k) {
        const std::size_t j = i * dim + k;
        if (pattern.free_index[j] < 0) {
          r[j] = 0.0;
          continue;
        }
        const double momentum = dt > 0.0 ? x1[j] - x0[j] - dt * v0[j] : 0.0;
        r[j] = mass[i] * (inertia * momentum - gravity[k]) - r[j];
      }
    }
  }

  // The incremental potential whose gradient is the residual:
  //   sum m |x1 - x0 - dt v0|^2 / (2 dt^2) - m g . x1 + E_el(x1) + ground potential.
  [[nodiscard]] double potential(const double* x1) {
    elastic.positions = x1;
    double total = 0.0;
    detail::dispatch(energy, dim, [&]<int D, template <int> class Material>() {
      total = detail::elastic_energy<D, Material>(elastic);
    });
    total += ground.implicit_energy(x1, x0, dt, n);
    total += rigid.implicit_energy(x1, x0, dt, n);
    for (std::size_t j = 0; j < n * dim; ++j) {
      if (pattern.free_index[j] < 0) continue;
      const double m = mass[j / dim];
      if (dt > 0.0) {
        const double momentum = x1[j] - x0[j] - dt * v0[j];
        total += 0.5 * m * momentum * momentum / (dt * dt);
      }
      total -= m * gravity[j % dim] * x1[j];
    }
    return total;
  }

  // J = dr/dx1; `project` makes every element block positive semi-definite.
  void jacobian(const double* x1, detail::SparseMatrix& matrix, bool project = false) {
    double* values = matrix.valuePtr();
    std::fill(values, values + matrix.nonZeros(), 0.0);
    elastic.positions = x1;
    detail::dispatch(energy, dim, [&]<int D, template <int> class Material>() {
      detail::add_elastic_stiffness<D, Material>(elastic, pattern.element_slots.data(), values,
                                                 project);
    });
    ground.add_implicit_stiffness(x1, x0, dt, n, pattern.vertex_slots.data(), values, project);
    rigid.add_implicit_stiffness(x1, x0, dt, n, pattern.vertex_slots.data(), values, project);
    if (dt > 0.0) {
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t k = 0; k < dim; ++k) {
          const std::int32_t slot = pattern.vertex_slots[(i * dim + k) * dim + k];
          if (slot >= 0) values[slot] += mass[i] / (dt * dt);
        }
      }
    }
  }
};

double free_norm(const std::vector<double>& r) {
  double squared = 0.0;
  for (const double value : r) squared += value * value;
  return std::sqrt(squared);
}

double max_abs(const std::vector<double>& r) {
  double largest = 0.0;
  for (const double value : r) largest = std::max(largest, std::abs(value));
  return largest;
}

TensorVar solve_implicit(const SoftBody& body, TensorVar input, const BodyParameters& params,
                         double dt, const NewtonOptions& newton, bool dynamic,
                         const RigidObstacles* obstacles) {
  const detail::SoftBodyModel& model = body.model();
  const char* operation = dynamic ? "fem::step_implicit" : "fem::static_equilibrium";
  detail::check_parameters(model, params, operation, true);
  detail::check_obstacles(model, obstacles, operation);
  const std::size_t n = model.num_vertices();
  const std::size_t d = model.dim();
  const Shape expected = dynamic ? Shape{2, n, d} : Shape{n, d};
  const ShapeView shape = input.shape();
  if (!std::equal(shape.begin(), shape.end(), expected.begin(), expected.end())) {
    throw ShapeError(std::string(operation) + ": " + (dynamic ? "state" : "positions") +
                     " of shape " + shape_string(shape) + ", expected " + shape_string(expected));
  }
  (void)check_at_least(newton.max_iterations, 1,
                       std::string(operation) + ": Newton's max_iterations");
  (void)check_positive(newton.tolerance, std::string(operation) + ": Newton's tolerance");
  TensorTape& tape = input.tape();
  const double* start = tape.view(input).values;
  for (std::size_t j = 0; j < input.numel(); ++j) {
    if (!std::isfinite(start[j])) {
      (void)check_finite(start[j], std::string(operation) + ": " +
                                       (dynamic ? "state" : "positions") + " entry " +
                                       std::to_string(j));
    }
  }
  const bool actuated = params.actuation.valid();
  const TensorView actuation = actuated ? tape.view(params.actuation) : TensorView{};
  const detail::SystemPattern& pattern = *model.pattern;
  const detail::RigidContactKernel rigid =
      obstacles != nullptr ? detail::rigid_kernel(model, *obstacles) : detail::RigidContactKernel{};
  ImplicitProblem problem{
      pattern,
      detail::element_inputs(model, start, tape.view(params.rest.inverse_edges),
                             tape.view(params.rest.volumes), tape.view(params.lame.mu),
                             tape.view(params.lame.lambda), actuated ? &actuation : nullptr),
      detail::GroundKernel(model.options.ground, d, model.pinned_mask.data()),
      rigid,
      model.options.energy,
      n,
      d,
      start,
      dynamic ? start + n * d : nullptr,
      tape.view(params.mass).values,
      model.gravity,
      dt};

  // Newton on the free degrees of freedom from x0 + dt v0. Each iteration tries the exact
  // Hessian first, then (if it gives no descent direction or its line search fails) the one with
  // every element block projected to positive semi-definite; the line search is Armijo's on the
  // incremental potential, or a decrease of |r| where the potential's roundoff hides progress
  // (|r| alone as a merit lets Newton cycle between two points across a friction kink).
  std::vector<double> x(start, start + n * d);
  if (dynamic) {
    for (std::size_t j = 0; j < n * d; ++j) {
      if (pattern.free_index[j] >= 0) x[j] += dt * problem.v0[j];
    }
  }
  const std::size_t free_count = pattern.free_dofs.size();
  const auto dof = [&](std::size_t c) { return static_cast<std::size_t>(pattern.free_dofs[c]); };
  detail::SparseMatrix matrix = pattern.structure;
  const LinearSolver kind = detail::resolve_solver(newton.solver, d, free_count);
  detail::SparseSolver solver(kind, newton);
  std::vector<double> r;
  std::vector<double> trial_r;
  std::vector<double> trial(x.size());
  problem.residual(x.data(), r);
  double norm = free_norm(r);
  const double first_norm = norm;
  double potential = problem.potential(x.data());
  double last_step = 0.0;
  std::size_t iteration = 0;
  bool converged = free_count == 0 || norm == 0.0;
  enum class Outcome { kConverged, kStepped, kFailed };
  const auto newton_step = [&](bool project) {
    problem.jacobian(x.data(), matrix, project);
    Eigen::VectorXd rhs(static_cast<Eigen::Index>(free_count));
    for (std::size_t c = 0; c < free_count; ++c) rhs(static_cast<Eigen::Index>(c)) = -r[dof(c)];
    Eigen::VectorXd step;
    try {
      solver.factorize(matrix, operation);
      step = solver.solve(rhs, operation);
    } catch (const ConvergenceError&) {
      if (project) throw;
      return Outcome::kFailed;
    }
    const double slope = -rhs.dot(step);  // grad(potential) . step, grad = r
    if (!step.allFinite() || !(slope < 0.0)) return Outcome::kFailed;
    last_step = step.cwiseAbs().maxCoeff();
    if (last_step <= newton.tolerance * model.length_scale) {
      for (std::size_t c = 0; c < free_count; ++c) x[dof(c)] += step(static_cast<Eigen::Index>(c));
      problem.residual(x.data(), r);
      return Outcome::kConverged;
    }
    double alpha = 1.0;
    for (int halving = 0; halving < 40; ++halving, alpha *= 0.5) {
      trial = x;
      for (std::size_t c = 0; c < free_count; ++c) {
        trial[dof(c)] += alpha * step(static_cast<Eigen::Index>(c));
      }
      const double trial_potential = problem.potential(trial.data());
      if (!std::isfinite(trial_potential)) continue;
      problem.residual(trial.data(), trial_r);
      const double trial_norm = free_norm(trial_r);
      // Near the solution the potential's change drowns in its roundoff: there |r| decides.
      const bool armijo = trial_potential <= potential + 1e-4 * alpha * slope;
      const bool in_roundoff =
          std::abs(trial_potential - potential) <= 1e-10 * std::max(1.0, std::abs(potential));
      if (armijo || (in_roundoff && trial_norm <= (1.0 - 1e-4 * alpha) * norm)) {
        x.swap(trial);
        r.swap(trial_r);
        norm = trial_norm;
        potential = trial_potential;
        return Outcome::kStepped;
      }
    }
    return Outcome::kFailed;
  };
  while (!converged && iteration < newton.max_iterations) {
    ++iteration;
    Outcome outcome = newton_step(false);
    if (outcome == Outcome::kFailed) outcome = newton_step(true);
    if (outcome == Outcome::kConverged) converged = true;
    if (outcome != Outcome::kFailed) continue;
    // At roundoff no step decreases the potential or |r| any more: that is convergence.
    if (norm <= 1e-12 * first_norm) {
      converged = true;
      break;
    }
    throw ConvergenceError(
        std::string(operation) +
        ": Newton's line search found no step that reduces the residual (|r| = " +
        format_number(norm) + " N after " + std::to_string(iteration) +
        " iterations); try a smaller dt");
  }
  if (!converged) {
    throw ConvergenceError(std::string(operation) + ": Newton's method did not converge in " +
                           std::to_string(newton.max_iterations) + " iterations (last step " +
                           format_number(last_step) + " m, tolerance " +
                           format_number(newton.tolerance * model.length_scale) + " m; residual " +
                           format_number(norm) + " N); try a smaller dt or more iterations");
  }
  if (newton.report != nullptr) {
    newton.report->iterations = iteration;
    newton.report->residual = max_abs(r);
  }

  std::vector<TensorVar> inputs{input,          params.rest.inverse_edges, params.rest.volumes,
                                params.lame.mu, params.lame.lambda,        params.mass};
  if (actuated) inputs.push_back(params.actuation);
  if (obstacles != nullptr) {
    const RigidContactMaterial& m = obstacles->material;
    inputs.insert(inputs.end(), {obstacles->state, m.stiffness, m.damping, m.friction});
  }
  const double saved[] = {dt, static_cast<double>(kind), newton.cg_tolerance,
                          static_cast<double>(newton.cg_max_iterations)};
  tape.keep_alive(body.ops());
  return tape.record(
      body.ops()->implicit_step, inputs, expected,
      [&](MutableTensorView out) {
        std::copy(x.begin(), x.end(), out.values);
        if (!dynamic) return;
        for (std::size_t j = 0; j < n * d; ++j) out.values[n * d + j] = (x[j] - start[j]) / dt;
      },
      SavedData{saved, {}});
}

}  // namespace

TensorVar step_implicit(const SoftBody& body, TensorVar state, const BodyParameters& params,
                        double dt, const NewtonOptions& newton) {
  (void)check_positive(dt, "fem::step_implicit: dt");
  return solve_implicit(body, state, params, dt, newton, true, nullptr);
}

TensorVar step_implicit(const SoftBody& body, TensorVar state, const BodyParameters& params,
                        double dt, const RigidObstacles& obstacles, const NewtonOptions& newton) {
  (void)check_positive(dt, "fem::step_implicit: dt");
  return solve_implicit(body, state, params, dt, newton, true, &obstacles);
}

TensorVar static_equilibrium(const SoftBody& body, TensorVar positions,
                             const BodyParameters& params, const NewtonOptions& newton) {
  return solve_implicit(body, positions, params, 0.0, newton, false, nullptr);
}

TensorVar static_equilibrium(const SoftBody& body, TensorVar positions,
                             const BodyParameters& params, const RigidObstacles& obstacles,
                             const NewtonOptions& newton) {
  return solve_implicit(body, positions, params, 0.0, newton, false, &obstacles);
}

void detail::ImplicitOp::backward(BackwardContext& context) const {
  const SoftBodyModel& model = *model_;
  const std::size_t n = model.num_vertices();
  const std::size_t d = model.dim();
  const std::size_t nd = n * d;
  const double dt = context.saved()[0];
  const bool dynamic = dt > 0.0;
  NewtonOptions newton;
  newton.solver = static_cast<LinearSolver>(static_cast<int>(context.saved()[1]));
  newton.cg_tolerance = context.saved()[2];
  newton.cg_max_iterations = static_cast<std::size_t>(context.saved()[3]);
  const detail::StepInputs layout = detail::StepInputs::of(context.num_inputs());
  const bool actuated = layout.actuated;
  const TensorView actuation = actuated ? context.input(Slot::kActuation) : TensorView{};
  const double* start = context.input(Slot::kState).values;
  const double* mass = context.input(Slot::kMass).values;
  const detail::SystemPattern& pattern = *model.pattern;
  const std::size_t first_rigid = layout.rigid_state;
  const detail::RigidContactKernel rigid = layout.rigid
                                               ? detail::rigid_kernel(model, context, first_rigid)
                                               : detail::RigidContactKernel{};
  ImplicitProblem problem{
      pattern,
      detail::element_inputs(model, start, context.input(Slot::kInverseEdges),
                             context.input(Slot::kVolumes), context.input(Slot::kMu),
                             context.input(Slot::kLambda), actuated ? &actuation : nullptr),
      detail::GroundKernel(model.options.ground, d, model.pinned_mask.data()),
      rigid,
      model.options.energy,
      n,
      d,
      start,
      dynamic ? start + nd : nullptr,
      mass,
      model.gravity,
      dt};
  const double* x1 = context.output().values;
  const double* g_x1 = context.grad_output().values;
  const double* g_v1 = dynamic ? g_x1 + nd : nullptr;

  // J lambda = dL/dx1 (total, through v1 too) on the free degrees of freedom.
  const auto free_count = static_cast<Eigen::Index>(pattern.free_dofs.size());
  std::vector<double> lambda(nd, 0.0);
  if (free_count > 0) {
    detail::SparseMatrix matrix = pattern.structure;
    problem.jacobian(x1, matrix);
    Eigen::VectorXd rhs(free_count);
    for (Eigen::Index c = 0; c < free_count; ++c) {
      const auto j = static_cast<std::size_t>(pattern.free_dofs[static_cast<std::size_t>(c)]);
      rhs(c) = g_x1[j] + (dynamic ? g_v1[j] / dt : 0.0);
    }
    const char* operation = "SoftBody implicit step (adjoint)";
    const auto solve_with = [&](LinearSolver kind) {
      detail::SparseSolver solver(kind, newton);
      solver.factorize(matrix, operation);
      return solver.solve(rhs, operation);
    };
    Eigen::VectorXd solution;
    try {
      solution = solve_with(newton.solver);
    } catch (const detail::IndefiniteMatrix&) {
      // The exact Hessian at the solution is indefinite (a buckled state): CG cannot, LDLT can.
      solution = solve_with(LinearSolver::kLdlt);
    }
    for (Eigen::Index c = 0; c < free_count; ++c) {
      lambda[static_cast<std::size_t>(pattern.free_dofs[static_cast<std::size_t>(c)])] =
          solution(c);
    }
  }

  // lambda^T df_el/d(x, B, W, mu, lambda, a).
  const bool state_grad = context.needs_grad(Slot::kState);
  std::vector<double> coupling(state_grad ? nd : 0, 0.0);
  detail::ElementGradients out;
  out.positions = state_grad ? coupling.data() : nullptr;
  layout.point_element_gradients(context, out);
  problem.elastic.positions = x1;
  detail::dispatch(model.options.energy, d, [&]<int D, template <int> class Material>() {
    detail::elastic_force_vjp<D, Material>(problem.elastic, lambda.data(), out);
  });

  if (state_grad) {
    double* g_x0 = context.grad_input(Slot::kState).values;
    double* g_v0 = dynamic ? g_x0 + nd : nullptr;
    for (std::size_t j = 0; j < nd; ++j) {
      const double m = mass[j / d];
      if (pattern.free_index[j] < 0) {
        g_x0[j] += g_x1[j] + coupling[j];
        continue;
      }
      if (dynamic) {
        g_x0[j] += m * lambda[j] / (dt * dt) - g_v1[j] / dt;
        g_v0[j] += m * lambda[j] / dt;
      }
    }
    if (dynamic) problem.ground.implicit_vjp_start(x1, start, dt, n, lambda.data(), g_x0);
  }
  if (layout.rigid) {
    // lambda^T df_rigid/d(x0, rigid state, material); the bodies were held over the step.
    double g_material[3] = {0.0, 0.0, 0.0};
    double* g_x0 = state_grad ? context.grad_input(Slot::kState).values : nullptr;
    double* g_rigid =
        context.needs_grad(first_rigid) ? context.grad_input(first_rigid).values : nullptr;
    problem.rigid.implicit_vjp(x1, start, dt, n, lambda.data(), g_x0, g_rigid, g_material);
    for (std::size_t j = 0; j < 3; ++j) {
      if (context.needs_grad(layout.rigid_material(j))) {
        context.grad_input(layout.rigid_material(j)).values[0] += g_material[j];
      }
    }
  }
  if (context.needs_grad(Slot::kMass)) {
    double* g_mass = context.grad_input(Slot::kMass).values;
    for (std::size_t j = 0; j < nd; ++j) {
      if (pattern.free_index[j] < 0) continue;
      const double momentum = dynamic ? (x1[j] - start[j] - dt * start[nd + j]) / (dt * dt) : 0.0;
      g_mass[j / d] -= lambda[j] * (momentum - model.gravity[j % d]);
    }
  }
}

}  // namespace maya::fem
