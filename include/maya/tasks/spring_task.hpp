// Scene and task files (maya/io/) run on the mass-spring model (dynamics/mass_spring.hpp): a
// SceneSpec becomes a model plus parameter tensors, a rollout becomes a plain io::Trajectory, and
// a task becomes a loss over its free parameters that the optimizers and gradcheck differentiate.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "maya/dynamics/mass_spring.hpp"
#include "maya/io/task_file.hpp"
#include "maya/io/trajectory.hpp"
#include "maya/optim/objective.hpp"
#include "maya/optim/parameter.hpp"
#include "maya/tensor/gradcheck.hpp"
#include "maya/tensor/tensor.hpp"

namespace maya::tasks {

// The model of a scene (springs, gravity, ground) and its initial values as tensors.
struct SpringScene {
  dynamics::MassSpringModel model;
  Tensor positions;    // [N, 2]
  Tensor velocities;   // [N, 2]
  Tensor mass;         // [N]
  Tensor stiffness;    // [E]
  Tensor damping;      // [E]
  Tensor rest_length;  // [E]: given, else the initial distance of the ends
};

[[nodiscard]] SpringScene make_spring_scene(const io::SceneSpec& scene);

// Runs the scene for scene.steps steps (forward only).
[[nodiscard]] io::Trajectory simulate(const io::SceneSpec& scene);

// A task ready to evaluate: observed trajectories simulated or loaded, the model built once.
class SpringTask {
 public:
  // Throws maya::ParseError / FileError for an observation file that is missing or whose shape
  // does not match the scene.
  explicit SpringTask(io::TaskSpec task);
  SpringTask(const SpringTask&) = delete;
  SpringTask& operator=(const SpringTask&) = delete;

  [[nodiscard]] const io::TaskSpec& spec() const noexcept { return task_; }
  // The free parameters at their initial values, with their bounds (or log-scale maps).
  [[nodiscard]] optim::ParameterSet parameters() const;
  // The task loss as a function of the parameter values (in the order of spec().parameters).
  [[nodiscard]] LossFunction loss_function() const;
  [[nodiscard]] double loss(std::span<const Tensor> values) const;
  // The scene with the parameter values written in, and its trajectory.
  [[nodiscard]] io::SceneSpec scene_with(std::span<const Tensor> values) const;
  // The observed trajectory of match_trajectory term `k` (empty for other terms).
  [[nodiscard]] const std::vector<io::Trajectory>& observed() const noexcept { return observed_; }
  // Targets of the reach_target terms, for plots.
  [[nodiscard]] std::vector<std::array<double, 2>> targets() const;
  // The true values of the parameters when every one is set by some term's simulate_with
  // (system identification with a known answer); empty otherwise.
  [[nodiscard]] std::vector<std::vector<double>> true_values() const;

 private:
  [[nodiscard]] TensorVar record_loss(TensorTape& tape, std::span<const TensorVar> values) const;

  io::TaskSpec task_;
  SpringScene base_;
  std::vector<io::Trajectory> observed_;
  std::vector<Tensor> observed_positions_;  // [T+1, N, 2] per match term
};

// Central differences of the task loss per parameter entry, with the step relative to the
// entry's size: h = step * max(1, |value|).
struct GradcheckEntry {
  std::string parameter;
  std::size_t entry = 0;
  double analytic = 0.0;
  double numeric = 0.0;
  double relative_error = 0.0;  // |a - n| / max(|a|, |n|, 1e-8 * largest |gradient|)
};
struct GradcheckSummary {
  double loss = 0.0;
  std::vector<GradcheckEntry> worst;  // the worst entry of every parameter
  [[nodiscard]] double max_error() const noexcept;
};
[[nodiscard]] GradcheckSummary gradcheck_task(const SpringTask& task, double step);

// The fitted parameters (and initial/true values, loss, optimizer outcome) as JSON text.
[[nodiscard]] std::string fitted_parameters_json(const SpringTask& task,
                                                 std::span<const Tensor> fitted,
                                                 const optim::Result& result);
}  // namespace maya::tasks
