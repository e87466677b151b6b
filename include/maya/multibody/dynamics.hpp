// Multibody dynamics on plain numbers: forward dynamics (articulated-body algorithm), inverse
// dynamics (recursive Newton-Euler), the mass matrix (composite rigid bodies), one integrator step,
// energies and body poses. `params` is the model's parameter vector [num_parameters()]
// (Model::parameters() for the model as built); q is [nq], qdot [nv], a state [nx] = [q, qdot],
// a control [nu]. Wrong lengths throw maya::ShapeError naming the function and both lengths.
// Every function borrows its scratch from `workspace` when one is given (a caller stepping in a
// loop keeps one and allocates nothing but the results), else from a workspace of its own call;
// nothing is kept between calls.
#pragma once

#include <span>
#include <vector>

#include "maya/core/workspace.hpp"
#include "maya/multibody/model.hpp"

namespace maya::multibody {

// qdd [nv] of the tree under generalized forces tau [nv] and gravity alone (no actuators,
// damping, limits or contact).
[[nodiscard]] std::vector<double> forward_dynamics(
    const Model& model, std::span<const double> params, std::span<const double> q,
    std::span<const double> qdot, std::span<const double> tau, Workspace* workspace = nullptr);
// tau [nv] = M(q) qdd + C(q, qdot) (gravity included, armature on M's diagonal).
[[nodiscard]] std::vector<double> inverse_dynamics(
    const Model& model, std::span<const double> params, std::span<const double> q,
    std::span<const double> qdot, std::span<const double> qdd, Workspace* workspace = nullptr);
// M(q) [nv, nv], row-major.
[[nodiscard]] std::vector<double> mass_matrix(const Model& model, std::span<const double> params,
                                              std::span<const double> q,
                                              Workspace* workspace = nullptr);
// qdd [nv] with everything: actuators driven by `control`, damping, limits, contact.
[[nodiscard]] std::vector<double> acceleration(const Model& model, std::span<const double> params,
                                               std::span<const double> state,
                                               std::span<const double> control,
                                               Workspace* workspace = nullptr);
// The next state [nx]. Throws maya::ValueError for dt <= 0 and maya::NonFiniteError naming the
// first body whose coordinates are not finite after the step.
[[nodiscard]] std::vector<double> step(const Model& model, std::span<const double> params,
                                       std::span<const double> state,
                                       std::span<const double> control, double dt,
                                       Integrator integrator = Integrator::kSemiImplicitEuler,
                                       Workspace* workspace = nullptr);
// States [(steps + 1) * nx] from `state`, with controls [steps * nu] (empty: zero controls).
[[nodiscard]] std::vector<double> rollout(const Model& model, std::span<const double> params,
                                          std::span<const double> state,
                                          std::span<const double> controls, std::size_t steps,
                                          double dt,
                                          Integrator integrator = Integrator::kSemiImplicitEuler,
                                          Workspace* workspace = nullptr);

struct Energy {
  double kinetic = 0.0;
  double potential = 0.0;  // gravity's, zero at the world origin
  [[nodiscard]] double total() const noexcept { return kinetic + potential; }
};
[[nodiscard]] Energy energy(const Model& model, std::span<const double> params,
                            std::span<const double> state, Workspace* workspace = nullptr);

// World pose of every body [num_bodies, 7]: position, then quaternion (w, x, y, z).
[[nodiscard]] std::vector<double> body_poses(const Model& model, std::span<const double> params,
                                             std::span<const double> q,
                                             Workspace* workspace = nullptr);
// Penalty contact forces at `state`, [P + Q, 3] (world, N): the force on each of the P
// Model::contact_points() from its plane, then the total force on body_b of each of the Q
// Model::contact_pairs() from body_a (body_a feels the opposite); zero where nothing touches.
[[nodiscard]] std::vector<double> contact_forces(const Model& model, std::span<const double> params,
                                                 std::span<const double> state,
                                                 Workspace* workspace = nullptr);

}  // namespace maya::multibody
