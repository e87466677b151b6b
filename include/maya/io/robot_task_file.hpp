// Robot task files: a URDF or MJCF model (named relative to the task file) run for a number of
// steps from an initial joint state under piecewise-constant controls, the model parameters and
// controls left free, and a loss a robotics user asks for (a body point at a target, joints
// matching a measured trajectory, control effort). Read from JSON into plain structs, checked
// against the loaded model (docs/scene-format.md, "Robot tasks", is the schema).
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "maya/io/task_file.hpp"
#include "maya/multibody/model.hpp"

namespace maya::io {

// One free tensor of a robot task. Its values enter one of four targets: the model's parameter
// vector (multibody::ParameterLayout), the initial q or qdot, or the control knots.
struct RobotParameterSpec {
  enum class Target { kModel, kInitialQ, kInitialQdot, kControls };
  std::string name;
  std::string selector;  // as written: "bodies[pole].mass", "joints.damping", "controls", ...
  Target target = Target::kModel;
  std::vector<std::size_t> shape;  // of the value tensor: [n] or [knots, nu] for controls
  // Entry target_entries[k] of the target vector takes value entry value_entries[k] (a shared
  // value feeds every selected entry); empty for controls, whose value is the knots themselves.
  std::vector<std::size_t> target_entries;
  std::vector<std::size_t> value_entries;
  std::vector<double> initial;  // row-major, shape's product
  double lower = -std::numeric_limits<double>::infinity();
  double upper = std::numeric_limits<double>::infinity();
  bool log_scale = false;

  [[nodiscard]] std::size_t numel() const noexcept { return initial.size(); }
};

// Values written into a target before a run: the hidden truth a `simulate_with` observation is
// simulated with.
struct RobotAssignment {
  RobotParameterSpec::Target target = RobotParameterSpec::Target::kModel;
  std::vector<std::size_t> entries;
  std::vector<double> values;  // one per entry
};

struct RobotLossSpec {
  enum class Kind { kReachTarget, kMatchJoints, kControlEffort, kFinalVelocity };
  Kind kind = Kind::kReachTarget;
  double weight = 1.0;
  // reach_target: |p - target|^2 for the world position p of `point` (body frame) of `body` after
  // `step` steps.
  std::size_t body = 0;
  std::array<double, 3> point{};
  std::array<double, 3> target{};
  std::size_t step = 0;
  // match_joints: the mean over compared frames and coordinates of (q - q_observed)^2. Frame f
  // (after frames[f] steps) compares q[coordinates] with observed[f, :].
  std::vector<std::size_t> coordinates;
  std::vector<std::size_t> frames;
  std::vector<double> observed;  // [frames, coordinates]; empty until simulated (simulate_with)
  std::vector<RobotAssignment> truth;
  std::filesystem::path observed_file;  // empty with simulate_with
  // control_effort: the mean of u^2 over the steps and actuators. final_velocity: |qdot|^2 after
  // the last step.
};

struct RobotTaskSpec {
  std::string name;
  std::filesystem::path robot_file;
  std::shared_ptr<const multibody::Model> model;
  std::size_t steps = 0;
  double dt = 0.0;
  multibody::Integrator integrator = multibody::Integrator::kSemiImplicitEuler;
  std::vector<double> initial_state;  // [nx]
  std::size_t knots = 1;              // control knots; step t uses knot t * knots / steps
  std::vector<double> controls;       // [knots, nu]
  std::vector<RobotParameterSpec> parameters;
  std::vector<RobotLossSpec> loss;
  OptimizerSpec optimizer;
  GradcheckSpec gradcheck;

  // The knot that drives step t.
  [[nodiscard]] std::size_t knot_of(std::size_t step) const noexcept {
    return step * knots / steps;
  }
};

// Whether a task file's root object names a robot (has the key "robot") rather than a scene.
// Throws like load_task for an unreadable or malformed file.
[[nodiscard]] bool is_robot_task_file(const std::filesystem::path& path);
// Reads a robot task; the robot and observation files are named relative to `base_directory`.
// Throws maya::ParseError naming the file, the path of the field and what is valid (a missing
// robot file, an unknown body or joint, an observation of the wrong shape), and for a malformed
// robot file its own file, line and element after the field that names it.
[[nodiscard]] RobotTaskSpec parse_robot_task(const JsonValue& value,
                                             const std::filesystem::path& base_directory);
[[nodiscard]] RobotTaskSpec load_robot_task(const std::filesystem::path& path);
[[nodiscard]] RobotTaskSpec parse_robot_task_text(
    std::string_view text, std::string source = "",
    const std::filesystem::path& base_directory = ".");

}  // namespace maya::io
