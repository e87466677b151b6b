// The subcommands of the maya program. Each returns the exit status (0 success, 1 failure to
// converge); bad input surfaces as maya::Error exceptions, which main() turns into status 2.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "maya/dynamics/checkpointed_rollout.hpp"
#include "maya/io/output_files.hpp"
#include "maya/multibody/model.hpp"
#include "maya/optim/objective.hpp"
#include "maya/tasks/spring_task.hpp"
#include "maya/viz/viewer3d.hpp"

namespace maya::cli {

struct OptimizeOverrides {
  std::optional<std::size_t> iterations;
  std::optional<std::string> method;
  std::string checkpoints = "auto";  // --checkpoints N|auto|none
};

int simulate_command(const std::filesystem::path& scene_file, const std::filesystem::path& out,
                     bool quiet);

// ---- robots (robot_command.cpp) ----

struct RobotRunOptions {
  std::size_t steps = 1000;
  std::optional<double> dt;                      // default: the model's timestep
  std::string integrator;                        // "euler", "rk4" or "" (the model's)
  std::optional<std::filesystem::path> torques;  // .npy [steps, nu]
  bool floating_base = false;                    // URDF: a free joint on the root link
  bool ground = false;                           // URDF: the plane z = 0
  bool self_collision = false;                   // URDF: contact between the links' shapes
  std::string contact;                           // "hard", "penalty" or "" (the file's)
  double height = 0.0;                           // a free root's starting height (m)
};
// Whether `file` names a robot model (.urdf, or .xml for MJCF) rather than a scene.
[[nodiscard]] bool is_robot_file(const std::filesystem::path& file);
int simulate_robot_command(const std::filesystem::path& file, const std::filesystem::path& out,
                           const RobotRunOptions& options, bool quiet);
// The 3-D viewer's scene of a rollout: states [(steps + 1) * nx], frames dt apart, posed with
// `params` (empty: the model's own).
[[nodiscard]] viz::Viewer3DScene robot_view(const multibody::Model& model, const std::string& title,
                                            const std::vector<double>& states, std::size_t steps,
                                            double dt, std::span<const double> params = {});
int optimize_command(const std::filesystem::path& task_file, const std::filesystem::path& out,
                     const OptimizeOverrides& overrides, bool quiet);
int gradcheck_command(const std::filesystem::path& task_file, std::optional<double> step,
                      std::optional<double> tolerance);
// ---- robot tasks (robot_task_command.cpp): task files with "robot" ----
int optimize_robot_command(const std::filesystem::path& task_file, const std::filesystem::path& out,
                           const OptimizeOverrides& overrides, bool quiet);
int gradcheck_robot_command(const std::filesystem::path& task_file, std::optional<double> step,
                            std::optional<double> tolerance);
// Prints the worst entry per parameter; 0 when every one is within `accepted`, else 1.
int report_gradcheck(const std::filesystem::path& task_file, const tasks::GradcheckSummary& summary,
                     double h, double accepted);
int demo_command(const std::string& name, bool list,
                 const std::optional<std::filesystem::path>& out, bool quiet);

// ---- shared by optimize and demo ----

struct FitRun {
  optim::Result result;
  std::vector<Tensor> initial;
  std::vector<Tensor> fitted;
  io::Trajectory before;
  io::Trajectory after;
  tasks::Uncertainty uncertainty;  // standard errors of a fit to observed data
};

// Fits the task's parameters with its optimizer, reporting progress on stderr. With a budget,
// each gradient is a checkpointed rollout (checkpointed_objective); without, one full tape.
[[nodiscard]] FitRun fit(const tasks::Task& task, const std::string& label, bool quiet,
                         std::optional<dynamics::CheckpointBudget> checkpoints = std::nullopt);

// ---- --checkpoints ----

// The memory share above which `--checkpoints auto` checkpoints, and its byte budget then.
inline constexpr std::size_t kAutoShare = std::size_t{256} << 20;
// The task loss and gradient through maya::dynamics::checkpointed_rollout within `budget`.
[[nodiscard]] optim::Objective checkpointed_objective(const tasks::Task& task,
                                                      dynamics::CheckpointBudget budget);
// "none" -> no budget; "auto" -> none while the full tape (one state per step) fits kAutoShare,
// else a byte budget of kAutoShare; "N" -> N snapshots. Throws maya::ValueError otherwise.
[[nodiscard]] std::optional<dynamics::CheckpointBudget> checkpoint_budget(
    const std::string& choice, const io::SceneSpec& scene);
// fitted.json, fitted_scene.json, loss.svg, trajectories.svg, before/after CSV and .npy, and
// viewer.html, staged for `directory`.
[[nodiscard]] io::OutputFiles fit_outputs(const tasks::Task& task, const FitRun& run,
                                          const std::filesystem::path& directory);
// Why a run counts as not converged (empty when it converged): a final loss above the task's
// converge_below, or a non-finite loss.
[[nodiscard]] std::string convergence_failure(const tasks::Task& task, const FitRun& run);

}  // namespace maya::cli
