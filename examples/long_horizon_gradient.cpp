// The gradient of a 50 000-step rollout (50 s of a spring lattice bouncing on the ground) with
// respect to every spring's stiffness and the initial state, keeping 20 states instead of a
// tape of every step: binomial checkpointing (docs/checkpointing.md). The result is checked
// against the full tape, bit for bit.
#include <cstdio>
#include <maya/maya.hpp>
#include <span>
#include <vector>

int main() {
  namespace md = maya::dynamics;
  const maya::dynamics::SpringLattice lattice =
      maya::dynamics::make_spring_lattice({.size = 4, .spacing = 0.1, .velocity_x = 0.02});
  const std::size_t springs = lattice.model.num_springs();
  const maya::Tensor damping = maya::Tensor::full({springs}, 5.0);

  md::RolloutProblem problem;
  problem.step = [&](maya::TensorTape& tape, std::span<const maya::TensorVar> state,
                     std::span<const maya::TensorVar> params, std::size_t) {
    const maya::dynamics::SpringParameters p{tape.constant(lattice.masses), params[0],
                                             tape.constant(damping),
                                             tape.constant(lattice.rest_length)};
    return std::vector<maya::TensorVar>{lattice.model.step(state[0], p, 1e-3)};
  };
  problem.initial_state = {
      maya::dynamics::MassSpringModel::make_state(lattice.positions, lattice.velocities)};
  problem.parameters = {maya::Tensor::full({springs}, 1000.0)};  // stiffness [E]
  problem.steps = 50'000;
  // Where the lattice ends up: mean squared distance of its particles to (1, 0.1).
  problem.final_loss = [](maya::TensorTape& tape, std::span<const maya::TensorVar> state,
                          std::span<const maya::TensorVar>) {
    const maya::TensorVar target = tape.constant(maya::Tensor::from_data({1.0, 0.1}, {2}));
    const maya::TensorVar diff = maya::dynamics::positions_of(state[0]) - target;
    return maya::mean(maya::sum(diff * diff, 1));
  };

  const md::RolloutGradient checkpointed =
      md::checkpointed_rollout(problem, md::CheckpointBudget::snapshots(20));
  const md::CheckpointReport& report = checkpointed.report;
  std::printf("loss %.6f after %zu steps\n", checkpointed.loss, report.steps);
  std::printf(
      "kept %zu states of %zu bytes (a full tape keeps one per step); each step ran "
      "forward again at most %zu times: %zu advances, Revolve's bound %zu\n",
      report.peak_snapshots, report.snapshot_bytes, report.repetitions, report.advances,
      report.revolve_bound);

  const md::RolloutGradient full =
      md::checkpointed_rollout(problem, md::CheckpointBudget::full_tape());
  std::printf("full tape: %zu bytes\n", full.report.peak_tape_bytes);
  bool same = checkpointed.report.advances == checkpointed.report.revolve_bound;
  for (const auto& [a, b] :
       {std::pair{&checkpointed.parameter_gradient[0], &full.parameter_gradient[0]},
        std::pair{&checkpointed.initial_state_gradient[0], &full.initial_state_gradient[0]}}) {
    for (std::size_t i = 0; i < a->numel(); ++i) same = same && a->data()[i] == b->data()[i];
  }
  std::printf(
      "d loss / d stiffness[0] = %.6e; gradients equal to the full tape's bit for bit: %s\n",
      checkpointed.parameter_gradient[0].data()[0], same ? "yes" : "NO");
  return same ? 0 : 1;
}
