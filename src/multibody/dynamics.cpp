// The double-precision entry points of the multibody algorithms (algorithms.hpp).
#include "maya/multibody/dynamics.hpp"

#include <cmath>
#include <string>

#include "maya/core/error.hpp"
#include "maya/multibody/hard_contact.hpp"
#include "multibody/checks.hpp"
#include "multibody/integration.hpp"
#include "multibody/scratch.hpp"

namespace maya::multibody {

using detail::check_length;

namespace {

// The caller's workspace, else `own` (the call's).
Workspace& pick(Workspace* workspace, Workspace& own) {
  return workspace != nullptr ? *workspace : own;
}

}  // namespace

std::vector<double> forward_dynamics(const Model& model, std::span<const double> params,
                                     std::span<const double> q, std::span<const double> qdot,
                                     std::span<const double> tau, Workspace* workspace) {
  const char* op = "multibody::forward_dynamics";
  check_length(op, "params", params.size(), model.num_parameters());
  check_length(op, "q", q.size(), model.nq());
  check_length(op, "qdot", qdot.size(), model.nv());
  check_length(op, "tau", tau.size(), model.nv());
  Workspace own;
  detail::Lent<detail::TreeScratch<double>> lent(pick(workspace, own));
  detail::TreeScratch<double>& ws = *lent;
  detail::kinematics(model, params.data(), q.data(), qdot.data(), ws, false);
  std::vector<double> qdd(model.nv());
  detail::articulated_body(model, tau.data(), qdd.data(), ws);
  return qdd;
}

std::vector<double> inverse_dynamics(const Model& model, std::span<const double> params,
                                     std::span<const double> q, std::span<const double> qdot,
                                     std::span<const double> qdd, Workspace* workspace) {
  const char* op = "multibody::inverse_dynamics";
  check_length(op, "params", params.size(), model.num_parameters());
  check_length(op, "q", q.size(), model.nq());
  check_length(op, "qdot", qdot.size(), model.nv());
  check_length(op, "qdd", qdd.size(), model.nv());
  Workspace own;
  detail::Lent<detail::TreeScratch<double>> lent(pick(workspace, own));
  detail::TreeScratch<double>& ws = *lent;
  detail::kinematics(model, params.data(), q.data(), qdot.data(), ws, false);
  std::vector<double> tau(model.nv());
  detail::newton_euler(model, qdd.data(), tau.data(), ws);
  return tau;
}

std::vector<double> mass_matrix(const Model& model, std::span<const double> params,
                                std::span<const double> q, Workspace* workspace) {
  const char* op = "multibody::mass_matrix";
  check_length(op, "params", params.size(), model.num_parameters());
  check_length(op, "q", q.size(), model.nq());
  Workspace own;
  detail::Lent<detail::TreeScratch<double>> lent(pick(workspace, own));
  detail::TreeScratch<double>& ws = *lent;
  detail::kinematics(model, params.data(), q.data(), static_cast<const double*>(nullptr), ws,
                     false);
  std::vector<double> M(model.nv() * model.nv());
  detail::composite_rigid_body(model, M.data(), ws);
  return M;
}

std::vector<double> acceleration(const Model& model, std::span<const double> params,
                                 std::span<const double> state, std::span<const double> control,
                                 Workspace* workspace) {
  const char* op = "multibody::acceleration";
  check_length(op, "params", params.size(), model.num_parameters());
  check_length(op, "state", state.size(), model.nx());
  check_length(op, "control", control.size(), model.nu());
  Workspace own;
  detail::Lent<detail::TreeScratch<double>> lent(pick(workspace, own));
  detail::TreeScratch<double>& ws = *lent;
  std::vector<double> qdd(model.nv());
  detail::acceleration(model, params.data(), state.data(), state.data() + model.nq(),
                       control.data(), qdd.data(), ws);
  return qdd;
}

std::vector<double> step(const Model& model, std::span<const double> params,
                         std::span<const double> state, std::span<const double> control, double dt,
                         Integrator integrator, Workspace* workspace) {
  const char* op = "multibody::step";
  check_length(op, "params", params.size(), model.num_parameters());
  check_length(op, "state", state.size(), model.nx());
  check_length(op, "control", control.size(), model.nu());
  detail::check_dt(op, dt);
  if (model.options().contact_model == ContactModel::kHard) {
    detail::check_hard_contact_integrator(op, integrator);
    return hard_contact_step(model, params, state, control, dt, workspace).state;
  }
  Workspace own;
  detail::Lent<detail::StepScratch<double>> scratch(pick(workspace, own));
  std::vector<double> next(model.nx());
  detail::step(model, params.data(), state.data(), control.data(), dt, integrator, next.data(),
               *scratch);
  detail::check_finite_state(model, op, next.data(), [] { return std::string("after the step"); });
  return next;
}

std::vector<double> rollout(const Model& model, std::span<const double> params,
                            std::span<const double> state, std::span<const double> controls,
                            std::size_t steps, double dt, Integrator integrator,
                            Workspace* workspace) {
  const char* op = "multibody::rollout";
  const std::size_t nx = model.nx(), nu = model.nu();
  check_length(op, "params", params.size(), model.num_parameters());
  check_length(op, "state", state.size(), nx);
  if (!controls.empty()) check_length(op, "controls", controls.size(), steps * nu);
  detail::check_dt(op, dt);
  Workspace own;
  detail::Lent<detail::StepScratch<double>> scratch(pick(workspace, own));
  std::vector<double> states((steps + 1) * nx);
  std::copy(state.begin(), state.end(), states.begin());
  const std::vector<double> zero(nu, 0.0);
  if (model.options().contact_model == ContactModel::kHard) {
    detail::check_hard_contact_integrator(op, integrator);
    for (std::size_t t = 0; t < steps; ++t) {
      const double* u = controls.empty() ? zero.data() : controls.data() + t * nu;
      const std::vector<double> next =
          hard_contact_step(model, params, {states.data() + t * nx, nx}, {u, nu}, dt,
                            &pick(workspace, own))
              .state;
      std::copy(next.begin(), next.end(),
                states.begin() + static_cast<std::ptrdiff_t>((t + 1) * nx));
    }
    return states;
  }
  for (std::size_t t = 0; t < steps; ++t) {
    const double* u = controls.empty() ? zero.data() : controls.data() + t * nu;
    detail::step(model, params.data(), states.data() + t * nx, u, dt, integrator,
                 states.data() + (t + 1) * nx, *scratch);
    detail::check_finite_state(model, op, states.data() + (t + 1) * nx,
                               [t] { return "after step " + std::to_string(t); });
  }
  return states;
}

Energy energy(const Model& model, std::span<const double> params, std::span<const double> state,
              Workspace* workspace) {
  const char* op = "multibody::energy";
  check_length(op, "params", params.size(), model.num_parameters());
  check_length(op, "state", state.size(), model.nx());
  Workspace own;
  detail::Lent<detail::TreeScratch<double>> lent(pick(workspace, own));
  detail::TreeScratch<double>& ws = *lent;
  detail::kinematics(model, params.data(), state.data(), state.data() + model.nq(), ws);
  Energy e;
  const Vec3& g = model.options().gravity;
  for (std::size_t i = 0; i < model.num_bodies(); ++i) {
    const auto Iv = detail::mul6(ws.inertia[i], ws.velocity[i]);
    e.kinetic += 0.5 * detail::dot6(ws.velocity[i], Iv);
    const double* p = params.data() + detail::PL::kPerBody * i;
    const detail::Transform<double>& X = ws.X_world[i];
    const detail::Vec3<double> com{p[detail::PL::kCom], p[detail::PL::kCom + 1],
                                   p[detail::PL::kCom + 2]};
    const detail::Vec3<double> world = detail::add(X.r, detail::mul_transpose(X.E, com));
    e.potential -= p[detail::PL::kMass] * detail::dot(g, world);
  }
  return e;
}

std::vector<double> body_poses(const Model& model, std::span<const double> params,
                               std::span<const double> q, Workspace* workspace) {
  const char* op = "multibody::body_poses";
  check_length(op, "params", params.size(), model.num_parameters());
  check_length(op, "q", q.size(), model.nq());
  Workspace own;
  detail::Lent<detail::TreeScratch<double>> lent(pick(workspace, own));
  detail::TreeScratch<double>& ws = *lent;
  detail::kinematics(model, params.data(), q.data(), static_cast<const double*>(nullptr), ws);
  std::vector<double> poses(7 * model.num_bodies());
  for (std::size_t i = 0; i < model.num_bodies(); ++i) {
    const detail::Transform<double>& X = ws.X_world[i];
    const detail::Mat3<double> R = detail::transpose(X.E);
    const auto [w, x, y, z] = detail::quaternion_of(R);
    const double pose[7] = {X.r[0], X.r[1], X.r[2], w, x, y, z};
    std::copy(pose, pose + 7, poses.begin() + static_cast<std::ptrdiff_t>(7 * i));
  }
  return poses;
}

std::vector<double> contact_forces(const Model& model, std::span<const double> params,
                                   std::span<const double> state, Workspace* workspace) {
  const char* op = "multibody::contact_forces";
  detail::check_penalty_contact(op, model);
  check_length(op, "params", params.size(), model.num_parameters());
  check_length(op, "state", state.size(), model.nx());
  Workspace own;
  detail::Lent<detail::TreeScratch<double>> lent(pick(workspace, own));
  detail::TreeScratch<double>& ws = *lent;
  detail::kinematics(model, params.data(), state.data(), state.data() + model.nq(), ws);
  std::vector<double> forces(3 * (model.contact_points().size() + model.contact_pairs().size()));
  detail::contact_wrenches(model, params.data(), ws, forces.data());
  return forces;
}

}  // namespace maya::multibody
