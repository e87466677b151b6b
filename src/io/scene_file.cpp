// parse_scene: the JSON scene schema of docs/scene-format.md, checked value by value.
#include "maya/io/scene_file.hpp"

#include <cmath>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/io/json.hpp"
#include "maya/rigid/body_shape.hpp"

namespace maya::io {

// src/io/soft_body_spec.cpp
SoftBodySpec parse_soft_body(const JsonValue& value, const std::filesystem::path& base_directory);
HardContactSpec parse_hard_contact(const JsonValue& value, std::size_t num_bodies);
namespace {

constexpr std::size_t kMaxSteps = 10'000'000;
constexpr std::size_t kMaxLatticeSide = 1000;

std::array<double, 2> pair_of(const JsonValue& value) {
  const std::vector<double> numbers = value.as_numbers(2);
  return {numbers[0], numbers[1]};
}

ParticleSpec parse_particle(const JsonValue& value) {
  const JsonObject object(value, {"position", "velocity", "mass", "radius"});
  ParticleSpec particle;
  particle.position = pair_of(object.required("position"));
  if (const auto velocity = object.optional("velocity")) {
    particle.velocity = pair_of(*velocity);
  }
  particle.mass = object.number_or("mass", 1.0, NumberRule::kPositive);
  particle.radius = object.number_or("radius", 0.0, NumberRule::kNonNegative);
  return particle;
}

SpringSpec parse_spring(const JsonValue& value, std::size_t num_particles) {
  const JsonObject object(value, {"i", "j", "rest_length", "stiffness", "damping"});
  SpringSpec spring;
  const auto endpoint = [&](std::string_view key) {
    const JsonValue index = object.required(key);
    const std::size_t particle = index.as_index();
    if (particle >= num_particles) {
      index.fail("particle " + std::to_string(particle) + " does not exist (the scene has " +
                 std::to_string(num_particles) + " particles, numbered from 0)");
    }
    return particle;
  };
  spring.first = endpoint("i");
  spring.second = endpoint("j");
  if (spring.first == spring.second) {
    object.value().fail("joins particle " + std::to_string(spring.first) +
                        " to itself; i and j must differ");
  }
  if (const auto rest = object.optional("rest_length")) {
    spring.rest_length = rest->as_number(NumberRule::kPositive);
  }
  spring.stiffness = object.number("stiffness", NumberRule::kNonNegative);
  spring.damping = object.number_or("damping", 0.0, NumberRule::kNonNegative);
  return spring;
}

BodySpec parse_body(const JsonValue& value) {
  const JsonObject object(value,
                          {"shape", "size", "radius", "vertices", "position", "angle", "velocity",
                           "angular_velocity", "mass", "density", "force", "torque"});
  BodySpec body;
  const JsonValue shape = object.required("shape");
  const std::string name = shape.as_string();
  // The keys each shape takes, beside the common ones.
  const std::string_view shapes[] = {"box", "circle", "polygon"};
  const std::string_view own_key[] = {"size", "radius", "vertices"};
  std::size_t kind = 0;
  while (kind < 3 && shapes[kind] != name) {
    ++kind;
  }
  if (kind == 3) {
    const auto suggestion = nearest_word(name, shapes);
    shape.fail("unknown shape '" + name + "'" +
               (suggestion ? "; did you mean '" + *suggestion + "'?" : "") +
               " (valid: box, circle, polygon)");
  }
  body.shape = static_cast<BodySpec::Shape>(kind);
  for (std::size_t other = 0; other < 3; ++other) {
    if (other != kind && object.has(own_key[other])) {
      object.required(own_key[other])
          .fail("a " + name + " has no " + std::string(own_key[other]) + " (that is for a " +
                std::string(shapes[other]) + "); a " + name + " takes \"" +
                std::string(own_key[kind]) + "\"");
    }
  }
  switch (body.shape) {
    case BodySpec::Shape::kBox: {
      const JsonValue size = object.required("size");
      body.size = pair_of(size);
      if (!(body.size[0] > 0.0) || !(body.size[1] > 0.0)) {
        size.fail("width and height must be positive, got [" + format_number(body.size[0]) + ", " +
                  format_number(body.size[1]) + "]");
      }
      break;
    }
    case BodySpec::Shape::kCircle:
      body.radius = object.number("radius", NumberRule::kPositive);
      break;
    case BodySpec::Shape::kPolygon: {
      const JsonValue vertices = object.required("vertices");
      for (const JsonValue& vertex : vertices.elements()) {
        body.vertices.push_back(pair_of(vertex));
      }
      std::vector<rigid::Vec2> points;
      for (const auto& vertex : body.vertices) {
        points.push_back({vertex[0], vertex[1]});
      }
      try {
        static_cast<void>(rigid::BodyShape::polygon(std::move(points)));
      } catch (const ValueError& error) {
        vertices.fail(error.what());
      }
      break;
    }
  }
  body.position = pair_of(object.required("position"));
  body.angle = object.number_or("angle", 0.0);
  if (const auto velocity = object.optional("velocity")) {
    body.velocity = pair_of(*velocity);
  }
  body.angular_velocity = object.number_or("angular_velocity", 0.0);
  if (const auto force = object.optional("force")) {
    body.force = pair_of(*force);
  }
  body.torque = object.number_or("torque", 0.0);
  if (const auto mass = object.optional("mass")) {
    body.mass = mass->as_number(NumberRule::kPositive);
  }
  if (const auto density = object.optional("density")) {
    if (body.mass) {
      density->fail("give mass or density, not both");
    }
    body.density = density->as_number(NumberRule::kPositive);
  }
  return body;
}

// A rows x cols grid of particles joined to their right and upper neighbours (and diagonals).
void add_lattice(const JsonValue& value, SceneSpec& scene) {
  const JsonObject object(value, {"origin", "rows", "cols", "spacing", "mass", "stiffness",
                                  "damping", "diagonals", "velocity", "angular_velocity"});
  const auto side = [&](std::string_view key) {
    const JsonValue count = object.required(key);
    const std::size_t n = count.as_index();
    if (n < 1 || n > kMaxLatticeSide) {
      count.fail("must be in [1, " + std::to_string(kMaxLatticeSide) + "], got " +
                 std::to_string(n));
    }
    return n;
  };
  const std::array<double, 2> origin = pair_of(object.required("origin"));
  const std::size_t rows = side("rows");
  const std::size_t cols = side("cols");
  const double spacing = object.number("spacing", NumberRule::kPositive);
  const double mass = object.number_or("mass", 1.0, NumberRule::kPositive);
  const double stiffness = object.number("stiffness", NumberRule::kNonNegative);
  const double damping = object.number_or("damping", 0.0, NumberRule::kNonNegative);
  const bool diagonals = object.has("diagonals") ? object.required("diagonals").as_bool() : true;
  std::array<double, 2> velocity{};
  if (const auto v = object.optional("velocity")) {
    velocity = pair_of(*v);
  }
  const double spin = object.number_or("angular_velocity", 0.0);
  const std::size_t first = scene.particles.size();
  const auto at = [&](std::size_t r, std::size_t c) { return first + r * cols + c; };
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      ParticleSpec particle;
      particle.position = {origin[0] + spacing * static_cast<double>(c),
                           origin[1] + spacing * static_cast<double>(r)};
      // v = v0 + omega x (p - centre): a rigid spin about the lattice's centre.
      const double dx = spacing * (static_cast<double>(c) - 0.5 * static_cast<double>(cols - 1));
      const double dy = spacing * (static_cast<double>(r) - 0.5 * static_cast<double>(rows - 1));
      particle.velocity = {velocity[0] - spin * dy, velocity[1] + spin * dx};
      particle.mass = mass;
      scene.particles.push_back(particle);
    }
  }
  const auto join = [&](std::size_t a, std::size_t b) {
    SpringSpec spring;
    spring.first = a;
    spring.second = b;
    spring.stiffness = stiffness;
    spring.damping = damping;
    scene.springs.push_back(spring);
  };
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      if (c + 1 < cols) {
        join(at(r, c), at(r, c + 1));
      }
      if (r + 1 < rows) {
        join(at(r, c), at(r + 1, c));
      }
      if (diagonals && r + 1 < rows && c + 1 < cols) {
        join(at(r, c), at(r + 1, c + 1));
        join(at(r, c + 1), at(r + 1, c));
      }
    }
  }
}

}  // namespace

SceneSpec parse_scene(const JsonValue& value, const std::filesystem::path& base_directory) {
  const JsonObject object(
      value, {"name", "dt", "steps", "gravity", "ground", "particles", "springs", "lattice",
              "bodies", "body_contact", "soft_body", "hard_contact"});
  SceneSpec scene;
  if (const auto name = object.optional("name")) {
    scene.name = name->as_string();
  }
  scene.dt = object.number("dt", NumberRule::kPositive);
  const JsonValue steps = object.required("steps");
  scene.steps = steps.as_index();
  if (scene.steps < 1 || scene.steps > kMaxSteps) {
    steps.fail("must be in [1, " + std::to_string(kMaxSteps) + "], got " +
               std::to_string(scene.steps));
  }
  if (const auto gravity = object.optional("gravity")) {
    scene.gravity = pair_of(*gravity);
  }
  if (const auto ground = object.optional("ground")) {
    if (!ground->is_bool() || ground->as_bool()) {
      GroundSpec spec;
      if (!ground->is_bool()) {
        const JsonObject fields(*ground, {"height", "stiffness", "damping"});
        spec.height = fields.number_or("height", 0.0);
        spec.stiffness = fields.number_or("stiffness", spec.stiffness, NumberRule::kPositive);
        spec.damping = fields.number_or("damping", spec.damping, NumberRule::kNonNegative);
      }
      scene.ground = spec;
    }
  }
  if (const auto particles = object.optional("particles")) {
    for (const JsonValue& particle : particles->elements()) {
      scene.particles.push_back(parse_particle(particle));
    }
  }
  if (const auto lattice = object.optional("lattice")) {
    add_lattice(*lattice, scene);
  }
  if (const auto bodies = object.optional("bodies")) {
    for (const JsonValue& body : bodies->elements()) {
      scene.bodies.push_back(parse_body(body));
    }
  }
  if (const auto contact = object.optional("body_contact")) {
    const JsonObject fields(*contact, {"stiffness", "damping", "friction"});
    BodyContactSpec& spec = scene.body_contact;
    spec.stiffness = fields.number_or("stiffness", spec.stiffness, NumberRule::kPositive);
    spec.damping = fields.number_or("damping", spec.damping, NumberRule::kNonNegative);
    spec.friction = fields.number_or("friction", spec.friction, NumberRule::kNonNegative);
  }
  if (const auto hard = object.optional("hard_contact")) {
    if (object.has("body_contact")) {
      hard->fail("the bodies take penalty contact (body_contact) or hard contact, not both");
    }
    if (scene.bodies.empty()) {
      hard->fail("hard contact acts between bodies; the scene has none");
    }
    scene.hard_contact = parse_hard_contact(*hard, scene.bodies.size());
  }
  if (const auto soft = object.optional("soft_body")) {
    if (!scene.particles.empty()) {
      soft->fail("a scene holds particles and springs or a soft body, not both");
    }
    scene.soft_body = parse_soft_body(*soft, base_directory);
    if (scene.soft_body->obstacles && scene.bodies.empty()) {
      soft->fail("has \"obstacles\": true, but the scene has no bodies to be its obstacles");
    }
  }
  if (scene.particles.empty() && scene.bodies.empty() && !scene.soft_body) {
    object.value().fail(
        "has no particles, bodies or soft body; give \"particles\", a \"lattice\", "
        "\"bodies\" or a \"soft_body\"");
  }
  if (const auto springs = object.optional("springs")) {
    for (const JsonValue& spring : springs->elements()) {
      scene.springs.push_back(parse_spring(spring, scene.particles.size()));
    }
  }
  // A spring between two particles at the same place has no direction: the force is undefined.
  for (std::size_t e = 0; e < scene.springs.size(); ++e) {
    const SpringSpec& spring = scene.springs[e];
    const auto& a = scene.particles[spring.first].position;
    const auto& b = scene.particles[spring.second].position;
    if (std::hypot(b[0] - a[0], b[1] - a[1]) == 0.0) {
      object.value().fail("spring " + std::to_string(e) + " joins particles " +
                          std::to_string(spring.first) + " and " + std::to_string(spring.second) +
                          ", which start at the same position");
    }
  }
  return scene;
}

SceneSpec load_scene(const std::filesystem::path& path) {
  const JsonDocument document = JsonDocument::load(path, "scene");
  return parse_scene(document.root(), path.parent_path().empty() ? "." : path.parent_path());
}

SceneSpec parse_scene_text(std::string_view text, std::string source,
                           const std::filesystem::path& base_directory) {
  const JsonDocument document = JsonDocument::parse(text, std::move(source), "scene");
  return parse_scene(document.root(), base_directory);
}

}  // namespace maya::io
