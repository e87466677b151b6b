// An open-loop walking gait for a quadruped from URDF (examples/robots/quadruped.urdf: a trunk on
// a floating base and four legs of hip abduction, hip flexion and knee): each joint's PD servo
// follows a periodic target, a few Fourier terms of one shared gait frequency, and L-BFGS learns
// those terms through the whole rollout with ground contact so that the trunk walks forward while
// it stays up and level.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include "maya/multibody/model.hpp"
#include "maya/optim/objective.hpp"
#include "maya/optim/parameter.hpp"
#include "maya/tensor/tensor.hpp"
#include "maya/tensor/tensor_var.hpp"

namespace maya::tasks {

struct QuadrupedGaitOptions {
  // Hard contact (the interior-point step) by default: feet stick by Coulomb's law at any dt and
  // the gradient stays bounded over the whole walk (docs/multibody.md, "Walking").
  multibody::ContactModel contact = multibody::ContactModel::kHard;
  // The servos are explicit: their damping is stable while kv dt / I < 2 for the lightest joint
  // (a calf, I = 5.4e-3 kg m^2 about its knee), dt < 3.6 ms.
  double dt = 2e-3;            // s
  std::size_t steps = 600;     // T; steps * dt is the walk's duration
  double frequency = 2.0;      // Hz, the gait's (shared by every joint)
  std::size_t harmonics = 1;   // H Fourier terms per joint
  double ramp = 0.25;          // s: the periodic part fades in (smoothstep) from the start posture
  double kp = 80.0;            // N m / rad, every joint's servo
  double kv = 3.0;             // N m s / rad
  double stand_height = 0.33;  // m, the trunk's height in the standing pose (feet under the hips)
  // m, the trunk's height the walk starts from, feet under the hips: standing by default; 0.21 is
  // the stand-up example's crouch, from which the targets lead up over the ramp.
  double start_height = 0.33;
  double friction = 1.0;
  // HardContactSettings::smoothing (kHard): 100 times the default, for a smoother gradient; a
  // foot carrying a quarter of 17.6 kg (0.086 N s a step) rests dt smoothing / lambda = 2e-8 m up.
  double hard_smoothing = 1e-6;
  double friction_smoothing = 0.2;  // m/s, ModelOptions::friction_smoothing (kPenalty)
  // The loss (gait_loss): -distance + height_weight mean_t (z_t - stand_height)^2
  //   + upright_weight mean_t 2 (qx_t^2 + qy_t^2) + heading_weight (mean_t qz_t^2 + (y_T - y_0)^2)
  //   + effort_weight mean_t |tau_t|^2.
  double height_weight = 100.0;
  double upright_weight = 10.0;
  double heading_weight = 10.0;
  double effort_weight = 1e-3;
};

// The quadruped made ready to walk: the file's bodies on a floating base with the ground plane, a
// PD servo (position actuator, kp and kv of the options) on each of its J = 12 joints, the contact
// model of the options, its standing posture and the crouch it starts from.
struct Quadruped {
  multibody::Model model;
  std::vector<double> posture{};        // [J] the standing pose's joint angles
  std::vector<double> start_posture{};  // [J] the start's joint angles (start_height)
  std::vector<double> initial_state{};  // [nx] the start, feet on the ground, at rest
  std::array<std::size_t, 4> feet{};    // Model::contact_points() index of each foot
  std::array<std::size_t, 4> calves{};  // the body of each foot
  std::size_t trunk_points = 0;         // contact points on the trunk (none may touch)
  double body_length = 0.0;             // m, the trunk's extent along x (its box)
};

// Throws maya::ValueError when `file` lacks a floating base, a joint of the four legs (names
// <front|hind>_<left|right>_<hip_abduction|hip_flexion|knee>) or a spherical foot on each calf.
[[nodiscard]] Quadruped make_quadruped(const multibody::Model& file,
                                       const QuadrupedGaitOptions& options);

// The gait [J, 1 + 2H]: per joint the target's mean angle, then the sine and cosine amplitudes of
// harmonics 1..H. With r(t) a smoothstep from 0 to 1 over options.ramp, s the start posture and
// p the standing one,
//   u_j(t) = gait[j, 0] + (1 - r) (s_j - p_j)
//            + r sum_k (gait[j, 2k - 1] sin(2 pi k f t) + gait[j, 2k] cos(2 pi k f t)),
// so each walk starts from its start posture (the mean being p at first), the targets leading to
// the gait's mean as the swing fades in. gait_basis is [1 + 2H, T]: its first row ones, the others
// r sin, r cos; u_t = (1 - r(t)) (s - p) + gait basis[:, t].
[[nodiscard]] Tensor gait_basis(const QuadrupedGaitOptions& options);
// Stepping in place at a trot: the standing posture, the knees of diagonal legs bending together
// (amplitude 0.25 rad), opposite pairs half a period apart; no fore-aft swing, so it barely moves.
[[nodiscard]] Tensor trot_in_place(const Quadruped& robot, const QuadrupedGaitOptions& options);
// The servo targets [T, J] of a gait. Throws maya::ShapeError for a gait of another shape.
[[nodiscard]] std::vector<double> gait_targets(const Quadruped& robot, const Tensor& gait,
                                               const QuadrupedGaitOptions& options);

// The loss above as a scalar on gait's tape: T fused multibody steps from robot.initial_state. `distance`
// (optional) receives the trunk's forward displacement x_T - x_0 (m) on the same tape.
[[nodiscard]] TensorVar gait_loss(const Quadruped& robot, const QuadrupedGaitOptions& options,
                                  TensorVar gait, TensorVar* distance = nullptr);

// gait_loss as the optimizers' objective of the gait [J, 1 + 2H]; `distance`, when given, receives
// the distance walked at each evaluation. A walk whose rollout fails (the contact solver, a
// blow-up) has an infinite loss and NaN gradients, so that a line search backs off. The objective
// keeps references to `robot` and `distance`, which must outlive it.
[[nodiscard]] optim::Objective gait_objective(const Quadruped& robot,
                                              const QuadrupedGaitOptions& options,
                                              std::vector<double>* distance = nullptr);

// A walk replayed on the plain simulator, and what it shows.
struct GaitReplay {
  std::vector<double> states;   // [(T + 1), nx]
  std::vector<double> contact;  // [(T + 1), 4]: 1 where a foot carries load (> 1 N), else 0
  double distance = 0.0;        // m, x_T - x_0 of the trunk
  double body_lengths = 0.0;    // distance / body_length
  double second_half = 0.0;     // m walked in the last half of the time
  double lateral = 0.0;         // m, |y_T - y_0|
  double mean_height = 0.0;     // m, the trunk's over the walk
  double min_height = 0.0;
  double max_tilt = 0.0;     // rad, the largest angle of the trunk's z axis from vertical
  double max_torque = 0.0;   // N m, of any servo
  double stance_slip = 0.0;  // m/s, the mean speed along the ground of a foot carrying load
  std::array<std::size_t, 4> touchdowns{};  // per foot: swings ended by a touchdown
  bool trunk_touched = false;               // a trunk contact point carried load
};
[[nodiscard]] GaitReplay replay_gait(const Quadruped& robot, const QuadrupedGaitOptions& options,
                                     const Tensor& gait);

// L-BFGS with a backtracking line search on the gait (gait_objective): every accepted step lowers
// the loss, and a trial walk that fails is backed off from. Where its line search fails it restarts
// from the current gait with an empty history, within `iterations` in all. `callback` sees every iterate.
struct GaitTraining {
  Tensor initial_gait;            // [J, 1 + 2H]
  Tensor gait;                    // [J, 1 + 2H], the last iterate (the lowest loss)
  optim::Result result;           // loss_history: the loss of every iterate, the start included
  std::vector<double> distances;  // m walked at every iterate, the start included
  std::size_t restarts = 0;
  double seconds = 0.0;  // wall time
};
[[nodiscard]] GaitTraining train_gait(const Quadruped& robot, const QuadrupedGaitOptions& options,
                                      const Tensor& initial_gait, std::size_t iterations,
                                      const optim::ProgressCallback& callback = nullptr);

}  // namespace maya::tasks
