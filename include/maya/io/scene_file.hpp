// Scene files: a 2-D scene (particles and springs, rigid bodies, gravity, ground, time step) read
// from JSON into plain structs, every value checked (docs/scene-format.md is the schema). Nothing
// here touches a tape; maya/tasks/ turns a SceneSpec into models and runs them.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace maya::io {

class JsonValue;

struct ParticleSpec {
  std::array<double, 2> position{};
  std::array<double, 2> velocity{};
  double mass = 1.0;
  double radius = 0.0;  // drawing only; 0 = picked by the viewer
};

struct SpringSpec {
  std::size_t first = 0;              // "i"
  std::size_t second = 0;             // "j"
  std::optional<double> rest_length;  // default: the initial distance of its ends
  double stiffness = 0.0;
  double damping = 0.0;
};

struct GroundSpec {
  double height = 0.0;
  double stiffness = 1e4;
  double damping = 10.0;
};

// A rigid body of the penalty-contact world (maya/rigid/): its shape, initial pose and velocity,
// and its mass (given, or density x area; 1 kg when neither is given).
struct BodySpec {
  enum class Shape { kBox, kCircle, kPolygon };
  Shape shape = Shape::kBox;
  std::array<double, 2> size{};                 // box: width, height
  double radius = 0.0;                          // circle
  std::vector<std::array<double, 2>> vertices;  // polygon: convex, about its centroid
  std::array<double, 2> position{};             // centre of mass
  double angle = 0.0;                           // rad, counter-clockwise
  std::array<double, 2> velocity{};
  double angular_velocity = 0.0;
  std::optional<double> mass;
  std::optional<double> density;  // kg per unit area
};

// The penalty contact law every body contact uses (Kelvin-Voigt, maya/rigid/contact_law.hpp).
struct BodyContactSpec {
  double stiffness = 1e4;
  double damping = 30.0;
  double friction = 0.5;
};

struct SceneSpec {
  std::string name;
  double dt = 0.01;
  std::size_t steps = 100;
  std::array<double, 2> gravity{0.0, -9.81};
  std::vector<ParticleSpec> particles;
  std::vector<SpringSpec> springs;
  std::optional<GroundSpec> ground;
  std::vector<BodySpec> bodies;  // simulated beside the particles; they do not interact
  BodyContactSpec body_contact;

  [[nodiscard]] double duration() const noexcept { return dt * static_cast<double>(steps); }
};

// Reads a scene object (at `value`, whose path prefixes every message). Throws maya::ParseError
// for unknown keys, wrong types and non-physical values (mass <= 0, dt <= 0, springs naming
// missing particles, negative stiffness or damping, a polygon that is not convex, ...).
[[nodiscard]] SceneSpec parse_scene(const JsonValue& value);
// Reads a scene file ("scene" is the root's path in messages). A missing file throws FileError.
[[nodiscard]] SceneSpec load_scene(const std::filesystem::path& path);
[[nodiscard]] SceneSpec parse_scene_text(std::string_view text, std::string source = "");
// A scene file (same schema as the input) for `scene`: a fitted scene can be simulated again.
[[nodiscard]] std::string scene_json(const SceneSpec& scene);

}  // namespace maya::io
