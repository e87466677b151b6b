// Scene files: a 2-D scene (particles and springs, rigid bodies, gravity, ground, time step) read
// from JSON into plain structs, every value checked (docs/scene-format.md is the schema). Nothing
// here touches a tape; maya/tasks/ turns a SceneSpec into models and runs them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
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
  std::array<double, 2> force{};  // applied at the centre of mass over the whole run (N)
  double torque = 0.0;            // applied over the whole run (N m)
  std::optional<double> mass;
  std::optional<double> density;  // kg per unit area
};

// The penalty contact law every body contact uses (Kelvin-Voigt, maya/rigid/contact_law.hpp).
struct BodyContactSpec {
  double stiffness = 1e4;
  double damping = 30.0;
  double friction = 0.5;
};

// Hard contact (maya/contact/): the scene's bodies run on the interior-point contact solver
// instead of penalty forces, with Newton restitution, Coulomb friction and revolute joints.
struct JointSpec {
  std::size_t body_a = 0;
  std::optional<std::size_t> body_b;  // none: body_a is pinned to the world at `pivot`
  std::array<double, 2> pivot{};      // the world point where the joint's anchors meet at t = 0
};
struct HardContactSpec {
  double restitution = 0.0;  // e in [0, 1], every body
  double friction = 0.5;     // mu >= 0, every body
  double ground_restitution = 0.0;
  double ground_friction = 0.5;
  double stabilization = 0.2;  // Baumgarte fraction in [0, 1]
  std::vector<JointSpec> joints;
};

// A 2-D FEM soft body (maya/fem/): linear triangles from a generated rectangle or a mesh file
// (.node/.ele or Gmsh .msh, named relative to the scene file), placed by rotating its mesh
// coordinates by `angle` about the mesh origin and moving them by `position`. Its vertices are
// the scene's "particles" in trajectories. Contact with the scene's ground uses the penalty law
// of fem::GroundContact.
struct SoftBodySpec {
  enum class MeshSource { kRectangle, kNodeEle, kGmsh };
  MeshSource source = MeshSource::kRectangle;
  std::array<double, 2> size{1.0, 1.0};        // rectangle: width, height (centred on 0)
  std::array<std::size_t, 2> cells{1, 1};      // rectangle: cells along x and y
  std::string node_file, ele_file, gmsh_file;  // as written in the scene
  std::vector<double> rest_positions;          // [N, 2] mesh coordinates
  std::vector<std::int64_t> triangles;         // [M, 3]
  std::array<double, 2> position{};
  double angle = 0.0;  // rad, counter-clockwise
  std::array<double, 2> velocity{};
  double angular_velocity = 0.0;              // rad/s about `position`
  std::string energy = "stable_neo_hookean";  // linear, corotational, stvk, stable_neo_hookean
  bool plane_stress = false;
  double youngs_modulus = 1e4;  // Pa
  double poisson_ratio = 0.3;
  double density = 1000.0;  // kg/m^3 (per unit depth)
  std::vector<std::size_t> pinned;
  bool implicit = false;  // backward Euler (Newton) instead of semi-implicit Euler
  double contact_stiffness = 1e4;
  double contact_damping = 0.0;
  double friction = 0.0;
  double slip_velocity = 1e-2;
  // The scene's rigid bodies as obstacles: held still at their initial poses, pushing back on the
  // vertices with the contact law above (fem/rigid_contact.hpp).
  bool obstacles = false;

  [[nodiscard]] std::size_t num_vertices() const noexcept { return rest_positions.size() / 2; }
  // The vertices at t = 0 [N, 2] and their velocities [N, 2] (a rigid motion).
  [[nodiscard]] std::vector<double> initial_positions() const;
  [[nodiscard]] std::vector<double> initial_velocities() const;
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
  std::optional<SoftBodySpec> soft_body;        // instead of particles and springs
  std::optional<HardContactSpec> hard_contact;  // the bodies' contact model instead of the penalty

  [[nodiscard]] double duration() const noexcept { return dt * static_cast<double>(steps); }
};

// Reads a scene object (at `value`, whose path prefixes every message). Throws maya::ParseError
// for unknown keys, wrong types and non-physical values (mass <= 0, dt <= 0, springs naming
// missing particles, negative stiffness or damping, a polygon that is not convex, ...).
// Mesh files are named relative to `base_directory`; one that is missing or malformed is reported
// with the scene path and the mesh file's line.
[[nodiscard]] SceneSpec parse_scene(const JsonValue& value,
                                    const std::filesystem::path& base_directory = ".");
// Reads a scene file ("scene" is the root's path in messages). A missing file throws FileError.
[[nodiscard]] SceneSpec load_scene(const std::filesystem::path& path);
[[nodiscard]] SceneSpec parse_scene_text(std::string_view text, std::string source = "",
                                         const std::filesystem::path& base_directory = ".");
// A scene file (same schema as the input) for `scene`: a fitted scene can be simulated again.
[[nodiscard]] std::string scene_json(const SceneSpec& scene);

}  // namespace maya::io
