// Scene and task files on the mass-spring model. A task's loss is recorded on a tape as: the
// scene's tensors as constants, each free parameter written into its entries with index_add
// (so gradients flow only to the selected springs or particles), a rollout of fused steps, and
// the weighted loss terms read from the states.
#include "maya/tasks/spring_task.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/dynamics/rollout.hpp"
#include "maya/io/npy.hpp"
#include "maya/io/output_files.hpp"
#include "maya/optim/objective.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace maya::tasks {

using namespace maya::io;

namespace {

constexpr std::size_t kDim = 2;

TensorVar field_of(const SpringScene& base, TensorTape& tape, Selector::Field field) {
  switch (field) {
    case Selector::Field::kStiffness: return tape.constant(base.stiffness);
    case Selector::Field::kDamping: return tape.constant(base.damping);
    case Selector::Field::kRestLength: return tape.constant(base.rest_length);
    case Selector::Field::kMass: return tape.constant(base.mass);
    case Selector::Field::kPosition: return tape.constant(base.positions);
    case Selector::Field::kVelocity: return tape.constant(base.velocities);
  }
  return {};
}

// Appends the [N, 2] positions and velocities of a [2, N, 2] state to `trajectory`.
void append_state(Trajectory& trajectory, const TensorView& state, double time) {
  const std::span<const double> values = state.data();
  const std::size_t half = values.size() / 2;
  trajectory.times.push_back(time);
  trajectory.positions.insert(trajectory.positions.end(), values.begin(),
                              values.begin() + static_cast<long>(half));
  trajectory.velocities.insert(trajectory.velocities.end(),
                               values.begin() + static_cast<long>(half), values.end());
}

Tensor positions_tensor(const Trajectory& trajectory) {
  return Tensor::from_data(trajectory.positions,
                           {trajectory.num_frames(), trajectory.num_particles, kDim});
}

Trajectory trajectory_from_positions(const NpyArray& array, double dt) {
  Trajectory trajectory;
  trajectory.num_particles = array.shape[1];
  trajectory.positions = array.values;
  for (std::size_t t = 0; t < array.shape[0]; ++t) {
    trajectory.times.push_back(dt * static_cast<double>(t));
  }
  return trajectory;
}

std::string shape_text(std::span<const std::size_t> shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    text += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  }
  return text + ")";
}

}  // namespace

SpringScene make_spring_scene(const SceneSpec& scene) {
  const std::size_t n = scene.particles.size();
  const std::size_t e = scene.springs.size();
  std::vector<std::int64_t> first(e);
  std::vector<std::int64_t> second(e);
  std::vector<double> stiffness(e), damping(e), rest(e);
  for (std::size_t k = 0; k < e; ++k) {
    const SpringSpec& spring = scene.springs[k];
    first[k] = static_cast<std::int64_t>(spring.first);
    second[k] = static_cast<std::int64_t>(spring.second);
    stiffness[k] = spring.stiffness;
    damping[k] = spring.damping;
    const auto& a = scene.particles[spring.first].position;
    const auto& b = scene.particles[spring.second].position;
    rest[k] = spring.rest_length.value_or(std::hypot(b[0] - a[0], b[1] - a[1]));
  }
  std::vector<double> positions, velocities, mass;
  for (const ParticleSpec& particle : scene.particles) {
    positions.insert(positions.end(), particle.position.begin(), particle.position.end());
    velocities.insert(velocities.end(), particle.velocity.begin(), particle.velocity.end());
    mass.push_back(particle.mass);
  }
  dynamics::GroundContact ground;
  ground.enabled = scene.ground.has_value();
  if (scene.ground) {
    ground.height = scene.ground->height;
    ground.stiffness = scene.ground->stiffness;
    ground.damping = scene.ground->damping;
  }
  ground.up_axis = 1;
  return SpringScene{dynamics::MassSpringModel(n, kDim, first, second,
                                               {scene.gravity[0], scene.gravity[1]}, ground),
                     Tensor::from_data(std::move(positions), {n, kDim}),
                     Tensor::from_data(std::move(velocities), {n, kDim}),
                     Tensor::from_data(std::move(mass), {n}),
                     Tensor::from_data(std::move(stiffness), {e}),
                     Tensor::from_data(std::move(damping), {e}),
                     Tensor::from_data(std::move(rest), {e})};
}

Trajectory simulate(const SceneSpec& scene) {
  const SpringScene spring_scene = make_spring_scene(scene);
  Trajectory trajectory;
  trajectory.num_particles = scene.particles.size();
  Tensor state =
      dynamics::MassSpringModel::make_state(spring_scene.positions, spring_scene.velocities);
  append_state(trajectory, state.view(), 0.0);
  // A fresh tape per step keeps memory flat however long the run: nothing is differentiated.
  TensorTape tape;
  for (std::size_t t = 0; t < scene.steps; ++t) {
    tape.clear();
    const dynamics::SpringParameters params{
        tape.constant(spring_scene.mass), tape.constant(spring_scene.stiffness),
        tape.constant(spring_scene.damping), tape.constant(spring_scene.rest_length)};
    const TensorVar next = spring_scene.model.step(tape.constant(state), params, scene.dt);
    state = next.value();
    append_state(trajectory, state.view(), scene.dt * static_cast<double>(t + 1));
  }
  return trajectory;
}

// ---- SpringTask ----

SpringTask::SpringTask(TaskSpec task)
    : task_(std::move(task)), base_(make_spring_scene(task_.scene)) {
  const std::size_t frames = task_.scene.steps + 1;
  const std::size_t particles = task_.scene.particles.size();
  for (const LossTermSpec& term : task_.loss) {
    if (term.kind != LossTermSpec::Kind::kMatchTrajectory) {
      observed_.emplace_back();
      observed_positions_.emplace_back();
      continue;
    }
    Trajectory observed;
    if (term.observed_file) {
      const std::string file = term.observed_file->string();
      NpyArray array;
      try {
        array = parse_npy(read_file(*term.observed_file));
      } catch (const ParseError& error) {
        throw ParseError(file + ": " + error.what());
      }
      const std::size_t expected[] = {frames, particles, kDim};
      if (!std::equal(array.shape.begin(), array.shape.end(), std::begin(expected),
                      std::end(expected))) {
        throw ParseError(term.observed_file->string() + ": observed positions have shape " +
                         shape_text(array.shape) + ", the scene needs " + shape_text(expected) +
                         " (steps + 1 frames, particles, 2)");
      }
      for (std::size_t k = 0; k < array.values.size(); ++k) {
        if (!std::isfinite(array.values[k])) {
          const std::size_t frame = k / (particles * kDim);
          const std::size_t particle = (k / kDim) % particles;
          throw ParseError(file + ": observed position of particle " + std::to_string(particle) +
                           " at frame " + std::to_string(frame) + " is " +
                           format_number(array.values[k]) + "; observations must be finite");
        }
      }
      observed = trajectory_from_positions(array, task_.scene.dt);
    } else {
      SceneSpec truth = task_.scene;
      for (const Assignment& assignment : term.truth) {
        assign(truth, assignment.selector, assignment.values);
      }
      observed = simulate(truth);
    }
    observed_positions_.push_back(positions_tensor(observed));
    observed_.push_back(std::move(observed));
  }
}

optim::ParameterSet SpringTask::parameters() const {
  optim::ParameterSet set;
  for (const ParameterSpec& parameter : task_.parameters) {
    Tensor initial = Tensor::from_data(parameter.initial, {parameter.initial.size()});
    if (parameter.log_scale) {
      set.add(parameter.name, std::move(initial), optim::Positive::exp());
    } else {
      set.add(parameter.name, std::move(initial),
              optim::Bounds::between(parameter.lower, parameter.upper));
    }
  }
  return set;
}

TensorVar SpringTask::record_loss(TensorTape& tape, std::span<const TensorVar> values) const {
  const SceneSpec& scene = task_.scene;
  TensorVar fields[6];
  const auto field = [&](Selector::Field which) -> TensorVar& {
    TensorVar& slot = fields[static_cast<int>(which)];
    if (!slot.valid()) {
      slot = field_of(base_, tape, which);
    }
    return slot;
  };
  for (std::size_t p = 0; p < task_.parameters.size(); ++p) {
    const ParameterSpec& parameter = task_.parameters[p];
    const Selector& selector = parameter.selector;
    const std::vector<std::size_t> elements = selector.elements(scene);
    const std::vector<std::int64_t> indices(elements.begin(), elements.end());
    const std::size_t width = selector.width();
    TensorVar& target = field(selector.field);
    const Shape target_shape(target.shape().begin(), target.shape().end());
    Shape source_shape = width == 1 ? Shape{elements.size()} : Shape{elements.size(), width};
    TensorVar source =
        parameter.shared ? broadcast_to(reshape(values[p], width == 1 ? Shape{1} : Shape{1, width}),
                                        source_shape)
                         : reshape(values[p], source_shape);
    // Zero the selected entries, then add the parameter there: target = target * mask + P^T s.
    Tensor mask = Tensor::ones(target_shape);
    for (const std::size_t element : elements) {
      for (std::size_t k = 0; k < width; ++k) {
        mask.mutable_data()[element * width + k] = 0.0;
      }
    }
    target = index_add(target * tape.constant(mask), 0, indices, source);
  }
  const dynamics::SpringParameters params{
      field(Selector::Field::kMass), field(Selector::Field::kStiffness),
      field(Selector::Field::kDamping), field(Selector::Field::kRestLength)};
  const TensorVar initial =
      stack({field(Selector::Field::kPosition), field(Selector::Field::kVelocity)}, 0);
  const maya::dynamics::Trajectory run = dynamics::rollout(
      initial, scene.steps,
      [&](TensorVar state, std::size_t) { return base_.model.step(state, params, scene.dt); });
  TensorVar total;
  for (std::size_t k = 0; k < task_.loss.size(); ++k) {
    const LossTermSpec& term = task_.loss[k];
    TensorVar value;
    if (term.kind == LossTermSpec::Kind::kMatchTrajectory) {
      // weight * mean over compared frames and particles of |x - x_observed|^2
      const Tensor& observed = observed_positions_[k];
      const std::size_t particles = scene.particles.size();
      const std::size_t frame_size = particles * kDim;
      TensorVar sum_squares;
      std::size_t compared = 0;
      for (std::size_t t = 0; t <= scene.steps; t += term.every) {
        const std::span<const double> row = observed.data().subspan(t * frame_size, frame_size);
        const TensorVar frame = tape.constant(
            Tensor::from_data(std::vector<double>(row.begin(), row.end()), {particles, kDim}));
        const TensorVar squares = sum(square(dynamics::positions_of(run.states[t]) - frame));
        sum_squares = sum_squares.valid() ? sum_squares + squares : squares;
        ++compared;
      }
      value = sum_squares * (term.weight / static_cast<double>(compared * particles));
    } else {
      // weight * |mean position of the particles at `step` - target|^2
      const std::vector<std::int64_t> indices(term.particles.begin(), term.particles.end());
      const TensorVar centre =
          mean(index_select(dynamics::positions_of(run.states[term.step]), 0, indices), 0);
      const TensorVar target =
          tape.constant(Tensor::from_data({term.target[0], term.target[1]}, {kDim}));
      value = sum(square(centre - target)) * term.weight;
    }
    total = total.valid() ? total + value : value;
  }
  return total;
}

LossFunction SpringTask::loss_function() const {
  return [this](TensorTape& tape, std::span<const TensorVar> values) {
    return record_loss(tape, values);
  };
}

double SpringTask::loss(std::span<const Tensor> values) const {
  TensorTape tape;
  std::vector<TensorVar> constants;
  for (const Tensor& value : values) {
    constants.push_back(tape.constant(value));
  }
  return record_loss(tape, constants).item();
}

SceneSpec SpringTask::scene_with(std::span<const Tensor> values) const {
  SceneSpec scene = task_.scene;
  // Rest lengths stay those of the task's scene even when initial positions are fitted.
  for (std::size_t k = 0; k < scene.springs.size(); ++k) {
    scene.springs[k].rest_length = base_.rest_length.data()[k];
  }
  for (std::size_t p = 0; p < task_.parameters.size(); ++p) {
    const std::span<const double> data = values[p].data();
    assign(scene, task_.parameters[p].selector, std::vector<double>(data.begin(), data.end()));
  }
  return scene;
}

std::vector<std::array<double, 2>> SpringTask::targets() const {
  std::vector<std::array<double, 2>> targets;
  for (const LossTermSpec& term : task_.loss) {
    if (term.kind == LossTermSpec::Kind::kReachTarget) {
      targets.push_back(term.target);
    }
  }
  return targets;
}

std::vector<std::vector<double>> SpringTask::true_values() const {
  std::vector<std::vector<double>> truth;
  for (const ParameterSpec& parameter : task_.parameters) {
    const Assignment* found = nullptr;
    for (const LossTermSpec& term : task_.loss) {
      for (const Assignment& assignment : term.truth) {
        if (assignment.selector.field == parameter.selector.field &&
            assignment.selector.index == parameter.selector.index) {
          found = &assignment;
        }
      }
    }
    if (found == nullptr) {
      return {};
    }
    std::vector<double> values;
    const std::size_t numel = parameter.numel(task_.scene);
    for (std::size_t k = 0; k < numel; ++k) {
      values.push_back(found->values[k % found->values.size()]);
    }
    truth.push_back(std::move(values));
  }
  return truth;
}

// ---- gradcheck ----

double GradcheckSummary::max_error() const noexcept {
  double worst_error = 0.0;
  for (const GradcheckEntry& entry : worst) {
    // A NaN error (a non-finite loss or gradient) is the worst there is, never a pass.
    worst_error =
        std::isnan(entry.relative_error) ? INFINITY : std::max(worst_error, entry.relative_error);
  }
  return worst_error;
}

GradcheckSummary gradcheck_task(const SpringTask& task, double step) {
  const optim::ParameterSet parameters = task.parameters();
  std::vector<Tensor> values(parameters.values().begin(), parameters.values().end());
  std::vector<Tensor> gradients;
  for (const Tensor& value : values) {
    gradients.push_back(Tensor::zeros(value.shape()));
  }
  const optim::Objective objective = optim::tape_objective(task.loss_function());
  GradcheckSummary summary;
  summary.loss = objective(values, gradients);
  double largest = 0.0;
  for (const Tensor& gradient : gradients) {
    for (const double g : gradient.data()) {
      largest = std::max(largest, std::abs(g));
    }
  }
  for (std::size_t p = 0; p < values.size(); ++p) {
    GradcheckEntry worst;
    worst.parameter = parameters.name(p);
    worst.relative_error = -1.0;
    for (std::size_t i = 0; i < values[p].numel(); ++i) {
      const double original = values[p].data()[i];
      const double h = step * std::max(1.0, std::abs(original));
      values[p].mutable_data()[i] = original + h;
      const double plus = task.loss(values);
      values[p].mutable_data()[i] = original - h;
      const double minus = task.loss(values);
      values[p].mutable_data()[i] = original;
      const double numeric = (plus - minus) / (2.0 * h);
      const double analytic = gradients[p].data()[i];
      const double scale =
          std::max({std::abs(analytic), std::abs(numeric), 1e-8 * largest, 1e-300});
      const double error = std::abs(analytic - numeric) / scale;
      if (error > worst.relative_error) {
        worst = {parameters.name(p), i, analytic, numeric, error};
      }
    }
    summary.worst.push_back(worst);
  }
  return summary;
}

// ---- JSON outputs ----

std::string fitted_parameters_json(const SpringTask& task, std::span<const Tensor> fitted,
                                   const optim::Result& result) {
  using Json = nlohmann::ordered_json;
  const std::vector<std::vector<double>> truth = task.true_values();
  Json parameters = Json::array();
  for (std::size_t p = 0; p < task.spec().parameters.size(); ++p) {
    const ParameterSpec& spec = task.spec().parameters[p];
    const std::span<const double> values = fitted[p].data();
    Json entry;
    entry["name"] = spec.name;
    entry["of"] = spec.selector.text;
    entry["fitted"] = std::vector<double>(values.begin(), values.end());
    entry["initial"] = spec.initial;
    if (!truth.empty()) {
      entry["true"] = truth[p];
    }
    if (!spec.log_scale) {
      if (std::isfinite(spec.lower)) entry["lower"] = spec.lower;
      if (std::isfinite(spec.upper)) entry["upper"] = spec.upper;
    }
    parameters.push_back(entry);
  }
  Json out;
  out["task"] = task.spec().name;
  out["parameters"] = parameters;
  out["loss"] = {
      {"initial", result.loss_history.empty() ? result.loss : result.loss_history.front()},
      {"final", result.loss}};
  out["optimizer"] = {
      {"method", task.spec().optimizer.method == OptimizerSpec::Method::kAdam ? "adam" : "lbfgs"},
      {"iterations", result.iterations},
      {"evaluations", result.evaluations},
      {"gradient_norm", result.gradient_norm},
      {"converged", result.converged},
      {"status", std::string(optim::to_string(result.status))},
      {"message", result.message}};
  return out.dump(2) + "\n";
}

}  // namespace maya::tasks
