// Multibody steps on the tensor tape, and step Jacobians for model-predictive control. A state is
// [nx] = [q (nq), qdot (nv)], a control [nu], the parameters [num_parameters()] (ParameterLayout:
// masses, centres of mass, inertias, joint offsets, joint damping, contact material).
//
// step() records one fused node with an exact adjoint of O(1) cost in the number of inputs: for
// semi-implicit Euler the implicit-function form g = -lambda^T dR/d(x, u, p), lambda = M^-1 g_qdd,
// R = inverse dynamics - applied forces, with R's gradient taken by recording one Newton-Euler
// pass in reverse mode; for RK4 the whole step recorded in reverse mode (docs/multibody.md).
// step_composed() records the same semi-implicit Euler step as three nodes (accelerations through
// the mass matrix and inverse dynamics, tensor ops for the velocity update, the position update),
// differentiated in forward mode: the twin the tests hold the fused node to.
#pragma once

#include <span>

#include "maya/multibody/model.hpp"
#include "maya/tensor/tensor.hpp"
#include "maya/tensor/tensor_var.hpp"

namespace maya::multibody {

// The next state [nx] as one tape node. state [nx], control [nu], params [num_parameters()]; any
// of them may be a constant or a differentiable var. Throws maya::ShapeError for wrong lengths,
// maya::ValueError for dt <= 0, maya::NonFiniteError (naming the body) when the step blows up.
[[nodiscard]] TensorVar step(const Model& model, TensorVar state, TensorVar control,
                             TensorVar params, double dt,
                             Integrator integrator = Integrator::kSemiImplicitEuler);
// The same semi-implicit Euler step recomposed from finer nodes.
[[nodiscard]] TensorVar step_composed(const Model& model, TensorVar state, TensorVar control,
                                      TensorVar params, double dt);
// Penalty contact forces at `state`, [P + Q, 3] (world, N): rows 0..P-1 the force on each of
// Model::contact_points() from its plane, rows P..P+Q-1 the total force on body_b of each of
// Model::contact_pairs() from body_a (body_a feels the opposite); zero where nothing touches.
// Differentiable in the state and the parameters. (Under kHard, hard_contact_step's impulses.)
[[nodiscard]] TensorVar contact_forces(const Model& model, TensorVar state, TensorVar params);

// World position [3] of `point` (body frame) of body `body` at `state`: an end effector, a foot.
// Throws maya::ValueError for a body out of range.
[[nodiscard]] TensorVar body_point(const Model& model, TensorVar state, TensorVar params,
                                   std::size_t body, const Vec3& point);

// Per-step Jacobians of x_{t+1} = step(x_t, u_t, p), exact (forward-mode duals).
struct StepJacobians {
  Tensor state;       // [T, nx, nx]: d x_{t+1} / d x_t
  Tensor control;     // [T, nx, nu]: d x_{t+1} / d u_t
  Tensor parameters;  // [T, nx, num_parameters()] when asked for, else empty
};
// states [T, nx] and controls [T, nu] (the points to linearize about, e.g. a rollout without its
// last state). Throws maya::ShapeError for mismatched shapes.
[[nodiscard]] StepJacobians step_jacobians(const Model& model, const Tensor& states,
                                           const Tensor& controls, std::span<const double> params,
                                           double dt,
                                           Integrator integrator = Integrator::kSemiImplicitEuler,
                                           bool with_parameters = false);
// The same for E worlds of one model at once (MPC over scenarios, iLQR over a population):
// states [E, T, nx], controls [E, T, nu], params [num_parameters()] shared or [E,
// num_parameters()] per world. Returns state [E, T, nx, nx], control [E, T, nx, nu] and, when
// asked, parameters [E, T, nx, num_parameters()]. Both functions split their steps across
// maya's threads (set_num_threads), each with its own workspace; the values do not depend on
// the thread count. Throws maya::ShapeError for mismatched shapes, naming both.
[[nodiscard]] StepJacobians batched_step_jacobians(
    const Model& model, const Tensor& states, const Tensor& controls, const Tensor& params,
    double dt, Integrator integrator = Integrator::kSemiImplicitEuler,
    bool with_parameters = false);

}  // namespace maya::multibody
