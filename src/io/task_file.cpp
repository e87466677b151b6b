// parse_task: the task schema of docs/scene-format.md. Selectors are parsed by hand (they are a
// tiny grammar: group[index].field) and checked against the scene they refer to.
#include "maya/io/task_file.hpp"

#include <algorithm>
#include <cmath>

#include "maya/core/check.hpp"
#include "maya/io/json.hpp"

namespace maya::io {
namespace {

struct FieldName {
  std::string_view group;
  std::string_view field;
  Selector::Field value;
};

constexpr FieldName kFields[] = {
    {"springs", "stiffness", Selector::Field::kStiffness},
    {"springs", "damping", Selector::Field::kDamping},
    {"springs", "rest_length", Selector::Field::kRestLength},
    {"particles", "mass", Selector::Field::kMass},
    {"particles", "position", Selector::Field::kPosition},
    {"particles", "velocity", Selector::Field::kVelocity},
    {"soft_body", "youngs_modulus", Selector::Field::kYoungsModulus},
    {"soft_body", "poisson_ratio", Selector::Field::kPoissonRatio},
    {"soft_body", "density", Selector::Field::kDensity},
    {"soft_body", "velocity", Selector::Field::kBodyVelocity},
    {"bodies", "mass", Selector::Field::kRigidMass},
    {"bodies", "velocity", Selector::Field::kRigidVelocity},
    {"bodies", "angular_velocity", Selector::Field::kRigidAngularVelocity},
    {"bodies", "force", Selector::Field::kRigidForce},
    {"bodies", "torque", Selector::Field::kRigidTorque},
    {"body_contact", "stiffness", Selector::Field::kContactStiffness},
    {"body_contact", "damping", Selector::Field::kContactDamping},
    {"body_contact", "friction", Selector::Field::kContactFriction},
};

std::string valid_selectors() {
  return "springs.stiffness, springs.damping, springs.rest_length, particles.mass, "
         "particles.position, particles.velocity, each optionally indexed as springs[3].damping; "
         "soft_body.youngs_modulus, soft_body.poisson_ratio, soft_body.density, "
         "soft_body.velocity; bodies.mass, bodies.velocity, bodies.angular_velocity, bodies.force, "
         "bodies.torque (indexed as bodies[1].mass), body_contact.stiffness, "
         "body_contact.damping, body_contact.friction";
}

// Whether the scene's task runs its rigid bodies (a scene of bodies only).
bool body_task(const SceneSpec& scene) {
  return scene.particles.empty() && !scene.soft_body && !scene.bodies.empty();
}

double body_area(const BodySpec& body) {
  switch (body.shape) {
    case BodySpec::Shape::kBox: return body.size[0] * body.size[1];
    case BodySpec::Shape::kCircle: return 3.141592653589793 * body.radius * body.radius;
    case BodySpec::Shape::kPolygon: break;
  }
  double twice = 0.0;
  for (std::size_t k = 0; k < body.vertices.size(); ++k) {
    const auto& a = body.vertices[k];
    const auto& b = body.vertices[(k + 1) % body.vertices.size()];
    twice += a[0] * b[1] - a[1] * b[0];
  }
  return std::abs(twice) / 2;
}

// What the scene's simulator differentiates, for the message naming a parameter it does not.
std::string differentiable_in(const SceneSpec& scene) {
  if (body_task(scene) && scene.hard_contact) {
    return "the scene's bodies take hard contact; its task parameters are bodies.mass, "
           "bodies.velocity, bodies.angular_velocity, bodies.force and bodies.torque (the "
           "solver's restitution and friction are settings it does not differentiate)";
  }
  if (body_task(scene)) {
    return "the scene's bodies take penalty contact; its task parameters are bodies.mass, "
           "bodies.velocity, bodies.angular_velocity, bodies.force, bodies.torque, "
           "body_contact.stiffness, body_contact.damping and body_contact.friction";
  }
  if (scene.soft_body) {
    return "the scene is an FEM soft body; its task parameters are soft_body.youngs_modulus, "
           "soft_body.poisson_ratio, soft_body.density and soft_body.velocity (the initial "
           "velocity)";
  }
  return "the scene is a mass-spring system; its task parameters are springs.stiffness, "
         "springs.damping, springs.rest_length, particles.mass, particles.position and "
         "particles.velocity";
}

// What a loss term's "particles" index: the particles, or the soft body's vertices.
std::size_t point_count(const SceneSpec& scene) {
  if (body_task(scene)) return scene.bodies.size();
  return scene.soft_body ? scene.soft_body->num_vertices() : scene.particles.size();
}
std::string point_noun(const SceneSpec& scene) {
  if (body_task(scene)) return " bodies (a body task's particles are its bodies' centres)";
  return scene.soft_body ? " vertices (a soft body's particles are its vertices)" : " particles";
}

std::size_t group_size(const Selector& selector, const SceneSpec& scene) {
  if (selector.of_soft_body()) return scene.soft_body ? 1 : 0;
  if (selector.of_bodies()) return body_task(scene) ? scene.bodies.size() : 0;
  if (selector.of_body_contact()) return body_task(scene) && !scene.hard_contact ? 1 : 0;
  if (body_task(scene)) return 0;
  return selector.of_springs() ? scene.springs.size() : scene.particles.size();
}

// `text` is the selector; `value` is where it was written, for messages.
Selector parse_selector(std::string text_, const JsonValue& value, const SceneSpec& scene) {
  Selector selector;
  selector.text = std::move(text_);
  const std::string& text = selector.text;
  const std::size_t dot = text.rfind('.');
  if (dot == std::string::npos) {
    value.fail("'" + text + "' is not a selector (valid: " + valid_selectors() + ")");
  }
  std::string group = text.substr(0, dot);
  const std::string field = text.substr(dot + 1);
  if (const std::size_t bracket = group.find('['); bracket != std::string::npos) {
    const std::size_t close = group.find(']', bracket);
    const std::string digits = group.substr(bracket + 1, close - bracket - 1);
    if (close != group.size() - 1 || digits.empty() ||
        digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) {
      value.fail("'" + text + "': the index must be a non-negative integer, as in springs[3]");
    }
    selector.index = static_cast<std::size_t>(std::stoul(digits));
    group = group.substr(0, bracket);
  }
  const FieldName* match = nullptr;
  std::vector<std::string_view> fields_of_group;
  for (const FieldName& candidate : kFields) {
    if (candidate.group == group) {
      fields_of_group.push_back(candidate.field);
      if (candidate.field == field) {
        match = &candidate;
      }
    }
  }
  if (group == "hard_contact") {
    value.fail("'" + text + "': " + differentiable_in(scene));
  }
  if (fields_of_group.empty()) {
    const std::string_view groups[] = {"springs", "particles", "soft_body", "bodies",
                                       "body_contact"};
    const auto suggestion = nearest_word(group, groups);
    value.fail("'" + text + "': unknown group '" + group + "'" +
               (suggestion ? "; did you mean '" + *suggestion + "'?"
                           : " (valid: " + valid_selectors() + ")"));
  }
  if (match == nullptr) {
    const auto suggestion = nearest_word(field, fields_of_group);
    std::string valid;
    for (const std::string_view name : fields_of_group) {
      valid += (valid.empty() ? "" : ", ") + std::string(name);
    }
    value.fail("'" + text + "': " + group + " have no field '" + field + "'" +
               (suggestion ? "; did you mean '" + *suggestion + "'?" : " (valid: " + valid + ")"));
  }
  selector.field = match->value;
  const std::size_t count = group_size(selector, scene);
  if (count == 0) {
    value.fail("'" + text + "': the scene has no " + group + "; " + differentiable_in(scene));
  }
  if (selector.index && *selector.index >= count) {
    value.fail("'" + text + "': " + group + "[" + std::to_string(*selector.index) +
               "] does not exist (the scene has " + std::to_string(count) + " " + group + ")");
  }
  return selector;
}

// A number or an array of numbers, as a flat list.
std::vector<double> numbers_of(const JsonValue& value, NumberRule rule = NumberRule::kAny) {
  if (value.is_number()) {
    return {value.as_number(rule)};
  }
  return value.as_numbers(std::nullopt, rule);
}

// The rule a scene file applies to the field a selector names, so that a task's values are
// validated like the scene's own: masses and rest lengths positive, stiffness and damping
// non-negative, positions and velocities finite.
NumberRule scene_rule(Selector::Field field) {
  switch (field) {
    case Selector::Field::kYoungsModulus:
    case Selector::Field::kDensity:
    case Selector::Field::kRigidMass:
    case Selector::Field::kContactStiffness:
    case Selector::Field::kMass:
    case Selector::Field::kRestLength: return NumberRule::kPositive;
    case Selector::Field::kContactDamping:
    case Selector::Field::kContactFriction:
    case Selector::Field::kStiffness:
    case Selector::Field::kDamping: return NumberRule::kNonNegative;
    default: return NumberRule::kAny;
  }
}

double spring_length(const SceneSpec& scene, const SpringSpec& spring) {
  const auto& a = scene.particles[spring.first].position;
  const auto& b = scene.particles[spring.second].position;
  return std::hypot(b[0] - a[0], b[1] - a[1]);
}

// Physical lower bounds applied when a task gives none: masses, stiffnesses and rest lengths
// stay positive, dampings non-negative.
double default_lower(Selector::Field field) {
  switch (field) {
    case Selector::Field::kYoungsModulus:
    case Selector::Field::kRigidMass:
    case Selector::Field::kContactStiffness:
    case Selector::Field::kDensity: return 1e-9;
    case Selector::Field::kContactDamping:
    case Selector::Field::kContactFriction: return 0.0;
    case Selector::Field::kPoissonRatio: return -0.999;
    case Selector::Field::kMass:
    case Selector::Field::kRestLength: return 1e-9;
    case Selector::Field::kStiffness:
    case Selector::Field::kDamping: return 0.0;
    default: return -std::numeric_limits<double>::infinity();
  }
}

ParameterSpec parse_parameter(const JsonValue& value, const SceneSpec& scene) {
  const JsonObject object(value,
                          {"name", "of", "shared", "initial", "lower", "upper", "log_scale"});
  ParameterSpec parameter;
  const JsonValue of = object.required("of");
  parameter.selector = parse_selector(of.as_string(), of, scene);
  parameter.name =
      object.has("name") ? object.required("name").as_string() : parameter.selector.text;
  parameter.shared = object.has("shared") ? object.required("shared").as_bool() : true;
  parameter.log_scale = object.has("log_scale") ? object.required("log_scale").as_bool() : false;
  const std::size_t numel = parameter.numel(scene);
  if (const auto initial = object.optional("initial")) {
    parameter.initial = numbers_of(*initial);
    if (parameter.initial.size() == parameter.selector.width() &&
        numel > parameter.initial.size()) {
      std::vector<double> repeated;
      for (std::size_t k = 0; k < numel; ++k) {
        repeated.push_back(parameter.initial[k % parameter.selector.width()]);
      }
      parameter.initial = repeated;
    }
    if (parameter.initial.size() != numel) {
      initial->fail("must have " + std::to_string(numel) + " numbers, got " +
                    std::to_string(parameter.initial.size()));
    }
  } else {
    const std::vector<double> current = read(scene, parameter.selector);
    parameter.initial.assign(current.begin(), current.begin() + static_cast<long>(numel));
  }
  parameter.lower = object.number_or("lower", default_lower(parameter.selector.field));
  parameter.upper = object.number_or("upper", std::numeric_limits<double>::infinity());
  if (!(parameter.lower < parameter.upper)) {
    object.value().fail("lower (" + format_number(parameter.lower) + ") must be below upper (" +
                        format_number(parameter.upper) + ")");
  }
  if (parameter.log_scale && (object.has("lower") || object.has("upper"))) {
    object.value().fail("log_scale parameters are positive by construction; drop lower/upper");
  }
  for (std::size_t k = 0; k < parameter.initial.size(); ++k) {
    const double initial = parameter.initial[k];
    const bool inside = parameter.log_scale
                            ? initial > 0
                            : initial >= parameter.lower && initial <= parameter.upper;
    if (!inside) {
      object.value().fail("initial value " + format_number(initial) + " is outside " +
                          (parameter.log_scale ? std::string("(0, inf) required by log_scale")
                                               : "the bounds [" + format_number(parameter.lower) +
                                                     ", " + format_number(parameter.upper) + "]"));
    }
  }
  return parameter;
}

Assignment parse_assignment(const std::string& selector_text, const JsonValue& values,
                            const SceneSpec& scene) {
  Assignment assignment;
  assignment.selector = parse_selector(selector_text, values, scene);
  assignment.values = numbers_of(values, scene_rule(assignment.selector.field));
  const std::size_t width = assignment.selector.width();
  const std::size_t all = width * assignment.selector.elements(scene).size();
  if (assignment.values.size() != width && assignment.values.size() != all) {
    values.fail("must have " + std::to_string(width) + " or " + std::to_string(all) +
                " numbers, got " + std::to_string(assignment.values.size()));
  }
  return assignment;
}

LossTermSpec parse_loss_term(const JsonValue& value, const SceneSpec& scene,
                             const std::filesystem::path& base_directory) {
  const JsonObject head(
      value, {"type", "weight", "observed", "every", "particles", "particle", "target", "time"});
  const JsonValue type = head.required("type");
  const std::string kind = type.as_string();
  LossTermSpec term;
  term.weight = head.number_or("weight", 1.0, NumberRule::kNonNegative);
  if (kind == "match_trajectory") {
    const JsonObject object(value, {"type", "weight", "observed", "every", "particles"});
    term.kind = LossTermSpec::Kind::kMatchTrajectory;
    const JsonValue observed = object.required("observed");
    const auto file_of = [&](const JsonValue& name) {
      const std::filesystem::path file = name.as_string();
      return file.is_absolute() ? file : base_directory / file;
    };
    if (observed.is_string()) {
      term.observed_file = file_of(observed);
    } else {
      const JsonObject source(observed, {"file", "times", "simulate_with", "noise"});
      const auto file = source.optional("file");
      const auto truth = source.optional("simulate_with");
      if (file.has_value() == truth.has_value()) {
        observed.fail(file ? "has both 'file' and 'simulate_with'; give one"
                           : "needs 'file' (measured data: .csv or .npy) or 'simulate_with' "
                             "(a hidden truth)");
      }
      if (file) {
        term.observed_file = file_of(*file);
        if (const auto times = source.optional("times")) {
          if (term.observed_file->extension() == ".csv") {
            times->fail(
                "a CSV file carries its own time stamps (column 'time'); 'times' is for "
                ".npy positions");
          }
          term.observed_times_file = file_of(*times);
        }
      } else {
        if (const auto times = source.optional("times")) {
          times->fail(
              "time stamps belong to an observed 'file'; 'simulate_with' is sampled at "
              "every step");
        }
        for (const auto& [selector, values] : truth->members()) {
          term.truth.push_back(parse_assignment(selector, values, scene));
        }
      }
      if (const auto noise = source.optional("noise")) {
        const JsonObject fields(*noise, {"std", "seed"});
        term.noise_std = fields.number("std", NumberRule::kNonNegative);
        if (const auto seed = fields.optional("seed")) {
          term.noise_seed = seed->as_index();
        }
      }
    }
    if (const auto every = object.optional("every")) {
      term.every = every->as_index();
      if (term.every < 1) {
        every->fail("must be >= 1, got 0");
      }
    }
    if (const auto particles = object.optional("particles")) {
      for (const JsonValue& index : particles->elements()) {
        const std::size_t particle = index.as_index();
        if (particle >= point_count(scene)) {
          index.fail("particle " + std::to_string(particle) + " does not exist (the scene has " +
                     std::to_string(point_count(scene)) + point_noun(scene) + ")");
        }
        if (std::find(term.observed_particles.begin(), term.observed_particles.end(), particle) !=
            term.observed_particles.end()) {
          index.fail("particle " + std::to_string(particle) + " is listed twice");
        }
        term.observed_particles.push_back(particle);
      }
      if (term.observed_particles.empty()) {
        particles->fail("is empty; list the observed particles, or leave it out for all");
      }
    }
  } else if (kind == "reach_target") {
    const JsonObject object(value, {"type", "weight", "particles", "particle", "target", "time"});
    term.kind = LossTermSpec::Kind::kReachTarget;
    const auto check_particle = [&](const JsonValue& index) {
      const std::size_t particle = index.as_index();
      if (particle >= point_count(scene)) {
        index.fail("particle " + std::to_string(particle) + " does not exist (the scene has " +
                   std::to_string(point_count(scene)) + point_noun(scene) + ")");
      }
      return particle;
    };
    if (const auto one = object.optional("particle")) {
      term.particles.push_back(check_particle(*one));
    } else if (const auto many = object.optional("particles")) {
      for (const JsonValue& index : many->elements()) {
        term.particles.push_back(check_particle(index));
      }
    }
    if (term.particles.empty()) {
      object.value().fail(
          "missing key 'particle' (or 'particles'): whose position must reach the target");
    }
    const std::vector<double> target = object.required("target").as_numbers(2);
    term.target = {target[0], target[1]};
    term.step = scene.steps;
    if (const auto time = object.optional("time")) {
      const double t = time->as_number_in(0.0, scene.duration());
      term.step = static_cast<std::size_t>(std::llround(t / scene.dt));
    }
  } else {
    const std::string_view kinds[] = {"match_trajectory", "reach_target"};
    const auto suggestion = nearest_word(kind, kinds);
    type.fail("unknown loss type '" + kind + "'" +
              (suggestion ? "; did you mean '" + *suggestion + "'?"
                          : " (valid: match_trajectory, reach_target)"));
  }
  return term;
}

OptimizerSpec parse_optimizer(const JsonValue& value) {
  const JsonObject object(value, {"method", "iterations", "learning_rate", "tolerance",
                                  "loss_tolerance", "converge_below"});
  OptimizerSpec optimizer;
  if (const auto method = object.optional("method")) {
    const std::string name = method->as_string();
    if (name == "adam") {
      optimizer.method = OptimizerSpec::Method::kAdam;
    } else if (name == "lbfgs" || name == "l-bfgs") {
      optimizer.method = OptimizerSpec::Method::kLbfgs;
    } else {
      method->fail("unknown method '" + name + "' (valid: adam, lbfgs)");
    }
  }
  if (const auto iterations = object.optional("iterations")) {
    optimizer.iterations = iterations->as_index();
  }
  optimizer.learning_rate =
      object.number_or("learning_rate", optimizer.learning_rate, NumberRule::kPositive);
  optimizer.tolerance =
      object.number_or("tolerance", optimizer.tolerance, NumberRule::kNonNegative);
  optimizer.loss_tolerance =
      object.number_or("loss_tolerance", optimizer.loss_tolerance, NumberRule::kNonNegative);
  if (const auto below = object.optional("converge_below")) {
    optimizer.converge_below = below->as_number(NumberRule::kNonNegative);
  }
  return optimizer;
}

}  // namespace

std::vector<std::size_t> Selector::elements(const SceneSpec& scene) const {
  if (index) {
    return {*index};
  }
  const std::size_t count = group_size(*this, scene);
  std::vector<std::size_t> all(count);
  for (std::size_t k = 0; k < count; ++k) {
    all[k] = k;
  }
  return all;
}

std::size_t ParameterSpec::numel(const SceneSpec& scene) const {
  return selector.width() * (shared ? 1 : selector.elements(scene).size());
}

std::vector<double> read(const SceneSpec& scene, const Selector& selector) {
  std::vector<double> values;
  for (const std::size_t k : selector.elements(scene)) {
    switch (selector.field) {
      case Selector::Field::kStiffness: values.push_back(scene.springs[k].stiffness); break;
      case Selector::Field::kDamping: values.push_back(scene.springs[k].damping); break;
      case Selector::Field::kRestLength:
        values.push_back(
            scene.springs[k].rest_length.value_or(spring_length(scene, scene.springs[k])));
        break;
      case Selector::Field::kMass: values.push_back(scene.particles[k].mass); break;
      case Selector::Field::kPosition:
        values.insert(values.end(), scene.particles[k].position.begin(),
                      scene.particles[k].position.end());
        break;
      case Selector::Field::kVelocity:
        values.insert(values.end(), scene.particles[k].velocity.begin(),
                      scene.particles[k].velocity.end());
        break;
      case Selector::Field::kYoungsModulus:
        values.push_back(scene.soft_body->youngs_modulus);
        break;
      case Selector::Field::kPoissonRatio: values.push_back(scene.soft_body->poisson_ratio); break;
      case Selector::Field::kDensity: values.push_back(scene.soft_body->density); break;
      case Selector::Field::kBodyVelocity:
        values.insert(values.end(), scene.soft_body->velocity.begin(),
                      scene.soft_body->velocity.end());
        break;
      case Selector::Field::kRigidMass: {
        const BodySpec& body = scene.bodies[k];
        values.push_back(body.mass      ? *body.mass
                         : body.density ? *body.density * body_area(body)
                                        : 1.0);
        break;
      }
      case Selector::Field::kRigidVelocity:
        values.insert(values.end(), scene.bodies[k].velocity.begin(),
                      scene.bodies[k].velocity.end());
        break;
      case Selector::Field::kRigidAngularVelocity:
        values.push_back(scene.bodies[k].angular_velocity);
        break;
      case Selector::Field::kRigidForce:
        values.insert(values.end(), scene.bodies[k].force.begin(), scene.bodies[k].force.end());
        break;
      case Selector::Field::kRigidTorque: values.push_back(scene.bodies[k].torque); break;
      case Selector::Field::kContactStiffness:
        values.push_back(scene.body_contact.stiffness);
        break;
      case Selector::Field::kContactDamping: values.push_back(scene.body_contact.damping); break;
      case Selector::Field::kContactFriction: values.push_back(scene.body_contact.friction); break;
    }
  }
  return values;
}

void assign(SceneSpec& scene, const Selector& selector, const std::vector<double>& values) {
  const std::vector<std::size_t> elements = selector.elements(scene);
  const std::size_t width = selector.width();
  const bool broadcast = values.size() == width;
  for (std::size_t n = 0; n < elements.size(); ++n) {
    const std::size_t k = elements[n];
    const double* row = values.data() + (broadcast ? 0 : n * width);
    switch (selector.field) {
      case Selector::Field::kStiffness: scene.springs[k].stiffness = row[0]; break;
      case Selector::Field::kDamping: scene.springs[k].damping = row[0]; break;
      case Selector::Field::kRestLength: scene.springs[k].rest_length = row[0]; break;
      case Selector::Field::kMass: scene.particles[k].mass = row[0]; break;
      case Selector::Field::kPosition: scene.particles[k].position = {row[0], row[1]}; break;
      case Selector::Field::kVelocity: scene.particles[k].velocity = {row[0], row[1]}; break;
      case Selector::Field::kYoungsModulus: scene.soft_body->youngs_modulus = row[0]; break;
      case Selector::Field::kPoissonRatio: scene.soft_body->poisson_ratio = row[0]; break;
      case Selector::Field::kDensity: scene.soft_body->density = row[0]; break;
      case Selector::Field::kBodyVelocity: scene.soft_body->velocity = {row[0], row[1]}; break;
      case Selector::Field::kRigidMass:
        scene.bodies[k].mass = row[0];
        scene.bodies[k].density.reset();
        break;
      case Selector::Field::kRigidVelocity: scene.bodies[k].velocity = {row[0], row[1]}; break;
      case Selector::Field::kRigidAngularVelocity: scene.bodies[k].angular_velocity = row[0]; break;
      case Selector::Field::kRigidForce: scene.bodies[k].force = {row[0], row[1]}; break;
      case Selector::Field::kRigidTorque: scene.bodies[k].torque = row[0]; break;
      case Selector::Field::kContactStiffness: scene.body_contact.stiffness = row[0]; break;
      case Selector::Field::kContactDamping: scene.body_contact.damping = row[0]; break;
      case Selector::Field::kContactFriction: scene.body_contact.friction = row[0]; break;
    }
  }
}

TaskSpec parse_task(const JsonValue& value, const std::filesystem::path& base_directory) {
  const JsonObject object(value, {"name", "scene", "parameters", "loss", "optimizer", "gradcheck"});
  TaskSpec task;
  if (const auto name = object.optional("name")) {
    task.name = name->as_string();
  }
  const JsonValue scene = object.required("scene");
  if (scene.is_string()) {
    const std::filesystem::path file = scene.as_string();
    task.scene = load_scene(file.is_absolute() ? file : base_directory / file);
  } else {
    task.scene = parse_scene(scene, base_directory);
  }
  // A task fits one simulator: particles and springs, a soft body, or rigid bodies.
  const bool obstacles = task.scene.soft_body && task.scene.soft_body->obstacles;
  if (!task.scene.bodies.empty() && !obstacles &&
      (!task.scene.particles.empty() || task.scene.soft_body)) {
    scene.fail(std::string("has rigid bodies beside ") +
               (task.scene.soft_body ? "a soft body" : "particles") +
               "; a task fits one simulator: particles and springs, a soft body, or rigid "
               "bodies (maya simulate runs them side by side; a soft body's \"obstacles\": "
               "true makes the bodies its fixed obstacles)");
  }
  const JsonValue parameters = object.required("parameters");
  for (const JsonValue& parameter : parameters.elements()) {
    task.parameters.push_back(parse_parameter(parameter, task.scene));
  }
  if (task.parameters.empty()) {
    parameters.fail("is empty; a task needs at least one free parameter");
  }
  for (std::size_t a = 0; a < task.parameters.size(); ++a) {
    for (std::size_t b = 0; b < a; ++b) {
      if (task.parameters[a].name == task.parameters[b].name) {
        parameters.at(a).fail("duplicate parameter name '" + task.parameters[a].name + "'");
      }
    }
  }
  const JsonValue loss = object.required("loss");
  const std::vector<JsonValue> terms = loss.is_array() ? loss.elements() : std::vector{loss};
  for (const JsonValue& term : terms) {
    task.loss.push_back(parse_loss_term(term, task.scene, base_directory));
  }
  if (task.loss.empty()) {
    loss.fail("is empty; a task needs at least one loss term");
  }
  if (const auto optimizer = object.optional("optimizer")) {
    task.optimizer = parse_optimizer(*optimizer);
  }
  if (const auto gradcheck = object.optional("gradcheck")) {
    task.gradcheck = parse_gradcheck_spec(*gradcheck);
  }
  return task;
}

OptimizerSpec parse_optimizer_spec(const JsonValue& value) { return parse_optimizer(value); }

GradcheckSpec parse_gradcheck_spec(const JsonValue& value) {
  const JsonObject fields(value, {"step", "tolerance"});
  GradcheckSpec gradcheck;
  if (const auto step = fields.optional("step")) {
    gradcheck.step = step->as_number_in(GradcheckSpec::kMinStep, GradcheckSpec::kMaxStep);
  }
  gradcheck.tolerance = fields.number_or("tolerance", gradcheck.tolerance, NumberRule::kPositive);
  return gradcheck;
}

TaskSpec load_task(const std::filesystem::path& path) {
  const JsonDocument document = JsonDocument::load(path, "task");
  return parse_task(document.root(), path.parent_path().empty() ? "." : path.parent_path());
}

TaskSpec parse_task_text(std::string_view text, std::string source,
                         const std::filesystem::path& base_directory) {
  const JsonDocument document = JsonDocument::parse(text, std::move(source), "task");
  return parse_task(document.root(), base_directory);
}

}  // namespace maya::io
