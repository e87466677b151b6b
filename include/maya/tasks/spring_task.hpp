// Scene and task files (maya/io/) run on the simulators: a mass-spring SceneSpec becomes a model
// plus parameter tensors (dynamics/mass_spring.hpp), a rollout becomes a plain io::Trajectory,
// and a task on any simulator becomes a loss over its free parameters that the optimizers and
// gradcheck differentiate, with residuals and standard errors for fits to observed data.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "maya/dynamics/mass_spring.hpp"
#include "maya/io/task_file.hpp"
#include "maya/io/trajectory.hpp"
#include "maya/optim/objective.hpp"
#include "maya/optim/parameter.hpp"
#include "maya/tasks/measurement.hpp"
#include "maya/tasks/uncertainty.hpp"
#include "maya/tensor/gradcheck.hpp"
#include "maya/tensor/tensor.hpp"

namespace maya::tasks {

namespace detail {
class SoftBodyModel;
class BodyModel;
}  // namespace detail

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

// Runs the scene for scene.steps steps (forward only): its particles, or its soft body's vertices
// (as the trajectory's particles).
[[nodiscard]] io::Trajectory simulate(const io::SceneSpec& scene);

// A task ready to evaluate on its scene's simulator (particles and springs, a soft body, or rigid
// bodies under penalty or hard contact): observed trajectories simulated or loaded and resampled,
// the model built once.
class Task {
 public:
  // Throws maya::ParseError / FileError for an observation file that is missing or whose shape
  // does not match the scene.
  explicit Task(io::TaskSpec task);
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  [[nodiscard]] const io::TaskSpec& spec() const noexcept { return task_; }
  // The free parameters at their initial values, with their bounds (or log-scale maps).
  [[nodiscard]] optim::ParameterSet parameters() const;
  // The task loss as a function of the parameter values (in the order of spec().parameters).
  [[nodiscard]] LossFunction loss_function() const;
  [[nodiscard]] double loss(std::span<const Tensor> values) const;
  // The trajectory of `scene` under the task's simulator: particles, a soft body's vertices (as
  // particles) or rigid bodies' poses.
  [[nodiscard]] io::Trajectory run(const io::SceneSpec& scene) const;
  // The scene with the parameter values written in, and its trajectory.
  [[nodiscard]] io::SceneSpec scene_with(std::span<const Tensor> values) const;
  // The observed trajectory of match_trajectory term `k`: its observed particles at the compared
  // frames (empty for other terms).
  [[nodiscard]] const std::vector<io::Trajectory>& observed() const noexcept { return observed_; }
  // What match_trajectory term `k` compares (empty for other terms).
  [[nodiscard]] const std::vector<ObservedFrames>& observations() const noexcept {
    return observations_;
  }
  // The loss terms that look at frame `frame` (the state [2, N, 2] after `frame` steps), summed;
  // an unbound TensorVar when none does. The task loss is their sum over frames.
  [[nodiscard]] TensorVar frame_loss(TensorTape& tape, const TensorVar& state,
                                     std::size_t frame) const;
  // The match_trajectory residuals at `values` (forward only): per term, frame, observed particle
  // and axis, c (x - x_observed) in metres, with c^2 the term's weight / (frames * particles)
  // relative to the first term's (c = 1 for the first term): their squares sum to the loss
  // divided by the first term's weight / (frames * particles).
  [[nodiscard]] std::vector<double> residuals(std::span<const Tensor> values) const;
  // Standard errors of `fitted` (laplace_uncertainty of residuals()); not available when the loss
  // has terms other than match_trajectory.
  [[nodiscard]] Uncertainty uncertainty(std::span<const Tensor> fitted) const;
  // Targets of the reach_target terms, for plots.
  [[nodiscard]] std::vector<std::array<double, 2>> targets() const;
  // The true values of the parameters when every one is set by some term's simulate_with
  // (system identification with a known answer); empty otherwise.
  [[nodiscard]] std::vector<std::vector<double>> true_values() const;

 private:
  [[nodiscard]] TensorVar record_loss(TensorTape& tape, std::span<const TensorVar> values) const;
  [[nodiscard]] TensorVar record_soft_body_loss(TensorTape& tape,
                                                std::span<const TensorVar> values) const;
  [[nodiscard]] TensorVar record_body_loss(TensorTape& tape,
                                           std::span<const TensorVar> values) const;
  // The loss terms at frame `frame` for the compared points' positions [N, 2].
  [[nodiscard]] TensorVar frame_loss_at(TensorTape& tape, const TensorVar& positions,
                                        std::size_t frame) const;
  // The trajectory of the compared points: particles, vertices or body centres.
  [[nodiscard]] io::Trajectory point_run(const io::SceneSpec& scene) const;

  io::TaskSpec task_;
  std::optional<SpringScene> base_;                    // mass-spring scenes
  std::shared_ptr<const detail::SoftBodyModel> soft_;  // soft-body scenes
  std::shared_ptr<const detail::BodyModel> bodies_;    // rigid-body scenes
  std::vector<io::Trajectory> observed_;
  std::vector<ObservedFrames> observations_;
};

// The name the mass-spring tasks had; a Task now runs every simulator.
using SpringTask = Task;

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
[[nodiscard]] GradcheckSummary gradcheck_task(const Task& task, double step);
// The same for any loss over named parameters (at their current values).
[[nodiscard]] GradcheckSummary gradcheck_loss(const optim::ParameterSet& parameters,
                                              const LossFunction& loss, double step);

// The fitted parameters (and initial/true values, loss, optimizer outcome, and with `uncertainty`
// each entry's standard error and 95 % interval) as JSON text.
[[nodiscard]] std::string fitted_parameters_json(const Task& task, std::span<const Tensor> fitted,
                                                 const optim::Result& result,
                                                 const Uncertainty* uncertainty = nullptr);
}  // namespace maya::tasks
