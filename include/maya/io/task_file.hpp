// Task files: a scene, the parameters left free (with bounds), a loss (match an observed
// trajectory, reach a target, any weighted sum) and an optimizer — read from JSON into plain
// structs and checked against the scene (docs/scene-format.md is the schema).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "maya/io/scene_file.hpp"

namespace maya::io {

// Which scene quantity a parameter or an assignment names: "springs.stiffness" (every spring),
// "springs[3].damping" (one), "particles[0].velocity", "particles.mass", ...
struct Selector {
  enum class Field {
    kStiffness,
    kDamping,
    kRestLength,
    kMass,
    kPosition,
    kVelocity,
    // The soft body's (one element): "soft_body.youngs_modulus", ...
    kYoungsModulus,
    kPoissonRatio,
    kDensity,
    kBodyVelocity,
    // The rigid bodies' ("bodies.mass", ...) and their penalty contact's ("body_contact.damping").
    kRigidMass,
    kRigidVelocity,
    kRigidAngularVelocity,
    kRigidForce,
    kRigidTorque,
    kContactStiffness,
    kContactDamping,
    kContactFriction,
  };
  Field field = Field::kStiffness;
  std::optional<std::size_t> index;  // none: every spring / particle
  std::string text;                  // as written

  [[nodiscard]] bool of_springs() const noexcept { return field <= Field::kRestLength; }
  [[nodiscard]] bool of_soft_body() const noexcept {
    return field >= Field::kYoungsModulus && field <= Field::kBodyVelocity;
  }
  [[nodiscard]] bool of_bodies() const noexcept {
    return field >= Field::kRigidMass && field <= Field::kRigidTorque;
  }
  [[nodiscard]] bool of_body_contact() const noexcept { return field >= Field::kContactStiffness; }
  // Entries per selected element: 2 for positions and velocities, 1 otherwise.
  [[nodiscard]] std::size_t width() const noexcept {
    return field == Field::kPosition || field == Field::kVelocity ||
                   field == Field::kBodyVelocity || field == Field::kRigidVelocity ||
                   field == Field::kRigidForce
               ? 2
               : 1;
  }
  // The springs or particles selected, in order.
  [[nodiscard]] std::vector<std::size_t> elements(const SceneSpec& scene) const;
};

struct ParameterSpec {
  std::string name;
  Selector selector;
  bool shared = true;           // one value for every selected element; false: one per element
  std::vector<double> initial;  // numel() values (from the file, else from the scene)
  double lower = -std::numeric_limits<double>::infinity();
  double upper = std::numeric_limits<double>::infinity();
  bool log_scale = false;  // fitted as exp(u): positive, and scale-free steps for Adam

  // Entries of the parameter tensor.
  [[nodiscard]] std::size_t numel(const SceneSpec& scene) const;
};

// A value written into the scene (the hidden truth an observed trajectory is simulated with).
struct Assignment {
  Selector selector;
  std::vector<double> values;  // width() values (broadcast) or one row per selected element
};

struct LossTermSpec {
  enum class Kind { kMatchTrajectory, kReachTarget };
  Kind kind = Kind::kMatchTrajectory;
  double weight = 1.0;
  // match_trajectory: mean squared distance to the observed positions over the compared frames
  // (every `every`-th step inside the observed time span) and the observed particles. The
  // observation comes from a file (CSV with its own time stamps, or .npy [T, P, 2] with
  // `observed_times_file` or frame k at k * dt; io/observations.hpp), resampled onto the
  // simulation's steps, or is simulated from the scene with `truth` assigned. Optional seeded
  // Gaussian noise is added to it (a synthetic measurement).
  std::optional<std::filesystem::path> observed_file;
  std::optional<std::filesystem::path> observed_times_file;
  std::vector<Assignment> truth;
  std::size_t every = 1;
  std::vector<std::size_t> observed_particles;  // match_trajectory; empty: every particle
  double noise_std = 0.0;                       // standard deviation of the added noise (m)
  std::uint64_t noise_seed = 0;
  // reach_target: squared distance of the mean position of `particles` at `step` to `target`.
  std::vector<std::size_t> particles;
  std::array<double, 2> target{};
  std::size_t step = 0;
};

struct OptimizerSpec {
  enum class Method { kAdam, kLbfgs };
  Method method = Method::kLbfgs;
  std::size_t iterations = 100;
  double learning_rate = 0.05;  // Adam
  double tolerance = 1e-9;      // gradient norm
  double loss_tolerance = 0.0;
  // Exit status 1 ("did not converge") when the final loss is above this.
  std::optional<double> converge_below;
};

struct GradcheckSpec {
  // The steps a central difference can use: below kMinStep the difference is rounding noise,
  // above kMaxStep it no longer measures a derivative.
  static constexpr double kMinStep = 1e-15;
  static constexpr double kMaxStep = 0.1;
  double step = 1e-6;       // relative: h = step * max(1, |value|)
  double tolerance = 1e-6;  // worst relative error accepted
};

struct TaskSpec {
  std::string name;
  SceneSpec scene;
  std::vector<ParameterSpec> parameters;
  std::vector<LossTermSpec> loss;
  OptimizerSpec optimizer;
  GradcheckSpec gradcheck;
};

// Reads a task object; relative file names in it are resolved against `base_directory`. Throws
// maya::ParseError (path, what is wrong, what would be valid).
[[nodiscard]] TaskSpec parse_task(const JsonValue& value,
                                  const std::filesystem::path& base_directory);
[[nodiscard]] TaskSpec load_task(const std::filesystem::path& path);
[[nodiscard]] TaskSpec parse_task_text(std::string_view text, std::string source = "",
                                       const std::filesystem::path& base_directory = ".");

// The "optimizer" and "gradcheck" objects of a task (shared by the robot tasks).
[[nodiscard]] OptimizerSpec parse_optimizer_spec(const JsonValue& value);
[[nodiscard]] GradcheckSpec parse_gradcheck_spec(const JsonValue& value);

// Writes `values` (width() values, or numel for every selected element) into `scene`.
void assign(SceneSpec& scene, const Selector& selector, const std::vector<double>& values);
// The scene's current values of a selector: one row of width() per selected element.
[[nodiscard]] std::vector<double> read(const SceneSpec& scene, const Selector& selector);

}  // namespace maya::io
