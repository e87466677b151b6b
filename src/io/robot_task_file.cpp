// parse_robot_task: the robot task schema of docs/scene-format.md. The model is loaded here so
// that every name in the task (bodies, joints) and every shape (the initial state, the controls,
// an observation) is checked against it, with the field that holds it.
#include "maya/io/robot_task_file.hpp"

#include <algorithm>
#include <cmath>

#include "maya/core/check.hpp"
#include "maya/io/json.hpp"
#include "maya/io/npy.hpp"
#include "maya/io/output_files.hpp"
#include "maya/multibody/loaders.hpp"

namespace maya::io {
namespace {

namespace mb = multibody;
using Target = RobotParameterSpec::Target;
using Layout = mb::ParameterLayout;

std::filesystem::path resolve(const JsonValue& name, const std::filesystem::path& base) {
  const std::filesystem::path file = name.as_string();
  return file.is_absolute() ? file : base / file;
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string text = "[";
  for (std::size_t k = 0; k < shape.size(); ++k) {
    text += (k > 0 ? ", " : "") + std::to_string(shape[k]);
  }
  return text + "]";
}

std::string list_names(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) {
    if (name.empty()) continue;
    text += (text.empty() ? "" : ", ") + name;
  }
  return text;
}

// A body named by its name (or its index) in `value`.
std::size_t body_of(const mb::Model& model, const std::string& name, const JsonValue& value,
                    const std::string& robot) {
  std::vector<std::string> names;
  for (std::size_t k = 0; k < model.num_bodies(); ++k) {
    if (model.body(k).name == name) return k;
    names.push_back(model.body(k).name);
  }
  if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos &&
      name.size() < 9) {
    const std::size_t index = std::stoul(name);
    if (index < model.num_bodies()) return index;
  }
  std::vector<std::string_view> views(names.begin(), names.end());
  const auto suggestion = nearest_word(name, views);
  value.fail("no body '" + name + "' in " + robot +
             (suggestion ? "; did you mean '" + *suggestion + "'?"
                         : " (bodies: " + list_names(names) + ")"));
}

// The body whose joint is named `name`.
std::size_t joint_of(const mb::Model& model, const std::string& name, const JsonValue& value,
                     const std::string& robot) {
  std::vector<std::string> names;
  for (std::size_t k = 0; k < model.num_bodies(); ++k) {
    const mb::Body& body = model.body(k);
    if (body.joint == mb::JointType::kFixed) continue;
    if (body.joint_name == name) return k;
    names.push_back(body.joint_name);
  }
  std::vector<std::string_view> views(names.begin(), names.end());
  const auto suggestion = nearest_word(name, views);
  value.fail("no moving joint '" + name + "' in " + robot +
             (suggestion ? "; did you mean '" + *suggestion + "'?"
                         : " (joints: " + list_names(names) + ")"));
}

std::string valid_robot_selectors() {
  return "bodies.mass, bodies.com, bodies.inertia, bodies.joint_position, bodies.damping (each "
         "optionally one body: bodies[pole].mass), joints.damping (joints[hinge].damping), "
         "contact.stiffness, contact.damping, contact.friction, initial_state.q, "
         "initial_state.qdot, controls";
}

// A selector's target entries, as rows of `width` entries (one row per selected element).
struct Selection {
  Target target = Target::kModel;
  std::size_t width = 1;
  std::vector<std::vector<std::size_t>> rows;
  double default_lower = -std::numeric_limits<double>::infinity();
};

Selection select(const RobotTaskSpec& task, const std::string& text, const JsonValue& value) {
  const mb::Model& model = *task.model;
  const std::string robot = task.robot_file.filename().string();
  Selection selection;
  if (text == "controls") {
    selection.target = Target::kControls;
    return selection;
  }
  if (text == "initial_state.q" || text == "initial_state.qdot") {
    const bool q = text == "initial_state.q";
    selection.target = q ? Target::kInitialQ : Target::kInitialQdot;
    selection.width = q ? model.nq() : model.nv();
    std::vector<std::size_t> row(selection.width);
    for (std::size_t k = 0; k < row.size(); ++k) row[k] = k;
    selection.rows.push_back(row);
    if (selection.width == 0) value.fail("'" + text + "': " + robot + " has no moving joint");
    return selection;
  }
  const std::size_t dot = text.rfind('.');
  if (dot == std::string::npos) {
    value.fail("'" + text + "' is not a robot task selector (valid: " + valid_robot_selectors() +
               ")");
  }
  std::string group = text.substr(0, dot);
  const std::string field = text.substr(dot + 1);
  std::optional<std::string> element;
  if (const std::size_t bracket = group.find('['); bracket != std::string::npos) {
    if (group.back() != ']' || bracket + 2 > group.size() - 1) {
      value.fail("'" + text + "': name one element in brackets, as in bodies[pole].mass");
    }
    element = group.substr(bracket + 1, group.size() - bracket - 2);
    group = group.substr(0, bracket);
  }
  const std::size_t global = Layout::kPerBody * model.num_bodies();
  if (group == "contact" && !element) {
    selection.default_lower = 0.0;
    if (field == "stiffness") {
      selection.rows.push_back({global + Layout::kContactStiffness});
      selection.default_lower = 1e-9;
    } else if (field == "damping") {
      selection.rows.push_back({global + Layout::kContactDamping});
    } else if (field == "friction") {
      selection.rows.push_back({global + Layout::kFriction});
    } else {
      value.fail("'" + text + "': contact has stiffness, damping and friction");
    }
    return selection;
  }
  std::vector<std::size_t> bodies;
  if (group == "bodies") {
    if (element) {
      bodies.push_back(body_of(model, *element, value, robot));
    } else {
      for (std::size_t k = 0; k < model.num_bodies(); ++k) bodies.push_back(k);
    }
  } else if (group == "joints") {
    if (field != "damping") {
      value.fail("'" + text + "': a joint's fitted field is damping (bodies[...] has the rest)");
    }
    if (element) {
      bodies.push_back(joint_of(model, *element, value, robot));
    } else {
      for (std::size_t k = 0; k < model.num_bodies(); ++k) {
        if (model.body(k).joint != mb::JointType::kFixed) bodies.push_back(k);
      }
    }
  } else {
    value.fail("'" + text + "' is not a robot task selector (valid: " + valid_robot_selectors() +
               ")");
  }
  std::size_t offset = 0;
  if (field == "mass") {
    offset = Layout::kMass;
    selection.default_lower = 1e-9;
  } else if (field == "com") {
    offset = Layout::kCom;
    selection.width = 3;
  } else if (field == "inertia") {
    offset = Layout::kInertia;
    selection.width = 6;
  } else if (field == "joint_position") {
    offset = Layout::kJointPosition;
    selection.width = 3;
  } else if (field == "damping") {
    offset = Layout::kDamping;
    selection.default_lower = 0.0;
  } else {
    value.fail("'" + text + "': a body's fields are mass, com, inertia, joint_position, damping");
  }
  if (bodies.empty()) value.fail("'" + text + "' selects nothing in " + robot);
  for (const std::size_t body : bodies) {
    std::vector<std::size_t> row;
    for (std::size_t k = 0; k < selection.width; ++k) {
      row.push_back(Layout::kPerBody * body + offset + k);
    }
    selection.rows.push_back(row);
  }
  return selection;
}

// The current values of a selection's rows, flattened.
std::vector<double> current_values(const RobotTaskSpec& task, const Selection& selection) {
  const std::vector<double> params = task.model->parameters();
  std::vector<double> out;
  for (const auto& row : selection.rows) {
    for (const std::size_t entry : row) {
      switch (selection.target) {
        case Target::kModel: out.push_back(params[entry]); break;
        case Target::kInitialQ: out.push_back(task.initial_state[entry]); break;
        case Target::kInitialQdot:
          out.push_back(task.initial_state[task.model->nq() + entry]);
          break;
        case Target::kControls: break;
      }
    }
  }
  return out;
}

RobotParameterSpec parse_parameter(const JsonValue& value, const RobotTaskSpec& task) {
  const JsonObject object(value,
                          {"name", "of", "shared", "initial", "lower", "upper", "log_scale"});
  RobotParameterSpec parameter;
  const JsonValue of = object.required("of");
  parameter.selector = of.as_string();
  parameter.name = object.has("name") ? object.required("name").as_string() : parameter.selector;
  parameter.log_scale = object.has("log_scale") ? object.required("log_scale").as_bool() : false;
  const Selection selection = select(task, parameter.selector, of);
  parameter.target = selection.target;
  std::vector<double> current;
  if (selection.target == Target::kControls) {
    const std::size_t nu = task.model->nu();
    if (nu == 0) of.fail("'controls': " + task.robot_file.filename().string() + " has no actuator");
    parameter.shape = {task.knots, nu};
    current = task.controls;
  } else {
    const bool shared = object.has("shared") ? object.required("shared").as_bool() : true;
    const std::vector<double> all = current_values(task, selection);
    const std::size_t rows = shared ? 1 : selection.rows.size();
    parameter.shape = {rows * selection.width};
    current.assign(all.begin(), all.begin() + static_cast<long>(rows * selection.width));
    for (std::size_t r = 0; r < selection.rows.size(); ++r) {
      for (std::size_t k = 0; k < selection.width; ++k) {
        parameter.target_entries.push_back(selection.rows[r][k]);
        parameter.value_entries.push_back((shared ? 0 : r) * selection.width + k);
      }
    }
  }
  if (const auto initial = object.optional("initial")) {
    std::vector<double> numbers;
    if (initial->is_number()) {
      numbers.assign(current.size(), initial->as_number());
    } else {
      for (const JsonValue& row : initial->elements()) {
        if (row.is_array()) {
          for (const double x : row.as_numbers()) numbers.push_back(x);
        } else {
          numbers.push_back(row.as_number());
        }
      }
    }
    // One row (a control per actuator, a 3-vector) repeated over every element.
    if (numbers.size() != current.size() && !numbers.empty() &&
        current.size() % numbers.size() == 0 &&
        (parameter.target == Target::kControls ? numbers.size() == task.model->nu()
                                               : numbers.size() == selection.width)) {
      std::vector<double> repeated;
      for (std::size_t k = 0; k < current.size(); ++k)
        repeated.push_back(numbers[k % numbers.size()]);
      numbers = repeated;
    }
    if (numbers.size() != current.size()) {
      initial->fail("must have " + std::to_string(current.size()) + " numbers (shape " +
                    shape_text(parameter.shape) + "), got " + std::to_string(numbers.size()));
    }
    current = numbers;
  }
  parameter.initial = current;
  parameter.lower = object.number_or("lower", selection.default_lower);
  parameter.upper = object.number_or("upper", std::numeric_limits<double>::infinity());
  if (!(parameter.lower < parameter.upper)) {
    object.value().fail("lower (" + format_number(parameter.lower) + ") must be below upper (" +
                        format_number(parameter.upper) + ")");
  }
  if (parameter.log_scale && (object.has("lower") || object.has("upper"))) {
    object.value().fail("log_scale parameters are positive by construction; drop lower/upper");
  }
  for (const double initial : parameter.initial) {
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

RobotAssignment parse_assignment(const std::string& text, const JsonValue& values,
                                 const RobotTaskSpec& task) {
  const Selection selection = select(task, text, values);
  if (selection.target == Target::kControls) {
    values.fail("'controls' are what a task fits, not a hidden truth of the robot");
  }
  RobotAssignment assignment;
  assignment.target = selection.target;
  const std::vector<double> numbers =
      values.is_number() ? std::vector{values.as_number()} : values.as_numbers();
  const std::size_t all = selection.width * selection.rows.size();
  if (numbers.size() != selection.width && numbers.size() != all) {
    values.fail("must have " + std::to_string(selection.width) + " or " + std::to_string(all) +
                " numbers, got " + std::to_string(numbers.size()));
  }
  for (std::size_t r = 0, i = 0; r < selection.rows.size(); ++r) {
    for (std::size_t k = 0; k < selection.width; ++k, ++i) {
      assignment.entries.push_back(selection.rows[r][k]);
      assignment.values.push_back(numbers[i % numbers.size()]);
    }
  }
  return assignment;
}

std::size_t step_of(const JsonObject& object, const RobotTaskSpec& task) {
  if (object.has("step") && object.has("time")) {
    object.value().fail("has both 'step' and 'time'; give one");
  }
  if (const auto step = object.optional("step")) {
    const std::size_t at = step->as_index();
    if (at > task.steps) {
      step->fail("must be at most the task's steps (" + std::to_string(task.steps) + "), got " +
                 std::to_string(at));
    }
    return at;
  }
  if (const auto time = object.optional("time")) {
    const double t = time->as_number_in(0.0, static_cast<double>(task.steps) * task.dt);
    return std::min(task.steps, static_cast<std::size_t>(std::llround(t / task.dt)));
  }
  return task.steps;
}

// Reads the measured joint positions of a match_joints term: frames 0, every, 2 every, ... of the
// file's T rows, frame f being the state after f steps.
void read_observation(RobotLossSpec& term, const JsonValue& field, const RobotTaskSpec& task,
                      std::size_t every) {
  const std::string name = term.observed_file.filename().string();
  if (!std::filesystem::exists(term.observed_file)) {
    field.fail("file '" + term.observed_file.string() + "' does not exist");
  }
  NpyArray array;
  try {
    array = parse_npy(read_file(term.observed_file));
  } catch (const Error& error) {
    field.fail(name + ": " + error.what());
  }
  const std::size_t columns = term.coordinates.size(), nq = task.model->nq();
  const std::size_t rows = array.shape.empty() ? 0 : array.shape[0];
  const bool one_column = array.shape.size() == 1 && columns == 1;
  const bool two = array.shape.size() == 2 && (array.shape[1] == columns || array.shape[1] == nq);
  if ((!one_column && !two) || rows < 1 || rows > task.steps + 1) {
    field.fail(
        name + ": expected joint positions of shape [T, " + std::to_string(columns) +
        "] (T frames, dt apart from step 0, T <= steps + 1 = " + std::to_string(task.steps + 1) +
        (columns != nq ? "; or [T, nq = " + std::to_string(nq) + "]" : std::string()) + "), got " +
        shape_text(array.shape));
  }
  const std::size_t width = array.shape.size() == 2 ? array.shape[1] : 1;
  for (std::size_t k = 0; k < array.values.size(); ++k) {
    if (!std::isfinite(array.values[k])) {
      field.fail(name + ": entry " + std::to_string(k) + " is not finite (" +
                 format_number(array.values[k]) + ")");
    }
  }
  std::vector<std::size_t> frames;
  std::vector<double> observed;
  for (std::size_t frame = 0; frame < rows; frame += every) {
    frames.push_back(frame);
    for (std::size_t c = 0; c < columns; ++c) {
      const std::size_t column = width == columns ? c : term.coordinates[c];
      observed.push_back(array.values[frame * width + column]);
    }
  }
  term.frames = frames;
  term.observed = observed;
}

RobotLossSpec parse_loss_term(const JsonValue& value, const RobotTaskSpec& task,
                              const std::filesystem::path& base) {
  const mb::Model& model = *task.model;
  const std::string robot = task.robot_file.filename().string();
  const JsonObject head(value, {"type", "weight", "body", "point", "target", "step", "time",
                                "observed", "joints", "every"});
  const JsonValue type = head.required("type");
  const std::string kind = type.as_string();
  RobotLossSpec term;
  term.weight = head.number_or("weight", 1.0, NumberRule::kNonNegative);
  if (kind == "reach_target") {
    const JsonObject object(value, {"type", "weight", "body", "point", "target", "step", "time"});
    term.kind = RobotLossSpec::Kind::kReachTarget;
    const JsonValue body = object.required("body");
    term.body = body_of(
        model, body.is_number() ? std::to_string(body.as_index()) : body.as_string(), body, robot);
    if (const auto point = object.optional("point")) {
      const std::vector<double> p = point->as_numbers(3);
      term.point = {p[0], p[1], p[2]};
    }
    const std::vector<double> target = object.required("target").as_numbers(3);
    term.target = {target[0], target[1], target[2]};
    term.step = step_of(object, task);
  } else if (kind == "match_joints") {
    const JsonObject object(value, {"type", "weight", "observed", "joints", "every"});
    term.kind = RobotLossSpec::Kind::kMatchJoints;
    if (const auto joints = object.optional("joints")) {
      for (const JsonValue& name : joints->elements()) {
        const std::size_t body = joint_of(model, name.as_string(), name, robot);
        for (std::size_t k = 0; k < mb::Model::joint_nq(model.body(body).joint); ++k) {
          term.coordinates.push_back(model.q_index(body) + k);
        }
      }
      if (term.coordinates.empty()) joints->fail("is empty; name the compared joints or drop it");
    } else {
      for (std::size_t k = 0; k < model.nq(); ++k) term.coordinates.push_back(k);
    }
    std::size_t every = 1;
    if (const auto field = object.optional("every")) {
      every = field->as_index();
      if (every < 1) field->fail("must be >= 1, got 0");
    }
    const JsonValue observed = object.required("observed");
    if (observed.is_string()) {
      term.observed_file = resolve(observed, base);
      read_observation(term, observed, task, every);
    } else {
      const JsonObject source(observed, {"file", "simulate_with"});
      const auto file = source.optional("file");
      const auto truth = source.optional("simulate_with");
      if (file.has_value() == truth.has_value()) {
        observed.fail(file ? "has both 'file' and 'simulate_with'; give one"
                           : "needs 'file' (measured joint positions, .npy) or 'simulate_with' "
                             "(a hidden truth)");
      }
      if (file) {
        term.observed_file = resolve(*file, base);
        read_observation(term, *file, task, every);
      } else {
        for (const auto& [selector, values] : truth->members()) {
          term.truth.push_back(parse_assignment(selector, values, task));
        }
        for (std::size_t frame = 0; frame <= task.steps; frame += every) {
          term.frames.push_back(frame);
        }
      }
    }
  } else if (kind == "control_effort") {
    const JsonObject object(value, {"type", "weight"});
    term.kind = RobotLossSpec::Kind::kControlEffort;
    if (model.nu() == 0) type.fail("control_effort: " + robot + " has no actuator");
  } else if (kind == "final_velocity") {
    const JsonObject object(value, {"type", "weight"});
    term.kind = RobotLossSpec::Kind::kFinalVelocity;
  } else {
    const std::string_view kinds[] = {"reach_target", "match_joints", "control_effort",
                                      "final_velocity"};
    const auto suggestion = nearest_word(kind, kinds);
    type.fail("unknown loss type '" + kind + "'" +
              (suggestion ? "; did you mean '" + *suggestion + "'?"
                          : " (valid: reach_target, match_joints, control_effort, "
                            "final_velocity)"));
  }
  return term;
}

// The robot, loaded with the task's options; errors of the file carry the field that names it.
std::shared_ptr<const mb::Model> load_robot(const JsonValue& value,
                                            const std::filesystem::path& base,
                                            std::filesystem::path& file) {
  const JsonValue* name = &value;
  std::optional<JsonObject> object;
  std::optional<JsonValue> file_field;
  mb::UrdfOptions urdf;
  if (!value.is_string()) {
    object.emplace(JsonObject(value, {"file", "floating_base", "ground", "self_collision"}));
    file_field = object->required("file");
    name = &*file_field;
    if (const auto floating = object->optional("floating_base")) {
      urdf.floating_base = floating->as_bool();
    }
    if (const auto ground = object->optional("ground")) urdf.ground_plane = ground->as_bool();
    if (const auto self = object->optional("self_collision")) urdf.self_collision = self->as_bool();
  }
  file = resolve(*name, base);
  const std::string extension = file.extension().string();
  if (extension != ".urdf" && extension != ".xml") {
    name->fail("'" + name->as_string() + "' is not a robot file (.urdf, or .xml for MJCF)");
  }
  if (!std::filesystem::exists(file)) {
    name->fail("robot file '" + file.string() + "' does not exist");
  }
  if (extension == ".xml" && object &&
      (object->has("floating_base") || object->has("ground") || object->has("self_collision"))) {
    object->value().fail(
        "floating_base, ground and self_collision are URDF options; an MJCF file has its own");
  }
  try {
    return std::make_shared<const mb::Model>(
        extension == ".urdf" ? mb::load_urdf(file.string(), urdf) : mb::load_mjcf(file.string()));
  } catch (const Error& error) {
    name->fail(error.what());
  }
}

// Rebuilds the model with every actuator of one kind: PD position servos, velocity servos, or
// torques. A servo's targets are not clamped (the file's control ranges are torque limits).
std::shared_ptr<const mb::Model> with_actuators(const mb::Model& model,
                                                const JsonObject& controls) {
  const auto kind = controls.optional("actuator");
  if (!kind) {
    for (const char* key : {"kp", "kv"}) {
      if (controls.has(key)) {
        controls.required(key).fail("needs \"actuator\": \"position\" or \"velocity\"");
      }
    }
    return nullptr;
  }
  const std::string name = kind->as_string();
  std::vector<mb::Actuator> actuators = model.actuators();
  if (actuators.empty()) kind->fail("the robot has no actuator to turn into a " + name + " servo");
  for (mb::Actuator& actuator : actuators) {
    if (name == "torque") {
      actuator.type = mb::ActuatorType::kTorque;
    } else if (name == "position") {
      actuator.type = mb::ActuatorType::kPosition;
      actuator.kp = controls.number("kp", NumberRule::kPositive);
      actuator.kv = controls.number_or("kv", 0.0, NumberRule::kNonNegative);
      actuator.ctrl_limited = false;
    } else if (name == "velocity") {
      actuator.type = mb::ActuatorType::kVelocity;
      actuator.kv = controls.number("kv", NumberRule::kPositive);
      actuator.ctrl_limited = false;
    } else {
      kind->fail("unknown actuator '" + name + "' (valid: torque, position, velocity)");
    }
  }
  if (name == "torque" && (controls.has("kp") || controls.has("kv"))) {
    controls.value().fail("kp and kv belong to position or velocity servos");
  }
  return std::make_shared<const mb::Model>(model.bodies(), actuators, model.options());
}

}  // namespace

bool is_robot_task_file(const std::filesystem::path& path) {
  const JsonDocument document = JsonDocument::load(path, "task");
  const JsonValue root = document.root();
  if (!root.is_object()) return false;
  for (const auto& member : root.members()) {
    if (member.first == "robot") return true;
  }
  return false;
}

RobotTaskSpec parse_robot_task(const JsonValue& value, const std::filesystem::path& base) {
  const JsonObject object(value, {"name", "robot", "steps", "dt", "integrator", "initial_state",
                                  "controls", "parameters", "loss", "optimizer", "gradcheck"});
  RobotTaskSpec task;
  if (const auto name = object.optional("name")) task.name = name->as_string();
  task.model = load_robot(object.required("robot"), base, task.robot_file);
  const JsonValue steps = object.required("steps");
  task.steps = steps.as_index();
  if (task.steps < 1 || task.steps > 10'000'000) {
    steps.fail("must be in [1, 10^7], got " + std::to_string(task.steps));
  }
  task.dt = object.number_or("dt", task.model->options().timestep, NumberRule::kPositive);
  task.integrator = task.model->options().integrator;
  if (const auto integrator = object.optional("integrator")) {
    const std::string name = integrator->as_string();
    if (name == "euler") {
      task.integrator = mb::Integrator::kSemiImplicitEuler;
    } else if (name == "rk4") {
      task.integrator = mb::Integrator::kRungeKutta4;
    } else {
      integrator->fail("unknown integrator '" + name + "' (valid: euler, rk4)");
    }
  }
  std::vector<double> initial_controls;
  if (const auto controls = object.optional("controls")) {
    const JsonObject fields(*controls, {"knots", "initial", "actuator", "kp", "kv"});
    if (auto rebuilt = with_actuators(*task.model, fields)) task.model = std::move(rebuilt);
    if (const auto knots = fields.optional("knots")) {
      task.knots = knots->as_index();
      if (task.knots < 1 || task.knots > task.steps) {
        knots->fail("must be in [1, steps = " + std::to_string(task.steps) + "], got " +
                    std::to_string(task.knots));
      }
    }
    if (const auto initial = fields.optional("initial")) {
      const std::size_t nu = task.model->nu(), all = task.knots * nu;
      if (initial->is_number()) {
        initial_controls.assign(all, initial->as_number());
      } else {
        for (const JsonValue& row : initial->elements()) {
          if (row.is_array()) {
            for (const double x : row.as_numbers()) initial_controls.push_back(x);
          } else {
            initial_controls.push_back(row.as_number());
          }
        }
        if (initial_controls.size() == nu && all > nu) {
          std::vector<double> repeated;
          for (std::size_t k = 0; k < all; ++k) repeated.push_back(initial_controls[k % nu]);
          initial_controls = repeated;
        }
      }
      if (initial_controls.size() != all) {
        initial->fail("must have " + std::to_string(all) + " numbers ([knots = " +
                      std::to_string(task.knots) + ", actuators = " + std::to_string(nu) +
                      "], or one per actuator), got " + std::to_string(initial_controls.size()));
      }
    }
  }
  const mb::Model& model = *task.model;
  task.controls = initial_controls.empty() ? std::vector<double>(task.knots * model.nu(), 0.0)
                                           : initial_controls;
  task.initial_state = model.initial_state();
  if (const auto initial = object.optional("initial_state")) {
    const JsonObject fields(*initial, {"q", "qdot"});
    if (const auto q = fields.optional("q")) {
      const std::vector<double> values = q->as_numbers(model.nq());
      std::copy(values.begin(), values.end(), task.initial_state.begin());
    }
    if (const auto qdot = fields.optional("qdot")) {
      const std::vector<double> values = qdot->as_numbers(model.nv());
      std::copy(values.begin(), values.end(),
                task.initial_state.begin() + static_cast<long>(model.nq()));
    }
  }
  const JsonValue parameters = object.required("parameters");
  for (const JsonValue& parameter : parameters.elements()) {
    task.parameters.push_back(parse_parameter(parameter, task));
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
    task.loss.push_back(parse_loss_term(term, task, base));
  }
  if (task.loss.empty()) loss.fail("is empty; a task needs at least one loss term");
  if (const auto optimizer = object.optional("optimizer")) {
    task.optimizer = parse_optimizer_spec(*optimizer);
  }
  if (const auto gradcheck = object.optional("gradcheck")) {
    task.gradcheck = parse_gradcheck_spec(*gradcheck);
  }
  return task;
}

RobotTaskSpec load_robot_task(const std::filesystem::path& path) {
  const JsonDocument document = JsonDocument::load(path, "task");
  return parse_robot_task(document.root(), path.parent_path().empty() ? "." : path.parent_path());
}

RobotTaskSpec parse_robot_task_text(std::string_view text, std::string source,
                                    const std::filesystem::path& base_directory) {
  const JsonDocument document = JsonDocument::parse(text, std::move(source), "task");
  return parse_robot_task(document.root(), base_directory);
}

}  // namespace maya::io
