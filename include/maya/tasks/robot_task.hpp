// A robot task (io/robot_task_file.hpp) run on the multibody simulator: its free parameters
// written into the model's parameter vector, the initial state or the control knots, its rollout
// recorded as one fused multibody step node per step, and its loss (a body point at a target,
// joints matching a measured trajectory, control effort, final velocity) as a function the
// optimizers and gradcheck differentiate.
#pragma once

#include <array>
#include <span>
#include <string>
#include <vector>

#include "maya/io/robot_task_file.hpp"
#include "maya/optim/objective.hpp"
#include "maya/optim/parameter.hpp"
#include "maya/tasks/spring_task.hpp"
#include "maya/tensor/gradcheck.hpp"
#include "maya/tensor/tensor.hpp"

namespace maya::tasks {

// What a run of the robot starts from: the model's parameters [num_parameters()], the initial
// state [nx] and the control knots [knots, nu], with a task's values written in.
struct RobotInputs {
  std::vector<double> params;
  std::vector<double> state;
  std::vector<double> controls;
};

class RobotTask {
 public:
  // Simulates the simulate_with observations (hidden truths) once.
  explicit RobotTask(io::RobotTaskSpec task);

  [[nodiscard]] const io::RobotTaskSpec& spec() const noexcept { return task_; }
  [[nodiscard]] const multibody::Model& model() const noexcept { return *task_.model; }
  // The free parameters at their initial values, with their bounds (or log-scale maps).
  [[nodiscard]] optim::ParameterSet parameters() const;
  // The task loss as a function of the parameter values (in the order of spec().parameters).
  [[nodiscard]] LossFunction loss_function() const;
  [[nodiscard]] double loss(std::span<const Tensor> values) const;
  // The loss and its gradient for the optimizers (tape_objective of loss_function()), except that
  // a trial point whose run blows up (multibody's NonFiniteError) has an infinite loss and NaN
  // gradients, so that a line search backs off instead of the fit ending.
  [[nodiscard]] optim::Objective objective() const;
  [[nodiscard]] RobotInputs inputs(std::span<const Tensor> values) const;
  // The states [(steps + 1) * nx] of the run with `values` (forward only).
  [[nodiscard]] std::vector<double> rollout(std::span<const Tensor> values) const;
  // The controls of every step, [steps, nu], from the knots [knots, nu].
  [[nodiscard]] std::vector<double> step_controls(std::span<const double> knots) const;
  // The observed joint positions of match_joints term k ([frames, coordinates]; empty for other
  // terms).
  [[nodiscard]] const std::vector<double>& observed(std::size_t term) const {
    return task_.loss.at(term).observed;
  }
  // The reach_target terms' targets, for the viewer.
  [[nodiscard]] std::vector<std::array<double, 3>> targets() const;
  // The true values of the parameters when every one is set by some term's simulate_with; empty
  // otherwise.
  [[nodiscard]] std::vector<std::vector<double>> true_values() const;

 private:
  [[nodiscard]] TensorVar record_loss(TensorTape& tape, std::span<const TensorVar> values) const;

  io::RobotTaskSpec task_;
};

[[nodiscard]] GradcheckSummary gradcheck_robot_task(const RobotTask& task, double step);

// fitted.json of a robot task: per parameter its selector, fitted, initial (and true) values and
// bounds; the loss before and after; the optimizer's outcome.
[[nodiscard]] std::string robot_fitted_json(const RobotTask& task, std::span<const Tensor> fitted,
                                            const optim::Result& result);

}  // namespace maya::tasks
