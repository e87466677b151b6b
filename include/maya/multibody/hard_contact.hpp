// Hard contact for multibody trees: one semi-implicit Euler step whose contact impulses come
// from maya::contact's interior-point solver, with a friction cone per contact, against the
// planes and between bodies (docs/multibody.md). The impulses are outputs, plain and on the tape.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "maya/core/workspace.hpp"
#include "maya/multibody/differentiable.hpp"
#include "maya/multibody/model.hpp"
#include "maya/tensor/tensor_var.hpp"

namespace maya::multibody {

struct HardContactResult {
  std::vector<double> state;  // [nx] the next state
  // [P + Q, 3] world impulse (N s) over the step, normal plus friction: rows 0..P-1 on each of
  // Model::contact_points() from its plane, rows P..P+Q-1 the total on body_b of each of
  // Model::contact_pairs() from body_a (body_a takes the opposite); zero where nothing was in the
  // problem. Divide by dt for a mean force (the layout of contact_forces()).
  std::vector<double> impulses;
  // The contacts in the problem: points within ModelOptions::hard_contact.margin of a plane, and
  // pairs' contacts (a box corner, a capsule end, ...) closer than the margin.
  std::size_t contacts = 0;
  int iterations = 0;  // the solver's
};

// One step with hard contact, whatever ModelOptions::contact_model says (step() and rollout()
// call it when it says kHard). params [num_parameters()], state [nx], control [nu]. Throws
// maya::ShapeError for wrong lengths; maya::ValueError for dt <= 0, a negative or non-finite
// friction, a non-positive mass or a mass matrix that is not positive definite (naming the
// value); maya::ConvergenceError when the solver fails; maya::NonFiniteError (naming the body)
// when the step blows up.
[[nodiscard]] HardContactResult hard_contact_step(const Model& model,
                                                  std::span<const double> params,
                                                  std::span<const double> state,
                                                  std::span<const double> control, double dt,
                                                  Workspace* workspace = nullptr);

struct HardContactVars {
  TensorVar state;     // [nx]
  TensorVar impulses;  // [P + Q, 3], as HardContactResult::impulses
};

// The same step as one fused tape node (its outputs sliced into the two vars): the backward pass
// runs the solver's implicit-function adjoint once and chains it, in reverse mode, through the
// problem's construction (mass matrix, its Cholesky factor, momentum, contact Jacobians and
// friction directions) as functions of the state, the control and the parameters. The contact
// set is chosen on the values at the start of the step and held fixed.
[[nodiscard]] HardContactVars hard_contact_step(const Model& model, TensorVar state,
                                                TensorVar control, TensorVar params, double dt);

// The composed twin of the step's state output: three nodes, the problem's data (forward mode
// through the templated construction), contact::solve_velocities (the bare solve, differentiated
// by the solver's own adjoint) and the velocity and position update (forward mode). A different
// differentiation of the same step, which the tests hold the fused node to.
[[nodiscard]] TensorVar hard_contact_step_composed(const Model& model, TensorVar state,
                                                   TensorVar control, TensorVar params, double dt);

// Per-step Jacobians of the hard-contact step, exact (the fused node's adjoint, one application
// per row of the recorded step): states [T, nx] and controls [T, nu] to linearize about; returns
// state [T, nx, nx] = d x1 / d x, control [T, nx, nu] and, when asked, parameters
// [T, nx, num_parameters()]. step_jacobians() calls it for a kHard model. The contact set of
// each step is held, as in the tape's gradient. Throws as hard_contact_step() does, and
// maya::ShapeError for mismatched shapes.
[[nodiscard]] StepJacobians hard_contact_step_jacobians(const Model& model, const Tensor& states,
                                                        const Tensor& controls,
                                                        std::span<const double> params, double dt,
                                                        bool with_parameters = false);

}  // namespace maya::multibody
