// The task loss of `maya optimize --checkpoints` as a checkpointed rollout: the scene's fields
// (masses, stiffnesses, dampings, rest lengths, initial state) are the rollout's parameters and
// initial state, the task's loss terms its per-step loss, and the gradients of the fields go back
// to the task's parameters through their selectors.
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "maya/core/error.hpp"
#include "maya/dynamics/checkpointed_rollout.hpp"
#include "maya/tensor/ops.hpp"

namespace maya::cli {
namespace {

constexpr std::size_t kDim = 2;

// The task's loss terms evaluated at frame `frame` (the state after frame steps), summed; an
// unbound TensorVar when no term looks at that frame.
TensorVar frame_loss(const tasks::SpringTask& task, TensorTape& tape, TensorVar state,
                     std::size_t frame) {
  const io::SceneSpec& scene = task.spec().scene;
  const std::size_t particles = scene.particles.size();
  TensorVar total;
  for (std::size_t k = 0; k < task.spec().loss.size(); ++k) {
    const io::LossTermSpec& term = task.spec().loss[k];
    TensorVar value;
    if (term.kind == io::LossTermSpec::Kind::kMatchTrajectory) {
      if (frame % term.every != 0) continue;
      // weight * mean over compared frames and particles of |x - x_observed|^2
      const std::size_t compared = scene.steps / term.every + 1;
      const auto& observed = task.observed()[k].positions;
      const auto first = observed.begin() + static_cast<std::ptrdiff_t>(frame * particles * kDim);
      const TensorVar target = tape.constant(Tensor::from_data(
          std::vector<double>(first, first + static_cast<std::ptrdiff_t>(particles * kDim)),
          {particles, kDim}));
      value = sum(square(dynamics::positions_of(state) - target)) *
              (term.weight / static_cast<double>(compared * particles));
    } else {
      if (frame != term.step) continue;
      // weight * |mean position of the particles at `step` - target|^2
      const std::vector<std::int64_t> indices(term.particles.begin(), term.particles.end());
      const TensorVar centre = mean(index_select(dynamics::positions_of(state), 0, indices), 0);
      const TensorVar target =
          tape.constant(Tensor::from_data({term.target[0], term.target[1]}, {kDim}));
      value = sum(square(centre - target)) * term.weight;
    }
    total = total.valid() ? total + value : value;
  }
  return total;
}

// d loss / d field values of selector's field: [N] masses, [E] spring fields, [N, 2] positions
// or velocities.
std::span<const double> field_gradient(const dynamics::RolloutGradient& result,
                                       const Tensor& initial_gradient, io::Selector::Field field) {
  const std::span<const double> state = initial_gradient.data();
  switch (field) {
    case io::Selector::Field::kMass: return result.parameter_gradient[0].data();
    case io::Selector::Field::kStiffness: return result.parameter_gradient[1].data();
    case io::Selector::Field::kDamping: return result.parameter_gradient[2].data();
    case io::Selector::Field::kRestLength: return result.parameter_gradient[3].data();
    case io::Selector::Field::kPosition: return state.first(state.size() / 2);
    case io::Selector::Field::kVelocity: return state.last(state.size() / 2);
  }
  return {};
}

}  // namespace

optim::Objective checkpointed_objective(const tasks::SpringTask& task,
                                        dynamics::CheckpointBudget budget) {
  return [&task, budget](std::span<const Tensor> values, std::span<Tensor> gradients) {
    const io::SceneSpec scene = task.scene_with(values);
    const tasks::SpringScene fields = tasks::make_spring_scene(scene);
    dynamics::RolloutProblem problem;
    problem.initial_state = {
        dynamics::MassSpringModel::make_state(fields.positions, fields.velocities)};
    problem.parameters = {fields.mass, fields.stiffness, fields.damping, fields.rest_length};
    problem.steps = scene.steps;
    const double dt = scene.dt;
    problem.step = [&fields, dt](TensorTape&, std::span<const TensorVar> state,
                                 std::span<const TensorVar> p, std::size_t) {
      return std::vector<TensorVar>{fields.model.step(state[0], {p[0], p[1], p[2], p[3]}, dt)};
    };
    problem.step_loss = [&task](TensorTape& tape, std::span<const TensorVar> state,
                                std::span<const TensorVar>, std::size_t t) {
      const TensorVar loss = frame_loss(task, tape, state[0], t + 1);
      return loss.valid() ? loss : tape.constant(Tensor::scalar(0.0));
    };
    const dynamics::RolloutGradient result = dynamics::checkpointed_rollout(problem, budget);

    // Terms on the initial state, outside the rollout.
    double loss = result.loss;
    Tensor initial_gradient = result.initial_state_gradient[0];
    TensorTape tape;
    const TensorVar x0 = tape.var(problem.initial_state[0]);
    if (const TensorVar first = frame_loss(task, tape, x0, 0); first.valid()) {
      loss += first.item();
      const Tensor g = tape.grad(first)[x0];
      for (std::size_t i = 0; i < g.numel(); ++i) initial_gradient.mutable_data()[i] += g.data()[i];
    }

    // A field entry set by several parameters takes the last one's value (SpringTask's rule),
    // so only that one gets its gradient.
    std::vector<std::vector<bool>> taken(6);
    const auto& parameters = task.spec().parameters;
    for (std::size_t p = parameters.size(); p-- > 0;) {
      const io::Selector& selector = parameters[p].selector;
      const std::span<const double> g = field_gradient(result, initial_gradient, selector.field);
      std::vector<bool>& used = taken[static_cast<std::size_t>(selector.field)];
      used.resize(g.size(), false);
      const std::vector<std::size_t> elements = selector.elements(task.spec().scene);
      const std::size_t width = selector.width();
      const std::span<double> out = gradients[p].mutable_data();
      for (std::size_t j = 0; j < elements.size(); ++j) {
        for (std::size_t k = 0; k < width; ++k) {
          const std::size_t entry = elements[j] * width + k;
          if (used[entry]) continue;
          used[entry] = true;
          out[parameters[p].shared ? k : j * width + k] += g[entry];
        }
      }
    }
    return loss;
  };
}

std::optional<dynamics::CheckpointBudget> checkpoint_budget(const std::string& choice,
                                                            const io::SceneSpec& scene) {
  if (choice == "none") return std::nullopt;
  if (choice == "auto") {
    // The full tape keeps about one state per step: checkpoint once that passes kAutoShare.
    const std::size_t tape_bytes = scene.steps * scene.particles.size() * 2 * kDim * sizeof(double);
    if (tape_bytes <= kAutoShare) return std::nullopt;
    return dynamics::CheckpointBudget::bytes(kAutoShare);
  }
  std::size_t count = 0;
  std::size_t used = 0;
  try {
    count = std::stoul(choice, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != choice.size() || choice.empty() || choice[0] == '-') {
    throw ValueError("--checkpoints: expected a snapshot count, auto or none, got '" + choice +
                     "'");
  }
  if (count < 1) {
    throw ValueError("--checkpoints: a budget of 0 snapshots cannot run; at least 1 is needed");
  }
  return dynamics::CheckpointBudget::snapshots(count);
}

}  // namespace maya::cli
