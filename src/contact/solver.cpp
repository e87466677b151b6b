// The contact solver's entry points: validation, the double-precision solve, and the derivative
// by the implicit function theorem (see interior_point.hpp for the equations).
#include "maya/contact/solver.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "contact/interior_point.hpp"
#include "maya/core/check.hpp"
#include "maya/core/error.hpp"

namespace maya::contact {

namespace detail {

Layout layout_of(const ContactProblem& problem) {
  Layout layout;
  layout.velocities = static_cast<Index>(problem.num_velocities);
  layout.joints = static_cast<Index>(problem.num_joint_rows());
  layout.contacts = static_cast<Index>(problem.num_contacts());
  layout.directions = problem.three_dimensional() ? 4 : 2;
  for (std::size_t i = 0; i < problem.num_contacts(); ++i) {
    if (problem.friction[i] > 0.0) layout.frictional.push_back(static_cast<Index>(i));
  }
  return layout;
}

void validate(const ContactProblem& problem, const SolverOptions& options) {
  constexpr const char* kOperation = "contact solve";
  const std::size_t n = problem.num_velocities;
  const std::size_t me = problem.num_joint_rows();
  const std::size_t nc = problem.num_contacts();
  const auto expect = [](const std::vector<double>& values, std::size_t size, const char* what) {
    if (values.size() != size) {
      throw ShapeError(std::string(kOperation) + ": " + what + " has " +
                       std::to_string(values.size()) + " entries, expected " +
                       std::to_string(size));
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!std::isfinite(values[i])) {
        (void)check_finite(values[i],
                           std::string(kOperation) + ": " + what + "[" + std::to_string(i) + "]");
      }
    }
  };
  expect(problem.mass, n, "mass");
  expect(problem.momentum, n, "momentum");
  expect(problem.joint_jacobian, me * n, "joint_jacobian");
  expect(problem.normal_jacobian, nc * n, "normal_jacobian");
  expect(problem.tangent_jacobian, nc * n, "tangent_jacobian");
  expect(problem.friction, nc, "friction");
  if (problem.three_dimensional()) expect(problem.bitangent_jacobian, nc * n, "bitangent_jacobian");
  expect(problem.joint_target, me, "joint_target");
  expect(problem.normal_offset, nc, "normal_offset");
  for (std::size_t j = 0; j < n; ++j) {
    if (!(problem.mass[j] > 0.0 && problem.mass[j] <= std::numeric_limits<double>::max())) {
      (void)check_positive(problem.mass[j],
                           std::string(kOperation) + ": mass[" + std::to_string(j) + "]");
    }
  }
  for (std::size_t i = 0; i < nc; ++i) {
    if (!(problem.friction[i] >= 0.0)) {
      (void)check_non_negative(problem.friction[i],
                               std::string(kOperation) + ": friction[" + std::to_string(i) + "]");
    }
  }
  (void)check_positive(options.smoothing, std::string(kOperation) + ": smoothing");
  (void)check_positive(options.tolerance, std::string(kOperation) + ": tolerance");
  if (options.max_iterations < 1) {  // a signed setting: check_at_least takes counts
    throw ValueError(std::string(kOperation) + ": max_iterations must be at least 1, got " +
                     std::to_string(options.max_iterations));
  }
}

}  // namespace detail

namespace {

using detail::Index;

std::vector<double> to_std(const Eigen::VectorXd& x) { return {x.data(), x.data() + x.size()}; }

}  // namespace

ContactSolution solve(const ContactProblem& problem, const SolverOptions& options) {
  detail::validate(problem, options);
  const detail::Layout layout = detail::layout_of(problem);
  detail::Kkt<double> kkt;
  detail::assemble(problem, layout, kkt);
  detail::Iterate<double> w;
  detail::interior_point(layout, kkt, options, w);

  ContactSolution out;
  const Index nc = layout.contacts;
  out.velocity = to_std(w.v);
  out.joint_impulse = to_std(w.y);
  out.multipliers = to_std(w.z);
  out.slacks = to_std(w.s);
  out.normal_impulse.assign(w.z.data(), w.z.data() + nc);
  out.normal_velocity.assign(w.s.data(), w.s.data() + nc);
  out.friction_impulse.assign(static_cast<std::size_t>(nc), 0.0);
  out.slip.assign(static_cast<std::size_t>(nc), 0.0);
  out.bitangent_impulse.assign(problem.three_dimensional() ? static_cast<std::size_t>(nc) : 0, 0.0);
  for (Index k = 0; k < layout.slots(); ++k) {
    const auto i = static_cast<std::size_t>(layout.frictional[static_cast<std::size_t>(k)]);
    out.friction_impulse[i] = w.z(layout.plus(k)) - w.z(layout.minus(k));
    if (layout.directions == 4) {
      out.bitangent_impulse[i] = w.z(layout.beta(k, 2)) - w.z(layout.beta(k, 3));
    }
    out.slip[i] = w.z(layout.slip(k));
  }
  out.iterations = w.iterations;
  return out;
}

// K^T a = (g_v, 0, g_z, 0) with K = dF/dw, then d loss / d theta = -a^T dF/dtheta. Eliminating
// a4 = -a3 / z leaves the transposed reduced system (NewtonSystem::solve_transposed, the same
// factorization the forward iterations use). Reading -a^T dF/dtheta off F1..F3:
//   dM_j = -a1_j v_j,  dq = a1,  dG_kj = a1_j y_k - a2_k v_j,  dg = a2,
//   dA_ij = a1_j z_i + a3_i v_j,  dc = a3,  dmu_k = a3_(gamma k) lambda_n; the rows of A built
// from J_t (and J_b) with signs +-1 give dJ_t = dA_(t+) - dA_(t-).
ProblemGradient differentiate(const ContactProblem& problem, const ContactSolution& solution,
                              const SolverOptions& options, std::span<const double> grad_velocity,
                              std::span<const double> grad_normal_impulse,
                              std::span<const double> grad_friction_impulse,
                              std::span<const double> grad_bitangent_impulse) {
  constexpr const char* kOperation = "contact differentiate";
  detail::validate(problem, options);
  const detail::Layout layout = detail::layout_of(problem);
  const Index n = layout.velocities;
  const Index me = layout.joints;
  const Index nc = layout.contacts;
  const Index p = layout.pairs();
  const auto expect = [](std::size_t actual, Index expected, const char* what) {
    if (actual != static_cast<std::size_t>(expected)) {
      throw ShapeError(std::string(kOperation) + ": " + what + " has " + std::to_string(actual) +
                       " entries, expected " + std::to_string(expected));
    }
  };
  expect(solution.velocity.size(), n, "solution.velocity");
  expect(solution.joint_impulse.size(), me, "solution.joint_impulse");
  expect(solution.multipliers.size(), p, "solution.multipliers");
  expect(solution.slacks.size(), p, "solution.slacks");
  expect(grad_velocity.size(), n, "grad_velocity");
  if (!grad_normal_impulse.empty()) expect(grad_normal_impulse.size(), nc, "grad_normal_impulse");
  if (!grad_friction_impulse.empty()) {
    expect(grad_friction_impulse.size(), nc, "grad_friction_impulse");
  }
  if (!grad_bitangent_impulse.empty()) {
    if (layout.directions != 4) {
      throw ShapeError(std::string(kOperation) +
                       ": grad_bitangent_impulse given for a 2-D problem (no bitangent_jacobian)");
    }
    expect(grad_bitangent_impulse.size(), nc, "grad_bitangent_impulse");
  }

  detail::Kkt<double> kkt;
  detail::assemble(problem, layout, kkt);
  const Eigen::Map<const Eigen::VectorXd> v(solution.velocity.data(), n);
  const Eigen::Map<const Eigen::VectorXd> y(solution.joint_impulse.data(), me);
  const Eigen::Map<const Eigen::VectorXd> z(solution.multipliers.data(), p);
  const Eigen::Map<const Eigen::VectorXd> s(solution.slacks.data(), p);
  const Eigen::Map<const Eigen::VectorXd> g_v(grad_velocity.data(), n);
  Eigen::VectorXd g_z = Eigen::VectorXd::Zero(p);
  for (Index i = 0; i < nc && !grad_normal_impulse.empty(); ++i) {
    g_z(i) = grad_normal_impulse[static_cast<std::size_t>(i)];
  }
  for (Index k = 0; k < layout.slots() && !grad_friction_impulse.empty(); ++k) {
    const double g = grad_friction_impulse[static_cast<std::size_t>(
        layout.frictional[static_cast<std::size_t>(k)])];
    g_z(layout.plus(k)) = g;
    g_z(layout.minus(k)) = -g;
  }
  for (Index k = 0; k < layout.slots() && !grad_bitangent_impulse.empty(); ++k) {
    const double g = grad_bitangent_impulse[static_cast<std::size_t>(
        layout.frictional[static_cast<std::size_t>(k)])];
    g_z(layout.beta(k, 2)) = g;
    g_z(layout.beta(k, 3)) = -g;
  }
  for (Index i = 0; i < p; ++i) {
    if (!(z(i) > 0.0) || !(s(i) > 0.0)) {
      throw ValueError(std::string(kOperation) +
                       ": the solution's multipliers and slacks must be "
                       "positive (pass a ContactSolution from solve())");
    }
  }

  Eigen::VectorXd a1 = g_v.cwiseQuotient(kkt.mass);
  Eigen::VectorXd a2 = Eigen::VectorXd::Zero(me);
  Eigen::VectorXd a3 = Eigen::VectorXd::Zero(p);
  if (me + p > 0) {
    detail::NewtonSystem<double> system(layout, kkt, options.reduction);
    if (!system.factor(s.cwiseQuotient(z), true)) {
      detail::throw_singular(kOperation, system.rcond());
    }
    system.solve_transposed(g_v, g_z, a1, a2, a3);
  }

  ProblemGradient out;
  out.mass = to_std(-a1.cwiseProduct(v));
  out.momentum = to_std(a1);
  out.joint_target = to_std(a2);
  const Eigen::MatrixXd d_joint = y * a1.transpose() - a2 * v.transpose();       // [me, n]
  const Eigen::MatrixXd d_inequality = z * a1.transpose() + a3 * v.transpose();  // [p, n]
  out.joint_jacobian.resize(static_cast<std::size_t>(me * n));
  for (Index k = 0; k < me; ++k) {
    for (Index j = 0; j < n; ++j)
      out.joint_jacobian[static_cast<std::size_t>(k * n + j)] = d_joint(k, j);
  }
  out.normal_jacobian.assign(static_cast<std::size_t>(nc * n), 0.0);
  out.tangent_jacobian.assign(static_cast<std::size_t>(nc * n), 0.0);
  out.normal_offset.assign(a3.data(), a3.data() + nc);
  out.friction.assign(static_cast<std::size_t>(nc), 0.0);
  if (layout.directions == 4) out.bitangent_jacobian.assign(static_cast<std::size_t>(nc * n), 0.0);
  for (Index i = 0; i < nc; ++i) {
    for (Index j = 0; j < n; ++j) {
      out.normal_jacobian[static_cast<std::size_t>(i * n + j)] = d_inequality(i, j);
    }
  }
  for (Index k = 0; k < layout.slots(); ++k) {
    const Index i = layout.frictional[static_cast<std::size_t>(k)];
    for (Index j = 0; j < n; ++j) {
      out.tangent_jacobian[static_cast<std::size_t>(i * n + j)] =
          d_inequality(layout.plus(k), j) - d_inequality(layout.minus(k), j);
      if (layout.directions == 4) {
        out.bitangent_jacobian[static_cast<std::size_t>(i * n + j)] =
            d_inequality(layout.beta(k, 2), j) - d_inequality(layout.beta(k, 3), j);
      }
    }
    out.friction[static_cast<std::size_t>(i)] = a3(layout.slip(k)) * z(i);
  }
  return out;
}

}  // namespace maya::contact
