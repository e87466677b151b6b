// RobotTask: a robot task's loss recorded through the fused multibody steps. Free values enter
// their targets by index_add into constants whose free entries are zero, so one recording serves
// model parameters, the initial state and the control knots alike.
#include "maya/tasks/robot_task.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>

#include "maya/core/error.hpp"
#include "maya/multibody/differentiable.hpp"
#include "maya/multibody/dynamics.hpp"
#include "maya/optim/objective.hpp"
#include "maya/tensor/ops.hpp"
#include "maya/tensor/tensor_tape.hpp"

namespace maya::tasks {
namespace {

using Target = io::RobotParameterSpec::Target;

std::vector<std::int64_t> as_indices(const std::vector<std::size_t>& entries, std::size_t shift) {
  std::vector<std::int64_t> out;
  out.reserve(entries.size());
  for (const std::size_t entry : entries) out.push_back(static_cast<std::int64_t>(entry + shift));
  return out;
}

// Where a parameter's entries land in the state vector (qdot follows q).
std::size_t state_shift(Target target, const multibody::Model& model) {
  return target == Target::kInitialQdot ? model.nq() : 0;
}

// Writes `values` into the inputs (plain numbers).
void write(RobotInputs& inputs, const io::RobotParameterSpec& parameter,
           std::span<const double> values, const multibody::Model& model) {
  if (parameter.target == Target::kControls) {
    inputs.controls.assign(values.begin(), values.end());
    return;
  }
  std::vector<double>& into = parameter.target == Target::kModel ? inputs.params : inputs.state;
  const std::size_t shift = state_shift(parameter.target, model);
  for (std::size_t k = 0; k < parameter.target_entries.size(); ++k) {
    into[parameter.target_entries[k] + shift] = values[parameter.value_entries[k]];
  }
}

}  // namespace

RobotTask::RobotTask(io::RobotTaskSpec task) : task_(std::move(task)) {
  const multibody::Model& model = *task_.model;
  for (io::RobotLossSpec& term : task_.loss) {
    if (term.kind != io::RobotLossSpec::Kind::kMatchJoints || !term.observed.empty()) continue;
    RobotInputs truth{model.parameters(), task_.initial_state, task_.controls};
    for (const io::RobotAssignment& assignment : term.truth) {
      std::vector<double>& into = assignment.target == Target::kModel ? truth.params : truth.state;
      const std::size_t shift = state_shift(assignment.target, model);
      for (std::size_t k = 0; k < assignment.entries.size(); ++k) {
        into[assignment.entries[k] + shift] = assignment.values[k];
      }
    }
    const std::vector<double> states =
        multibody::rollout(model, truth.params, truth.state, step_controls(truth.controls),
                           task_.steps, task_.dt, task_.integrator);
    for (const std::size_t frame : term.frames) {
      for (const std::size_t c : term.coordinates) {
        term.observed.push_back(states[frame * model.nx() + c]);
      }
    }
  }
}

optim::ParameterSet RobotTask::parameters() const {
  optim::ParameterSet set;
  for (const io::RobotParameterSpec& parameter : task_.parameters) {
    Tensor initial = Tensor::from_data(parameter.initial, Shape(parameter.shape));
    if (parameter.log_scale) {
      set.add(parameter.name, std::move(initial), optim::Positive::exp());
    } else {
      set.add(parameter.name, std::move(initial),
              optim::Bounds::between(parameter.lower, parameter.upper));
    }
  }
  return set;
}

std::vector<double> RobotTask::step_controls(std::span<const double> knots) const {
  const std::size_t nu = task_.model->nu();
  std::vector<double> out(task_.steps * nu);
  for (std::size_t t = 0; t < task_.steps; ++t) {
    std::copy_n(knots.begin() + static_cast<long>(task_.knot_of(t) * nu), nu,
                out.begin() + static_cast<long>(t * nu));
  }
  return out;
}

RobotInputs RobotTask::inputs(std::span<const Tensor> values) const {
  const multibody::Model& model = *task_.model;
  RobotInputs inputs{model.parameters(), task_.initial_state, task_.controls};
  for (std::size_t p = 0; p < task_.parameters.size(); ++p) {
    write(inputs, task_.parameters[p], values[p].data(), model);
  }
  return inputs;
}

std::vector<double> RobotTask::rollout(std::span<const Tensor> values) const {
  const RobotInputs in = inputs(values);
  return multibody::rollout(*task_.model, in.params, in.state, step_controls(in.controls),
                            task_.steps, task_.dt, task_.integrator);
}

TensorVar RobotTask::record_loss(TensorTape& tape, std::span<const TensorVar> values) const {
  const multibody::Model& model = *task_.model;
  const std::size_t nq = model.nq(), nx = model.nx(), nu = model.nu();
  // Constants with every free entry zeroed, then the free values added in.
  RobotInputs base{model.parameters(), task_.initial_state, task_.controls};
  for (const io::RobotParameterSpec& parameter : task_.parameters) {
    if (parameter.target == Target::kControls) continue;
    std::vector<double>& into = parameter.target == Target::kModel ? base.params : base.state;
    for (const std::size_t entry : parameter.target_entries) {
      into[entry + state_shift(parameter.target, model)] = 0.0;
    }
  }
  TensorVar params = tape.constant(Tensor::from_data(base.params, {base.params.size()}));
  TensorVar state = tape.constant(Tensor::from_data(base.state, {nx}));
  TensorVar controls = tape.constant(Tensor::from_data(base.controls, {task_.knots, nu}));
  for (std::size_t p = 0; p < task_.parameters.size(); ++p) {
    const io::RobotParameterSpec& parameter = task_.parameters[p];
    if (parameter.target == Target::kControls) {
      controls = values[p];
      continue;
    }
    const std::vector<std::int64_t> from = as_indices(parameter.value_entries, 0);
    const std::vector<std::int64_t> to =
        as_indices(parameter.target_entries, state_shift(parameter.target, model));
    const TensorVar spread = index_select(values[p], 0, from);
    if (parameter.target == Target::kModel) {
      params = index_add(params, 0, to, spread);
    } else {
      state = index_add(state, 0, to, spread);
    }
  }
  const TensorVar no_control = tape.constant(Tensor::zeros({0}));
  std::vector<TensorVar> states{state};
  for (std::size_t t = 0; t < task_.steps; ++t) {
    const TensorVar u =
        nu == 0 ? no_control : select(controls, 0, static_cast<long>(task_.knot_of(t)));
    states.push_back(multibody::step(model, states.back(), u, params, task_.dt, task_.integrator));
  }
  TensorVar total;
  const auto add = [&](const TensorVar& term) { total = total.valid() ? total + term : term; };
  for (const io::RobotLossSpec& term : task_.loss) {
    switch (term.kind) {
      case io::RobotLossSpec::Kind::kReachTarget: {
        const TensorVar point =
            multibody::body_point(model, states[term.step], params, term.body, term.point);
        const TensorVar target =
            tape.constant(Tensor::from_data({term.target[0], term.target[1], term.target[2]}, {3}));
        add(sum(square(point - target)) * term.weight);
        break;
      }
      case io::RobotLossSpec::Kind::kMatchJoints: {
        const std::size_t columns = term.coordinates.size();
        const std::vector<std::int64_t> coordinates = as_indices(term.coordinates, 0);
        std::vector<TensorVar> compared;
        for (const std::size_t frame : term.frames) {
          compared.push_back(index_select(states[frame], 0, coordinates));
        }
        const TensorVar observed =
            tape.constant(Tensor::from_data(term.observed, {term.frames.size(), columns}));
        const double scale = term.weight / static_cast<double>(term.frames.size() * columns);
        add(sum(square(stack(compared, 0) - observed)) * scale);
        break;
      }
      case io::RobotLossSpec::Kind::kControlEffort: {
        // The mean of u^2 over steps and actuators: knot k drives count_k of the steps.
        std::vector<double> share(task_.knots * nu, 0.0);
        for (std::size_t t = 0; t < task_.steps; ++t) {
          for (std::size_t a = 0; a < nu; ++a) {
            share[task_.knot_of(t) * nu + a] += term.weight / static_cast<double>(task_.steps * nu);
          }
        }
        add(sum(square(controls) * tape.constant(Tensor::from_data(share, {task_.knots, nu}))));
        break;
      }
      case io::RobotLossSpec::Kind::kFinalVelocity:
        add(sum(square(slice(states.back(), 0, static_cast<long>(nq), static_cast<long>(nx)))) *
            term.weight);
        break;
    }
  }
  return total;
}

LossFunction RobotTask::loss_function() const {
  return [this](TensorTape& tape, std::span<const TensorVar> values) {
    return record_loss(tape, values);
  };
}

optim::Objective RobotTask::objective() const {
  return [inner = optim::tape_objective(loss_function())](std::span<const Tensor> values,
                                                          std::span<Tensor> gradients) {
    try {
      return inner(values, gradients);
    } catch (const NonFiniteError&) {
      for (Tensor& gradient : gradients) {
        gradient = Tensor::full(gradient.shape(), std::numeric_limits<double>::quiet_NaN());
      }
      return std::numeric_limits<double>::infinity();
    }
  };
}

double RobotTask::loss(std::span<const Tensor> values) const {
  TensorTape tape;
  std::vector<TensorVar> constants;
  for (const Tensor& value : values) constants.push_back(tape.constant(value));
  return record_loss(tape, constants).item();
}

std::vector<std::array<double, 3>> RobotTask::targets() const {
  std::vector<std::array<double, 3>> out;
  for (const io::RobotLossSpec& term : task_.loss) {
    if (term.kind == io::RobotLossSpec::Kind::kReachTarget) out.push_back(term.target);
  }
  return out;
}

std::vector<std::vector<double>> RobotTask::true_values() const {
  std::vector<std::vector<double>> out;
  for (const io::RobotParameterSpec& parameter : task_.parameters) {
    if (parameter.target == Target::kControls) return {};
    std::vector<double> values(parameter.numel(), std::nan(""));
    for (const io::RobotLossSpec& term : task_.loss) {
      for (const io::RobotAssignment& assignment : term.truth) {
        if (assignment.target != parameter.target) continue;
        for (std::size_t k = 0; k < parameter.target_entries.size(); ++k) {
          const auto at = std::find(assignment.entries.begin(), assignment.entries.end(),
                                    parameter.target_entries[k]);
          if (at != assignment.entries.end()) {
            values[parameter.value_entries[k]] =
                assignment.values[static_cast<std::size_t>(at - assignment.entries.begin())];
          }
        }
      }
    }
    if (std::any_of(values.begin(), values.end(), [](double x) { return std::isnan(x); })) {
      return {};
    }
    out.push_back(std::move(values));
  }
  return out;
}

GradcheckSummary gradcheck_robot_task(const RobotTask& task, double step) {
  return gradcheck_loss(task.parameters(), task.loss_function(), step);
}

std::string robot_fitted_json(const RobotTask& task, std::span<const Tensor> fitted,
                              const optim::Result& result) {
  using Json = nlohmann::ordered_json;
  const std::vector<std::vector<double>> truth = task.true_values();
  Json parameters = Json::array();
  for (std::size_t p = 0; p < task.spec().parameters.size(); ++p) {
    const io::RobotParameterSpec& spec = task.spec().parameters[p];
    const std::span<const double> values = fitted[p].data();
    Json entry;
    entry["name"] = spec.name;
    entry["of"] = spec.selector;
    entry["shape"] = spec.shape;
    entry["fitted"] = std::vector<double>(values.begin(), values.end());
    entry["initial"] = spec.initial;
    if (!truth.empty()) entry["true"] = truth[p];
    if (!spec.log_scale) {
      if (std::isfinite(spec.lower)) entry["lower"] = spec.lower;
      if (std::isfinite(spec.upper)) entry["upper"] = spec.upper;
    }
    parameters.push_back(entry);
  }
  Json out;
  out["task"] = task.spec().name;
  out["robot"] = task.spec().robot_file.filename().string();
  out["parameters"] = parameters;
  out["loss"] = {
      {"initial", result.loss_history.empty() ? result.loss : result.loss_history.front()},
      {"final", result.loss}};
  out["optimizer"] = {
      {"method",
       task.spec().optimizer.method == io::OptimizerSpec::Method::kAdam ? "adam" : "lbfgs"},
      {"iterations", result.iterations},
      {"evaluations", result.evaluations},
      {"gradient_norm", result.gradient_norm},
      {"converged", result.converged},
      {"status", std::string(optim::to_string(result.status))},
      {"message", result.message}};
  return out.dump(2) + "\n";
}

}  // namespace maya::tasks
