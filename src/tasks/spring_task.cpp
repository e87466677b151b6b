// Scene and task files on the mass-spring model. A task's loss is recorded on a tape as: the
// scene's tensors as constants, each free parameter written into its entries with index_add
// (so gradients flow only to the selected springs or particles), a rollout of fused steps, and
// the weighted loss terms read from the states.
#include "maya/tasks/spring_task.hpp"

#include "maya/tasks/rigid_scene.hpp"
#include "tasks/body_model.hpp"
#include "tasks/soft_body_model.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "maya/core/check.hpp"
#include "maya/core/error.hpp"
#include "maya/dynamics/rollout.hpp"
#include "maya/io/observations.hpp"
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
    default: break;  // soft-body fields: not in a mass-spring scene
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
  if (scene.soft_body) {
    return detail::SoftBodyModel(scene).simulate(scene);
  }
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

// ---- Task ----

Task::Task(TaskSpec task) : task_(std::move(task)) {
  const SceneSpec& scene = task_.scene;
  if (scene.soft_body) {
    soft_ = std::make_shared<const detail::SoftBodyModel>(scene);
  } else if (scene.particles.empty()) {
    bodies_ = std::make_shared<const detail::BodyModel>(scene);
  } else {
    base_.emplace(make_spring_scene(scene));
  }
  const std::size_t particles = bodies_           ? scene.bodies.size()
                                : scene.soft_body ? scene.soft_body->num_vertices()
                                                  : scene.particles.size();
  for (const LossTermSpec& term : task_.loss) {
    if (term.kind != LossTermSpec::Kind::kMatchTrajectory) {
      observations_.emplace_back();
      observed_.emplace_back();
      continue;
    }
    ObservedFrames observed;
    if (term.observed_file) {
      const std::string kind = bodies_ ? "body" : "particle";
      const Observations data =
          load_observations(*term.observed_file, term.observed_times_file, scene.dt, kind);
      observed = resample(data, scene.dt, scene.steps, term.every, term.observed_particles,
                          particles, kind, term.observed_file->string());
    } else {
      SceneSpec truth = scene;
      for (const Assignment& assignment : term.truth) {
        assign(truth, assignment.selector, assignment.values);
      }
      observed = observe_run(point_run(truth).positions, particles, scene.steps, term.every,
                             term.observed_particles);
    }
    add_noise(observed, term.noise_std, term.noise_seed);
    observed_.push_back(observed.trajectory(scene.dt));
    observations_.push_back(std::move(observed));
  }
}

optim::ParameterSet Task::parameters() const {
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

TensorVar Task::record_soft_body_loss(TensorTape& tape, std::span<const TensorVar> values) const {
  const io::SoftBodySpec& body = *task_.scene.soft_body;
  const auto one = [&](double value) { return tape.constant(Tensor::from_data({value}, {1})); };
  TensorVar youngs = one(body.youngs_modulus);
  TensorVar poisson = one(body.poisson_ratio);
  TensorVar density = one(body.density);
  TensorVar velocity = tape.constant(Tensor::from_data({body.velocity[0], body.velocity[1]}, {2}));
  for (std::size_t p = 0; p < task_.parameters.size(); ++p) {
    switch (task_.parameters[p].selector.field) {
      case Selector::Field::kYoungsModulus: youngs = reshape(values[p], {1}); break;
      case Selector::Field::kPoissonRatio: poisson = reshape(values[p], {1}); break;
      case Selector::Field::kDensity: density = reshape(values[p], {1}); break;
      case Selector::Field::kBodyVelocity: velocity = reshape(values[p], {2}); break;
      default: break;  // the task reader admits soft_body fields only
    }
  }
  const std::vector<TensorVar> states = soft_->rollout(tape, youngs, poisson, density, velocity);
  TensorVar total;
  for (std::size_t t = 0; t < states.size(); ++t) {
    const TensorVar value = frame_loss(tape, states[t], t);
    if (value.valid()) total = total.valid() ? total + value : value;
  }
  return total;
}

TensorVar Task::record_body_loss(TensorTape& tape, std::span<const TensorVar> values) const {
  detail::BodyInputs inputs = bodies_->inputs(tape);
  const std::size_t count = task_.scene.bodies.size();
  for (std::size_t p = 0; p < task_.parameters.size(); ++p) {
    const ParameterSpec& parameter = task_.parameters[p];
    const Selector& selector = parameter.selector;
    const std::vector<std::size_t> elements = selector.elements(task_.scene);
    const std::vector<std::int64_t> indices(elements.begin(), elements.end());
    const std::size_t width = selector.width();
    const std::size_t m = elements.size();
    const auto rows = [&](std::size_t w) {
      return parameter.shared ? broadcast_to(reshape(values[p], w == 1 ? Shape{1} : Shape{1, w}),
                                             w == 1 ? Shape{m} : Shape{m, w})
                              : reshape(values[p], w == 1 ? Shape{m} : Shape{m, w});
    };
    // Writes the parameter into columns 0-1 (`pair`) or column 2 of the selected rows of a [K, 3]
    // input: target * mask + P^T [rows | 0] (or [0 | rows]).
    const auto columns = [&](const TensorVar& target, bool pair) {
      Tensor mask = Tensor::ones({count, 3});
      for (const std::size_t k : elements) {
        for (std::size_t c = pair ? 0 : 2; c < (pair ? 2u : 3u); ++c) {
          mask.mutable_data()[k * 3 + c] = 0.0;
        }
      }
      const TensorVar zeros = tape.constant(Tensor::zeros({m, pair ? 1u : 2u}));
      const TensorVar source =
          pair ? concat({rows(width), zeros}, 1) : concat({zeros, rows(width)}, 1);
      return index_add(target * tape.constant(mask), 0, indices, source);
    };
    switch (selector.field) {
      case Selector::Field::kRigidMass: {
        Tensor mask = Tensor::ones({count});
        for (const std::size_t k : elements) mask.mutable_data()[k] = 0.0;
        inputs.mass = index_add(inputs.mass * tape.constant(mask), 0, indices, rows(1));
        break;
      }
      // The [K, 3] initial velocities (vx, vy | omega) and applied wrenches (fx, fy | torque).
      case Selector::Field::kRigidVelocity:
        inputs.velocities = columns(inputs.velocities, true);
        break;
      case Selector::Field::kRigidAngularVelocity:
        inputs.velocities = columns(inputs.velocities, false);
        break;
      case Selector::Field::kRigidForce: inputs.applied = columns(inputs.applied, true); break;
      case Selector::Field::kRigidTorque: inputs.applied = columns(inputs.applied, false); break;
      case Selector::Field::kContactStiffness: inputs.stiffness = reshape(values[p], {1}); break;
      case Selector::Field::kContactDamping: inputs.damping = reshape(values[p], {1}); break;
      case Selector::Field::kContactFriction: inputs.friction = reshape(values[p], {1}); break;
      default: break;  // the task reader admits body fields only
    }
  }
  const std::vector<TensorVar> states = bodies_->rollout(tape, inputs);
  TensorVar total;
  for (std::size_t t = 0; t < states.size(); ++t) {
    const TensorVar value = frame_loss_at(tape, detail::BodyModel::centres(states[t]), t);
    if (value.valid()) total = total.valid() ? total + value : value;
  }
  return total;
}

io::Trajectory Task::run(const SceneSpec& scene) const {
  if (bodies_) {
    Trajectory out;
    simulate_bodies(scene, out);
    return out;
  }
  Trajectory out = simulate(scene);
  if (!scene.bodies.empty()) simulate_bodies(scene, out);  // a soft body's obstacles
  return out;
}

io::Trajectory Task::point_run(const SceneSpec& scene) const {
  if (!bodies_) return simulate(scene);
  return body_centres(run(scene));
}

TensorVar Task::record_loss(TensorTape& tape, std::span<const TensorVar> values) const {
  if (soft_) {
    return record_soft_body_loss(tape, values);
  }
  if (bodies_) {
    return record_body_loss(tape, values);
  }
  const SceneSpec& scene = task_.scene;
  TensorVar fields[static_cast<int>(Selector::Field::kContactFriction) + 1];
  const auto field = [&](Selector::Field which) -> TensorVar& {
    TensorVar& slot = fields[static_cast<int>(which)];
    if (!slot.valid()) {
      slot = field_of(*base_, tape, which);
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
  const dynamics::Trajectory run = dynamics::rollout(
      initial, scene.steps,
      [&](TensorVar state, std::size_t) { return base_->model.step(state, params, scene.dt); });
  TensorVar total;
  for (std::size_t t = 0; t <= scene.steps; ++t) {
    const TensorVar value = frame_loss(tape, run.states[t], t);
    if (value.valid()) total = total.valid() ? total + value : value;
  }
  return total;
}

TensorVar Task::frame_loss(TensorTape& tape, const TensorVar& state, std::size_t frame) const {
  return frame_loss_at(tape, dynamics::positions_of(state), frame);
}

TensorVar Task::frame_loss_at(TensorTape& tape, const TensorVar& all_positions,
                              std::size_t frame) const {
  TensorVar total;
  for (std::size_t k = 0; k < task_.loss.size(); ++k) {
    const LossTermSpec& term = task_.loss[k];
    TensorVar value;
    if (term.kind == LossTermSpec::Kind::kMatchTrajectory) {
      // weight * mean over compared frames and observed particles of |x - x_observed|^2
      const ObservedFrames& observed = observations_[k];
      const std::ptrdiff_t row = observed.row_of[frame];
      if (row < 0) continue;
      const std::size_t count = observed.num_points();
      const auto first =
          observed.positions.begin() + row * static_cast<std::ptrdiff_t>(count * kDim);
      const TensorVar target = tape.constant(Tensor::from_data(
          std::vector<double>(first, first + static_cast<std::ptrdiff_t>(count * kDim)),
          {count, kDim}));
      TensorVar positions = all_positions;
      if (count != static_cast<std::size_t>(positions.shape()[0])) {
        const std::vector<std::int64_t> indices(observed.points.begin(), observed.points.end());
        positions = index_select(positions, 0, indices);
      }
      value = sum(square(positions - target)) *
              (term.weight / static_cast<double>(observed.num_frames() * count));
    } else {
      if (frame != term.step) continue;
      // weight * |mean position of the particles at `step` - target|^2
      const std::vector<std::int64_t> indices(term.particles.begin(), term.particles.end());
      const TensorVar centre = mean(index_select(all_positions, 0, indices), 0);
      const TensorVar target =
          tape.constant(Tensor::from_data({term.target[0], term.target[1]}, {kDim}));
      value = sum(square(centre - target)) * term.weight;
    }
    total = total.valid() ? total + value : value;
  }
  return total;
}

std::vector<double> Task::residuals(std::span<const Tensor> values) const {
  const Trajectory run = point_run(scene_with(values));
  const std::size_t particles = run.num_particles;
  std::vector<double> out;
  double first_share = 0.0;  // the first term's weight / (frames * points)
  for (std::size_t k = 0; k < task_.loss.size(); ++k) {
    const LossTermSpec& term = task_.loss[k];
    if (term.kind != LossTermSpec::Kind::kMatchTrajectory) continue;
    const ObservedFrames& observed = observations_[k];
    const double share =
        term.weight / static_cast<double>(observed.num_frames() * observed.num_points());
    if (first_share == 0.0) first_share = share;
    const double scale = std::sqrt(share / first_share);
    for (std::size_t row = 0; row < observed.num_frames(); ++row) {
      for (std::size_t c = 0; c < observed.num_points(); ++c) {
        for (std::size_t axis = 0; axis < kDim; ++axis) {
          const double simulated =
              run.positions[(observed.frames[row] * particles + observed.points[c]) * kDim + axis];
          const double measured =
              observed.positions[(row * observed.num_points() + c) * kDim + axis];
          out.push_back(scale * (simulated - measured));
        }
      }
    }
  }
  return out;
}

Uncertainty Task::uncertainty(std::span<const Tensor> fitted) const {
  for (const LossTermSpec& term : task_.loss) {
    if (term.kind != LossTermSpec::Kind::kMatchTrajectory) {
      Uncertainty none;
      none.reason =
          "the loss has terms other than match_trajectory; standard errors are "
          "reported for fits to observed data only";
      return none;
    }
  }
  return laplace_uncertainty([this](std::span<const Tensor> values) { return residuals(values); },
                             fitted);
}

LossFunction Task::loss_function() const {
  return [this](TensorTape& tape, std::span<const TensorVar> values) {
    return record_loss(tape, values);
  };
}

double Task::loss(std::span<const Tensor> values) const {
  TensorTape tape;
  std::vector<TensorVar> constants;
  for (const Tensor& value : values) {
    constants.push_back(tape.constant(value));
  }
  return record_loss(tape, constants).item();
}

SceneSpec Task::scene_with(std::span<const Tensor> values) const {
  SceneSpec scene = task_.scene;
  // Rest lengths stay those of the task's scene even when initial positions are fitted.
  for (std::size_t k = 0; k < scene.springs.size(); ++k) {
    scene.springs[k].rest_length = base_->rest_length.data()[k];
  }
  for (std::size_t p = 0; p < task_.parameters.size(); ++p) {
    const std::span<const double> data = values[p].data();
    assign(scene, task_.parameters[p].selector, std::vector<double>(data.begin(), data.end()));
  }
  return scene;
}

std::vector<std::array<double, 2>> Task::targets() const {
  std::vector<std::array<double, 2>> targets;
  for (const LossTermSpec& term : task_.loss) {
    if (term.kind == LossTermSpec::Kind::kReachTarget) {
      targets.push_back(term.target);
    }
  }
  return targets;
}

std::vector<std::vector<double>> Task::true_values() const {
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

GradcheckSummary gradcheck_task(const Task& task, double step) {
  return gradcheck_loss(task.parameters(), task.loss_function(), step);
}

GradcheckSummary gradcheck_loss(const optim::ParameterSet& parameters, const LossFunction& loss,
                                double step) {
  const auto loss_at = [&](std::span<const Tensor> values) {
    TensorTape tape;
    std::vector<TensorVar> constants;
    for (const Tensor& value : values) {
      constants.push_back(tape.constant(value));
    }
    return loss(tape, constants).item();
  };
  std::vector<Tensor> values(parameters.values().begin(), parameters.values().end());
  std::vector<Tensor> gradients;
  for (const Tensor& value : values) {
    gradients.push_back(Tensor::zeros(value.shape()));
  }
  const optim::Objective objective = optim::tape_objective(loss);
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
      const double plus = loss_at(values);
      values[p].mutable_data()[i] = original - h;
      const double minus = loss_at(values);
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

std::string fitted_parameters_json(const Task& task, std::span<const Tensor> fitted,
                                   const optim::Result& result, const Uncertainty* uncertainty) {
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
    if (uncertainty != nullptr && uncertainty->available) {
      const std::vector<double>& errors = uncertainty->standard_error[p];
      Json intervals = Json::array();
      for (std::size_t i = 0; i < errors.size(); ++i) {
        const double half = Uncertainty::kZ95 * errors[i];
        intervals.push_back({values[i] - half, values[i] + half});
      }
      entry["standard_error"] = errors;
      entry["interval95"] = intervals;
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
  if (uncertainty != nullptr) {
    if (uncertainty->available) {
      out["uncertainty"] = {{"method", "gauss-newton (laplace): sigma^2 (J^T J)^-1"},
                            {"jacobian", "central differences of the residuals"},
                            {"sigma", uncertainty->sigma},
                            {"residuals", uncertainty->residuals},
                            {"entries", uncertainty->entries},
                            {"covariance", uncertainty->covariance}};
    } else {
      out["uncertainty"] = {{"available", false}, {"reason", uncertainty->reason}};
    }
  }
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
